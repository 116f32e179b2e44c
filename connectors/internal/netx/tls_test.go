package netx

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/connectors/internal/netx/netxtest"
)

// handshake serves one TLS connection with srv and dials it with the
// config Build made from c. The server writes "ok" once its side of the
// handshake is done: under TLS 1.3 a refused client certificate reaches
// the client only at its first read, so the read is the verdict.
func handshake(t *testing.T, srv *tls.Config, c TLSConfig) error {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if conn.(*tls.Conn).Handshake() == nil {
			_, _ = conn.Write([]byte("ok"))
		}
	}()
	tc, err := c.Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", l.Addr().String(), tc)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != "ok" {
		return errors.New("server did not finish the handshake")
	}
	return nil
}

func TestTLSBuildHandshake(t *testing.T) {
	ca := netxtest.NewCA(t, "broker")
	other := netxtest.NewCA(t, "other")
	clientCA := netxtest.NewCA(t, "clients")
	clientCert, clientKey := clientCA.Issue(t, "maskstream")
	strangerCert, strangerKey := other.Issue(t, "stranger")
	serverOnly := ca.ServerTLS(t, nil)
	mutual := ca.ServerTLS(t, clientCA)

	tests := []struct {
		name string
		srv  *tls.Config
		cfg  TLSConfig
		want string // "" for a handshake that succeeds, else part of its error
	}{
		{"trusted ca", serverOnly, TLSConfig{CAFile: ca.CAFile}, ""},
		{"ca and server name", serverOnly, TLSConfig{CAFile: ca.CAFile, ServerName: "localhost"}, ""},
		{"untrusted ca", serverOnly, TLSConfig{CAFile: other.CAFile}, "certificate signed by unknown authority"},
		{"system roots", serverOnly, TLSConfig{}, "certificate signed by unknown authority"},
		{"wrong server name", serverOnly, TLSConfig{CAFile: ca.CAFile, ServerName: "kafka.example"}, "not kafka.example"},
		{"insecure skip verify", serverOnly, TLSConfig{CAFile: other.CAFile, InsecureSkipVerify: true}, ""},
		{"client certificate", mutual, TLSConfig{CAFile: ca.CAFile, CertFile: clientCert, KeyFile: clientKey}, ""},
		{"no client certificate", mutual, TLSConfig{CAFile: ca.CAFile}, "certificate required"},
		// Go's client offers only a certificate of a CA the server asks
		// for, so a stranger's certificate is not even sent.
		{"client certificate of another ca", mutual, TLSConfig{CAFile: ca.CAFile, CertFile: strangerCert, KeyFile: strangerKey}, "certificate required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := handshake(t, tt.srv, tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("handshake: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("handshake error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTLSBuildFiles(t *testing.T) {
	ca := netxtest.NewCA(t, "broker")
	certFile, keyFile := ca.Issue(t, "client")
	_, otherKey := ca.Issue(t, "someone-else")

	tc, err := (&TLSConfig{CAFile: ca.CAFile, CertFile: certFile, KeyFile: keyFile, ServerName: "kafka.internal"}).Build()
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	if tc.RootCAs == nil || !tc.RootCAs.Equal(ca.Pool()) {
		t.Error("RootCAs is not the ca_file's CA")
	}
	if len(tc.Certificates) != 1 || tc.Certificates[0].Leaf == nil || tc.Certificates[0].Leaf.Subject.CommonName != "client" {
		t.Errorf("Certificates = %v, want the client certificate", tc.Certificates)
	}
	if tc.ServerName != "kafka.internal" || tc.MinVersion != tls.VersionTLS12 || tc.InsecureSkipVerify {
		t.Errorf("ServerName %q MinVersion %x InsecureSkipVerify %v", tc.ServerName, tc.MinVersion, tc.InsecureSkipVerify)
	}

	// A key that does not belong to the certificate is refused at Build,
	// not at the first handshake.
	_, err = (&TLSConfig{CertFile: certFile, KeyFile: otherKey}).Build()
	if err == nil || !strings.Contains(err.Error(), "matching PEM pair") {
		t.Errorf("Build() with another certificate's key = %v, want a matching PEM pair error", err)
	}
	// A private key given as ca_file is no CA bundle.
	_, err = (&TLSConfig{CAFile: keyFile}).Build()
	if err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("Build() with a key as ca_file = %v, want holds no PEM certificate", err)
	}
}
