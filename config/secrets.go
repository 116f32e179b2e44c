package config

import (
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

// CheckSecrets reads every password and token the config names (not the
// run secret) and reports each one that cannot be read, so a bad
// deployment fails at start rather than at the first reconnect. Only
// clusters that a route uses are checked. HTTP tokens are httpapi's to
// read (httpapi.CheckTokens), by the rules its server applies.
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
	return errors.Join(errs...)
}
