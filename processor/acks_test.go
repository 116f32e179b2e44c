package processor

import (
	"context"
	"errors"
	"testing"

	"github.com/maskstream/maskstream/connectors"
)

func takeN(t *testing.T, r *ackRing, n int) []*slot {
	t.Helper()
	out := make([]*slot, n)
	for i := range out {
		s, err := r.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.src = &connectors.Record{Origin: connectors.Origin{Offset: int64(i)}}
		out[i] = s
	}
	return out
}

func offsets(ss []*slot) []int64 {
	var out []int64
	for _, s := range ss {
		out = append(out, s.src.Origin.Offset)
	}
	return out
}

func TestAckRingPrefix(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name       string
		complete   map[int]error // slot index → done error
		wantDone   []int64
		wantFailed int64 // -1: none
	}{
		{"nothing done", map[int]error{}, nil, -1},
		{"head done", map[int]error{0: nil}, []int64{0}, -1},
		{"gap stops the prefix", map[int]error{0: nil, 1: nil, 3: nil}, []int64{0, 1}, -1},
		{"all done", map[int]error{0: nil, 1: nil, 2: nil, 3: nil}, []int64{0, 1, 2, 3}, -1},
		{"only later done", map[int]error{2: nil, 3: nil}, nil, -1},
		{"failure after done", map[int]error{0: nil, 1: errBoom, 2: nil}, []int64{0}, 1},
		{"failure at head", map[int]error{0: errBoom, 1: nil}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAckRing(4)
			ss := takeN(t, r, 4)
			for i, err := range tt.complete {
				ss[i].done(err)
			}
			done, failed := r.prefix(nil, 100)
			if got := offsets(done); len(got) != len(tt.wantDone) || (len(got) > 0 && got[len(got)-1] != tt.wantDone[len(tt.wantDone)-1]) {
				t.Errorf("done %v, want %v", got, tt.wantDone)
			}
			switch {
			case tt.wantFailed < 0 && failed != nil:
				t.Errorf("failed slot %d, want none", failed.src.Origin.Offset)
			case tt.wantFailed >= 0 && (failed == nil || failed.src.Origin.Offset != tt.wantFailed):
				t.Errorf("failed %v, want slot %d", failed, tt.wantFailed)
			}
		})
	}
}

func TestAckRingFullAndRelease(t *testing.T) {
	r := newAckRing(3) // rounds up to 4
	ss := takeN(t, r, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.acquire(ctx); err == nil {
		t.Fatal("acquire on a full ring succeeded")
	}
	ss[0].done(nil)
	ss[1].done(nil)
	done, _ := r.prefix(nil, 1) // limit: one at a time
	if len(done) != 1 {
		t.Fatalf("prefix with limit 1 gave %d", len(done))
	}
	r.release(len(done))
	if _, err := r.acquire(ctx); err != nil {
		t.Fatalf("acquire after a release: %v", err)
	}
	if r.empty() {
		t.Error("ring with slots in flight reports empty")
	}
}

func TestAckRingRetryAndAbandon(t *testing.T) {
	r := newAckRing(4)
	ss := takeN(t, r, 3)
	ss[0].done(connectors.ErrPermanent)
	_, failed := r.prefix(nil, 10)
	if failed != ss[0] {
		t.Fatal("failed head not reported")
	}
	r.retry(failed)
	if _, f := r.prefix(nil, 10); f != nil {
		t.Fatal("retried slot still reported failed")
	}
	ss[0].done(nil)
	done, _ := r.prefix(nil, 10)
	r.release(len(done))
	// A buffer on an abandoned slot must not go back to the pool: the sink
	// may still be reading it.
	buf := getBuf()
	ss[1].buf = buf
	got := r.abandon()
	if len(got) != 2 || got[0].Origin.Offset != 1 || got[1].Origin.Offset != 2 {
		t.Fatalf("abandon returned %v, want offsets 1 and 2", got)
	}
	ss[2].done(nil) // late: ignored
	if d, f := r.prefix(nil, 10); len(d) != 0 || f != nil || !r.empty() {
		t.Errorf("ring after abandon: done %d failed %v empty %v", len(d), f, r.empty())
	}
}

func TestUnacquire(t *testing.T) {
	r := newAckRing(4)
	ss := takeN(t, r, 2)
	r.unacquire(ss[1])
	if s, _ := r.acquire(context.Background()); s != ss[1] {
		t.Error("unacquired slot not reused next")
	}
	r.unacquire(ss[0]) // not the last: ignored
	if r.tail != 2 {
		t.Errorf("tail %d after unacquire of a slot that is not the last", r.tail)
	}
}
