package main

import (
	"context"
	"io"
	"os"
)

// interruptibleReader reads an input that can block for ever (a pipe with
// a quiet writer, a fifo nobody opened, a terminal) in a goroutine of its
// own, so that the first Ctrl-C ends `maskstream mask` at once: Read
// returns ctx's error as soon as ctx ends. Closing a pipe or a terminal
// does not wake a read blocked on it, and putting standard input in
// non-blocking mode would leak to the shell that shares it, hence the
// goroutine. The read it leaves behind ends with the process, which exits
// right after; its buffer is never looked at again.
type interruptibleReader struct {
	ctx    context.Context
	before func()
	req    chan []byte
	resp   chan readResult
}

type readResult struct {
	n   int
	err error
}

// newInterruptibleReader opens the input with open in the reading
// goroutine (opening a fifo waits for its writer) and calls before ahead
// of each read, which may wait.
func newInterruptibleReader(ctx context.Context, open func() (io.ReadCloser, error), before func()) *interruptibleReader {
	r := &interruptibleReader{ctx: ctx, before: before, req: make(chan []byte), resp: make(chan readResult, 1)}
	before()
	go r.serve(open)
	return r
}

func (r *interruptibleReader) serve(open func() (io.ReadCloser, error)) {
	in, err := open()
	if err == nil {
		defer in.Close()
	}
	for {
		select {
		case p, ok := <-r.req:
			if !ok {
				return
			}
			res := readResult{err: err}
			if err == nil {
				res.n, res.err = in.Read(p)
			}
			// resp has room: a Read that gave up on ctx leaves it.
			r.resp <- res
		case <-r.ctx.Done():
			return
		}
	}
}

func (r *interruptibleReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	r.before()
	select {
	case r.req <- p:
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	}
	select {
	case res := <-r.resp:
		return res.n, res.err
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	}
}

// Close ends the reading goroutine, which closes the input. Read must not
// be called after it.
func (r *interruptibleReader) Close() error {
	close(r.req)
	return nil
}

func isRegular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}
