package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		})
	}
	code, out, _ := runMaskCmd(t, "", nil, "-h")
	if code != 0 || !strings.Contains(out, "usage: maskstream mask") {
		t.Errorf("-h: %d %q", code, out)
	}
}
