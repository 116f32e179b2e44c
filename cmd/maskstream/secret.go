package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/maskstream/maskstream/engine"
)

// runSecretEnv is the environment variable holding the run secret.
const runSecretEnv = "MASKSTREAM_RUN_SECRET"

// errNoRunSecret is what `run` says when it has no secret to mask with.
var errNoRunSecret = errors.New("no run secret: set " + runSecretEnv + " to a random string of 16 to 256 characters " +
	"(for example: export " + runSecretEnv + "=$(openssl rand -hex 32)), or point run_secret_file in the config at a file " +
	"holding it (a secrets manager's mount); give every instance the same secret, and keep it: the same secret gives the same masked values")

// readRunSecret reads the run secret from MASKSTREAM_RUN_SECRET, else from
// file. It returns where it came from, for the start-up log; never the
// secret. A missing secret is errNoRunSecret.
func readRunSecret(env *cliEnv, file string) (*engine.Secret, string, error) {
	sec, src, err := loadSecret(env, runSecretEnv, file, "run_secret_file", false)
	switch {
	case err != nil:
		return nil, "", err
	case sec == nil && file != "":
		return nil, "", fmt.Errorf("run_secret_file %s is empty: %w", file, errNoRunSecret)
	case sec == nil:
		return nil, "", errNoRunSecret
	}
	return sec, src, nil
}

// loadSecret reads a run secret from the environment variable envVar or
// from file (named fileLabel in messages), whichever holds one: the
// variable first, or with fileWins, only the file when one is given. It
// returns where the secret came from (envVar, or fileLabel and the file's
// name), never the secret, and a nil Secret when neither holds one.
func loadSecret(env *cliEnv, envVar, file, fileLabel string, fileWins bool) (*engine.Secret, string, error) {
	var raw, src string
	blank := func() bool { return strings.TrimRight(raw, "\r\n") == "" }
	if !fileWins || file == "" {
		raw, src = env.getenv(envVar), envVar
	}
	if blank() && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("reading %s: %w", fileLabel, err)
		}
		// A mount or an editor may end the file with a line break:
		// NewSecret drops it, as it does at the end of an env value.
		raw, src = string(b), fileLabel+" "+file
	}
	if blank() {
		return nil, "", nil
	}
	sec, err := engine.NewSecret(raw)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", src, err)
	}
	return sec, src, nil
}

// demoSecret is a random run secret for one demo run: the demo's masked
// values change from run to run unless MASKSTREAM_RUN_SECRET is set.
func demoSecret() (*engine.Secret, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return engine.NewSecret(hex.EncodeToString(b[:]))
}
