package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/rulesets/examples"
	"github.com/maskstream/maskstream/testenv"
)

const (
	consistencySecret      = "consistency-test-secret-0123456789"
	consistencyOtherSecret = "consistency-other-secret-9876543210"
	consistencyToken       = "consistency-test-token-0123456789"
	consistencyN           = 50
)

// consistencyRulesets are the example rulesets checked, each with the
// generator of the records it is written for.
var consistencyRulesets = []struct {
	name string
	gen  func(seed uint64, n int) [][]byte
}{
	{"customer-record", testenv.Customers},
	{"orders", testenv.Orders},
}

// masked holds one path's output: ruleset name -> record seq -> record.
type masked map[string]map[int][]byte

// TestSameMasksEverywhere is the mission's promise (DESIGN §4): with one
// run secret, `maskstream mask`, the HTTP endpoint of `maskstream serve`,
// and Kafka and JetStream routes of `maskstream run` give byte-identical
// masked records. Each path reads the secret its own way (environment,
// file), as separate deployments would.
func TestSameMasksEverywhere(t *testing.T) {
	dir := t.TempDir()
	rsDir := filepath.Join(dir, "rulesets")
	inputs := map[string][][]byte{}
	for i, rs := range consistencyRulesets {
		src, err := examples.Source(rs.name)
		if err != nil {
			t.Fatal(err)
		}
		writeServeFile(t, filepath.Join(rsDir, rs.name+".yaml"), string(src))
		inputs[rs.name] = consistencyRecords(t, rs.gen(uint64(41+i), consistencyN))
	}

	paths := map[string]masked{
		"mask":  maskViaCLI(t, rsDir, inputs, consistencySecret),
		"serve": maskViaServe(t, rsDir, inputs, consistencySecret),
	}
	// One daemon runs both stream routes.
	paths["run/kafka"], paths["run/jetstream"] = maskViaRun(t, dir, rsDir, inputs, consistencySecret)
	other := maskViaCLI(t, rsDir, inputs, consistencyOtherSecret)

	ref := paths["mask"]
	// One broken path would fail every record: show a few, count the rest.
	mismatches := map[string]int{}
	for _, rs := range consistencyRulesets {
		for seq, in := range inputs[rs.name] {
			want := ref[rs.name][seq]
			if bytes.Equal(want, in) {
				t.Errorf("%s #%d: mask left the record unchanged", rs.name, seq)
			}
			if seq%10 == 3 {
				for _, k := range []string{"customer_id", "first_name", "last_name", "phone"} {
					if v, ok := nonASCII[seq/10%len(nonASCII)][k]; ok && bytes.Contains(want, []byte(v)) {
						t.Errorf("%s #%d: %s %q passed unmasked", rs.name, seq, k, v)
					}
				}
			}
			if bytes.Equal(want, other[rs.name][seq]) {
				t.Errorf("%s #%d: another secret gave the same masked record", rs.name, seq)
			}
			for _, name := range []string{"serve", "run/kafka", "run/jetstream"} {
				got, ok := paths[name][rs.name][seq]
				switch {
				case !ok:
					t.Errorf("%s #%d: %s returned no record", rs.name, seq, name)
				case !bytes.Equal(got, want):
					if mismatches[name]++; mismatches[name] > 2 {
						continue
					}
					t.Errorf("%s #%d: %s differs from mask in %s:\n%s: %s\nmask: %s",
						rs.name, seq, name, jsonDiff(got, want), name, got, want)
				}
			}
		}
	}
	for name, n := range mismatches {
		t.Errorf("%s: %d of %d records differ from mask", name, n, len(consistencyRulesets)*consistencyN)
	}
	checkJoins(t, inputs, ref)
}

// checkJoins: the records numbered 3 and 43 of both rulesets carry the
// same customer_id (nonASCII[0]), and both example rulesets mask a
// customer's id, names and email with the same masks keyed by that id, so
// the substitutes must match across the two rulesets too (DESIGN §4: the
// mask identity, not the ruleset, path or topic, picks the output). If an
// example ruleset changes one of these masks on purpose, drop that field
// here.
func checkJoins(t *testing.T, inputs map[string][][]byte, ref masked) {
	t.Helper()
	customer := func(rec []byte, nested bool) map[string]string {
		t.Helper()
		var c map[string]any
		var o struct{ Customer map[string]any }
		target := any(&c)
		if nested {
			target = &o
		}
		if err := json.Unmarshal(rec, target); err != nil {
			t.Fatal(err)
		}
		if nested {
			c = o.Customer
		}
		out := map[string]string{}
		for _, k := range []string{"customer_id", "first_name", "last_name", "email"} {
			out[k], _ = c[k].(string)
		}
		return out
	}
	for _, seq := range []int{3, 43} {
		if a, b := customer(inputs["customer-record"][seq], false), customer(inputs["orders"][seq], true); a["customer_id"] != b["customer_id"] {
			t.Fatalf("#%d: the test records do not share a customer_id: %q, %q", seq, a["customer_id"], b["customer_id"])
		}
		a, b := customer(ref["customer-record"][seq], false), customer(ref["orders"][seq], true)
		for k, v := range a {
			if v == "" || b[k] != v {
				t.Errorf("#%d: one customer's masked %s is %q under customer-record and %q under orders", seq, k, v, b[k])
			}
		}
	}
}

