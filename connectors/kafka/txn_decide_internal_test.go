package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/connectors"
)

// TestPlanEnd: an exactly-once batch commits only when every polled
// partition was handed to a lane and every record handed over was acked;
// any other batch aborts, since a commit also commits the offsets of the
// records it never produced. A deliberate abort (refused, out of time) is
// read again without counting as a failure nor ending Run, even with a
// partition undispatched or a late ack. A failed End lets Run stop
// cleanly only for an abort while Run is ending, never for a commit.
func TestPlanEnd(t *testing.T) {
	laneErr := errors.New("kafka: lane t[0] refused records: boom")
	canceled := context.Canceled
	tests := []struct {
		name       string
		waitErr    error
		dispatched bool
		acked      bool
		ctxErr     error // Run's ctx when End returns

		try       kgo.TransactionEndTry
		end       batchEnd
		err       error
		cleanStop bool // a failed End stops Run as asked
	}{
		{"all acked", nil, true, true, nil, kgo.TryCommit, batchAborted, nil, false},
		{"all acked, ctx ended while End ran", nil, true, true, canceled, kgo.TryCommit, batchAborted, nil, false},
		{"undispatched partition, the others acked", nil, false, true, nil, kgo.TryAbort, batchAborted, nil, false},
		{"undispatched partition, ctx ended while End ran", nil, false, true, canceled, kgo.TryAbort, batchAborted, nil, true},
		{"undispatched partition, ctx cancelled mid-batch", canceled, false, true, canceled, kgo.TryAbort, batchAborted, canceled, true},
		{"undispatched partition, a lane failed", laneErr, false, true, nil, kgo.TryAbort, batchAborted, laneErr, true},
		{"refused", errBatchRefused, true, false, nil, kgo.TryAbort, batchRedo, nil, false},
		{"refused, undispatched partition", errBatchRefused, false, false, nil, kgo.TryAbort, batchRedo, nil, false},
		{"refused, ctx ended while End ran", errBatchRefused, true, false, canceled, kgo.TryAbort, batchRedo, nil, true},
		{"refused, wrapped", fmt.Errorf("x: %w", errBatchRefused), true, false, nil, kgo.TryAbort, batchRedo, nil, false},
		{"time up", errBatchTimeUp, true, false, nil, kgo.TryAbort, batchRedo, nil, false},
		{"time up, acked as the lanes stopped", errBatchTimeUp, true, true, nil, kgo.TryAbort, batchRedo, nil, false},
		{"time up, undispatched partition", errBatchTimeUp, false, true, nil, kgo.TryAbort, batchRedo, nil, false},
		{"time up, ctx ended while End ran", errBatchTimeUp, true, false, canceled, kgo.TryAbort, batchRedo, nil, true},
		{"ctx cancelled mid-batch, not all acked", canceled, true, false, canceled, kgo.TryAbort, batchAborted, canceled, true},
		{"ctx deadline mid-batch, not all acked", context.DeadlineExceeded, true, false, context.DeadlineExceeded, kgo.TryAbort, batchAborted, context.DeadlineExceeded, true},
		// The lanes finish what they hold before they stop: a batch that
		// made it commits, and Run then ends with ctx's error.
		{"ctx cancelled mid-batch, acked as the lanes stopped", canceled, true, true, canceled, kgo.TryCommit, batchAborted, canceled, false},
		{"a lane failed, not all acked", laneErr, true, false, nil, kgo.TryAbort, batchAborted, laneErr, true},
		{"a lane failed, the rest acked", laneErr, true, true, nil, kgo.TryCommit, batchAborted, laneErr, false},
		// Unreachable (waitAcked returns nil only once all is acked), but
		// an unacked batch must never commit.
		{"no error, not all acked", nil, true, false, nil, kgo.TryAbort, batchAborted, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planEnd(tt.waitErr, tt.dispatched, tt.acked)
			if p.try != tt.try || p.end != tt.end || !errors.Is(p.err, tt.err) || (p.err == nil) != (tt.err == nil) {
				t.Errorf("planEnd = {%v %v %v}, want {%v %v %v}", tryName(p.try), p.end, p.err, tryName(tt.try), tt.end, tt.err)
			}
			if got := p.stopsDespiteEndErr(tt.ctxErr); got != tt.cleanStop {
				t.Errorf("a failed End stops Run as asked = %v, want %v", got, tt.cleanStop)
			}
		})
	}
}

func tryName(try kgo.TransactionEndTry) string {
	if try == kgo.TryCommit {
		return "TryCommit"
	}
	return "TryAbort"
}

// ackLane acks every record it is delivered at once.
type ackLane struct{ src *TxnSource }

func (l ackLane) Deliver(ctx context.Context, recs []*connectors.Record) error {
	return l.src.Ack(ctx, recs)
}

func (ackLane) Stop(context.Context) {}

// TestTxnDispatchUnownedAborts drives the real handover: a polled
// partition this member no longer owns (revoked between the poll and the
// handover) is not handed to a lane and not waited for, so the batch's
// wait ends once the others are acked, and its transaction must abort.
// With every partition owned, the same batch commits.
func TestTxnDispatchUnownedAborts(t *testing.T) {
	for _, tt := range []struct {
		name  string
		owned []int32
		try   kgo.TransactionEndTry
	}{
		{"t[1] not owned", []int32{0}, kgo.TryAbort},
		{"all owned", []int32{0, 1}, kgo.TryCommit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The deadline only keeps a broken handover from hanging the test.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			s := &TxnSource{progress: make(chan struct{}, 1), guard: &txnGuard{}, logger: slog.New(slog.DiscardHandler)}
			s.lanes.init(time.Second, s.logger)
			s.lanes.wake = s.nudge
			s.lanes.assign(map[string][]int32{"t": tt.owned})
			s.lanes.start(ctx, func(connectors.LaneID) connectors.Lane { return ackLane{s} })
			defer s.lanes.wait()
			defer s.lanes.stopAll(true)

			fetches := kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "t", Partitions: []kgo.FetchPartition{
				{Partition: 0, Records: []*kgo.Record{{Topic: "t", Partition: 0, Offset: 7}}},
				{Partition: 1, Records: []*kgo.Record{{Topic: "t", Partition: 1, Offset: 3}}},
			}}}}}
			s.expect(fetches)
			dispatched := s.dispatchAll(ctx, fetches)
			if want := len(tt.owned) == 2; dispatched != want {
				t.Fatalf("dispatchAll = %v, want %v", dispatched, want)
			}
			waitErr := s.waitAcked(ctx, nil)
			if waitErr != nil {
				t.Fatalf("waitAcked: %v (%s); want the owned partitions acked and the others not waited for", waitErr, s.waiting())
			}
			p := planEnd(waitErr, dispatched, s.allAcked())
			if p.try != tt.try || p.end != batchAborted || p.err != nil {
				t.Errorf("planEnd = {%v %v %v}, want {%v %v <nil>}", tryName(p.try), p.end, p.err, tryName(tt.try), batchAborted)
			}
		})
	}
}
