// Command maskstream masks JSON messages on their way from production
// topics to staging and dev: a stream processor for Kafka and NATS, an HTTP
// mask endpoint, and a batch masker for NDJSON files.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand. Each lives in its own cmd_<name>.go file and
// registers itself from init, so main.go never changes when one is added.
type command struct {
	name    string
	summary string
	// order places the command in the help listing.
	order int
	// run gets the arguments after the subcommand name. It returns the
	// process exit code.
	run func(ctx context.Context, env *cliEnv, args []string) int
}

// cliEnv is what a command may touch of the outside world, so tests can
// run commands in-process.
type cliEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stderrIsTerminal decides progress output.
	stderrIsTerminal bool
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("maskstream: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := stopOnSignal(context.Background())
	defer stop()
	env := &cliEnv{
		stdin:            os.Stdin,
		stdout:           os.Stdout,
		stderr:           os.Stderr,
		getenv:           os.Getenv,
		stderrIsTerminal: isTerminal(os.Stderr),
	}
	os.Exit(runMain(ctx, env, os.Args[1:]))
}

// runMain dispatches to a subcommand and returns the exit code.
func runMain(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(ctx, env, []string{"-h"})
			}
		}
		usage(env.stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "maskstream: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return 2
	}
	return c.run(ctx, env, args[1:])
}

// stopSignal is the cause of the context stopOnSignal ends.
type stopSignal struct{ sig os.Signal }

func (s stopSignal) Error() string { return s.sig.String() + " signal received" }

// stopOnSignal returns a context that the first SIGINT or SIGTERM ends,
// with a stopSignal as its cause. Only that first signal is caught: the
// handling is given back before the context ends, so a second one kills
// the process at once, as DESIGN §3.9 wants, in a command stuck in a read
// or in a slow drain. run and demo subscribe channels of their own
// (notifySignals) and keep catching: watchSignals drains on the first
// signal and forces the exit on the second itself; serve kills itself
// on the second (killBy). Both take the first signal repeated at once
// for the first (stopCount).
func stopOnSignal(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-c:
			signal.Stop(c)
			cancel(stopSignal{s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(c)
		cancel(nil)
	}
}

// interruptedCode is the exit status of a command that ctx's end cut
// short: 128 + the signal's number, as a shell reports a process the
// signal killed (130 for Ctrl-C, 143 for SIGTERM); 130 when ctx ended
// without a signal (tests).
func interruptedCode(ctx context.Context) int {
	var s stopSignal
	if errors.As(context.Cause(ctx), &s) {
		if n, ok := s.sig.(syscall.Signal); ok {
			return 128 + int(n)
		}
	}
	return 130
}
