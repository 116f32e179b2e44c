package nats_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/maskstream/maskstream/connectors"
	"github.com/maskstream/maskstream/connectors/internal/netx/netxtest"
	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/testenv"
)

// TestNkeyTLS runs a JetStream source and sink against a server that
// wants TLS and an nkey: a record moves from one stream to the other,
// and again after a Restart (which must keep both). Clients without the
// nkey, with an unknown one, or not trusting the server's CA are refused,
// and the error says why.
func TestNkeyTLS(t *testing.T) {
	ca := netxtest.NewCA(t, "nats")
	seedFile, pub := nkeyFile(t, "maskstream")
	otherSeed, _ := nkeyFile(t, "stranger")
	n := testenv.StartNATS(t, withTLS(ca.ServerTLS(t, nil)), func(o *server.Options) {
		o.Nkeys = []*server.NkeyUser{{Nkey: pub}}
	})
	good := n.ServerConfig()
	good.NKeyFile = seedFile
	good.TLS = &nats.TLSConfig{CAFile: ca.CAFile}

	js := jsAs(t, good)
	for _, s := range [][2]string{{"IN", "in.>"}, {"OUT", "out.>"}} {
		if _, err := js.CreateStream(ctxT(t, defaultWait), jetstream.StreamConfig{Name: s[0], Subjects: []string{s[1]}}); err != nil {
			t.Fatal(err)
		}
	}
	runPipe(t, good, "IN", "out.")
	publish(t, js, "in.a", &connectors.Record{Value: []byte(`{"n":1}`)})
	waitFor(t, "the record in OUT", func() bool { return streamCount(t, js, "OUT") == 1 })
	if got := readStream(t, js, "OUT", 1)[0]; got.Origin.Topic != "out.in.a" || string(got.Value) != `{"n":1}` {
		t.Errorf("OUT holds %s %s, want out.in.a {\"n\":1}", got.Origin.Topic, got.Value)
	}

	refusals := []refusal{
		{"no credentials", func(c *nats.ServerConfig) { c.NKeyFile = "" }, "Authorization Violation"},
		{"unknown nkey", func(c *nats.ServerConfig) { c.NKeyFile = otherSeed }, "Authorization Violation"},
		{"missing nkey file", func(c *nats.ServerConfig) { c.NKeyFile = filepath.Join(t.TempDir(), "none.nk") }, "reading nkey_file"},
		{"untrusted ca", func(c *nats.ServerConfig) { c.TLS = &nats.TLSConfig{CAFile: netxtest.NewCA(t, "other").CAFile} }, "certificate signed by unknown authority"},
		// The server says it requires TLS, so nats.go upgrades anyway,
		// trusting only the system roots.
		{"no tls section", func(c *nats.ServerConfig) { c.TLS = nil }, "certificate signed by unknown authority"},
	}
	checkRefused(t, good, refusals)

	n.Shutdown()
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Run("after restart", func(t *testing.T) {
		checkRefused(t, good, refusals[:1])
		js := jsAs(t, good) // the test's own connection gave up when the server went away
		publish(t, js, "in.b", &connectors.Record{Value: []byte(`{"n":2}`)})
		waitFor(t, "the record published after the restart", func() bool { return streamCount(t, js, "OUT") == 2 })
	})
}

