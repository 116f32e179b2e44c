package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runValidateCmd runs maskstream in-process and returns its exit code and output.
func runValidateCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cliEnv{
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errOut,
		getenv: func(string) string { return "" },
	}
	code = runMain(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodRuleset = `version: "1.0"
rules:
  - path: "$.customer.email"
    masks: [ { type: from_fixed, value: "x@example.com" } ]
  - if: [ { path: "$.country", equals: NZ } ]
    rules:
      - path: "$.name"
        masks: [ { type: imitate } ]
`

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", goodRuleset)
	parseBad := writeFile(t, dir, "parse-bad.yaml", "version: 1.0\nrules:\n  - path: \"$.a[\"\n    masks: [ { type: from_column } ]\n")
	compileBad := writeFile(t, dir, "compile-bad.yaml", "version: \"1.0\"\nrules:\n  - path: \"$.a\"\n    masks: [ { type: from_fixed, valeu: x } ]\n")
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, sub, "a.yaml", goodRuleset)
	writeFile(t, sub, "b.yml", goodRuleset)
	writeFile(t, sub, "notes.txt", "not a ruleset")
	empty := t.TempDir()

	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string
		stderr     []string
		noStdout   bool
		lineCounts [2]int // lines on stdout, stderr; -1 to skip
	}{
		{name: "good", args: []string{good}, code: 0, stdout: []string{"ok  " + good + ": "}, lineCounts: [2]int{1, 0}},
		{name: "parse errors all at once", args: []string{parseBad}, code: 1,
			stderr: []string{
				parseBad + ":1:10: version must be a quoted string",
				parseBad + ":3:11: bad path",
				parseBad + ":4:14: mask type from_column cannot apply to a message",
			}, lineCounts: [2]int{0, 3}},
		{name: "compile errors", args: []string{compileBad}, code: 1,
			stderr: []string{compileBad + ":4:"}, lineCounts: [2]int{0, -1}},
		{name: "mixed keeps going", args: []string{parseBad, good, filepath.Join(dir, "missing.yaml")}, code: 1,
			stdout: []string{"ok  " + good},
			stderr: []string{parseBad + ":1:10:", filepath.Join(dir, "missing.yaml") + ": stat "}, lineCounts: [2]int{1, 4}},
		{name: "a bad file before a good one", args: []string{compileBad, good}, code: 1,
			stdout: []string{"ok  " + good}, stderr: []string{compileBad + ":4:"}, lineCounts: [2]int{1, -1}},
		{name: "folder", args: []string{sub}, code: 0,
			stdout: []string{"ok  " + filepath.Join(sub, "a.yaml"), "ok  " + filepath.Join(sub, "b.yml")}, lineCounts: [2]int{2, 0}},
		{name: "empty folder", args: []string{empty}, code: 2, stderr: []string{"holds no *.yaml or *.yml ruleset"}, lineCounts: [2]int{0, 1}},
		{name: "no arguments", args: nil, code: 2, stderr: []string{"name at least one ruleset file", "usage: maskstream validate"}, lineCounts: [2]int{0, -1}},
		{name: "bad flag", args: []string{"-nope", good}, code: 2, stderr: []string{"flag provided but not defined: -nope", "usage: maskstream validate"}, lineCounts: [2]int{0, -1}},
		{name: "help", args: []string{"-h"}, code: 0, stdout: []string{"usage: maskstream validate [-list-masks] RULESET...", "-list-masks"}, lineCounts: [2]int{-1, 0}},
		{name: "list masks", args: []string{"-list-masks"}, code: 0, stdout: []string{"from_fixed\n", "imitate\n"}, lineCounts: [2]int{-1, 0}},
		{name: "list masks and validate", args: []string{"-list-masks", good}, code: 0, stdout: []string{"from_fixed\n", "ok  " + good}, lineCounts: [2]int{-1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runValidateCmd(t, append([]string{"validate"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for i, s := range []string{stdout, stderr} {
				if n := strings.Count(s, "\n"); tt.lineCounts[i] >= 0 && n != tt.lineCounts[i] {
					t.Errorf("output %d has %d lines, want %d:\n%s", i+1, n, tt.lineCounts[i], s)
				}
			}
		})
	}
}

func TestValidateListed(t *testing.T) {
	code, stdout, _ := runValidateCmd(t, "help")
	if code != 0 || !strings.Contains(stdout, "validate         check rulesets and report every error with its position") {
		t.Errorf("validate missing from the command list:\n%s", stdout)
	}
	code, stdout, _ = runValidateCmd(t, "help", "validate")
	if code != 0 || !strings.Contains(stdout, "usage: maskstream validate") {
		t.Errorf("help validate: %d\n%s", code, stdout)
	}
}
