// Package netx holds the plumbing both broker connectors need: TLS from
// files, retry backoff, log-flood limiting and in-flight counting. It knows
// no broker.
package netx

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// TLSConfig is TLS to a broker from PEM files.
type TLSConfig struct {
	// CAFile is a PEM bundle of the CAs to trust instead of the system
	// roots.
	CAFile string
	// CertFile and KeyFile are a client certificate for mutual TLS; both
	// or neither.
	CertFile string
	KeyFile  string
	// InsecureSkipVerify disables certificate verification. For tests
	// only.
	InsecureSkipVerify bool
	// ServerName overrides the name checked in the server's certificate.
	ServerName string
}

// Build reads the files and returns the tls.Config (TLS 1.2 at least).
// Errors name the file and say what is wrong with it; the caller adds its
// package prefix.
func (t *TLSConfig) Build() (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // opt-in, documented as test-only
		ServerName:         t.ServerName,
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading TLS ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS ca_file %s holds no PEM certificate; give a PEM bundle of CA certificates", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading TLS client certificate (cert_file and key_file must be a matching PEM pair): %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
