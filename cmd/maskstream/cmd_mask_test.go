package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const maskTestSecret = "cmd-mask-test-secret-0123456789"

const maskRuleset = `version: "1.0"
rules:
  - path: "$.email"
    masks: [ { type: from_fixed, value: "x@example.com" } ]
  - path: "$.name"
    masks: [ { type: imitate, force_change: true } ]
`

// runMaskCmd runs `maskstream mask` in-process with stdin and an
// environment.
func runMaskCmd(t *testing.T, stdin string, envVars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &cliEnv{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
		getenv: func(k string) string { return envVars[k] },
	}
	code := runMain(context.Background(), env, append([]string{"mask"}, args...))
	return code, out.String(), errOut.String()
}

func TestMaskCommand(t *testing.T) {
	dir := t.TempDir()
	rs := writeFile(t, dir, "r.yaml", maskRuleset)
	secretEnv := map[string]string{"MASKSTREAM_RUN_SECRET": maskTestSecret}
	input := `{"email":"ann@real.nz","name":"Ann","n":1}` + "\n\n" + `{"email":"bob@real.nz","name":"Bob","password":"hunter2"}` + "\r\n"

	t.Run("stdin", func(t *testing.T) {
		code, out, errOut := runMaskCmd(t, input, secretEnv, "-r", rs)
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("want 2 lines, got %q", out)
		}
		for _, l := range lines {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("invalid output line %q: %v", l, err)
			}
			if v["email"] != "x@example.com" || v["name"] == "Ann" || v["name"] == "Bob" {
				t.Errorf("not masked: %s", l)
			}
		}
		if strings.Contains(out, "hunter2") || !strings.Contains(out, `"password":"[REDACTED]"`) {
			t.Errorf("password not redacted: %s", out)
		}
	})

	t.Run("deterministic across runs and files", func(t *testing.T) {
		in := writeFile(t, dir, "in.ndjson", input)
		_, a, _ := runMaskCmd(t, "", secretEnv, "-r", rs, in)
		_, b, _ := runMaskCmd(t, input, secretEnv, "-r", rs, "-")
		if a != b || a == "" {
			t.Errorf("runs differ:\n%s\n%s", a, b)
		}
		_, c, _ := runMaskCmd(t, input, map[string]string{"OTHER": "another-secret-0123456789"}, "-r", rs, "-secret-env", "OTHER")
		if c == a {
			t.Errorf("another secret gave the same output")
		}
		sf := writeFile(t, dir, "secret", maskTestSecret+"\n")
		_, d, _ := runMaskCmd(t, input, nil, "-r", rs, "-secret-file", sf)
		if d != a {
			t.Errorf("-secret-file gave other output than the same secret in the environment")
		}
	})

	t.Run("dead letters on stderr", func(t *testing.T) {
		bad := input + "{\"email\": \"SECRET-VALUE\"\nnot json SECRET-VALUE\n"
		code, out, errOut := runMaskCmd(t, bad, secretEnv, "-r", rs)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if strings.Count(out, "\n") != 2 {
			t.Errorf("good records missing from stdout: %q", out)
		}
		if strings.Contains(errOut, "SECRET-VALUE") {
			t.Errorf("stderr holds a record's content: %s", errOut)
		}
		var dl struct {
			Line   int    `json:"line"`
			File   string `json:"file"`
			Reason string `json:"reason"`
			Error  string `json:"error"`
			Record string `json:"record"`
		}
		first := strings.SplitN(errOut, "\n", 2)[0]
		if err := json.Unmarshal([]byte(first), &dl); err != nil {
			t.Fatalf("dead letter %q: %v", first, err)
		}
		if dl.Line != 4 || dl.File != "-" || dl.Reason != "not_json" || dl.Record != "" {
			t.Errorf("dead letter %+v", dl)
		}
		if !strings.Contains(errOut, "2 of 4 records could not be masked") {
			t.Errorf("no summary: %s", errOut)
		}
	})

	t.Run("dead-letter file keeps the record", func(t *testing.T) {
		dlFile := filepath.Join(dir, "dead.ndjson")
		code, _, errOut := runMaskCmd(t, "not json\n"+input, secretEnv, "-r", rs, "-dead-letter", dlFile)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if strings.Contains(errOut, "not json") {
			t.Errorf("stderr holds the record: %s", errOut)
		}
		b, err := os.ReadFile(dlFile)
		if err != nil {
			t.Fatal(err)
		}
		var dl map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(b), &dl); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if dl["record"] != "not json" || dl["line"] != 1.0 || dl["reason"] != "not_json" {
			t.Errorf("dead letter %v", dl)
		}
	})

	t.Run("too large", func(t *testing.T) {
		long := `{"name":"` + strings.Repeat("a", 200) + `"}` + "\n"
		code, out, errOut := runMaskCmd(t, long+input, secretEnv, "-r", rs, "-max-bytes", "100")
		if code != 1 || strings.Count(out, "\n") != 2 || !strings.Contains(errOut, `"reason":"too_large"`) {
			t.Errorf("exit %d, out %q, err %q", code, out, errOut)
		}
	})

	t.Run("too deep", func(t *testing.T) {
		deep := `{"a":` + strings.Repeat("[", 10) + strings.Repeat("]", 10) + "}\n"
		code, _, errOut := runMaskCmd(t, deep, secretEnv, "-r", rs, "-max-depth", "5")
		if code != 1 || !strings.Contains(errOut, `"reason":"too_deep"`) {
			t.Errorf("exit %d, err %q", code, errOut)
		}
	})
}

func TestMaskCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	rs := writeFile(t, dir, "r.yaml", maskRuleset)
	bad := writeFile(t, dir, "bad.yaml", "version: \"1.0\"\nrules:\n  - path: \"$.a\"\n    masks: [ { type: nope } ]\n")
	secretEnv := map[string]string{"MASKSTREAM_RUN_SECRET": maskTestSecret}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no ruleset", secretEnv, nil, "-r FILE"},
		{"no secret", nil, []string{"-r", rs}, "no run secret: set MASKSTREAM_RUN_SECRET"},
		{"short secret", map[string]string{"MASKSTREAM_RUN_SECRET": "short"}, []string{"-r", rs}, "16 to 256"},
		{"secret with a trailing space", map[string]string{"MASKSTREAM_RUN_SECRET": maskTestSecret + " "}, []string{"-r", rs}, "MASKSTREAM_RUN_SECRET: engine: the run secret starts or ends with a space or a tab; remove them"},
		{"blank secret", map[string]string{"MASKSTREAM_RUN_SECRET": "   "}, []string{"-r", rs}, "the run secret is only spaces or tabs"},
		{"shell line in the secret file", nil, []string{"-r", rs, "-secret-file", writeFile(t, dir, "shell.secret", "export MASKSTREAM_RUN_SECRET="+maskTestSecret+"\n")}, `starts with "export "`},
		{"bad ruleset", secretEnv, []string{"-r", bad}, "unknown mask type"},
		{"missing ruleset", secretEnv, []string{"-r", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"missing input", secretEnv, []string{"-r", rs, filepath.Join(dir, "nope.ndjson")}, "nope.ndjson"},
		{"bad flag", secretEnv, []string{"-zz"}, "flag provided but not defined"},
		{"bad limit", secretEnv, []string{"-r", rs, "-max-depth", "0"}, "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMaskCmd(t, "{}\n", tt.env, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not say %q", errOut, tt.want)
			}
			if strings.Contains(errOut, maskTestSecret) {
				t.Errorf("stderr quotes the secret: %q", errOut)
			}
		})
	}
	code, out, _ := runMaskCmd(t, "", nil, "-h")
	if code != 0 || !strings.Contains(out, "usage: maskstream mask") {
		t.Errorf("-h: %d %q", code, out)
	}
}

