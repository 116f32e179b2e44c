//go:build interop

package interop

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/testenv"
)

// kcatRecord is one line of `kcat -C -J`.
type kcatRecord struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Headers   []string `json:"headers"` // name, value, name, value...
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
}

func (r kcatRecord) header(name string) (string, bool) {
	for i := 0; i+1 < len(r.Headers); i += 2 {
		if r.Headers[i] == name {
			return r.Headers[i+1], true
		}
	}
	return "", false
}

// sortedByOffset returns recs ordered by partition, then offset.
func sortedByOffset(recs []kcatRecord) []kcatRecord {
	out := slices.Clone(recs)
	slices.SortFunc(out, func(a, b kcatRecord) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	})
	return out
}

// kcatConsume reads topic from the beginning with kcat until it holds at
// least n records or limit passes, and returns what it read.
func kcatConsume(t *testing.T, ctx context.Context, kcat, broker, topic string, n int, limit time.Duration) []kcatRecord {
	t.Helper()
	var recs []kcatRecord
	var lastErr error
	waitFor(t, ctx, limit, fmt.Sprintf("%d records on %s (kcat -C)", n, topic), func() bool {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		out, _, err := run(cctx, nil, kcat, "-C", "-b", broker, "-t", topic, "-o", "beginning", "-e", "-J", "-q",
			"-X", "topic.metadata.refresh.interval.ms=500")
		if err != nil {
			lastErr = err
			return false
		}
		recs = recs[:0]
		for line := range bytes.SplitSeq(bytes.TrimSpace(out), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var r kcatRecord
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatalf("kcat -J printed a line that is not JSON: %v", err)
			}
			recs = append(recs, r)
		}
		return len(recs) >= n
	}, func() string { return fmt.Sprintf("read %d; last kcat error: %v", len(recs), lastErr) })
	return recs
}

