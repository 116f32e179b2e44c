package nats

import (
	"testing"

	"github.com/maskstream/maskstream/connectors"
)

// TestToNATSDropsServerDirectives: a Nats-* header copied from a source
// message never reaches the destination, whatever the directive (a
// Nats-TTL made a stream without per-message TTLs refuse every record,
// and one with them expire it), but Nats-Msg-Id does, and so does any
// other header.
func TestToNATSDropsServerDirectives(t *testing.T) {
	tests := []struct {
		name string
		keep bool
	}{
		{"Nats-Msg-Id", true},
		{"Nats-TTL", false},
		{"Nats-Rollup", false},
		{"Nats-Expected-Stream", false},
		{"Nats-Expected-Last-Sequence", false},
		{"Nats-Expected-Last-Subject-Sequence", false},
		{"Nats-Expected-Last-Msg-Id", false},
		{"Nats-Marker-Reason", false},
		{"Nats-Incr", false},
		{"Nats-Batch-Id", false},
		{"Nats-Schedule", false},
		{"Nats-Stream", false},
		{"Nats-Sequence", false},
		{"Nats-Time-Stamp", false},
		{"Nats-Some-Future-Directive", false},
		{"nats-ttl", false},
		{"NATS-TTL", false},
		{"nats-msg-id", false}, // not the server's dedup id, and Nats-* all the same
		{"Nats-", false},
		{"Nats", true},
		{"NatsTTL", true},
		{"X-Nats-TTL", true},
		{"trace", true},
		{"Maskstream-Key", true}, // a record header of that name travels encoded
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []connectors.Header{h(tt.name, "1h"), h("trace", "t1")}
			_, got, bad := fromNATS(toNATS(nil, in))
			if bad != nil {
				t.Fatalf("round trip: %v", bad)
			}
			kept := false
			for _, x := range got {
				if x.Key == tt.name && string(x.Value) == "1h" {
					kept = true
				}
			}
			if kept != tt.keep {
				t.Errorf("header %q kept = %v, want %v (headers out: %v)", tt.name, kept, tt.keep, got)
			}
			if !hasHeader(got, "trace", "t1") {
				t.Errorf("the record's own header was lost: %v", got)
			}
		})
	}
}

// TestToNATSDirectiveWithUnsafeValue: a directive whose value could not
// travel as it is (and would be base64-encoded) is dropped too, not
// smuggled through under Maskstream-Header-Base64.
func TestToNATSDirectiveWithUnsafeValue(t *testing.T) {
	hs := toNATS(nil, []connectors.Header{h("Nats-TTL", " 1h\n")})
	if len(hs) != 0 {
		t.Errorf("toNATS = %v, want no header", hs)
	}
}

func hasHeader(hs []connectors.Header, k, v string) bool {
	for _, x := range hs {
		if x.Key == k && string(x.Value) == v {
			return true
		}
	}
	return false
}