// TestMaskInputEdges: a byte order mark, invalid UTF-8 kept whole in the
// dead-letter file, and the engine's advice given as this command's flags.
func TestMaskInputEdges(t *testing.T) {
	dir := t.TempDir()
	rs := writeFile(t, dir, "r.yaml", maskRuleset)
	secretEnv := map[string]string{runSecretEnv: maskTestSecret}
	const record = `{"email":"ann@real.nz","name":"Ann"}` + "\n"

	t.Run("byte order mark", func(t *testing.T) {
		_, want, _ := runMaskCmd(t, record+record, secretEnv, "-r", rs)
		bom := "\xEF\xBB\xBF"
		file := writeFile(t, dir, "bom.ndjson", bom+record+record)
		for name, args := range map[string][]string{"stdin": {"-r", rs}, "file": {"-r", rs, file}} {
			code, out, errOut := runMaskCmd(t, bom+record+record, secretEnv, args...)
			if code != 0 || out != want || errOut != "" {
				t.Errorf("%s starting with a BOM: exit %d, stderr %q, output %q, want %q", name, code, errOut, out, want)
			}
		}
		// Only the start of an input may hold one.
		code, out, errOut := runMaskCmd(t, record+bom+record, secretEnv, "-r", rs)
		if code != 1 || strings.Count(out, "\n") != 1 || !strings.Contains(errOut, `"line":2`) {
			t.Errorf("a BOM on line 2: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	t.Run("invalid UTF-8 keeps its bytes", func(t *testing.T) {
		bad := "{\"email\":\"\xff\xfe ann\"}"
		dlFile := filepath.Join(dir, "utf8.ndjson")
		code, _, errOut := runMaskCmd(t, bad+"\n"+record, secretEnv, "-r", rs, "-dead-letter", dlFile)
		if code != 1 {
			t.Errorf("exit %d, want 1; stderr %s", code, errOut)
		}
		b, err := os.ReadFile(dlFile)
		if err != nil {
			t.Fatal(err)
		}
		var dl map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(b), &dl); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		raw, err := base64.StdEncoding.DecodeString(fmt.Sprint(dl["record_base64"]))
		if err != nil || string(raw) != bad {
			t.Errorf("record_base64 decodes to %q (%v), want the line's bytes %q", raw, err, bad)
		}
		if _, has := dl["record"]; has || dl["reason"] != "invalid_utf8" {
			t.Errorf("dead letter %v: want reason invalid_utf8 and no \"record\"", dl)
		}
		// Valid UTF-8 stays a readable JSON string.
		code, _, _ = runMaskCmd(t, "not json é\n", secretEnv, "-r", rs, "-dead-letter", dlFile)
		b, _ = os.ReadFile(dlFile)
		if code != 1 || !strings.Contains(string(b), `"record":"not json é"`) || strings.Contains(string(b), "record_base64") {
			t.Errorf("a valid UTF-8 line: %s", b)
		}
	})

	t.Run("messages name the flags", func(t *testing.T) {
		deep := `{"a":` + strings.Repeat("[", 10) + strings.Repeat("]", 10) + "}\n"
		// One byte over -max-bytes passes the reader's check (which
		// allows for a \r\n) and is refused by the engine.
		large := `{"name":"` + strings.Repeat("a", 90) + `"}` + "\n"
		for _, tt := range []struct {
			input, flag, value string
		}{
			{deep, "-max-depth", "5"},
			{large, "-max-bytes", fmt.Sprint(len(large) - 2)},
		} {
			_, _, errOut := runMaskCmd(t, tt.input, secretEnv, "-r", rs, tt.flag, tt.value)
			if !strings.Contains(errOut, "raise "+tt.flag) || strings.Contains(errOut, "limits.") {
				t.Errorf("%s %s: the dead letter does not point to %s:\n%s", tt.flag, tt.value, tt.flag, errOut)
			}
		}
		short := writeFile(t, dir, "short-secret", "short\n")
		for _, tt := range []struct {
			env  map[string]string
			args []string
			want string
		}{
			{map[string]string{"OTHER": "short"}, []string{"-secret-env", "OTHER"}, "the run secret in OTHER must be 16 to 256 characters"},
			{nil, []string{"-secret-file", short}, "the run secret in -secret-file " + short + " must be 16 to 256"},
		} {
			code, _, errOut := runMaskCmd(t, record, tt.env, append([]string{"-r", rs}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "run_secret_file") {
				t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tt.args, code, errOut, tt.want)
			}
		}
	})
}

// cancelOnWrite cancels a context at its first write: the command
// "receives Ctrl-C" at a known record.
type cancelOnWrite struct {
	lockedBuffer
	cancel context.CancelFunc
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.cancel()
	return c.lockedBuffer.Write(p)
}

// TestMaskInterrupted: mask checks for Ctrl-C on every record, and stops
// waiting for input the moment it comes. In-process, ctx stands for the
// signal.
func TestMaskInterrupted(t *testing.T) {
	dir := t.TempDir()
	rs := writeFile(t, dir, "r.yaml", maskRuleset)
	vars := map[string]string{runSecretEnv: maskTestSecret}
	const record = `{"email":"ann@real.nz","name":"Ann"}` + "\n"

	t.Run("between two records of one read", func(t *testing.T) {
		// The dead letter of line 1 goes to stderr, which "presses
		// Ctrl-C": the records after it, read with it, stay unmasked.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out, errOut := &lockedBuffer{}, &cancelOnWrite{cancel: cancel}
		env := &cliEnv{stdin: strings.NewReader("not json\n" + strings.Repeat(record, 10)), stdout: out, stderr: errOut,
			getenv: func(k string) string { return vars[k] }}
		code := runMain(ctx, env, []string{"mask", "-r", rs})
		if code != 130 || out.String() != "" || !strings.Contains(errOut.String(), "interrupted: 0 records masked and written out, 1 could not be masked") {
			t.Errorf("exit %d, stdout %q, stderr %q: want 130, nothing masked after the interruption", code, out, errOut)
		}
	})

	t.Run("waiting for input", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out, errOut := &lockedBuffer{}, &lockedBuffer{}
		env := &cliEnv{stdin: pr, stdout: out, stderr: errOut, getenv: func(k string) string { return vars[k] }}
		code := make(chan int, 1)
		go func() { code <- runMain(ctx, env, []string{"mask", "-r", rs}) }()
		if _, err := io.WriteString(pw, record+`{"email":"half`); err != nil {
			t.Fatal(err)
		}
		// Flushed before waiting for more input.
		waitFor(t, time.Minute, "the first record masked", func() bool { return strings.Contains(out.String(), "x@example.com") })
		cancel()
		select {
		case c := <-code:
			if c != 130 || strings.Count(out.String(), "\n") != 1 || !strings.Contains(errOut.String(), "interrupted: 1 records masked and written out, 0 could not be masked") {
				t.Errorf("exit %d, stdout %q, stderr %q: want 130, the first record and not the half line", c, out, errOut)
			}
		case <-time.After(time.Minute):
			t.Fatal("mask still waits for input a minute after the interruption")
		}
	})
}

