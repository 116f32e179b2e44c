package processor

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/connectors/nats"
)

// authConfig is a daemon config naming every broker security setting,
// loaded from dir (relative paths in it resolve there). Secret files are
// written with a trailing newline, as an editor leaves them.
const authConfig = `
kafka:
  mtls:
    brokers: [k1:9093, k2:9093]
    client_id: masker
    tls: { ca_file: tls/ca.pem, cert_file: tls/client.pem, key_file: tls/client-key.pem, server_name: kafka.internal }
    sasl: { mechanism: SCRAM-SHA-512, user: maskstream, password_env: KAFKA_PASSWORD }
  plainfile:
    brokers: [k3:9093]
    tls: { insecure_skip_verify: true }
    sasl: { mechanism: PLAIN, user: svc, password_file: secrets/kafka-password }
  open: { brokers: [k4:9092] }
  unset: { brokers: [k5:9093], tls: {}, sasl: { mechanism: SCRAM-SHA-256, user: u, password_env: UNSET_PASSWORD } }
nats:
  nkey: { url: "tls://n1:4222", nkey_file: secrets/maskstream.nk, tls: { ca_file: tls/ca.pem, server_name: nats.internal } }
  creds: { url: "nats://n2:4222", creds_file: /etc/maskstream/nats.creds }
  userpass: { url: "nats://n3:4222", user: maskstream, password_env: NATS_PASSWORD }
  userfile: { url: "nats://n3:4222", user: maskstream, password_file: secrets/nats-password }
  tokenenv: { url: "nats://n4:4222,nats://n5:4222", token_env: NATS_TOKEN, tls: { cert_file: tls/client.pem, key_file: tls/client-key.pem } }
  tokenfile: { url: "nats://n4:4222", token_file: secrets/nats-token }
  broken: { url: "nats://n6:4222", user: u, password_env: UNSET_PASSWORD }
routes:
  - name: r
    from: { kafka: open, topics: [t] }
    to: { kafka: open, topic: out }
    ruleset: x
`

var testEnv = map[string]string{
	"KAFKA_PASSWORD": "kafka-s3cret",
	"NATS_PASSWORD":  "nats-s3cret",
	"NATS_TOKEN":     "nats-t0ken",
}

