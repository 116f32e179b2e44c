package config

import (
	"strings"
	"testing"
)

// TestNATSURLCredentialsRefused: a NATS url carrying anything before the
// host's @ is refused, a token alone (nats://TOKEN@host) as much as
// user:password: the config file is not where secrets live, and the
// error must not repeat it.
func TestNATSURLCredentialsRefused(t *testing.T) {
	for _, url := range []string{
		"nats://s3cr3t-token@n:4222",
		"nats://user:s3cr3t-pass@n:4222",
		"tls://n1:4222,nats://s3cr3t-token@n2:4222",
		"nats://s3cr3t-token:@n:4222",
	} {
		t.Run(url, func(t *testing.T) {
			_, err := Parse([]byte(`
nats:
  main: { url: "`+url+`" }
routes:
  - name: a
    from: { nats: main, subject: "in.>" }
    to: { nats: main, subject: "out.{subject}" }
    ruleset: r
`), "c.yaml")
			if err == nil || !strings.Contains(err.Error(), `nats server "main" url carries credentials`) {
				t.Fatalf("Parse = %v; want the url refused for carrying credentials", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("the error quotes the secret: %v", err)
			}
		})
	}
}
