package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// cmdFlags is a subcommand's flag set with its usage text, so each command
// declares its flags and leaves parsing, help and the usage errors here.
type cmdFlags struct {
	*flag.FlagSet
	env   *cliEnv
	usage string
	// helpOnStdout: -h prints the usage on standard output (mask and
	// validate, whose help is long enough to page) and a bad flag is
	// reported as "maskstream NAME: ..." above the usage; otherwise the
	// flag package reports both on standard error, as the daemon
	// commands have always done.
	helpOnStdout bool
}

// newCmdFlags returns the flag set of subcommand name, whose usage is the
// text usage followed by the flags and their defaults.
func newCmdFlags(env *cliEnv, name, usage string, helpOnStdout bool) *cmdFlags {
	f := &cmdFlags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), env: env, usage: usage, helpOnStdout: helpOnStdout}
	f.Usage = func() { f.printUsage(f.Output()) }
	if helpOnStdout {
		f.SetOutput(io.Discard)
	} else {
		f.SetOutput(env.stderr)
	}
	return f
}

// printUsage writes the usage text and the flags with their defaults to w.
func (f *cmdFlags) printUsage(w io.Writer) {
	out := f.Output()
	fmt.Fprint(w, f.usage)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(out)
}

// parse parses args. ok is false when the command ends here with code: 0
// after -h, 2 after a bad flag (the problem already reported).
func (f *cmdFlags) parse(args []string) (code int, ok bool) {
	err := f.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		if f.helpOnStdout {
			f.printUsage(f.env.stdout)
		}
		return 0, false
	}
	if f.helpOnStdout {
		fmt.Fprintf(f.env.stderr, "maskstream %s: %v\n\n", f.Name(), err)
		f.printUsage(f.env.stderr)
	}
	return 2, false
}

// noArgs reports whether no arguments follow the flags; when some do, it
// says so on standard error (the command then exits 2).
func (f *cmdFlags) noArgs() bool {
	if f.NArg() == 0 {
		return true
	}
	fmt.Fprintf(f.env.stderr, "maskstream %s: unexpected argument %q\n", f.Name(), f.Arg(0))
	return false
}