// TestKcatRoute runs a Kafka→Kafka route between kcat (librdkafka) as the
// producer and the consumer: every record arrives masked with its key,
// headers and partition kept, and a poison record goes to the dead-letter
// topic with the maskstream-error header.
func TestKcatRoute(t *testing.T) {
	bin := maskstreamBin(t)
	kcat := tool(t, "kcat", "kcat")
	root := repoRoot(t)
	ctx := testCtx(t, 60*time.Second)

	k := testenv.StartKafka(t)
	broker := k.Brokers()[0]
	if err := k.CreateTopics(ctx, 3, "orders", "orders.masked", "maskstream.dlq"); err != nil {
		t.Fatal(err)
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf(`rulesets_dir: %q
data_dir: %q
kafka:
  local: { brokers: [%q] }
routes:
  - name: orders
    from: { kafka: local, topics: [orders], group: interop-kcat }
    to:   { kafka: local, topic: "{topic}.masked", keep_partition: true }
    ruleset: orders
    dead_letter: { kafka: local, topic: maskstream.dlq }
http:
  listen: %q
`, filepath.Join(root, "rulesets", "examples"), t.TempDir(), broker, httpAddr)
	d := startDaemon(t, ctx, bin, cfg, httpAddr)

	// Two kcat producer runs with different headers; keys ride in front of
	// each line, split at a tab (the generator's JSON never holds one).
	const n = 40
	orders := testenv.Orders(7, n)
	keyOf := func(i int) string { return fmt.Sprintf("order-key-%02d", i) }
	for batch, hdr := range []string{"batch-a", "batch-b"} {
		var in bytes.Buffer
		for i := batch * n / 2; i < (batch+1)*n/2; i++ {
			fmt.Fprintf(&in, "%s\t%s\n", keyOf(i), orders[i])
		}
		if _, _, err := run(ctx, &in, kcat, "-P", "-b", broker, "-t", "orders", "-K", "\t",
			"-H", "trace="+hdr, "-H", "producer=kcat"); err != nil {
			t.Fatal(err)
		}
	}
	// Not JSON: it must land in the dead letters, never downstream.
	poison := `{"order_id": "ORD-1", "customer": {"email": "poison@example.org"` // cut short
	if _, _, err := run(ctx, strings.NewReader("poison-key\t"+poison+"\n"), kcat, "-P", "-b", broker, "-t", "orders", "-K", "\t", "-H", "trace=poison"); err != nil {
		t.Fatal(err)
	}

	src := kcatConsume(t, ctx, kcat, broker, "orders", n+1, 20*time.Second)
	masked := kcatConsume(t, ctx, kcat, broker, "orders.masked", n, 45*time.Second)
	if len(masked) != n {
		t.Fatalf("orders.masked holds %d records, want %d", len(masked), n)
	}
	// orders.yaml masks the key too, so a masked record is paired with its
	// source by position: keep_partition and per-partition order make the
	// k-th masked record of a partition the k-th good record of the same
	// source partition.
	srcByPart := map[int32][]kcatRecord{}
	for _, r := range sortedByOffset(src) {
		if r.Key != nil && *r.Key != "poison-key" {
			srcByPart[r.Partition] = append(srcByPart[r.Partition], r)
		}
	}
	seen := map[string]bool{}
	sameName := map[string]int{}
	next := map[int32]int{}
	for _, m := range sortedByOffset(masked) {
		if m.Key == nil || m.Payload == nil {
			t.Fatalf("masked record at %s/%d/%d has no key or value", m.Topic, m.Partition, m.Offset)
		}
		k := next[m.Partition]
		next[m.Partition]++
		if k >= len(srcByPart[m.Partition]) {
			t.Fatalf("partition %d of orders.masked holds more records than its source partition (keep_partition, and the poison must not be here)", m.Partition)
		}
		s := srcByPart[m.Partition][k]
		key := *s.Key
		var idx int
		if _, err := fmt.Sscanf(key, "order-key-%d", &idx); err != nil || idx < 0 || idx >= n {
			t.Fatalf("source record has key %q, which was not produced", key)
		}
		// imitate_unique: the key is replaced, keeps its shape, and two
		// keys never mask alike.
		if mk := *m.Key; mk == key || len(mk) != len(key) || strings.Contains(mk, "order-key") {
			t.Errorf("%s: the masked key does not look masked by orders.yaml's imitate_unique key mask", key)
		} else if seen[mk] {
			t.Errorf("%s: two records got the same masked key", key)
		} else {
			seen[mk] = true
		}
		if !reflect.DeepEqual(m.Headers, s.Headers) {
			t.Errorf("%s: headers %q, want them kept as %q", key, m.Headers, s.Headers)
		}
		checkOrderMasked(t, key, orders[idx], []byte(*m.Payload), sameName)
	}
	for path, same := range sameName {
		if same > n/10 {
			t.Errorf("%s kept its original value in %d of %d records: it is not being masked", path, same, n)
		}
	}

	dlq := kcatConsume(t, ctx, kcat, broker, "maskstream.dlq", 1, 20*time.Second)
	if len(dlq) != 1 {
		t.Fatalf("dead-letter topic holds %d records, want the 1 poison record", len(dlq))
	}
	dl := dlq[0]
	if dl.Key == nil || *dl.Key != "poison-key" || dl.Payload == nil || *dl.Payload != poison {
		t.Errorf("dead letter key %v: want the poison record's key and its original bytes", dl.Key)
	}
	if reason, ok := dl.header("maskstream-error"); !ok || reason == "" {
		t.Errorf("dead letter headers %q lack maskstream-error", dl.Headers)
	} else if strings.Contains(reason, "poison@example.org") {
		t.Error("the maskstream-error header quotes the record's value")
	}
	if origin, ok := dl.header("maskstream-origin"); !ok || !strings.Contains(origin, "orders") {
		t.Errorf("dead letter maskstream-origin %q, want the source topic/partition/offset", origin)
	}
	if tr, _ := dl.header("trace"); tr != "poison" {
		t.Errorf("dead letter lost the record's own headers: %q", dl.Headers)
	}

	// The counters agree with what kcat saw (DESIGN §8).
	waitFor(t, ctx, 15*time.Second, "records_out_total and dead_letters_total to count the records", func() bool {
		_, body, err := httpGet("http://" + d.addr + "/metrics")
		if err != nil {
			return false
		}
		out, _ := metric(body, "maskstream_records_out_total", map[string]string{"route": "orders"})
		dead, _ := metric(body, "maskstream_dead_letters_total", map[string]string{"route": "orders", "reason": "not_json"})
		return out == n && dead == 1
	})

	// SIGTERM drains, commits and exits 0 (DESIGN §3.9).
	if err := d.stop(20 * time.Second); err != nil {
		t.Errorf("maskstream run after SIGTERM: %v, want exit status 0", err)
	}
}

// checkOrderMasked compares one masked order with its original: every
// personal value is gone (from its field and from anywhere in the record,
// as the note repeats the email, phone and card), everything else is the
// same. Names come from seed files, where the fake may by chance equal the
// real one, so they are counted by the caller through sameName.
func checkOrderMasked(t *testing.T, key string, orig, masked []byte, sameName map[string]int) {
	t.Helper()
	var o, m map[string]any
	if err := json.Unmarshal(orig, &o); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(masked, &m); err != nil {
		t.Errorf("%s: masked value is not JSON: %v", key, err)
		return
	}
	for _, path := range []string{
		"order_id", "customer.customer_id", "customer.email", "customer.phone",
		"payment.card_number", "shipping.street", "ip",
	} {
		ov, mv := lookup(o, path), lookup(m, path)
		if mv == nil {
			t.Errorf("%s: %s is missing from the masked record", key, path)
			continue
		}
		if reflect.DeepEqual(ov, mv) {
			t.Errorf("%s: %s came through unmasked", key, path)
		}
		if s, ok := ov.(string); ok && bytes.Contains(masked, []byte(s)) {
			t.Errorf("%s: the original %s still appears in the masked record", key, path)
		}
	}
	for _, path := range []string{"customer.first_name", "customer.last_name", "shipping.name"} {
		if mv := lookup(m, path); mv == nil {
			t.Errorf("%s: %s is missing from the masked record", key, path)
		} else if reflect.DeepEqual(lookup(o, path), mv) {
			sameName[path]++
		}
	}
	if reflect.DeepEqual(lookup(o, "note"), lookup(m, "note")) {
		t.Errorf("%s: the free-text note came through unmasked", key)
	}
	for _, path := range []string{
		"status", "created_at", "updated_at", "channel", "items",
		"payment.method", "payment.expiry", "payment.amount", "payment.currency",
		"shipping.city", "shipping.country",
	} {
		if ov, mv := lookup(o, path), lookup(m, path); !reflect.DeepEqual(ov, mv) {
			t.Errorf("%s: %s changed from %v to %v; the ruleset does not name it, so it must pass through", key, path, ov, mv)
		}
	}
}

// lookup follows a dotted path of object members.
func lookup(doc map[string]any, path string) any {
	var v any = doc
	for p := range strings.SplitSeq(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[p]
	}
	return v
}
