package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrSecretMissing is wrapped by the secret readers when the environment
// variable is unset or the file is empty.
var ErrSecretMissing = errors.New("config: secret not provided")

// ReadSecret returns the secret held by the environment variable env or
// the file at path (one of them is set). A file's trailing newline is
// dropped. Errors name the variable or file, never the value.
func ReadSecret(getenv func(string) string, env, path string) (string, error) {
	if env != "" {
		v := getenv(env)
		if v == "" {
			return "", fmt.Errorf("%w: environment variable %s is not set; export it, or name a file holding it with the *_file key instead", ErrSecretMissing, env)
		}
		return v, nil
	}
	if path == "" {
		return "", fmt.Errorf("%w: no environment variable or file given; set the *_env or *_file key", ErrSecretMissing)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("config: reading secret file: %w", err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("%w: secret file %s is empty; write the secret into it", ErrSecretMissing, path)
	}
	return v, nil
}

// Password reads the SASL password.
func (s *SASL) Password(getenv func(string) string) (string, error) {
	return ReadSecret(getenv, s.PasswordEnv, s.PasswordFile)
}

// Password reads the NATS user's password; "" when no user is set.
func (n *NATSServer) Password(getenv func(string) string) (string, error) {
	if n.User == "" {
		return "", nil
	}
	return ReadSecret(getenv, n.PasswordEnv, n.PasswordFile)
}

// Token reads the NATS token; "" when none is configured.
func (n *NATSServer) Token(getenv func(string) string) (string, error) {
	if n.TokenEnv == "" && n.TokenFile == "" {
		return "", nil
	}
	return ReadSecret(getenv, n.TokenEnv, n.TokenFile)
}

// Hash returns the SHA-256 of the token: the configured digest, or the
// digest of the token read from its variable or file. The server keeps
// only the digest.
func (t *Token) Hash(getenv func(string) string) ([32]byte, error) {
	var sum [32]byte
	if t.SHA256 != "" {
		b, err := hex.DecodeString(t.SHA256)
		if err != nil || len(b) != len(sum) {
			return sum, fmt.Errorf("config: http token %q: sha256 must be 64 hex digits", t.Name)
		}
		copy(sum[:], b)
		return sum, nil
	}
	v, err := ReadSecret(getenv, t.TokenEnv, t.TokenFile)
	if err != nil {
		return sum, fmt.Errorf("config: http token %q: %w", t.Name, err)
	}
	return sha256.Sum256([]byte(v)), nil
}

// CheckSecrets reads every password and token the config names (not the
// run secret) and reports each one that cannot be read, so a bad
// deployment fails at start rather than at the first reconnect. Only
// clusters that a route uses are checked, and the HTTP tokens.
func (c *Config) CheckSecrets(getenv func(string) string) error {
	var errs []error
	used := map[string]bool{}
	for _, r := range c.Routes {
		for _, s := range []struct {
			kafka bool
			name  string
		}{{r.From.IsKafka(), r.From.Cluster()}, {r.To.IsKafka(), r.To.Cluster()}, {r.DeadLetter.IsKafka(), r.DeadLetter.Cluster()}} {
			if s.kafka {
				used["kafka\x00"+s.name] = true
			} else {
				used["nats\x00"+s.name] = true
			}
		}
	}
	for _, name := range sortedKeys(c.Kafka) {
		k := c.Kafka[name]
		if used["kafka\x00"+name] && k.SASL != nil {
			if _, err := k.SASL.Password(getenv); err != nil {
				errs = append(errs, fmt.Errorf("kafka cluster %q sasl password: %w", name, err))
			}
		}
	}
	for _, name := range sortedKeys(c.NATS) {
		n := c.NATS[name]
		if !used["nats\x00"+name] {
			continue
		}
		if _, err := n.Password(getenv); err != nil {
			errs = append(errs, fmt.Errorf("nats server %q password: %w", name, err))
		}
		if _, err := n.Token(getenv); err != nil {
			errs = append(errs, fmt.Errorf("nats server %q token: %w", name, err))
		}
		for _, f := range []string{n.CredsFile, n.NkeyFile} {
			if f != "" {
				if _, err := os.Stat(f); err != nil {
					errs = append(errs, fmt.Errorf("nats server %q: %w", name, err))
				}
			}
		}
	}
	if c.HTTP != nil {
		for _, t := range c.HTTP.Tokens {
			if _, err := t.Hash(getenv); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
