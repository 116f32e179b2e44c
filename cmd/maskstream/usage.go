package main

import (
	"fmt"
	"io"
	"os"
	"slices"

	"golang.org/x/term"
)

func usage(w io.Writer) {
	fmt.Fprint(w, `maskstream masks sensitive fields of JSON messages with a DataMasque-style
YAML ruleset: consistently (same run secret, same input, same fake value) and
irreversibly.

Usage:
  maskstream <command> [flags] [arguments]

Commands:
`)
	cs := make([]*command, 0, len(commands))
	for _, c := range commands {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *command) int { return a.order - b.order })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "maskstream <command> -h" for a command's flags.
`)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
