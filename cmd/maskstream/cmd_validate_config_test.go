package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/engine"
)

func TestValidateConfig(t *testing.T) {
	good := writeRunConfig(t, "127.0.0.1:9092", "")
	brokenRuleset := writeRunConfig(t, "127.0.0.1:9092", "")
	if err := os.WriteFile(filepath.Join(filepath.Dir(brokenRuleset), "rulesets", "orders.yaml"), []byte("version: \"1.0\"\nrules:\n  - path: \"$.a\"\n    masks: [ { type: no_such_mask } ]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// run and serve load every file of rulesets_dir, used or not.
	brokenUnused := writeRunConfig(t, "127.0.0.1:9092", "")
	if err := os.WriteFile(filepath.Join(filepath.Dir(brokenUnused), "rulesets", "unused.yaml"), []byte("version: \"1.0\"\nrules:\n  - path: \"$.a\"\n    masks: [ { type: from_fixed } ]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := writeRunConfig(t, "127.0.0.1:9092", "  - name: other\n    from: { kafka: local, topics: [x] }\n    to: { kafka: local }\n    ruleset: absent\n")
	badConfig := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("kafka: { a: { brokers: [b] } }\nroutes: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// validate-config -secrets reads HTTP tokens as serve and run do: a
	// trailing newline is dropped, another blank is refused.
	withToken := writeRunConfig(t, "127.0.0.1:9092", "http:\n  listen: 127.0.0.1:0\n  tokens:\n    - { name: ops, token_env: OPS_TOKEN, scopes: [mask] }\n")
	tests := []struct {
		name       string
		args       []string
		vars       map[string]string
		code       int
		out, errTx string
	}{
		{"good", []string{"-c", good}, nil, 0, "ok  " + good + ": 1 routes, 1 rulesets", ""},
		{"broken ruleset", []string{"-c", brokenRuleset}, nil, 1, "", `orders.yaml:4:14: unknown mask type "no_such_mask"`},
		{"broken unused ruleset", []string{"-c", brokenUnused}, nil, 1, "orders.yaml: ", "unused.yaml:4:14: "},
		{"missing ruleset", []string{"-c", missing}, nil, 1, "", `ruleset "absent" (used by route other) not found`},
		{"bad config", []string{"-c", badConfig}, nil, 1, "", `broker "b" is not host:port`},
		{"secrets missing", []string{"-c", good, "-secrets"}, nil, 1, "", "no run secret"},
		{"secrets present", []string{"-c", good, "-secrets"}, map[string]string{runSecretEnv: runTestSecret}, 0, "ok  ", ""},
		{"secret fingerprint", []string{"-c", good, "-secrets"}, map[string]string{runSecretEnv: runTestSecret}, 0, "run secret fingerprint " + engine.MustSecret(runTestSecret).Fingerprint(), ""},
		{"token with newline", []string{"-c", withToken, "-secrets"}, map[string]string{runSecretEnv: runTestSecret, "OPS_TOKEN": "0123456789abcdef0123\n"}, 0, "ok  ", ""},
		{"token with blank", []string{"-c", withToken, "-secrets"}, map[string]string{runSecretEnv: runTestSecret, "OPS_TOKEN": "0123456789abcdef0123 "}, 1, "", `token "ops": the token in environment variable OPS_TOKEN has a space`},
		{"token too short", []string{"-c", withToken, "-secrets"}, map[string]string{runSecretEnv: runTestSecret, "OPS_TOKEN": "short"}, 1, "", "shorter than 16 characters"},
		{"token unset", []string{"-c", withToken, "-secrets"}, map[string]string{runSecretEnv: runTestSecret}, 1, "", "OPS_TOKEN is empty or unset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out, errOut := testCLIEnv(tt.vars)
			code := runMain(context.Background(), env, append([]string{"validate-config"}, tt.args...))
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.errTx) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout %q, stderr %q", code, tt.code, out, errOut, tt.out, tt.errTx)
			}
		})
	}
}