// TestMaskProgress: on a terminal, stderr shows records done; elsewhere
// it stays quiet.
func TestMaskProgress(t *testing.T) {
	oldAfter, oldEvery := progressAfter, progressEvery
	progressAfter, progressEvery = 0, 0
	t.Cleanup(func() { progressAfter, progressEvery = oldAfter, oldEvery })
	dir := t.TempDir()
	rs := writeFile(t, dir, "r.yaml", maskRuleset)
	vars := map[string]string{runSecretEnv: maskTestSecret}
	input := "not json\n" + strings.Repeat(`{"email":"ann@real.nz","name":"Ann"}`+"\n", 600)
	for _, terminal := range []bool{true, false} {
		env, out, errOut := testCLIEnv(vars)
		env.stdin, env.stderrIsTerminal = strings.NewReader(input), terminal
		if code := runMain(context.Background(), env, []string{"mask", "-r", rs}); code != 1 {
			t.Fatalf("exit %d, want 1 (one dead letter): %s", code, errOut)
		}
		if n := strings.Count(out.String(), "\n"); n != 600 {
			t.Fatalf("%d records out, want 600", n)
		}
		e := errOut.String()
		shown := strings.Contains(e, "\rmaskstream mask: 256 records, ") && strings.Contains(e, "/s, 1 failed   \rmaskstream mask: 512 records, ")
		if shown != terminal {
			t.Errorf("stderr a terminal: %v, progress shown: %v:\n%q", terminal, shown, e)
		}
		// The summary starts a line of its own.
		if terminal && !strings.Contains(e, "1 failed   \nmaskstream mask: 1 of 601 records could not be masked") {
			t.Errorf("no line break between the progress and the summary:\n%q", e)
		}
	}
}