// nonASCII are values of other scripts (imitate covers them all) written
// into a few records: names, digits other than 0-9, a customer id.
var nonASCII = []map[string]string{
	{"first_name": "Иван", "last_name": "Петров", "phone": "+7 ٩١٢ ٣٤٥ ٦٧٨٩", "customer_id": "Ж1234567"},
	{"first_name": "Zoë", "last_name": "Ångström", "phone": "+81 ９０-１２３４-５６７８"},
	{"first_name": "李", "last_name": "王", "phone": "+91 ९८७६५ ४३२१०", "postcode": "१२३४"},
	{"first_name": "Ηλέκτρα", "last_name": "Παπαδοπούλου", "note": "Ζητήθηκε κλήση στο +30 210 123 4567, ευχαριστώ"},
}

// consistencyRecords numbers each record with a leading "seq" field (no
// rule selects it, so it passes through and pairs outputs with inputs
// whatever order a transport delivers in) and writes the nonASCII values
// into every tenth record.
func consistencyRecords(t *testing.T, recs [][]byte) [][]byte {
	t.Helper()
	out := make([][]byte, len(recs))
	for i, r := range recs {
		r = append([]byte(`{"seq":`+strconv.Itoa(i)+`,`), r[1:]...)
		if i%10 == 3 {
			for k, v := range nonASCII[i/10%len(nonASCII)] {
				re := regexp.MustCompile(`"` + k + `":"[^"]*"`)
				q, _ := json.Marshal(v)
				r = re.ReplaceAllLiteral(r, append([]byte(`"`+k+`":`), q...))
			}
		}
		if !json.Valid(r) {
			t.Fatalf("test record %d is not JSON: %s", i, r)
		}
		out[i] = r
	}
	return out
}

// bySeq files each masked record under its "seq" field.
func bySeq(t *testing.T, from string, recs [][]byte) map[int][]byte {
	t.Helper()
	out := map[int][]byte{}
	for _, r := range recs {
		var v struct {
			Seq *int `json:"seq"`
		}
		if err := json.Unmarshal(r, &v); err != nil || v.Seq == nil {
			t.Fatalf("%s: a masked record without its seq (%v): %.200s", from, err, r)
		}
		if _, dup := out[*v.Seq]; dup {
			t.Fatalf("%s: record %d came twice", from, *v.Seq)
		}
		out[*v.Seq] = bytes.Clone(r)
	}
	return out
}

func maskViaCLI(t *testing.T, rsDir string, inputs map[string][][]byte, secret string) masked {
	t.Helper()
	out := masked{}
	for _, rs := range consistencyRulesets {
		code, stdout, stderr := runMaskCmd(t, string(bytes.Join(inputs[rs.name], []byte("\n")))+"\n",
			map[string]string{runSecretEnv: secret}, "-r", filepath.Join(rsDir, rs.name+".yaml"))
		if code != 0 {
			t.Fatalf("mask %s: exit %d:\n%s", rs.name, code, stderr)
		}
		var recs [][]byte
		sc := bufio.NewScanner(strings.NewReader(stdout))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			recs = append(recs, bytes.Clone(sc.Bytes()))
		}
		out[rs.name] = bySeq(t, "mask "+rs.name, recs)
	}
	return out
}

func maskViaServe(t *testing.T, rsDir string, inputs map[string][][]byte, secret string) masked {
	t.Helper()
	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "secret"), secret+"\n")
	base, _, stop := startServe(t, map[string]string{"TOK": consistencyToken},
		"-rulesets", rsDir, "-secret-file", filepath.Join(dir, "secret"), "-listen", "127.0.0.1:0", "-token-env", "TOK")
	defer stop()
	out := masked{}
	for _, rs := range consistencyRulesets {
		body := `{"request_id":"consistency","data":[` + string(bytes.Join(inputs[rs.name], []byte(","))) + `]}`
		code, resp := serveRequest(t, "POST", base+"/v1/mask/"+rs.name, consistencyToken, body)
		if code != 200 {
			t.Fatalf("POST /v1/mask/%s: %d %.500s", rs.name, code, resp)
		}
		// RawMessage keeps each entry's bytes as the server wrote them.
		var r struct{ Data []json.RawMessage }
		if err := json.Unmarshal([]byte(resp), &r); err != nil {
			t.Fatalf("POST /v1/mask/%s: %v", rs.name, err)
		}
		recs := make([][]byte, len(r.Data))
		for i, d := range r.Data {
			recs[i] = d
		}
		out[rs.name] = bySeq(t, "serve "+rs.name, recs)
	}
	return out
}

