package nats

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
)

func h(k, v string) connectors.Header { return connectors.Header{Key: k, Value: []byte(v)} }

func TestHeadersRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   []connectors.Header
		want []connectors.Header // after toNATS then fromNATS
	}{
		{"none", nil, nil},
		{"repeated key keeps value order", []connectors.Header{h("b", "2"), h("a", "1"), h("b", "3")},
			[]connectors.Header{h("a", "1"), h("b", "2"), h("b", "3")}},
		{"empty value", []connectors.Header{h("k", "")}, []connectors.Header{h("k", "")}},
		{"case is kept", []connectors.Header{h("X-Trace", "1"), h("x-trace", "2")},
			[]connectors.Header{h("X-Trace", "1"), h("x-trace", "2")}},
		{"publish directives dropped", []connectors.Header{h("Nats-Expected-Last-Sequence", "9"), h("Nats-Rollup", "all"), h("Nats-Msg-Id", "id")},
			[]connectors.Header{h("Nats-Msg-Id", "id")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, got, bad := fromNATS(toNATS(nil, tt.in))
			if key != nil || bad != nil {
				t.Errorf("key %q (error %v) from a record without one", key, bad)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b connectors.Header) bool { return a.Key == b.Key && string(a.Value) == string(b.Value) }) {
				t.Errorf("round trip = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServerConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  ServerConfig
		ok   bool
	}{
		{"url only", ServerConfig{URL: "nats://n:4222"}, true},
		{"creds", ServerConfig{URL: "nats://n:4222", CredsFile: "u.creds"}, true},
		{"no url", ServerConfig{}, false},
		{"two auth methods", ServerConfig{URL: "nats://n:4222", User: "u", Token: "t"}, false},
		{"half a cert", ServerConfig{URL: "nats://n:4222", TLS: &TLSConfig{KeyFile: "k.pem"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestReconnectDelay(t *testing.T) {
	prev := time.Duration(0)
	for a := 1; a < 20; a++ {
		d := reconnectDelay(a)
		if d < prev || d < reconnectMin || d > reconnectMax {
			t.Fatalf("reconnectDelay(%d) = %v after %v: want non-decreasing within [%v, %v]", a, d, prev, reconnectMin, reconnectMax)
		}
		prev = d
	}
	if prev != reconnectMax {
		t.Errorf("delay settles at %v, want %v", prev, reconnectMax)
	}
}

func TestMsgID(t *testing.T) {
	rec := func(dest, topic string, off int64) *connectors.Record {
		return &connectors.Record{Topic: dest, Origin: connectors.Origin{Topic: topic, Offset: off}}
	}
	s := &JetStreamSink{idPrefix: "0a1b-"}
	a := s.msgID(rec("out", "in", 7))
	if a != (&JetStreamSink{idPrefix: "ffff-"}).msgID(rec("out", "in", 7)) {
		t.Error("the same origin and destination give different ids: a redelivered record would be stored twice")
	}
	for _, other := range []*connectors.Record{rec("dlq", "in", 7), rec("out", "in", 8), rec("out", "in2", 7)} {
		if s.msgID(other) == a {
			t.Errorf("%+v shares the id of a different record", other)
		}
	}
	if s.msgID(rec("out", "", -1)) == s.msgID(rec("out", "", -1)) {
		t.Error("records without an origin get the same id: the second would be dropped as a duplicate")
	}
	if s.msgID(rec("out", "", -1)) == (&JetStreamSink{idPrefix: "ffff-"}).msgID(rec("out", "", -1)) {
		t.Error("two sinks give their records without origin the same ids")
	}
}

func TestIsPermanentPub(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{natsgo.ErrMaxPayload, true},
		{fmt.Errorf("wrapped: %w", natsgo.ErrBadSubject), true},
		{natsgo.ErrBadHeaderMsg, true},
		{&jetstream.APIError{Code: 400, ErrorCode: 10054}, true},
		{&jetstream.APIError{Code: 503}, false},
		{natsgo.ErrTimeout, false},
		{natsgo.ErrNoResponders, false},
		{errors.New("nats: server is disconnected"), false},
	}
	for _, tt := range tests {
		if got := isPermanentPub(tt.err); got != tt.want {
			t.Errorf("isPermanentPub(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	got := redactURL("nats://user:pw@a:4222, nats://b:4222")
	if want := "nats://redacted@a:4222,nats://b:4222"; got != want {
		t.Errorf("redactURL = %q, want %q", got, want)
	}
}
