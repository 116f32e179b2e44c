package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

func init() {
	register(&command{
		name:    "validate",
		summary: "check rulesets and report every error with its position",
		order:   30,
		run:     runValidate,
	})
}

const validateUsage = `usage: maskstream validate [-list-masks] RULESET...

Parses and compiles each ruleset file the way the daemon would (masks'
parameters, paths, conditions, seed files) and reports every problem at once,
one per line as file:line:col: what is wrong, and how to fix it. A folder
stands for the *.yaml and *.yml files in it.

For a ruleset without problems it prints "ok  FILE: N rules". It exits 0 when
every ruleset is fine, 1 when one has a problem, 2 on a usage error.

Flags:
`

func runValidate(_ context.Context, env *cliEnv, args []string) int {
	fs := newCmdFlags(env, "validate", validateUsage, true)
	listMasks := fs.Bool("list-masks", false, "print the mask types this build knows, one per line")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if *listMasks {
		for _, t := range engine.MaskTypes() {
			fmt.Fprintln(env.stdout, t)
		}
	}
	if fs.NArg() == 0 {
		if *listMasks {
			return 0
		}
		fmt.Fprint(env.stderr, "maskstream validate: name at least one ruleset file\n\n")
		fs.printUsage(env.stderr)
		return 2
	}
	files, err := rulesetFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(env.stderr, "maskstream validate: %v\n", err)
		return 2
	}
	code := 0
	for _, file := range files {
		if !validateFile(env, file) {
			code = 1
		}
	}
	return code
}

// rulesetFiles expands folders into the ruleset files they hold.
func rulesetFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			// A missing file is reported with the others by validateFile.
			files = append(files, a)
			continue
		}
		var found []string
		for _, pattern := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(filepath.Clean(a), pattern))
			if err != nil {
				return nil, err
			}
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no *.yaml or *.yml ruleset", a)
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	return files, nil
}

// validateFile parses and compiles one ruleset, printing the outcome. It
// reports whether the ruleset is fine.
func validateFile(env *cliEnv, file string) bool {
	rs, err := rulesets.ParseFile(file)
	if err == nil {
		var m *engine.Masker
		m, err = engine.Compile(rs, engine.Options{})
		if err == nil {
			fmt.Fprintf(env.stdout, "ok  %s: %d rules\n", file, m.NumRules())
			return true
		}
	}
	for _, e := range rulesets.Errors(err) {
		if e.Pos.File == "" {
			// Every line names its file, also for errors that came
			// without one (a file that cannot be read, an engine error).
			e = &rulesets.Error{Pos: rulesets.Pos{File: file, Line: e.Pos.Line, Col: e.Pos.Col}, Msg: strings.TrimPrefix(e.Msg, "rulesets: ")}
		}
		fmt.Fprintln(env.stderr, e.Error())
	}
	return false
}