// TestMaskDeadLetterFile: -dead-letter never destroys a file the run reads
// or writes, and a run without dead letters leaves the file as it was
// (`-dead-letter in.ndjson in.ndjson` once emptied the input).
func TestMaskDeadLetterFile(t *testing.T) {
	dir := t.TempDir()
	rs := writeFile(t, dir, "r.yaml", maskRuleset)
	vars := map[string]string{runSecretEnv: maskTestSecret}
	const good = `{"email":"ann@real.nz","name":"Ann"}` + "\n"
	const bad = "not json\n"

	// run masks with stdin and stdout as given (files or not).
	run := func(stdin io.Reader, stdout io.Writer, args ...string) (int, string) {
		t.Helper()
		env, _, errOut := testCLIEnv(vars)
		env.stdin = stdin
		if stdout != nil {
			env.stdout = stdout
		}
		code := runMain(context.Background(), env, append([]string{"mask", "-r", rs}, args...))
		return code, errOut.String()
	}
	unchanged := func(t *testing.T, path, want string) {
		t.Helper()
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Errorf("%s changed: %q (%v), want %q", path, b, err, want)
		}
	}
	open := func(t *testing.T, path string, flag int) *os.File {
		t.Helper()
		f, err := os.OpenFile(path, flag, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}

	t.Run("refused when it is a file the run uses", func(t *testing.T) {
		in := writeFile(t, dir, "in.ndjson", bad+good)
		link := filepath.Join(dir, "link.ndjson")
		if err := os.Link(in, link); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name          string
			stdin         func(t *testing.T) io.Reader
			stdout        func(t *testing.T) io.Writer
			args          []string
			want, survive string
		}{
			{name: "an input", args: []string{"-dead-letter", in, in}, want: "the same file as the input " + in},
			{name: "an input, by another name", args: []string{"-dead-letter", link, "-", in}, want: "the same file as the input " + in},
			{name: "standard input", stdin: func(t *testing.T) io.Reader { return open(t, in, os.O_RDONLY) },
				args: []string{"-dead-letter", in}, want: "the same file as standard input"},
			{name: "standard output", stdout: func(t *testing.T) io.Writer { return open(t, in, os.O_WRONLY|os.O_APPEND) },
				args: []string{"-dead-letter", in, "-"}, want: "the same file as standard output"},
			{name: "the ruleset", args: []string{"-dead-letter", rs, in}, want: "the same file as the ruleset " + rs, survive: rs},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var stdin io.Reader = strings.NewReader(bad)
				if tt.stdin != nil {
					stdin = tt.stdin(t)
				}
				var stdout io.Writer
				if tt.stdout != nil {
					stdout = tt.stdout(t)
				}
				survive, before := in, bad+good
				if tt.survive != "" {
					survive, before = tt.survive, maskRuleset
				}
				code, errOut := run(stdin, stdout, tt.args...)
				if code != 2 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "give -dead-letter a file of its own") {
					t.Errorf("exit %d, stderr %q: want 2 and %q", code, errOut, tt.want)
				}
				unchanged(t, survive, before)
			})
		}
	})

	t.Run("untouched without dead letters", func(t *testing.T) {
		// The flag taken for a switch: its value was meant as the input.
		dl := writeFile(t, dir, "meant-as-input.ndjson", good+good)
		old := time.Now().Add(-time.Hour).Truncate(time.Second)
		if err := os.Chtimes(dl, old, old); err != nil {
			t.Fatal(err)
		}
		code, errOut := run(strings.NewReader(good), nil, "-dead-letter", dl)
		if code != 0 {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
		unchanged(t, dl, good+good)
		if st, err := os.Stat(dl); err != nil || !st.ModTime().Equal(old) {
			t.Errorf("the dead-letter file was written to (modified %v, want %v)", st.ModTime(), old)
		}
		missing := filepath.Join(dir, "never.ndjson")
		if code, _ := run(strings.NewReader(good), nil, "-dead-letter", missing); code != 0 {
			t.Errorf("exit %d", code)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Errorf("a run with no dead letters created %s (%v)", missing, err)
		}
	})

	t.Run("emptied at the first dead letter", func(t *testing.T) {
		dl := writeFile(t, dir, "old-dead.ndjson", `{"line":9,"record":"from an earlier run"}`+"\n")
		code, _ := run(strings.NewReader(good+bad), nil, "-dead-letter", dl)
		b, _ := os.ReadFile(dl)
		if code != 1 || strings.Contains(string(b), "earlier run") || !strings.Contains(string(b), `"record":"not json"`) {
			t.Errorf("exit %d, dead-letter file %q: want 1 and only this run's dead letter", code, b)
		}
	})

	t.Run("a folder or a missing folder", func(t *testing.T) {
		for _, tt := range []struct{ dl, want string }{
			{dir, "is a folder"},
			{filepath.Join(dir, "nope", "dead.ndjson"), "does not exist"},
		} {
			if code, errOut := run(strings.NewReader(bad), nil, "-dead-letter", tt.dl); code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("-dead-letter %s: exit %d, stderr %q: want 2 and %q", tt.dl, code, errOut, tt.want)
			}
		}
	})
}

