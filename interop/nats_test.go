//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/testenv"
)

// startDebianNATS runs the distribution's nats-server (Debian ships 2.9) as
// its own process with JetStream in a temporary store, and returns its URL
// once it answers JetStream requests.
func startDebianNATS(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin := tool(t, "nats-server", "nats-server", "/usr/sbin/nats-server")
	if out, _, err := run(ctx, nil, bin, "--version"); err == nil {
		t.Logf("using %s", strings.TrimSpace(string(out)))
	}
	port := freePort(t)
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	p := start(t, "nats-server", bin, []string{"-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", t.TempDir()})
	waitFor(t, ctx, 15*time.Second, "nats-server to accept JetStream requests", func() bool {
		if p.exited() {
			t.Fatalf("nats-server exited: %v", p.err)
		}
		nc, err := natsgo.Connect(url, natsgo.Timeout(time.Second))
		if err != nil {
			return false
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return false
		}
		actx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err = js.AccountInfo(actx)
		return err == nil
	})
	return url
}

// TestDebianNATSJetStreamRoute runs a JetStream→JetStream route through
// the binary against Debian's nats-server 2.9 in its own process: every
// message arrives masked on masked.<subject> with its headers, the source
// consumer ends with nothing pending, and a poison message lands in the
// dead-letter stream.
func TestDebianNATSJetStreamRoute(t *testing.T) {
	bin := maskstreamBin(t)
	root := repoRoot(t)
	ctx := testCtx(t, 60*time.Second)
	url := startDebianNATS(t, ctx)

	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string]string{"CUSTOMERS": "customers.>", "MASKED": "masked.>", "DLQ": "maskstream.dlq.>"}
	for name, subj := range streams {
		// Only settings nats-server 2.9 knows.
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subj}, Storage: jetstream.FileStorage}); err != nil {
			t.Fatalf("creating stream %s on nats-server: %v", name, err)
		}
	}

	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf(`rulesets_dir: %q
data_dir: %q
nats:
  main: { url: %q }
routes:
  - name: customers
    from: { nats: main, stream: CUSTOMERS, durable: interop, subject: "customers.>" }
    to:   { nats: main, subject: "masked.{subject}", jetstream: true }
    ruleset: customer-record
    dead_letter: { nats: main, subject: maskstream.dlq.customers, jetstream: true }
http:
  listen: %q
`, filepath.Join(root, "rulesets", "examples"), t.TempDir(), url, httpAddr)
	d := startDaemon(t, ctx, bin, cfg, httpAddr)

	const n = 30
	customers := testenv.Customers(11, n)
	subjects := []string{"customers.created", "customers.updated"}
	for i, c := range customers {
		msg := natsgo.NewMsg(subjects[i%2])
		msg.Data = c
		msg.Header.Set("trace", "t-"+strconv.Itoa(i))
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	poison := []byte("customer_id=C1234567; not json")
	pm := natsgo.NewMsg("customers.created")
	pm.Data = poison
	pm.Header.Set("trace", "poison")
	if _, err := js.PublishMsg(ctx, pm); err != nil {
		t.Fatal(err)
	}

	masked := streamMsgs(t, ctx, js, "MASKED", n, 45*time.Second)
	byTrace := map[string]*jetstream.RawStreamMsg{}
	for _, m := range masked {
		tr := m.Header.Get("trace")
		if byTrace[tr] != nil {
			t.Errorf("trace %q arrived twice", tr)
		}
		byTrace[tr] = m
	}
	same := map[string]int{}
	for i, c := range customers {
		tr := "t-" + strconv.Itoa(i)
		m := byTrace[tr]
		if m == nil {
			t.Errorf("message %s (trace header) did not arrive masked, or lost its header", tr)
			continue
		}
		if want := "masked." + subjects[i%2]; m.Subject != want {
			t.Errorf("%s: subject %q, want %q", tr, m.Subject, want)
		}
		checkCustomerMasked(t, tr, c, m.Data, same)
	}
	for path, k := range same {
		if k > n/10 {
			t.Errorf("%s kept its original value in %d of %d messages: it is not being masked", path, k, n)
		}
	}

	dlq := streamMsgs(t, ctx, js, "DLQ", 1, 20*time.Second)
	dl := dlq[0]
	if !bytes.Equal(dl.Data, poison) || dl.Header.Get("maskstream-error") == "" || dl.Header.Get("trace") != "poison" {
		t.Errorf("dead letter on %s: headers %v; want the original bytes, maskstream-error and the record's own headers", dl.Subject, dl.Header)
	}
	if strings.Contains(dl.Header.Get("maskstream-error"), "C1234567") {
		t.Error("the maskstream-error header quotes the record's value")
	}

	// Every message was acknowledged to the 2.9 server: nothing pending.
	waitFor(t, ctx, 15*time.Second, "the durable consumer to have acked everything", func() bool {
		cons, err := js.Consumer(ctx, "CUSTOMERS", "interop")
		if err != nil {
			return false
		}
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream == uint64(n+1)
	})
	if err := d.stop(20 * time.Second); err != nil {
		t.Errorf("maskstream run after SIGTERM: %v, want exit status 0", err)
	}
}

