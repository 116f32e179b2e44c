package nats

import (
	"bytes"
	"encoding/base64"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	natsgo "github.com/nats-io/nats.go"

	"github.com/maskstream/maskstream/connectors"
)

// overWire sends h through the text form nats.go writes (name ": " value
// CRLF, the value trimmed and CR and LF turned into spaces, see
// writeHeaderValue in nats.go) and reads it back with nats.go's own
// decoder, so a test sees what a subscriber sees. A name nats.go would
// refuse to publish fails the test.
func overWire(t *testing.T, h natsgo.Header) natsgo.Header {
	t.Helper()
	if len(h) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("NATS/1.0\r\n")
	for k, vs := range h {
		if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r < 33 || r > 126 || strings.ContainsRune(`"()/,:;<=>?@[\]{}`, r) }) {
			t.Fatalf("header name %q: nats.go refuses to publish it", k)
		}
		for _, v := range vs {
			v = strings.NewReplacer("\r", " ", "\n", " ").Replace(textproto.TrimString(v))
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	got, err := natsgo.DecodeHeadersMsg([]byte(b.String()))
	if err != nil {
		t.Fatalf("decoding the header block: %v", err)
	}
	return got
}

func TestKeyMapping(t *testing.T) {
	tests := []struct {
		name  string
		key   []byte
		plain bool // written as HeaderKey, else HeaderKeyBase64
	}{
		{"empty", []byte{}, true},
		{"ascii", []byte("customer-42"), true},
		{"utf-8 with inner space and tab", []byte("ключ ü\t42"), true},
		{"binary", []byte{0x00, 0xff, 0x10, 0x80}, false},
		{"invalid utf-8", []byte{'a', 0xc3, 0x28}, false},
		{"crlf", []byte("a\r\nb"), false},
		{"lf", []byte("a\nb"), false},
		{"cr", []byte("a\rb"), false},
		{"nul", []byte("a\x00b"), false},
		{"del", []byte("a\x7fb"), false},
		{"leading space", []byte(" k"), false},
		{"trailing tab", []byte("k\t"), false},
		{"header injection", []byte("k\r\nNats-Rollup: all"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := toNATS(tt.key, []connectors.Header{{Key: "trace", Value: []byte("t1")}})
			plain, enc := h.Values(HeaderKey), h.Values(HeaderKeyBase64)
			switch {
			case tt.plain && (len(plain) != 1 || plain[0] != string(tt.key) || enc != nil):
				t.Fatalf("headers %q: want the key as %s", h, HeaderKey)
			case !tt.plain && (len(enc) != 1 || enc[0] != base64.StdEncoding.EncodeToString(tt.key) || plain != nil):
				t.Fatalf("headers %q: want the key as %s", h, HeaderKeyBase64)
			}
			key, hs := fromNATS(overWire(t, h))
			if key == nil || !bytes.Equal(key, tt.key) {
				t.Errorf("key read back as %q (nil %v), want %q", key, key == nil, tt.key)
			}
			if len(hs) != 1 || hs[0].Key != "trace" || string(hs[0].Value) != "t1" {
				t.Errorf("headers read back as %v, want only trace", hs)
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		if h := toNATS(nil, nil); h != nil {
			t.Errorf("toNATS(nil, nil) = %v, want no headers", h)
		}
		h := toNATS(nil, []connectors.Header{{Key: "trace", Value: []byte("t1")}})
		if len(h) != 1 {
			t.Errorf("headers %v: a nil key writes no header", h)
		}
		if key, _ := fromNATS(overWire(t, h)); key != nil {
			t.Errorf("key read back as %q, want nil", key)
		}
	})
}

// TestKeyHeaderCase: other clients may change a header name's case; the
// key is found all the same.
func TestKeyHeaderCase(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString
	tests := []struct {
		name string
		in   natsgo.Header
		key  []byte
		rest []connectors.Header
	}{
		{"lower case", natsgo.Header{"maskstream-key": {"k1"}}, []byte("k1"), nil},
		{"upper case base64", natsgo.Header{"MASKSTREAM-KEY-BASE64": {enc([]byte("k\n"))}}, []byte("k\n"), nil},
		{"base64 wins, the other stays", natsgo.Header{HeaderKey: {"plain"}, HeaderKeyBase64: {enc([]byte("b64"))}},
			[]byte("b64"), []connectors.Header{{Key: HeaderKey, Value: []byte("plain")}}},
		{"bad base64 stays a header", natsgo.Header{HeaderKeyBase64: {"not base64!"}},
			nil, []connectors.Header{{Key: HeaderKeyBase64, Value: []byte("not base64!")}}},
		{"bad encoded header stays a header", natsgo.Header{"maskstream-header-base64": {"no colon"}},
			nil, []connectors.Header{{Key: "maskstream-header-base64", Value: []byte("no colon")}}},
		{"encoded header in lower case", natsgo.Header{"maskstream-header-base64": {enc([]byte("a b")) + ":" + enc([]byte("v"))}},
			nil, []connectors.Header{{Key: "a b", Value: []byte("v")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, hs := fromNATS(tt.in)
			if !bytes.Equal(key, tt.key) || (key == nil) != (tt.key == nil) {
				t.Errorf("key %q, want %q", key, tt.key)
			}
			if !slices.EqualFunc(hs, tt.rest, sameHeader) {
				t.Errorf("headers %v, want %v", hs, tt.rest)
			}
		})
	}
}

func sameHeader(a, b connectors.Header) bool { return a.Key == b.Key && bytes.Equal(a.Value, b.Value) }

// TestUnsafeHeaders: headers a NATS header line cannot hold travel
// encoded and come back byte for byte; the others stay readable as they
// are.
func TestUnsafeHeaders(t *testing.T) {
	hdr := func(k, v string) connectors.Header { return connectors.Header{Key: k, Value: []byte(v)} }
	in := []connectors.Header{
		hdr("trace", "t1"),
		hdr("crlf", "line1\r\nline2"),
		hdr("injection", "x\r\nMaskstream-Key: evil"),
		hdr("lf", "a\nb"),
		hdr("nul", "\x00"),
		hdr("binary", "\x00\x00\x00\x2a"),
		hdr("latin1", "caf\xe9"),
		hdr("padded", " v "),
		hdr("empty", ""),
		hdr("a:b", "colon in the name"),
		hdr("has space", "1"),
		hdr("a/b", "slash"),
		hdr("", "empty name"),
		hdr("x\r\ny", "crlf in the name"),
		hdr("ü", "non-ascii name"),
		hdr("maskstream-key", "not the key"),
		hdr(HeaderBase64, "reserved"),
		hdr("multi", "1"), hdr("multi", "2\n"), hdr("multi", "3"),
	}
	h := toNATS(nil, in)
	for _, plain := range []string{"trace", "empty"} {
		if len(h[plain]) != 1 {
			t.Errorf("safe header %q: %q, want it as it is", plain, h[plain])
		}
	}
	if len(h["multi"]) != 0 {
		t.Errorf("multi %q: one value is unsafe, so all three travel encoded", h["multi"])
	}
	key, got := fromNATS(overWire(t, h))
	if key != nil {
		t.Errorf("key %q from headers alone", key)
	}
	want := slices.Clone(in)
	slices.SortStableFunc(want, func(a, b connectors.Header) int { return strings.Compare(a.Key, b.Key) })
	if !slices.EqualFunc(got, want, sameHeader) {
		t.Errorf("read back:\n%q\nwant:\n%q", got, want)
	}
}

// TestNoEncodingWhenSafe: ordinary headers travel as they are, so plain
// NATS consumers read them.
func TestNoEncodingWhenSafe(t *testing.T) {
	h := toNATS([]byte("k"), []connectors.Header{{Key: "X-Trace", Value: []byte("a b\tc")}, {Key: "Nats-Msg-Id", Value: []byte("id-1")}})
	if h.Get("X-Trace") != "a b\tc" || h.Get("Nats-Msg-Id") != "id-1" || h.Get(HeaderKey) != "k" || len(h) != 3 {
		t.Errorf("headers %q", h)
	}
}
