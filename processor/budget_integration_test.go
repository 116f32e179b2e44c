package processor_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/testenv"
)

// TestKafkaSinkOutageByteBudget: with records of about 100 KB, the route's
// byte budget, not lanes.queue, stops the source while the broker refuses
// every produce, so memory stays flat whatever the record size (DESIGN
// §3.8); once the broker is back every record arrives, in order.
func TestKafkaSinkOutageByteBudget(t *testing.T) {
	const (
		partitions = 2
		recordSize = 100_000
		budget     = 2 << 20
	)
	e := newEnv(t, 0, 0)
	k := testenv.StartKafka(t)
	if err := k.CreateTopics(context.Background(), partitions, "people", "people.masked"); err != nil {
		t.Fatal(err)
	}
	// Far more than the budget holds, far fewer than lanes.queue: only
	// the byte budget can stop the source here.
	n := scale(600)
	pad := bytes.Repeat([]byte("x"), recordSize)
	recs := people("people", 0, n, partitions)
	for _, r := range recs {
		r.Value = append(append(append(r.Value[:len(r.Value)-1], `,"pad":"`...), pad...), `"}`...)
	}
	produce(t, kafkaClient(t, k, manualPartitioner()), recs...)
	recs = nil

	down, refused := refuseProduces(k)
	cfg := e.routeConfig("people", "people")
	kafkaRoute(t, k, &cfg, []string{"people"}, "g-budget")
	cfg.Sink = kafkaSink(t, k)
	cfg.KeepPartition = true
	cfg.MaxBytes = budget
	rn := e.start(cfg)

	waitFor(t, 30*time.Second, "produce requests to be refused", func() bool { return refused.Load() >= 3 })
	// Records taken (RecordsIn, counted once queued) and not acked are
	// what the lanes hold. Each is charged to the budget from before it is
	// queued until it is acked, at least its source bytes (> recordSize),
	// so the budget holds budget/recordSize of them. The only slack in
	// the code is a lane holding nothing, which may take one record past
	// the budget (lane.go Deliver, byteBudget.take): one per partition.
	// A chunk or a fetch batch adds none, as the budget is taken record by
	// record before a chunk is queued.
	const bound = budget/recordSize + partitions
	held := func() uint64 { st := rn.route.Status(); return st.RecordsIn - st.RecordsOut }
	var most uint64
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		most = max(most, held())
	}
	if st := rn.route.Status(); st.RecordsOut != 0 {
		t.Fatalf("records acknowledged while the broker refused every produce: %+v", st)
	}
	if most == 0 {
		t.Fatal("the route took no record during the outage; the test checks nothing")
	}
	if most > bound {
		t.Errorf("the route held %d records of %d bytes during the outage, more than its %d-byte budget allows (%d)", most, recordSize, budget, bound)
	}
	t.Logf("held at most %d records during the outage (bound %d)", most, bound)
	// Operators see it as maskstream_inflight_bytes: near the budget, and
	// never above it by more than the lanes' one record each.
	gauge := e.metrics.InflightBytes.WithLabelValues(cfg.Name)
	waitFor(t, 10*time.Second, "inflight_bytes to show the held records", func() bool { return counterValue(gauge) > 0 })
	if got, most := counterValue(gauge), float64(budget+2*partitions*(recordSize+1024)); got > most {
		t.Errorf("inflight_bytes = %.0f during the outage, more than the budget and the lanes' one record each (%.0f)", got, most)
	}
	down.Store(false)

	out := consume(t, k, "people.masked", n, 120*time.Second, kgo.FetchMaxBytes(64<<20))
	seen := map[int]bool{}
	for p, seqs := range seqsByPartition(t, out) {
		checkOrder(t, "partition "+strconv.Itoa(int(p)), seqs, seen)
	}
	if len(seen) != n {
		t.Fatalf("%d distinct records, want %d", len(seen), n)
	}
}