// TestUserPasswordAndToken: the server's other two ways to authenticate.
func TestUserPasswordAndToken(t *testing.T) {
	tests := []struct {
		name     string
		opt      testenv.NATSOption
		set      func(*nats.ServerConfig)
		refusals []refusal
	}{{
		name: "user and password",
		opt:  func(o *server.Options) { o.Users = []*server.User{{Username: "maskstream", Password: "s3cret"}} },
		set:  func(c *nats.ServerConfig) { c.User, c.Password = "maskstream", "s3cret" },
		refusals: []refusal{
			{"wrong password", func(c *nats.ServerConfig) { c.Password = "wrong" }, "Authorization Violation"},
			{"no password", func(c *nats.ServerConfig) { c.Password = "" }, "Authorization Violation"},
			{"no credentials", func(c *nats.ServerConfig) { c.User, c.Password = "", "" }, "Authorization Violation"},
		},
	}, {
		name: "token",
		opt:  func(o *server.Options) { o.Authorization = "t0ken" },
		set:  func(c *nats.ServerConfig) { c.Token = "t0ken" },
		refusals: []refusal{
			{"wrong token", func(c *nats.ServerConfig) { c.Token = "wrong" }, "Authorization Violation"},
			{"no credentials", func(c *nats.ServerConfig) { c.Token = "" }, "Authorization Violation"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := testenv.StartNATS(t, tt.opt)
			good := n.ServerConfig()
			tt.set(&good)
			sinkOneRecord(t, good)
			checkRefused(t, good, tt.refusals)
		})
	}
}

// TestCredsFile authenticates with a user JWT and seed (a .creds file)
// against a server in operator mode, where accounts come from JWTs.
func TestCredsFile(t *testing.T) {
	op := newOperator(t)
	n := testenv.StartNATS(t, op.serverOption())
	good := n.ServerConfig()
	good.CredsFile = op.creds(t, "maskstream")
	sinkOneRecord(t, good)

	stranger := newOperator(t) // same account shape, signed by an operator the server does not trust
	checkRefused(t, good, []refusal{
		{"no credentials", func(c *nats.ServerConfig) { c.CredsFile = "" }, "Authorization Violation"},
		{"user of an unknown account", func(c *nats.ServerConfig) { c.CredsFile = stranger.creds(t, "maskstream") }, "Authorization Violation"},
		{"missing creds file", func(c *nats.ServerConfig) { c.CredsFile = filepath.Join(t.TempDir(), "none.creds") }, "no such file"},
	})
}

// TestMutualTLS: a server that demands a client certificate accepts the
// one its client CA signed and refuses a client without one.
func TestMutualTLS(t *testing.T) {
	ca := netxtest.NewCA(t, "nats")
	clientCA := netxtest.NewCA(t, "clients")
	cert, key := clientCA.Issue(t, "maskstream")
	n := testenv.StartNATS(t, withTLS(ca.ServerTLS(t, clientCA)), func(o *server.Options) { o.TLSVerify = true })
	good := n.ServerConfig()
	good.TLS = &nats.TLSConfig{CAFile: ca.CAFile, CertFile: cert, KeyFile: key}
	sinkOneRecord(t, good)
	// The server's alert ("certificate required") or, when the client
	// is writing as the server hangs up, the connector's hint: both name
	// the certificate.
	checkRefused(t, good, []refusal{
		{"no client certificate", func(c *nats.ServerConfig) { c.TLS = &nats.TLSConfig{CAFile: ca.CAFile} }, "certificate"},
	})
}

// TestDroppedAfterHandshake: a server that hangs up right after the TLS
// handshake (as one refusing the client certificate may, without its
// alert reaching the client) gets an error that says to check the client
// certificate.
func TestDroppedAfterHandshake(t *testing.T) {
	ca := netxtest.NewCA(t, "nats")
	srvTLS := ca.ServerTLS(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(defaultWait))
				if _, err := conn.Write([]byte(`INFO {"server_id":"fake","version":"2.10.0","proto":1,"tls_required":true,"max_payload":1048576}` + "\r\n")); err != nil {
					return
				}
				tc := tls.Server(conn, srvTLS)
				_ = tc.Handshake()
				// Hang up at once: no alert, no INFO, nothing read.
				_ = conn.Close()
			}()
		}
	}()
	cert, key := ca.Issue(t, "client")
	for _, tt := range []struct {
		name string
		tls  *nats.TLSConfig
		want string
	}{
		{"without a client certificate", &nats.TLSConfig{CAFile: ca.CAFile}, "if it requires a client certificate, set tls cert_file and key_file"},
		{"with one", &nats.TLSConfig{CAFile: ca.CAFile, CertFile: cert, KeyFile: key}, "check that it trusts the CA that signed tls cert_file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := nats.ServerConfig{URL: "nats://" + l.Addr().String(), TLS: tt.tls}
			sink, err := nats.NewCoreSink(cfg, nats.CoreSinkConfig{}, testLogger(t))
			if err == nil {
				sink.Close()
				t.Fatal("connected to a server that hangs up")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want one containing %q", err, tt.want)
			}
		})
	}
}

func withTLS(tc *tls.Config) testenv.NATSOption {
	return func(o *server.Options) { o.TLSConfig, o.TLS = tc, true }
}

// refusal is a change to a working ServerConfig that the server (or the
// client) must refuse, with want in the error.
type refusal struct {
	name   string
	change func(*nats.ServerConfig)
	want   string
}

// checkRefused expects a sink built with each refusal's config to fail
// at construction with the refusal's reason in its error.
func checkRefused(t *testing.T, good nats.ServerConfig, refusals []refusal) {
	t.Helper()
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			cfg := good
			r.change(&cfg)
			sink, err := nats.NewJetStreamSink(cfg, nats.JetStreamSinkConfig{}, testLogger(t))
			if err == nil {
				sink.Close()
				t.Fatalf("connected; want an error containing %q", r.want)
			}
			if !strings.Contains(err.Error(), r.want) {
				t.Fatalf("error %q, want one containing %q", err, r.want)
			}
		})
	}
}

// sinkOneRecord stores a record through a JetStream sink built from cfg
// and reads it back with the test's own client.
func sinkOneRecord(t *testing.T, cfg nats.ServerConfig) {
	t.Helper()
	js := jsAs(t, cfg)
	if _, err := js.CreateStream(ctxT(t, defaultWait), jetstream.StreamConfig{Name: "AUTH", Subjects: []string{"auth.>"}}); err != nil {
		t.Fatal(err)
	}
	sink, err := nats.NewJetStreamSink(cfg, nats.JetStreamSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatalf("NewJetStreamSink: %v", err)
	}
	defer sink.Close()
	done := make(chan error, 1)
	if err := sink.Write(ctxT(t, defaultWait), &connectors.Record{Topic: "auth.x", Value: []byte(`{"ok":true}`), Partition: -1}, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
	case <-time.After(defaultWait):
		t.Fatal("publish not acknowledged in time")
	}
	if got := readStream(t, js, "AUTH", 1)[0]; string(got.Value) != `{"ok":true}` {
		t.Errorf("AUTH holds %s", got.Value)
	}
}

