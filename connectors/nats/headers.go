package nats

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors"
)

// Headers that carry over NATS what a NATS message cannot hold as it is.
//
// A NATS message has no key, and its headers are lines of text: nats.go
// refuses a name outside printable ASCII or holding one of
// "()/,:;<=>?@[\]{} (the publish fails), turns CR and LF in a value into
// spaces, and trims spaces and tabs around it. Kafka keys and header
// values are arbitrary bytes. So the sinks write a record's key as a
// header, and a header that cannot travel as it is in base64 under
// HeaderBase64; the sources turn both back into the record's key and
// headers, byte for byte. A Kafka->NATS->Kafka or NATS->NATS route keeps
// keys and headers whole, but for the NATS server's own Nats-* headers,
// which a NATS sink does not write (see serverDirective).
//
// Encoding, rather than refusing such a record as a permanent sink error
// (which dead-letters it), is deliberate: the record masked fine, one
// binary tracing header on every record would dead-letter a whole
// Kafka->NATS route, and a dead letter bound for NATS would carry the same
// header and be refused again. Nothing is dropped and nothing is altered.
//
// Sources compare these names without regard to case: nats.go keeps a
// name's case, but older nats.go releases and some other clients and
// gateways change it.
const (
	// HeaderKey holds a key that is safe as a header value: valid UTF-8,
	// no control character other than tab, no space or tab at either
	// end. An empty key is an empty value; a nil key writes no header.
	HeaderKey = "Maskstream-Key"
	// HeaderKeyBase64 holds any other key, in standard base64. Sources
	// also read it unpadded and URL-safe, as other languages write it.
	HeaderKeyBase64 = "Maskstream-Key-Base64"
	// HeaderBase64 holds, one per value, the headers that cannot travel
	// as they are: a name nats.go refuses, a value that is not safe (as
	// for HeaderKey), or a name equal to one of these three. Each value
	// is base64(name) ":" base64(value), standard encoding. When one
	// value of a name is encoded, every value of that name is, so their
	// order holds.
	HeaderBase64 = "Maskstream-Header-Base64"
)

var b64 = base64.StdEncoding

// toNATS builds the header map of a record with key; repeated names keep
// their values in order. Headers named Nats-* (in any case) are dropped,
// but for Nats-Msg-Id (see serverDirective).
func toNATS(key []byte, hs []connectors.Header) natsgo.Header {
	if key == nil && len(hs) == 0 {
		return nil
	}
	h := make(natsgo.Header, len(hs)+1)
	if key != nil {
		if safeValue(key) {
			h[HeaderKey] = []string{string(key)}
		} else {
			h[HeaderKeyBase64] = []string{b64.EncodeToString(key)}
		}
	}
	var encoded map[string]bool // names whose values all travel in base64
	for _, x := range hs {
		if !validName(x.Key) || reservedName(x.Key) || !safeValue(x.Value) {
			if encoded == nil {
				encoded = make(map[string]bool)
			}
			encoded[x.Key] = true
		}
	}
	for _, x := range hs {
		if serverDirective(x.Key) {
			continue
		}
		if encoded[x.Key] {
			h.Add(HeaderBase64, b64.EncodeToString([]byte(x.Key))+":"+b64.EncodeToString(x.Value))
			continue
		}
		h.Add(x.Key, string(x.Value))
	}
	return h
}

// natsPrefix starts the names the NATS server keeps for itself.
const natsPrefix = "Nats-"

// serverDirective tells a header the NATS server reads as an instruction
// when a message is published, or writes itself. Copied from a source
// message they were meant for the source stream: Nats-TTL makes the
// destination refuse the message (per-message TTLs disabled) or expire
// it, Nats-Rollup purges the subject, Nats-Expected-* fail the publish;
// Nats-Marker-Reason, Nats-Incr, Nats-Batch-* and Nats-Schedule* are
// directives too, and a republish or a sourced stream adds Nats-Stream,
// Nats-Sequence and the like. So every Nats-* name is dropped, in any case
// (the server matches names exactly, but a name differing only in case
// still belongs to NATS, not to the record), and with them the directives
// later servers add. Nats-Msg-Id, spelled so, is kept: the stream
// deduplicates on it (see JetStreamSink).
func serverDirective(k string) bool {
	return len(k) >= len(natsPrefix) && strings.EqualFold(k[:len(natsPrefix)], natsPrefix) && k != jetstream.MsgIDHeader
}

// fromNATS splits a header map into the record's key and its headers,
// undoing toNATS. Headers come out with names in sorted order (a Go map
// has none), the values of one name in their order. An encoded header
// that does not decode (written by hand, say) stays an ordinary header
// rather than being lost.
//
// Every HeaderKey and HeaderKeyBase64 value, in any case of the name, is
// read as the key and none is kept as a header: a key header left among
// the headers would pass the ruleset's key rule by, and the sink would
// carry the original key on. So when they do not all give the same key,
// or one does not decode, the message's key cannot be told: fromNATS
// returns an error for Record.Malformed, a nil key, and the headers with
// the key headers among them as they came, for the dead letter.
//
// A HeaderBase64 value that decodes to a header named like a key header
// is a record header that toNATS encoded (its name is reserved), not a
// key: it comes out as a header, and toNATS encodes it again, so no
// maskstream source after this one takes it for a key either.
func fromNATS(h natsgo.Header) ([]byte, []connectors.Header, error) {
	if len(h) == 0 {
		return nil, nil, nil
	}
	names := make([]string, 0, len(h))
	n := 0
	for k, vs := range h {
		names = append(names, k)
		n += len(vs)
	}
	slices.Sort(names)

	key, bad := readKey(h, names)
	out := make([]connectors.Header, 0, n)
	var decoded []connectors.Header
	for _, k := range names {
		if bad == nil && keyName(k) {
			continue
		}
		enc := strings.EqualFold(k, HeaderBase64)
		for _, v := range h[k] {
			if enc {
				if x, ok := decodeHeader(v); ok {
					decoded = append(decoded, x)
					continue
				}
			}
			out = append(out, connectors.Header{Key: k, Value: []byte(v)})
		}
	}
	if len(decoded) > 0 {
		out = append(out, decoded...)
		slices.SortStableFunc(out, func(a, b connectors.Header) int { return strings.Compare(a.Key, b.Key) })
	}
	if len(out) == 0 {
		out = nil
	}
	return key, out, bad
}

