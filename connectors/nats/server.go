package nats

import (
	"github.com/maskstream/maskstream/connectors/internal/netx"

	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"syscall"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// ServerConfig says how to reach a NATS server or cluster. Sources and
// sinks each open their own connection from it.
type ServerConfig struct {
	// URL is one or more comma-separated server URLs
	// (nats://host:4222, tls://host:4222).
	URL string
	// CredsFile is a user JWT + nkey seed file (decentralized auth).
	CredsFile string
	// NKeyFile is an nkey seed file.
	NKeyFile string
	// User and Password, or Token, are the other ways to authenticate.
	User     string
	Password string
	Token    string
	// TLS enables TLS when non-nil.
	TLS *TLSConfig
	// Name is the connection name shown by the server; "maskstream" when
	// empty.
	Name string
}

// TLSConfig is the client side of TLS to the server.
type TLSConfig = netx.TLSConfig

// Validate reports every mistake in c at once.
func (c ServerConfig) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("nats: no server url: give nats://host:4222"))
	}
	auth := 0
	for _, set := range []bool{c.CredsFile != "", c.NKeyFile != "", c.User != "", c.Token != ""} {
		if set {
			auth++
		}
	}
	if auth > 1 {
		errs = append(errs, errors.New("nats: give one of creds_file, nkey_file, user/password or token"))
	}
	if c.TLS != nil && (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("nats: TLS cert_file and key_file go together: give both or neither"))
	}
	return errors.Join(errs...)
}

// Reconnect backoff: the first retry is quick (a server restart), later
// ones spread out so a long outage does not hammer the server.
const (
	reconnectMin = 100 * time.Millisecond
	reconnectMax = 5 * time.Second
)

func reconnectDelay(attempts int) time.Duration {
	d := reconnectMin
	for i := 1; i < attempts && d < reconnectMax; i++ {
		d *= 2
	}
	return min(d, reconnectMax)
}

// connHooks are what a connection's owner wants to hear of. Every field
// is optional.
type connHooks struct {
	// closing is set by the owner when it starts closing: a disconnect
	// from then on is the shutdown, not an outage.
	closing *atomic.Bool
	// onDisconnect and onReconnect run on nats.go's callback goroutine
	// and must not block.
	onDisconnect func()
	onReconnect  func()
}

// connect opens a connection that reconnects forever and logs its state
// changes. extra options go last.
func connect(c ServerConfig, logger *slog.Logger, hooks connHooks, extra ...natsgo.Option) (*natsgo.Conn, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	name := c.Name
	if name == "" {
		name = "maskstream"
	}
	opts := []natsgo.Option{
		natsgo.Name(name),
		natsgo.MaxReconnects(-1),
		natsgo.CustomReconnectDelay(reconnectDelay),
		natsgo.DisconnectErrHandler(func(nc *natsgo.Conn, err error) {
			if hooks.onDisconnect != nil {
				hooks.onDisconnect()
			}
			if shuttingDown(nc, err, hooks.closing) {
				logger.Debug("nats: disconnected while closing")
				return
			}
			logger.Warn("nats: disconnected; reconnecting", "err", err)
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			if hooks.onReconnect != nil {
				hooks.onReconnect()
			}
			logger.Info("nats: reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(asyncErrLogger(logger)),
	}
	switch {
	case c.CredsFile != "":
		opts = append(opts, natsgo.UserCredentials(c.CredsFile))
	case c.NKeyFile != "":
		o, err := natsgo.NkeyOptionFromSeed(c.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats: reading nkey_file: %w", err)
		}
		opts = append(opts, o)
	case c.User != "":
		opts = append(opts, natsgo.UserInfo(c.User, c.Password))
	case c.Token != "":
		opts = append(opts, natsgo.Token(c.Token))
	}
	if c.TLS != nil {
		tc, err := c.TLS.Build()
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		opts = append(opts, natsgo.Secure(tc))
	}
	opts = append(opts, extra...)
	nc, err := natsgo.Connect(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connecting to %s: %w%s", redactURL(c.URL), err, clientCertHint(c, err))
	}
	return nc, nil
}

// clientCertHint explains a connection the server dropped right after a
// completed TLS handshake. A server refusing the client certificate does
// that under TLS 1.3, and depending on timing the client sees only EOF or
// a broken pipe, not the server's alert naming the certificate.
func clientCertHint(c ServerConfig, err error) string {
	if !errors.Is(err, natsgo.ErrTLS) || !(errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		return ""
	}
	if c.TLS == nil || c.TLS.CertFile == "" {
		return "; the server closed the connection right after the TLS handshake: if it requires a client certificate, set tls cert_file and key_file"
	}
	return "; the server closed the connection right after the TLS handshake: if it requires a client certificate, check that it trusts the CA that signed tls cert_file"
}

// shuttingDown tells a disconnect that is part of closing the connection
// (our Close or Drain: nats.go reports those with a nil error, or the
// connection is closed or draining by the time the callback runs, or the
// owner said it is closing) from an outage worth a warning.
func shuttingDown(nc *natsgo.Conn, err error, closing *atomic.Bool) bool {
	return err == nil || nc.IsClosed() || nc.IsDraining() || (closing != nil && closing.Load())
}

// asyncErrLogger logs asynchronous errors (slow consumer, permission
// violations) at most once per 30s per kind, so a slow consumer does not
// flood the log. The subscription's subject is left out: the owner's
// logger already names what it reads (a core source's subject, a
// JetStream source's stream and durable), and other subscriptions are
// nats.go's inboxes. A slow consumer's log says how many messages the
// subscription has dropped so far: on core NATS they are lost.
func asyncErrLogger(logger *slog.Logger) natsgo.ErrHandler {
	var lim netx.ErrLimiter
	return func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
		if !lim.Allow(err.Error()) {
			return
		}
		if sub != nil && errors.Is(err, natsgo.ErrSlowConsumer) {
			if n, derr := sub.Dropped(); derr == nil {
				logger.Warn("nats: async error", "err", err, "dropped_so_far", n)
				return
			}
		}
		logger.Warn("nats: async error", "err", err)
	}
}