// maskViaRun starts one `maskstream run` with a Kafka and a JetStream
// route per ruleset, feeds them the inputs and returns what each
// transport's sink received.
func maskViaRun(t *testing.T, dir, rsDir string, inputs map[string][][]byte, secret string) (kafkaOut, jsOut masked) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	k := testenv.StartKafka(t)
	n := testenv.StartNATS(t)
	var topics []string
	for _, rs := range consistencyRulesets {
		topics = append(topics, rs.name, rs.name+".masked")
	}
	if err := k.CreateTopics(ctx, 1, topics...); err != nil {
		t.Fatal(err)
	}
	if err := n.CreateStream(ctx, "IN", "in.>"); err != nil {
		t.Fatal(err)
	}
	if err := n.CreateStream(ctx, "MASKED", "masked.>"); err != nil {
		t.Fatal(err)
	}
	// The JetStream route's default dead letters: its sink checks at
	// start that a stream takes them.
	if err := n.CreateStream(ctx, "DEAD_LETTERS", "maskstream.dlq.>"); err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...), kgo.ConsumeTopics(topics[1], topics[3]),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	nc, err := natsgo.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range consistencyRulesets {
		for _, r := range inputs[rs.name] {
			cl.Produce(ctx, &kgo.Record{Topic: rs.name, Value: r}, nil)
			if _, err := js.Publish(ctx, "in."+rs.name, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	var routes strings.Builder
	for _, rs := range consistencyRulesets {
		fmt.Fprintf(&routes, `  - name: %[1]s-kafka
    from: { kafka: local, topics: [%[1]s] }
    to:   { kafka: local }
    ruleset: %[1]s
  - name: %[1]s-js
    from: { nats: local, stream: IN, subject: in.%[1]s }
    to:   { nats: local, subject: "masked.{subject}", jetstream: true }
    ruleset: %[1]s
`, rs.name)
	}
	writeServeFile(t, filepath.Join(dir, "run-secret"), secret+"\n")
	cfgPath := filepath.Join(dir, "maskstream.yaml")
	writeServeFile(t, cfgPath, fmt.Sprintf(`rulesets_dir: %q
data_dir: %q
run_secret_file: %q
drain_timeout: 10s
kafka:
  local: { brokers: [%q] }
nats:
  local: { url: %q }
routes:
%s`, rsDir, filepath.Join(dir, "data"), filepath.Join(dir, "run-secret"), k.Brokers()[0], n.URL(), routes.String()))

	// No MASKSTREAM_RUN_SECRET: run must read run_secret_file.
	env, _, stderr := testCLIEnv(nil)
	runCtx, stop := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- runMain(runCtx, env, []string{"run", "-c", cfgPath}) }()
	defer func() {
		stop()
		select {
		case c := <-code:
			if c != 0 {
				t.Errorf("run exited %d:\n%s", c, stderr)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not stop within 30s of its context ending")
		}
	}()

	want := len(consistencyRulesets) * consistencyN
	var krecs []*kgo.Record
	for len(krecs) < want && ctx.Err() == nil {
		krecs = append(krecs, cl.PollFetches(ctx).Records()...)
	}
	if len(krecs) != want {
		t.Fatalf("kafka: %d masked records, want %d:\n%s", len(krecs), want, stderr)
	}
	kafkaOut, jsOut = masked{}, masked{}
	for _, rs := range consistencyRulesets {
		var recs [][]byte
		for _, r := range krecs {
			if r.Topic == rs.name+".masked" {
				recs = append(recs, r.Value)
			}
		}
		kafkaOut[rs.name] = bySeq(t, "kafka "+rs.name, recs)
		jsOut[rs.name] = bySeq(t, "jetstream "+rs.name, readJetStream(ctx, t, js, "masked.in."+rs.name, consistencyN, stderr))
	}
	return kafkaOut, jsOut
}

// readJetStream reads n messages on subject from stream MASKED, from the
// start, until ctx ends.
func readJetStream(ctx context.Context, t *testing.T, js jetstream.JetStream, subject string, n int, logs fmt.Stringer) [][]byte {
	t.Helper()
	cons, err := js.OrderedConsumer(ctx, "MASKED", jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(out) < n && ctx.Err() == nil {
		batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			continue
		}
		for m := range batch.Messages() {
			out = append(out, m.Data())
		}
	}
	if len(out) != n {
		t.Fatalf("jetstream %s: %d masked records, want %d:\n%s", subject, len(out), n, logs)
	}
	return out
}

// jsonDiff names the top-level fields where two records differ, or says
// they are the same JSON written differently.
func jsonDiff(a, b []byte) string {
	var x, y map[string]json.RawMessage
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return "an unparseable record"
	}
	var diff []string
	for k, v := range x {
		if !bytes.Equal(v, y[k]) {
			diff = append(diff, k)
		}
	}
	for k := range y {
		if _, ok := x[k]; !ok {
			diff = append(diff, k)
		}
	}
	if len(diff) == 0 {
		return "spelling only (same fields)"
	}
	slices.Sort(diff)
	return "fields " + strings.Join(diff, ", ")
}
