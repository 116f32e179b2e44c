package processor

import (
	"testing"
	"time"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/connectors"
)

func TestDeadLetter(t *testing.T) {
	r := &Route{cfg: RouteConfig{Name: "orders", DeadLetterTopic: config.MustTemplate("{topic}.dlq")}}
	ts := time.Unix(1700000000, 0)
	src := &connectors.Record{
		Key: []byte("k"), Value: []byte("not json"), Timestamp: ts,
		Headers: []connectors.Header{{Key: "trace", Value: []byte("t1")}, {Key: "Maskstream-Error", Value: []byte("old")}},
		Origin:  connectors.Origin{Topic: "orders", Partition: 3, Offset: 42},
	}
	d := r.deadLetter(src, "not_json", "engine: not_json at offset 0: invalid character", "orders-v1")
	want := map[string]string{
		"trace":       "t1",
		HeaderError:   "not_json: engine: not_json at offset 0: invalid character",
		HeaderOrigin:  "orders/3/42",
		HeaderRuleset: "orders-v1",
		HeaderRoute:   "orders",
	}
	if len(d.Headers) != len(want) {
		t.Errorf("headers %v: an earlier maskstream-error must be replaced", d.Headers)
	}
	for _, h := range d.Headers {
		if want[h.Key] != string(h.Value) {
			t.Errorf("header %s = %q, want %q", h.Key, h.Value, want[h.Key])
		}
	}
	if string(d.Value) != "not json" || string(d.Key) != "k" || !d.Timestamp.Equal(ts) || d.Topic != "orders.dlq" || d.Partition != -1 || d.Origin != src.Origin {
		t.Errorf("dead letter %+v", d)
	}
	if len(src.Headers) != 2 {
		t.Error("the source record's headers were modified")
	}
}

// TestDeadLetterReasonIsOneLine: a message with line breaks still makes a
// one-line maskstream-error (NATS headers are lines of text).
func TestDeadLetterReasonIsOneLine(t *testing.T) {
	r := &Route{cfg: RouteConfig{Name: "orders"}}
	src := &connectors.Record{Value: []byte("{}"), Origin: connectors.Origin{Topic: "orders"}}
	for _, tt := range []struct{ msg, want string }{
		{"plain", "mask_error: plain"},
		{"line one\nline two\r\n\tend", "mask_error: line one line two   end"},
	} {
		t.Run(tt.msg, func(t *testing.T) {
			d := r.deadLetter(src, "mask_error", tt.msg, "orders")
			for _, h := range d.Headers {
				if h.Key == HeaderError && string(h.Value) != tt.want {
					t.Errorf("maskstream-error = %q, want %q", h.Value, tt.want)
				}
			}
		})
	}
}
