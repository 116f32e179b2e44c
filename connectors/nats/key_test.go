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
			key, hs, bad := fromNATS(overWire(t, h))
			if bad != nil {
				t.Fatalf("fromNATS: %v", bad)
			}
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
		if key, _, bad := fromNATS(overWire(t, h)); key != nil || bad != nil {
			t.Errorf("key read back as %q (error %v), want nil", key, bad)
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
		{"bad encoded header stays a header", natsgo.Header{"maskstream-header-base64": {"no colon"}},
			nil, []connectors.Header{{Key: "maskstream-header-base64", Value: []byte("no colon")}}},
		{"encoded header in lower case", natsgo.Header{"maskstream-header-base64": {enc([]byte("a b")) + ":" + enc([]byte("v"))}},
			nil, []connectors.Header{{Key: "a b", Value: []byte("v")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, hs, bad := fromNATS(tt.in)
			if bad != nil {
				t.Fatalf("fromNATS: %v", bad)
			}
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
	key, got, bad := fromNATS(overWire(t, h))
	if key != nil || bad != nil {
		t.Errorf("key %q (error %v) from headers alone", key, bad)
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

// TestKeyBase64Forms: producers in other languages write base64 without
// padding or URL-safe; each reads back as the key, not as a header
// (where the original key would pass the key rule by).
func TestKeyBase64Forms(t *testing.T) {
	key := []byte{0xfb, 0xff, 0xbf, 'k', 0x00} // '+', '/' in standard base64, '-', '_' in URL-safe
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		v := enc.EncodeToString(key)
		t.Run(v, func(t *testing.T) {
			got, hs, bad := fromNATS(natsgo.Header{HeaderKeyBase64: {v}, "trace": {"t1"}})
			if bad != nil || !bytes.Equal(got, key) {
				t.Errorf("key %q (error %v), want %q", got, bad, key)
			}
			if len(hs) != 1 || hs[0].Key != "trace" {
				t.Errorf("headers %q: want only trace", hs)
			}
		})
	}
}

// TestKeyHeadersThatAgree: several key headers that give the same key
// (repeated, in two spellings, plain and in base64) are one key, and
// none of them stays a header.
func TestKeyHeadersThatAgree(t *testing.T) {
	const k = "CANARY-A-7f3a9"
	enc := base64.StdEncoding.EncodeToString([]byte(k))
	raw := base64.RawURLEncoding.EncodeToString([]byte(k))
	for name, h := range map[string]natsgo.Header{
		"two values":           {HeaderKey: {k, k}},
		"two spellings":        {HeaderKey: {k}, "maskstream-key": {k}},
		"base64 and plain":     {HeaderKeyBase64: {enc}, HeaderKey: {k}},
		"three base64 forms":   {HeaderKeyBase64: {enc, raw}, "MASKSTREAM-KEY-BASE64": {enc}},
		"empty, plain and b64": {HeaderKey: {""}, HeaderKeyBase64: {""}},
	} {
		t.Run(name, func(t *testing.T) {
			h["trace"] = []string{"t1"}
			want := []byte(k)
			if name == "empty, plain and b64" {
				want = []byte{}
			}
			key, hs, bad := fromNATS(h)
			if bad != nil || key == nil || !bytes.Equal(key, want) {
				t.Errorf("key %q (error %v), want %q", key, bad, want)
			}
			if len(hs) != 1 || hs[0].Key != "trace" {
				t.Errorf("headers %q: want only trace, every key header read as the key", hs)
			}
		})
	}
}

// TestKeyHeadersMalformed: key headers that disagree or do not decode
// leave the key unknown. Masking one and passing the rest as headers let
// an original key reach the output (audit finding L3); instead the
// record is marked malformed, for the dead letters, with no key and every
// header as it came. The error names headers, never their values.
func TestKeyHeadersMalformed(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	tests := map[string]natsgo.Header{
		"two values":                    {HeaderKey: {"CANARY-A-7f3a9", "CANARY-B-7f3a9"}},
		"two spellings":                 {HeaderKey: {"CANARY-A-7f3a9"}, "maskstream-key": {"CANARY-B-7f3a9"}},
		"base64 and plain":              {HeaderKeyBase64: {b64([]byte("CANARY-A-7f3a9"))}, HeaderKey: {"CANARY-B-7f3a9"}},
		"bad base64 and plain":          {HeaderKeyBase64: {"CANARY-A-7f3a9!"}, HeaderKey: {"CANARY-B-7f3a9"}},
		"bad base64 only":               {HeaderKeyBase64: {"CANARY-A-7f3a9!"}},
		"bad base64 after a good one":   {HeaderKeyBase64: {b64([]byte("CANARY-A-7f3a9")), "CANARY-A-7f3a9!"}},
		"mixed alphabets":               {HeaderKeyBase64: {"Q0FO+QVJ-ZLUE"}},
		"two base64 values":             {HeaderKeyBase64: {b64([]byte("CANARY-A-7f3a9")), b64([]byte("CANARY-B-7f3a9"))}},
		"empty and not":                 {HeaderKey: {"", "CANARY-A-7f3a9"}},
		"base64 in lower case, differs": {"maskstream-key-base64": {base64.RawURLEncoding.EncodeToString([]byte("CANARY-A-7f3a9"))}, HeaderKey: {"CANARY-B-7f3a9"}},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			h["trace"] = []string{"t1"}
			h[HeaderBase64] = []string{b64([]byte("a b")) + ":" + b64([]byte("v"))}
			key, hs, bad := fromNATS(h)
			if bad == nil {
				t.Fatalf("key %q, headers %q: want the record marked malformed", key, hs)
			}
			if key != nil {
				t.Errorf("key %q: a malformed record has none", key)
			}
			// Every header as it came, so the dead letter keeps them;
			// encoded ones decoded as for any record.
			var want []connectors.Header
			for k, vs := range h {
				for _, v := range vs {
					if k != HeaderBase64 {
						want = append(want, connectors.Header{Key: k, Value: []byte(v)})
					}
				}
			}
			want = append(want, connectors.Header{Key: "a b", Value: []byte("v")})
			slices.SortStableFunc(want, func(a, b connectors.Header) int { return strings.Compare(a.Key, b.Key) })
			if !slices.EqualFunc(hs, want, sameHeader) {
				t.Errorf("headers\n%q\nwant\n%q", hs, want)
			}
			msg := bad.Error()
			if !strings.HasPrefix(msg, "nats: ") || !strings.Contains(msg, HeaderKey) {
				t.Errorf("error %q: want it to name the key headers and say how to fix", msg)
			}
			for _, vs := range h {
				for _, v := range vs {
					if d, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "=")); err == nil && len(d) > 2 && strings.Contains(msg, string(d)) {
						t.Errorf("error %q quotes a header value (decoded)", msg)
					}
					if v != "" && strings.Contains(msg, v) {
						t.Errorf("error %q quotes a header value %q", msg, v)
					}
				}
			}
			if strings.Contains(msg, "7f3a9") {
				t.Errorf("error %q quotes a key", msg)
			}
		})
	}
}

