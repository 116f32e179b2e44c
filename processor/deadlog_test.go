package processor

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestDeadLogThrottles: the first dead letter of a reason is logged at
// once, later ones of that reason are summed into one line a minute, and
// each reason has its own minute.
func TestDeadLogThrottles(t *testing.T) {
	var buf bytes.Buffer
	r := &Route{log: slog.New(slog.NewTextHandler(&buf, nil))}
	t0 := time.Unix(1_700_000_000, 0)
	steps := []struct {
		reason string
		at     time.Duration
		want   string // the line logged, or "" for none
	}{
		{"mask_error", 0, "reason=mask_error count=1"},
		{"mask_error", time.Second, ""},
		{"not_json", 2 * time.Second, "reason=not_json count=1"},
		{"mask_error", 30 * time.Second, ""},
		{"mask_error", deadLogEvery, "reason=mask_error count=3"},
		{"mask_error", deadLogEvery + time.Second, ""},
	}
	for i, s := range steps {
		buf.Reset()
		r.noteDead(s.reason, []byte(s.reason+": why"), t0.Add(s.at))
		got := strings.TrimSpace(buf.String())
		switch {
		case s.want == "" && got != "":
			t.Errorf("step %d: logged %q, want nothing", i, got)
		case s.want != "" && !strings.Contains(got, s.want):
			t.Errorf("step %d: logged %q, want %q", i, got, s.want)
		case s.want != "" && !strings.Contains(got, `error="`+s.reason+`: why"`):
			t.Errorf("step %d: logged %q without the dead letter's error header", i, got)
		}
	}
}