// jsAs is the test's own JetStream client, authenticated as cfg says,
// for setting up streams and reading them.
func jsAs(t *testing.T, cfg nats.ServerConfig) jetstream.JetStream {
	t.Helper()
	opts := []natsgo.Option{natsgo.MaxReconnects(-1)}
	switch {
	case cfg.CredsFile != "":
		opts = append(opts, natsgo.UserCredentials(cfg.CredsFile))
	case cfg.NKeyFile != "":
		o, err := natsgo.NkeyOptionFromSeed(cfg.NKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, o)
	case cfg.User != "":
		opts = append(opts, natsgo.UserInfo(cfg.User, cfg.Password))
	case cfg.Token != "":
		opts = append(opts, natsgo.Token(cfg.Token))
	}
	if cfg.TLS != nil {
		tc, err := cfg.TLS.Build()
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, natsgo.Secure(tc))
	}
	nc, err := natsgo.Connect(cfg.URL, opts...)
	if err != nil {
		t.Fatalf("test client: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// runPipe runs a JetStream source on stream and a JetStream sink, both
// built from cfg, passing each record on to prefix + its subject and
// acking it once the sink has it.
func runPipe(t *testing.T, cfg nats.ServerConfig, stream, prefix string) {
	t.Helper()
	sink, err := nats.NewJetStreamSink(cfg, nats.JetStreamSinkConfig{}, testLogger(t))
	if err != nil {
		t.Fatalf("NewJetStreamSink: %v", err)
	}
	src, err := nats.NewJetStreamSource(cfg, nats.JetStreamSourceConfig{Stream: stream, Durable: "pipe", FetchWait: 500 * time.Millisecond}, testLogger(t))
	if err != nil {
		sink.Close()
		t.Fatalf("NewJetStreamSource: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(connectors.LaneID) connectors.Lane { return &pipeLane{src: src, sink: sink, prefix: prefix} })
	}()
	t.Cleanup(func() {
		select {
		case err := <-done:
			t.Errorf("source Run ended before the test did: %v", err)
		default:
			cancel()
			<-done
		}
		cancel()
		src.Close()
		sink.Close()
	})
}

type pipeLane struct {
	src    connectors.Source
	sink   connectors.Sink
	prefix string
}

func (l *pipeLane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	for _, r := range recs {
		done := make(chan error, 1)
		out := &connectors.Record{Topic: l.prefix + r.Origin.Topic, Value: r.Value, Headers: r.Headers, Partition: -1}
		if err := l.sink.Write(ctx, out, func(err error) { done <- err }); err != nil {
			return err
		}
		select {
		case err := <-done:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return l.src.Ack(ctx, recs)
}

func (l *pipeLane) Stop(context.Context) {}

// nkeyFile writes a new user nkey's seed to a file and returns the file
// and the public key the server is told to accept.
func nkeyFile(t *testing.T, name string) (file, pub string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	pub, _ = kp.PublicKey()
	file = filepath.Join(t.TempDir(), name+".nk")
	if err := os.WriteFile(file, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return file, pub
}

// operator is decentralized (JWT) auth: an operator trusting a system
// account and one JetStream-enabled account, which the server holds in
// memory.
type operator struct {
	claims             *jwt.OperatorClaims
	account            nkeys.KeyPair
	accountPub, sysPub string
	accountJWT, sysJWT string
}

func newOperator(t *testing.T) *operator {
	t.Helper()
	okp, err := nkeys.CreateOperator()
	if err != nil {
		t.Fatal(err)
	}
	opub, _ := okp.PublicKey()
	op := &operator{claims: jwt.NewOperatorClaims(opub)}
	_, op.sysPub, op.sysJWT = newAccount(t, okp, "SYS", false)
	op.account, op.accountPub, op.accountJWT = newAccount(t, okp, "APP", true)
	op.claims.SystemAccount = op.sysPub
	return op
}

func newAccount(t *testing.T, operator nkeys.KeyPair, name string, js bool) (nkeys.KeyPair, string, string) {
	t.Helper()
	akp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Name = name
	if js {
		ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	}
	token, err := ac.Encode(operator)
	if err != nil {
		t.Fatal(err)
	}
	return akp, apub, token
}

func (op *operator) serverOption() testenv.NATSOption {
	return func(o *server.Options) {
		res := &server.MemAccResolver{}
		_ = res.Store(op.sysPub, op.sysJWT)
		_ = res.Store(op.accountPub, op.accountJWT)
		o.TrustedOperators = []*jwt.OperatorClaims{op.claims}
		o.AccountResolver = res
		o.SystemAccount = op.sysPub
	}
}

// creds writes a .creds file for a new user of the operator's account.
func (op *operator) creds(t *testing.T, name string) string {
	t.Helper()
	ukp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = name
	token, err := uc.Encode(op.account)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := ukp.Seed()
	b, err := jwt.FormatUserConfig(token, seed)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), fmt.Sprintf("%s.creds", name))
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