// TestEncodedHeaderNamedLikeAKey: a HeaderBase64 value whose name is a
// key header's is a record header (toNATS encodes a header with a
// reserved name), so it stays a header: it neither becomes the key nor
// clashes with the real one. Going out through a NATS sink it is encoded
// again, so the next maskstream source does not take it for a key
// either. A headers rule can mask it; the key rule is for keys.
func TestEncodedHeaderNamedLikeAKey(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	h := natsgo.Header{
		HeaderKey: {"real-key"},
		HeaderBase64: {
			b64([]byte("Maskstream-Key")) + ":" + b64([]byte("header-1")),
			b64([]byte("maskstream-key-base64")) + ":" + b64([]byte("not base64!")),
			b64([]byte(HeaderBase64)) + ":" + b64([]byte(b64([]byte(HeaderKey))+":"+b64([]byte("nested")))),
		},
	}
	key, hs, bad := fromNATS(overWire(t, h))
	if bad != nil || string(key) != "real-key" {
		t.Fatalf("key %q (error %v), want the real key", key, bad)
	}
	want := []connectors.Header{
		{Key: HeaderBase64, Value: []byte(b64([]byte(HeaderKey)) + ":" + b64([]byte("nested")))},
		{Key: "Maskstream-Key", Value: []byte("header-1")},
		{Key: "maskstream-key-base64", Value: []byte("not base64!")},
	}
	if !slices.EqualFunc(hs, want, sameHeader) {
		t.Fatalf("headers\n%q\nwant\n%q", hs, want)
	}
	// Through a NATS sink and back: still headers, still the one key.
	out := overWire(t, toNATS([]byte("masked-key"), hs))
	if v := out.Values(HeaderKey); len(v) != 1 || v[0] != "masked-key" || len(out.Values(HeaderKeyBase64)) != 0 {
		t.Errorf("sink headers %q: want only the record's key as a key header", out)
	}
	key, hs2, bad := fromNATS(out)
	if bad != nil || string(key) != "masked-key" || !slices.EqualFunc(hs2, want, sameHeader) {
		t.Errorf("read again: key %q (error %v), headers %q", key, bad, hs2)
	}
}

// TestSourceMarksMalformed: the sources hand the processor a record whose
// key headers are ambiguous marked as such, so it is dead-lettered rather
// than masked (the JetStream source: processor's TestNATSKeyHeaders).
func TestSourceMarksMalformed(t *testing.T) {
	var s CoreSource
	rec := s.record(&natsgo.Msg{Subject: "in", Data: []byte("{}"), Header: natsgo.Header{HeaderKey: {"a", "b"}}})
	if rec.Malformed == nil || rec.Key != nil || len(rec.Headers) != 2 {
		t.Errorf("record %+v: want it malformed, without a key, its headers kept", rec)
	}
	if rec := s.record(&natsgo.Msg{Subject: "in", Data: []byte("{}"), Header: natsgo.Header{HeaderKey: {"a", "a"}}}); rec.Malformed != nil || string(rec.Key) != "a" {
		t.Errorf("record %+v: want key a", rec)
	}
}
