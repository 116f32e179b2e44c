package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeWarnsWithNoRulesets: a server with no ruleset answers every
// mask request 404, so serve says so at start, with the dir it read and,
// when a subfolder holds rulesets (-rulesets naming the repo's rulesets/,
// whose examples/ are one level down), the folder to name instead.
func TestServeWarnsWithNoRulesets(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "examples", "people.yaml"), serveTestYAML)
	vars := map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret}
	_, stderr, stop := startServe(t, vars, "-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth")
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr)
	}
	out := stderr.String()
	for _, want := range []string{"level=WARN msg=\"no rulesets:", "dir=" + dir, "-rulesets " + filepath.Join(dir, "examples")} {
		if !strings.Contains(out, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, out)
		}
	}

	// With a ruleset there is nothing to warn about.
	_, stderr, stop = startServe(t, vars, "-rulesets", filepath.Join(dir, "examples"), "-listen", "127.0.0.1:0", "-insecure-no-auth")
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr)
	}
	if strings.Contains(stderr.String(), "no rulesets") {
		t.Fatalf("warned with a ruleset loaded:\n%s", stderr)
	}
}

// TestServeRulesetErrorsOnePerLine: a broken ruleset file stops serve
// with its problems printed as validate prints them, file:line:col each,
// without the store's "rulesets: loading FILE:" before the first.
func TestServeRulesetErrorsOnePerLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeServeFile(t, bad, "version: 1.0\n")
	stderr := &serveTestBuffer{}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr,
		getenv: func(k string) string { return map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret}[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := runMain(ctx, env, []string{"serve", "-rulesets", dir}); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, stderr)
	}
	out := stderr.String()
	if strings.Contains(out, "loading") {
		t.Fatalf("the path is given twice:\n%s", out)
	}
	for _, want := range []string{"\n" + bad + ":1:10: version must be a quoted string", bad + ":1:1: missing rules"} {
		if !strings.Contains("\n"+out, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, out)
		}
	}
}

// TestServeLogsStoppingFirst: on a signal serve says it is stopping
// before the server says it stopped.
func TestServeLogsStoppingFirst(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "people.yaml"), serveTestYAML)
	for range 5 { // the wrong order was a race: give it chances
		_, stderr, stop := startServe(t, map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret},
			"-rulesets", dir, "-listen", "127.0.0.1:0", "-insecure-no-auth")
		if code := stop(); code != 0 {
			t.Fatalf("exit code %d:\n%s", code, stderr)
		}
		out := stderr.String()
		stopping, stopped := strings.Index(out, "msg=\"stopping:"), strings.Index(out, "msg=\"http server stopped\"")
		if stopping < 0 || stopped < 0 || stopping > stopped {
			t.Fatalf("want \"stopping\" logged before \"http server stopped\":\n%s", out)
		}
	}
}

// TestServeChecksRoutes: serve -c does not run routes, but checks them
// with the rest of the file, as its help and docs/http-api.md say.
func TestServeChecksRoutes(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "rules", "people.yaml"), serveTestYAML)
	cfg := filepath.Join(dir, "maskstream.yaml")
	writeServeFile(t, cfg, `rulesets_dir: ./rules
kafka:
  prod: { brokers: ["127.0.0.1:9092"] }
routes:
  - name: people
    from: { kafka: prod, topics: [people] }
    to:   { kafka: dev }
    ruleset: people
http: { listen: "127.0.0.1:0", insecure_no_auth: true }
`)
	stderr := &serveTestBuffer{}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr,
		getenv: func(k string) string { return map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret}[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := runMain(ctx, env, []string{"serve", "-c", cfg}); code != 1 || !strings.Contains(stderr.String(), `kafka cluster "dev", which is not defined`) {
		t.Fatalf("exit %d, want 1 naming the undefined cluster:\n%s", code, stderr)
	}
}

// TestValidateConfigCountsRulesetFiles: the summary counts the rulesets
// that loaded, not the names routes use: a config without routes whose
// rulesets_dir holds two files says 2, after their two ok lines.
func TestValidateConfigCountsRulesetFiles(t *testing.T) {
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "rules", "a.yaml"), serveTestYAML)
	writeServeFile(t, filepath.Join(dir, "rules", "b.yaml"), serveTestYAML)
	cfg := filepath.Join(dir, "maskstream.yaml")
	writeServeFile(t, cfg, "rulesets_dir: ./rules\nhttp: { listen: \"127.0.0.1:8080\", insecure_no_auth: true }\n")
	env, out, errOut := testCLIEnv(nil)
	code := runMain(context.Background(), env, []string{"validate-config", "-c", cfg})
	if code != 0 || strings.Count(out.String(), "ok  ") != 3 || !strings.Contains(out.String(), ": 0 routes, 2 rulesets,") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
