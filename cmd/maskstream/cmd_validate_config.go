package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/httpapi"
	"github.com/maskstream/maskstream/processor"
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
file of rulesets_dir with the config's limits, as run and serve do when
they start (a broken file stops them even when no route uses it), and checks
that every ruleset a route names is there. Nothing is started, no broker is
contacted and nothing is written.

With -secrets it also reads every secret the config names (the run secret,
SASL and NATS passwords, tokens) and reports those that cannot be read;
their values are never printed. It prints the run secret's fingerprint,
which every instance masking the same streams must share (run and serve
log it and export it as maskstream_run_secret_info).

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
	nrulesets, ok := validateConfigRulesets(env, cfg)
	if *secrets {
		if sec, _, err := readRunSecret(env, cfg.RunSecretFile); err != nil {
			fmt.Fprintf(env.stderr, "%s: run secret: %v\n", *file, err)
			ok = false
		} else {
			defer fmt.Fprintf(env.stdout, "run secret fingerprint %s (every instance must show the same: maskstream_run_secret_info)\n", sec.Fingerprint())
		}
		if err := cfg.CheckSecrets(env.getenv); err != nil {
			fmt.Fprintf(env.stderr, "%s: %v\n", *file, err)
			ok = false
		}
		if cfg.HTTP != nil {
			if err := httpapi.CheckTokens(httpapiConfigFrom(cfg), env.getenv); err != nil {
				fmt.Fprintf(env.stderr, "%s: %v\n", *file, err)
				ok = false
			}
		}
	}
	if !ok {
		return 1
	}
	fmt.Fprintf(env.stdout, "ok  %s: %d routes, %d rulesets, %d kafka clusters, %d nats servers, http %s\n",
		*file, len(cfg.Routes), nrulesets, len(cfg.Kafka), len(cfg.NATS), onOff(cfg.HTTP != nil))
	return 0
}

// validateConfigRulesets loads rulesets_dir the way run and serve do at
// start (the same store and compiler, without the data dir: stored plans
// that fail only get a warning there), printing every error with its
// position, then checks that the routes' rulesets are among the files. It
// returns how many rulesets loaded: the summary line counts those, not the
// names the routes use, so a config without routes does not read as
// having no rulesets.
func validateConfigRulesets(env *cliEnv, cfg *config.Config) (int, bool) {
	store := rulesets.NewStore(rulesets.StoreConfig{Dir: cfg.RulesetsDir},
		processor.Compiler(cfg.Limits.MaxRecordBytes, cfg.Limits.MaxDepth))
	ok := true
	if err := store.Load(); err != nil {
		var le rulesets.LoadError
		if !errors.As(err, &le) {
			fmt.Fprintf(env.stderr, "%s: %v\n", cfg.File, err)
			return 0, false
		}
		for _, fe := range le {
			printRulesetErrors(env.stderr, fe)
		}
		ok = false
	}
	loaded := store.List()
	for _, e := range loaded {
		fmt.Fprintf(env.stdout, "ok  %s: %d rules\n", e.Path, len(e.Ruleset.Rules))
	}
	for _, name := range cfg.Rulesets() {
		if _, found := store.Get(name); found {
			continue
		}
		if hasRulesetFile(cfg.RulesetsDir, name) {
			continue // it failed: its errors are listed above
		}
		users := ""
		for _, r := range cfg.Routes {
			if r.Ruleset == name {
				users += " " + r.Name
			}
		}
		fmt.Fprintf(env.stderr, "%s: ruleset %q (used by route%s) not found: rulesets_dir %s has no %s.yaml; add it there (rulesets/examples has ready ones to copy), point rulesets_dir at the folder that has it, or name another ruleset\n",
			cfg.File, name, users, cfg.RulesetsDir, name)
		ok = false
	}
	return len(loaded), ok
}

// printRulesetErrors prints a ruleset file's problems one a line, as
// file:line:col: problem, the form "maskstream validate" prints. The
// FileError's own text would say the path twice ("rulesets: loading
// f.yaml: f.yaml:1:1: ..."), and only on its first line.
func printRulesetErrors(w io.Writer, fe *rulesets.FileError) {
	for _, e := range rulesets.Errors(fe.Err) {
		if e.Pos.File == "" {
			e = &rulesets.Error{Pos: rulesets.Pos{File: fe.Path, Line: e.Pos.Line, Col: e.Pos.Col}, Msg: e.Msg}
		}
		fmt.Fprintln(w, e.Error())
	}
}

// hasRulesetFile reports whether dir has a file for ruleset name.
func hasRulesetFile(dir, name string) bool {
	for _, ext := range []string{".yaml", ".yml"} {
		if _, err := os.Stat(filepath.Join(dir, name+ext)); err == nil {
			return true
		}
	}
	return false
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
