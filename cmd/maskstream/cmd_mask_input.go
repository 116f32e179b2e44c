package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

// checkDeadLetter refuses a -dead-letter file the run would destroy or
// could not write, before anything is masked. Dead letters empty the
// file, so it must not be a file the run reads or writes otherwise: with
// `-dead-letter in.ndjson in.ndjson` the input would be lost. Only a
// regular file is compared: a terminal, a pipe or /dev/null can be shared.
func checkDeadLetter(env *cliEnv, f maskFlags, inputs []string) error {
	name := f.deadLetter
	st, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		// Created at the first dead letter: its folder must exist now.
		dir := filepath.Dir(name)
		switch dst, err := os.Stat(dir); {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("-dead-letter %s: the folder %s does not exist; create it, or name a file in a folder that does", name, dir)
		case err != nil:
			return fmt.Errorf("-dead-letter: %w", err)
		case !dst.IsDir():
			return fmt.Errorf("-dead-letter %s: %s is not a folder; name a file in a folder", name, dir)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("-dead-letter: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("-dead-letter %s is a folder; name a file (it is created if missing)", name)
	}
	if !st.Mode().IsRegular() {
		return nil
	}
	same := func(other os.FileInfo, err error) bool { return err == nil && os.SameFile(st, other) }
	refuse := func(what string) error {
		return fmt.Errorf("-dead-letter %s is the same file as %s: the dead letters would overwrite it; give -dead-letter a file of its own", name, what)
	}
	for _, in := range inputs {
		if in == "-" {
			if sf, ok := env.stdin.(*os.File); ok && same(sf.Stat()) {
				return refuse("standard input")
			}
		} else if same(os.Stat(in)) {
			return refuse("the input " + in)
		}
	}
	if sf, ok := env.stdout.(*os.File); ok && same(sf.Stat()) {
		return refuse("standard output")
	}
	if same(os.Stat(f.ruleset)) {
		return refuse("the ruleset " + f.ruleset)
	}
	if f.secretFile != "" && same(os.Stat(f.secretFile)) {
		return refuse("-secret-file " + f.secretFile)
	}
	// Opening for writing without O_TRUNC tells whether it is writable
	// and changes nothing.
	w, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("-dead-letter: %w", err)
	}
	return w.Close()
}

// lazyFile creates (or empties) the dead-letter file at its first write,
// so that a run with no dead letters leaves an existing file as it was:
// a mistaken -dead-letter, such as a file meant as an input, costs
// nothing unless a record fails.
type lazyFile struct {
	name string
	f    *os.File
	err  error
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if l.f == nil && l.err == nil {
		l.f, l.err = os.OpenFile(l.name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(p)
}

// Close closes the file if it was opened; l may be nil.
func (l *lazyFile) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	return l.f.Close()
}