func loadAuthConfig(t *testing.T) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"secrets/kafka-password": "file-s3cret\n",
		"secrets/nats-password":  "nats-file-s3cret\n",
		"secrets/nats-token":     "file-t0ken\n",
		"maskstream.yaml":        authConfig,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(dir, "maskstream.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

func getenv(k string) string { return testEnv[k] }

// TestKafkaClusterMapping: every TLS and SASL setting of a configured
// cluster reaches the connector's ClusterConfig, relative paths resolved
// against the config's folder and the password read from its variable or
// file.
func TestKafkaClusterMapping(t *testing.T) {
	cfg, dir := loadAuthConfig(t)
	tests := []struct {
		name string
		want kafka.ClusterConfig
	}{
		{"mtls", kafka.ClusterConfig{
			Brokers: []string{"k1:9093", "k2:9093"}, ClientID: "masker",
			TLS: &kafka.TLSConfig{
				CAFile: filepath.Join(dir, "tls/ca.pem"), CertFile: filepath.Join(dir, "tls/client.pem"),
				KeyFile: filepath.Join(dir, "tls/client-key.pem"), ServerName: "kafka.internal",
			},
			SASL: &kafka.SASLConfig{Mechanism: kafka.MechanismScramSHA512, User: "maskstream", Password: "kafka-s3cret"},
		}},
		{"plainfile", kafka.ClusterConfig{
			Brokers: []string{"k3:9093"}, ClientID: "maskstream",
			TLS:  &kafka.TLSConfig{InsecureSkipVerify: true},
			SASL: &kafka.SASLConfig{Mechanism: kafka.MechanismPlain, User: "svc", Password: "file-s3cret"},
		}},
		{"open", kafka.ClusterConfig{Brokers: []string{"k4:9092"}, ClientID: "maskstream"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kafkaCluster(cfg, tt.name, getenv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("kafkaCluster = %s\nwant %s", dump(got), dump(tt.want))
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the connector refuses the mapped config: %v", err)
			}
		})
	}

	t.Run("password variable unset", func(t *testing.T) {
		_, err := kafkaCluster(cfg, "unset", getenv)
		if err == nil || !strings.Contains(err.Error(), `kafka cluster "unset" sasl`) || !strings.Contains(err.Error(), "UNSET_PASSWORD is not set") {
			t.Errorf("kafkaCluster = %v, want an error naming the cluster and the variable", err)
		}
	})
	t.Run("undefined cluster", func(t *testing.T) {
		if _, err := kafkaCluster(cfg, "nope", getenv); err == nil || !strings.Contains(err.Error(), `kafka cluster "nope" is not defined`) {
			t.Errorf("kafkaCluster = %v", err)
		}
	})
}

// TestNATSServerMapping: nkey_file, creds_file, user + password, token
// and TLS of a configured server reach the connector's ServerConfig.
func TestNATSServerMapping(t *testing.T) {
	cfg, dir := loadAuthConfig(t)
	clientTLS := &nats.TLSConfig{CertFile: filepath.Join(dir, "tls/client.pem"), KeyFile: filepath.Join(dir, "tls/client-key.pem")}
	tests := []struct {
		name string
		want nats.ServerConfig
	}{
		{"nkey", nats.ServerConfig{URL: "tls://n1:4222", NKeyFile: filepath.Join(dir, "secrets/maskstream.nk"),
			TLS: &nats.TLSConfig{CAFile: filepath.Join(dir, "tls/ca.pem"), ServerName: "nats.internal"}}},
		{"creds", nats.ServerConfig{URL: "nats://n2:4222", CredsFile: "/etc/maskstream/nats.creds"}},
		{"userpass", nats.ServerConfig{URL: "nats://n3:4222", User: "maskstream", Password: "nats-s3cret"}},
		{"userfile", nats.ServerConfig{URL: "nats://n3:4222", User: "maskstream", Password: "nats-file-s3cret"}},
		{"tokenenv", nats.ServerConfig{URL: "nats://n4:4222,nats://n5:4222", Token: "nats-t0ken", TLS: clientTLS}},
		{"tokenfile", nats.ServerConfig{URL: "nats://n4:4222", Token: "file-t0ken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := natsServer(cfg, tt.name, "orders", getenv)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Name = "maskstream-orders" // the connection name the server shows
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("natsServer = %s\nwant %s", dump(got), dump(tt.want))
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the connector refuses the mapped config: %v", err)
			}
		})
	}

	t.Run("password variable unset", func(t *testing.T) {
		_, err := natsServer(cfg, "broken", "orders", getenv)
		if err == nil || !strings.Contains(err.Error(), `nats server "broken" password`) || !strings.Contains(err.Error(), "UNSET_PASSWORD is not set") {
			t.Errorf("natsServer = %v, want an error naming the server and the variable", err)
		}
	})
	t.Run("undefined server", func(t *testing.T) {
		if _, err := natsServer(cfg, "nope", "orders", getenv); err == nil || !strings.Contains(err.Error(), `nats server "nope" is not defined`) {
			t.Errorf("natsServer = %v", err)
		}
	})
}

// dump shows a connector config in a failure message with its pointers
// followed; the values here are test fixtures, not secrets.
func dump(v any) string {
	switch c := v.(type) {
	case kafka.ClusterConfig:
		return fmt.Sprintf("%+v tls=%+v sasl=%+v", c, c.TLS, c.SASL)
	case nats.ServerConfig:
		return fmt.Sprintf("%+v tls=%+v", c, c.TLS)
	}
	return fmt.Sprintf("%+v", v)
}