// keyName tells HeaderKey and HeaderKeyBase64 in any case. The fold is
// Unicode's, as it always was here: a name that only looks like a key
// header to some reader is read as one, never passed on as a header.
func keyName(k string) bool {
	return strings.EqualFold(k, HeaderKey) || strings.EqualFold(k, HeaderKeyBase64)
}

// readKey reads the key from every key header of h (names sorted). It is
// nil without key headers, empty (not nil) for an empty one. The error
// names the headers, never their values: it ends up in a dead letter's
// maskstream-error header and in logs.
func readKey(h natsgo.Header, names []string) ([]byte, error) {
	var (
		key      []byte
		found    bool
		differ   bool
		badName  string   // a HeaderKeyBase64 spelling with a value that does not decode
		spelling []string // the key headers' names, for the error
	)
	for _, k := range names {
		if !keyName(k) || len(h[k]) == 0 {
			continue
		}
		isB64 := strings.EqualFold(k, HeaderKeyBase64)
		if vs := len(h[k]); vs > 1 {
			spelling = append(spelling, fmt.Sprintf("%s (%d values)", k, vs))
		} else {
			spelling = append(spelling, k)
		}
		for _, v := range h[k] {
			b := []byte(v)
			if isB64 {
				var ok bool
				if b, ok = decodeKey(v); !ok {
					badName = k
					continue
				}
			}
			switch {
			case !found:
				key, found = b, true
			case !bytes.Equal(key, b):
				differ = true
			}
		}
	}
	switch {
	case badName != "":
		return nil, fmt.Errorf("nats: a %s value is not base64 (standard or URL-safe, padded or not), so the message's key cannot be read and the key rule cannot mask it: write the key there in base64, or as it is under %s", badName, HeaderKey)
	case differ:
		return nil, fmt.Errorf("nats: the message's key headers %s hold different keys, so maskstream cannot tell which one to mask: write one key per message, under %s or %s", strings.Join(spelling, ", "), HeaderKey, HeaderKeyBase64)
	case found && key == nil:
		return []byte{}, nil // an empty key, not a missing one
	}
	return key, nil
}

// keyEncodings are the base64 forms a HeaderKeyBase64 value may take.
// toNATS writes the standard one; producers in other languages often
// write it without padding or URL-safe. A value cannot decode to
// different bytes in two of them: a URL-safe one holds '-' or '_', which
// the standard alphabet refuses, and a padded one is refused by the raw
// forms, while an unpadded one whose length is a multiple of 4 reads the
// same in both.
var keyEncodings = [...]*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}

func decodeKey(v string) ([]byte, bool) {
	for _, enc := range keyEncodings {
		if b, err := enc.DecodeString(v); err == nil {
			return b, true
		}
	}
	return nil, false
}

// decodeHeader reads one HeaderBase64 value.
func decodeHeader(v string) (connectors.Header, bool) {
	name, val, ok := strings.Cut(v, ":")
	if !ok {
		return connectors.Header{}, false
	}
	k, err := b64.DecodeString(name)
	if err != nil {
		return connectors.Header{}, false
	}
	b, err := b64.DecodeString(val)
	if err != nil {
		return connectors.Header{}, false
	}
	return connectors.Header{Key: string(k), Value: b}, true
}

// safeValue tells a value that reaches a nats.go reader unchanged and
// any NATS client as text: valid UTF-8, no control character but tab
// (CR and LF would end the header line; nats.go turns them into spaces),
// no space or tab at either end (nats.go trims them).
func safeValue(v []byte) bool {
	if n := len(v); n > 0 && (isBlank(v[0]) || isBlank(v[n-1])) {
		return false
	}
	for _, c := range v {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return utf8.Valid(v)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// validName mirrors nats.go's check of header names (ADR-4: printable
// ASCII without ':', and nats.go refuses a few more): a publish with any
// other name fails with ErrBadHeaderMsg.
func validName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < 33 || c > 126 || strings.IndexByte(`"()/,:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// reservedName tells the names toNATS writes on its own, in any case: a
// record header with one of them travels encoded, so it cannot pass for
// the key on the way back.
func reservedName(k string) bool {
	switch len(k) {
	case len(HeaderKey):
		return strings.EqualFold(k, HeaderKey)
	case len(HeaderKeyBase64):
		return strings.EqualFold(k, HeaderKeyBase64)
	case len(HeaderBase64):
		return strings.EqualFold(k, HeaderBase64)
	}
	return false
}
