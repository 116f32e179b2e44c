package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/rulesets"
)

func init() {
	register(&command{
		name:    "validate-config",
		summary: "check a daemon config and the rulesets it names, without starting anything",
		order:   40,
		run:     runValidateConfig,
	})
}

const validateConfigUsage = `usage: maskstream validate-config [-c maskstream.yaml] [-secrets]

Checks the daemon config the way "maskstream run" reads it: every unknown
key, wrong type and inconsistency (a route naming an undefined cluster, a
topic template with an unknown placeholder, exactly_once across clusters...)
with its line:col, all at once. Then it parses and compiles every ruleset
the routes name, from rulesets_dir, with the config's limits. Nothing is
started and no broker is contacted.

With -secrets it also reads every secret the config names (the run secret,
SASL and NATS passwords, tokens) and reports those that cannot be read;
their values are never printed.

Exit status: 0 when everything is valid, 1 when something is not.

Flags:
`

func runValidateConfig(_ context.Context, env *cliEnv, args []string) int {
	fs := newCmdFlags(env, "validate-config", validateConfigUsage, false)
	file := fs.String("c", "maskstream.yaml", "the daemon's config `file`")
	secrets := fs.Bool("secrets", false, "also check that every secret the config names can be read")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if !fs.noArgs() {
		return 2
	}
	cfg, err := config.Load(*file)
	if err != nil {
		fmt.Fprintln(env.stderr, err)
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(env.stderr, "%s: warning: %s\n", *file, w)
	}
	ok := true
	for _, name := range cfg.Rulesets() {
		if !validateConfigRuleset(env, cfg, name) {
			ok = false
		}
	}
	if *secrets {
		if _, _, err := readRunSecret(env, cfg.RunSecretFile); err != nil {
			fmt.Fprintf(env.stderr, "%s: run secret: %v\n", *file, err)
			ok = false
		}
		if err := cfg.CheckSecrets(env.getenv); err != nil {
			fmt.Fprintf(env.stderr, "%s: %v\n", *file, err)
			ok = false
		}
	}
	if !ok {
		return 1
	}
	fmt.Fprintf(env.stdout, "ok  %s: %d routes, %d rulesets, %d kafka clusters, %d nats servers, http %s\n",
		*file, len(cfg.Routes), len(cfg.Rulesets()), len(cfg.Kafka), len(cfg.NATS), onOff(cfg.HTTP != nil))
	return 0
}

// validateConfigRuleset parses and compiles one ruleset the routes name,
// printing its errors with their positions.
func validateConfigRuleset(env *cliEnv, cfg *config.Config, name string) bool {
	var path string
	for _, ext := range []string{".yaml", ".yml"} {
		p := filepath.Join(cfg.RulesetsDir, name+ext)
		if _, err := os.Stat(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		users := ""
		for _, r := range cfg.Routes {
			if r.Ruleset == name {
				users += " " + r.Name
			}
		}
		fmt.Fprintf(env.stderr, "%s: ruleset %q (used by route%s) not found: rulesets_dir %s has no %s.yaml\n", cfg.File, name, users, cfg.RulesetsDir, name)
		return false
	}
	rs, err := rulesets.ParseFile(path)
	if err == nil {
		_, err = engine.Compile(rs, engine.Options{MaxBytes: cfg.Limits.MaxRecordBytes, MaxDepth: cfg.Limits.MaxDepth})
	}
	if err != nil {
		for _, e := range rulesets.Errors(err) {
			if e.Pos.File == "" {
				e = &rulesets.Error{Pos: rulesets.Pos{File: path, Line: e.Pos.Line, Col: e.Pos.Col}, Msg: e.Msg}
			}
			fmt.Fprintln(env.stderr, e.Error())
		}
		return false
	}
	fmt.Fprintf(env.stdout, "ok  %s: %d rules\n", path, len(rs.Rules))
	return true
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
