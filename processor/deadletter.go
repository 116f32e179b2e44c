package processor

import (
	"strconv"
	"strings"

	"github.com/maskstream/maskstream/connectors"
)

// Dead-letter headers (DESIGN §3.7). They say why and where from, never
// what: no record value appears in them.
const (
	HeaderError   = "maskstream-error"   // "<reason>: <message>"
	HeaderOrigin  = "maskstream-origin"  // "<topic>/<partition>/<offset>"
	HeaderRuleset = "maskstream-ruleset" // the ruleset name
	HeaderRoute   = "maskstream-route"   // the route name
)

// oneLine is msg with its control characters (a multi-line mask error,
// say) turned into spaces: a header value is one line of text for NATS
// and for most tools that print headers.
func oneLine(msg string) string {
	if !strings.ContainsFunc(msg, isControl) {
		return msg
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, msg)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// deadLetter builds the dead letter of src: the original key, value,
// headers and timestamp, plus the maskstream-* headers. Headers of an
// earlier dead-lettering (a record replayed from a dead-letter topic) are
// replaced, not repeated.
func (r *Route) deadLetter(src *connectors.Record, reason, msg, ruleset string) connectors.Record {
	hs := make([]connectors.Header, 0, len(src.Headers)+4)
	for _, h := range src.Headers {
		switch strings.ToLower(h.Key) {
		case HeaderError, HeaderOrigin, HeaderRuleset, HeaderRoute:
			continue
		}
		hs = append(hs, h)
	}
	o := src.Origin
	origin := make([]byte, 0, len(o.Topic)+24)
	origin = append(origin, o.Topic...)
	origin = append(origin, '/')
	origin = strconv.AppendInt(origin, int64(o.Partition), 10)
	origin = append(origin, '/')
	origin = strconv.AppendInt(origin, o.Offset, 10)
	hs = append(hs,
		connectors.Header{Key: HeaderError, Value: []byte(reason + ": " + oneLine(msg))},
		connectors.Header{Key: HeaderOrigin, Value: origin},
		connectors.Header{Key: HeaderRuleset, Value: []byte(ruleset)},
		connectors.Header{Key: HeaderRoute, Value: []byte(r.cfg.Name)},
	)
	return connectors.Record{
		Key:       src.Key,
		Value:     src.Value,
		Headers:   hs,
		Timestamp: src.Timestamp,
		Origin:    o,
		Topic:     r.cfg.DeadLetterTopic.Expand(o.Topic, o.Partition),
		Partition: -1,
	}
}