// streamMsgs waits until stream holds n messages and returns them by
// sequence (STREAM.MSG.GET, which nats-server 2.9 has).
func streamMsgs(t *testing.T, ctx context.Context, js jetstream.JetStream, stream string, n int, limit time.Duration) []*jetstream.RawStreamMsg {
	t.Helper()
	var got uint64
	waitFor(t, ctx, limit, fmt.Sprintf("%d messages in stream %s", n, stream), func() bool {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return false
		}
		info, err := s.Info(ctx)
		if err != nil {
			return false
		}
		got = info.State.Msgs
		return got >= uint64(n)
	}, func() string { return fmt.Sprintf("it holds %d", got) })
	if got != uint64(n) {
		t.Fatalf("stream %s holds %d messages, want %d", stream, got, n)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*jetstream.RawStreamMsg, 0, n)
	for seq := uint64(1); seq <= uint64(n); seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("getting %s message %d: %v", stream, seq, err)
		}
		out = append(out, m)
	}
	return out
}

// checkCustomerMasked compares one masked customer with its original, as
// checkOrderMasked does for orders. Seed-file names, the shifted birth date
// and the random balance may equal the original by chance: they are
// counted in same.
func checkCustomerMasked(t *testing.T, id string, orig, masked []byte, same map[string]int) {
	t.Helper()
	var o, m map[string]any
	if err := json.Unmarshal(orig, &o); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(masked, &m); err != nil {
		t.Errorf("%s: masked value is not JSON: %v", id, err)
		return
	}
	for _, path := range []string{"customer_id", "email", "phone", "address.street"} {
		ov, mv := lookup(o, path), lookup(m, path)
		if mv == nil {
			t.Errorf("%s: %s is missing from the masked message", id, path)
			continue
		}
		if reflect.DeepEqual(ov, mv) {
			t.Errorf("%s: %s came through unmasked", id, path)
		}
		if s, ok := ov.(string); ok && bytes.Contains(masked, []byte(s)) {
			t.Errorf("%s: the original %s still appears in the masked message", id, path)
		}
	}
	for _, path := range []string{"first_name", "last_name", "date_of_birth", "account_balance"} {
		if mv := lookup(m, path); mv == nil {
			t.Errorf("%s: %s is missing from the masked message", id, path)
		} else if reflect.DeepEqual(lookup(o, path), mv) {
			same[path]++
		}
	}
	if _, isNum := lookup(m, "account_balance").(float64); !isNum {
		t.Errorf("%s: account_balance is no longer a number", id)
	}
	for _, path := range []string{"account_status", "address.city", "address.postcode", "address.country"} {
		if ov, mv := lookup(o, path), lookup(m, path); !reflect.DeepEqual(ov, mv) {
			t.Errorf("%s: %s changed from %v to %v; the ruleset does not name it, so it must pass through", id, path, ov, mv)
		}
	}
}
