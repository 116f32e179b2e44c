package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestLaneMaxBytesDefault(t *testing.T) {
	for _, tt := range []struct {
		limits string
		want   int
	}{
		{"", DefaultLaneMaxBytes},
		{"limits: { max_record_bytes: 1048576 }", DefaultLaneMaxBytes},
		// Room for a full-size record as read and as masked.
		{"limits: { max_record_bytes: 67108864 }", 128 << 20},
	} {
		c, err := Parse([]byte(tt.limits+`
kafka: { prod: { brokers: ["localhost:9092"] } }
routes:
  - name: orders
    from: { kafka: prod, topics: [orders] }
    to: { kafka: prod }
    ruleset: orders
`), "")
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Routes[0].Lanes.MaxBytes; got != tt.want {
			t.Errorf("%q: lanes.max_bytes = %d, want %d", tt.limits, got, tt.want)
		}
	}
}

func TestValidateLanes(t *testing.T) {
	for _, tt := range []struct {
		maxBytes int
		wantErr  string
	}{
		{2 << 20, ""},
		{64 << 20, ""},
		{2<<20 - 1, "lanes.max_bytes is 2097151, under twice limits.max_record_bytes (1048576)"},
		{1000, "set it to at least 2097152"},
	} {
		c := &Config{Limits: Limits{MaxRecordBytes: 1 << 20}}
		r := &Route{Name: "orders", Lanes: Lanes{MaxBytes: tt.maxBytes}}
		var errs []string
		c.validateLanes(r, `route "orders"`, func(_ Pos, format string, args ...any) {
			errs = append(errs, fmt.Sprintf(format, args...))
		})
		switch {
		case tt.wantErr == "" && len(errs) > 0:
			t.Errorf("max_bytes %d: unexpected %q", tt.maxBytes, errs)
		case tt.wantErr != "" && (len(errs) != 1 || !strings.Contains(errs[0], tt.wantErr)):
			t.Errorf("max_bytes %d: got %q, want one error containing %q", tt.maxBytes, errs, tt.wantErr)
		}
	}
}

// TestLaneMaxBytesFromFile: lanes.max_bytes is read from the file and
// checked there, with the route's position.
func TestLaneMaxBytesFromFile(t *testing.T) {
	src := func(maxBytes string) []byte {
		return []byte(`kafka: { prod: { brokers: ["localhost:9092"] } }
routes:
  - name: orders
    from: { kafka: prod, topics: [orders] }
    to: { kafka: prod }
    ruleset: orders
    lanes: { max_bytes: ` + maxBytes + ` }
`)
	}
	c, err := Parse(src("4194304"), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Routes[0].Lanes.MaxBytes; got != 4<<20 {
		t.Errorf("lanes.max_bytes = %d, want %d", got, 4<<20)
	}
	if _, err := Parse(src("1000"), ""); err == nil || !strings.Contains(err.Error(), `3:5: route "orders" lanes.max_bytes is 1000`) {
		t.Errorf("got %v, want the route's lanes.max_bytes refused at 3:5", err)
	}
}