// TestMaskUnmatchedRules: a rule whose path fits no field in any record
// (a typo, another case, an array without [*]) is named on stderr at the
// end, without any record content; a rule that met only nulls is not.
func TestMaskUnmatchedRules(t *testing.T) {
	dir := t.TempDir()
	rs := writeFile(t, dir, "typo.yaml", `version: "1.0"
rules:
  - path: "$.emial"
    masks: [ { type: from_fixed, value: "x@example.com" } ]
  - name: phone
    path: "$.Phone"
    masks: [ { type: imitate } ]
  - paths: [ "$.items.name", "$.item.name" ]
    masks: [ { type: from_fixed, value: "NAME" } ]
  - path: "$.note"
    masks: [ { type: from_fixed, value: "NOTE" } ]
  - path: "$.email"
    masks: [ { type: hash } ]
  - if: [ { path: "$.country", equals: NZ } ]
    rules: [ { path: "$.country", masks: [ { type: from_fixed, value: "XX" } ] } ]
`)
	vars := map[string]string{runSecretEnv: maskTestSecret}
	const rec = `{"email":"SECRET-VALUE@real.nz","phone":"021 555 0100","items":[{"name":"SECRET-NAME"}],"note":null,"country":"AU"}` + "\n"
	code, out, errOut := runMaskCmd(t, rec+rec+rec, vars, "-r", rs)
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("exit %d, stdout %q: a rule that matches nothing is no error", code, out)
	}
	for _, want := range []string{
		"maskstream mask: " + rs + ":3:11: rule 0 ($.emial) matched no field in 3 records; check its path against a sample record\n",
		rs + ":6:11: rule 1 \"phone\" ($.Phone) matched no field in 3 records;",
		rs + ":8:14: rule 2 ($.items.name, $.item.name) matched no field",
		"rule 5.rules.0 ($.country) matched no field in 3 records (or its if: never held);",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := strings.Count(errOut, "\n"); n != 4 {
		t.Errorf("%d lines on stderr, want 4 (not the rules that reached $.note or $.email):\n%s", n, errOut)
	}
	if strings.Contains(errOut, "SECRET") || strings.Contains(errOut, "021") {
		t.Errorf("stderr holds record content:\n%s", errOut)
	}

	// Nothing to judge by: no line.
	if _, _, errOut := runMaskCmd(t, "not json\n", vars, "-r", rs); strings.Contains(errOut, "matched no field") {
		t.Errorf("rules reported with no record masked:\n%s", errOut)
	}
	_, _, errOut = runMaskCmd(t, rec, vars, "-r", rs)
	if !strings.Contains(errOut, "matched no field in 1 record;") {
		t.Errorf("one record:\n%s", errOut)
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := groupThousands(n); got != want {
			t.Errorf("groupThousands(%d) = %q, want %q", n, got, want)
		}
	}
}
