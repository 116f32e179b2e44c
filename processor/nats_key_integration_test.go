package processor_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/maskstream/maskstream/connectors/nats"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/testenv"
)

// keyCanary marks every original key in TestNATSKeyHeaders: none may reach
// the output stream, in clear or in base64.
const keyCanary = "7f3a9"

// TestNATSKeyHeaders: a NATS->NATS route whose ruleset masks the key
// (keyed.yaml). Key headers that leave the key ambiguous (repeated with
// other values, in two spellings, plain and base64 that differ, base64
// that does not decode) go to the dead letters as they came, with reason
// bad_source_record; before, one was masked and the others passed on as
// ordinary headers, in clear (audit finding L3). Keys written unpadded or
// URL-safe, or in several headers that agree, are masked like any key.
func TestNATSKeyHeaders(t *testing.T) {
	e := newEnv(t, 0, 0)
	n := testenv.StartNATS(t)
	ctx := context.Background()
	for stream, subject := range map[string]string{"IN": "in.>", "OUT": "out.>", "DLQ": "dlq.>"} {
		if err := n.CreateStream(ctx, stream, subject); err != nil {
			t.Fatal(err)
		}
	}
	js := natsJS(t, n)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	type input struct {
		seq  int
		h    natsgo.Header
		dead bool // want it dead-lettered
	}
	inputs := []input{
		{1, natsgo.Header{nats.HeaderKey: {"CANARY-K1-7f3a9"}}, false},
		{2, natsgo.Header{nats.HeaderKey: {"CANARY-K2a-7f3a9", "CANARY-K2b-7f3a9"}}, true},
		{3, natsgo.Header{nats.HeaderKey: {"CANARY-K3a-7f3a9"}, "maskstream-key": {"CANARY-K3b-7f3a9"}}, true},
		{4, natsgo.Header{nats.HeaderKeyBase64: {b64("CANARY-K4a-7f3a9")}, nats.HeaderKey: {"CANARY-K4b-7f3a9"}}, true},
		{5, natsgo.Header{nats.HeaderKeyBase64: {"CANARY-K5a-7f3a9!"}, nats.HeaderKey: {"CANARY-K5b-7f3a9"}}, true},
		// 16 bytes: unpadded base64 that the standard decoder refuses.
		{6, natsgo.Header{nats.HeaderKeyBase64: {base64.RawStdEncoding.EncodeToString([]byte("CANARY-K6x-7f3a9"))}}, false},
		{7, natsgo.Header{nats.HeaderKeyBase64: {base64.URLEncoding.EncodeToString([]byte("CANARY-K7\xfb\xff-7f3a9"))}}, false},
		{8, natsgo.Header{nats.HeaderKey: {"CANARY-K8-7f3a9"}, "maskstream-key": {"CANARY-K8-7f3a9"}, nats.HeaderKeyBase64: {b64("CANARY-K8-7f3a9")}}, false},
		// A header encoded under a key header's name is a header, not a
		// key: it passes as one (a headers rule could mask it).
		{9, natsgo.Header{nats.HeaderKey: {"CANARY-K9-7f3a9"}, nats.HeaderBase64: {b64(nats.HeaderKey) + ":" + b64("header-not-key")}}, false},
		{10, natsgo.Header{nats.HeaderKeyBase64: {"Q0FO+QVJ-ZLUE"}}, true}, // both alphabets: decodes in none
	}
	keys := map[int][]string{} // the original keys of each input, for the canary search
	for _, in := range inputs {
		in.h["trace"] = []string{"t" + strconv.Itoa(in.seq)}
		for name, vs := range in.h {
			if strings.EqualFold(name, nats.HeaderKey) || strings.EqualFold(name, nats.HeaderKeyBase64) {
				keys[in.seq] = append(keys[in.seq], vs...)
			}
		}
		data := []byte(`{"seq":` + strconv.Itoa(in.seq) + `,"email":"user@real.test"}`)
		if _, err := js.PublishMsg(ctx, &natsgo.Msg{Subject: "in.a", Data: data, Header: in.h}); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}

	cfg := e.routeConfig("keys", "keyed")
	cfg.Source = jsSource(t, n, "IN", "maskstream", "in.>")
	cfg.Sink = jsSink(t, n)
	cfg.Topic = mustTemplate("out.{subject}")
	cfg.DeadLetterTopic = mustTemplate("dlq.{subject}")
	e.start(cfg)

	wantDead := 0
	for _, in := range inputs {
		if in.dead {
			wantDead++
		}
	}
	msgs := func(stream string) uint64 {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		si, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return si.State.Msgs
	}
	// Each input comes out once, masked or dead-lettered: once all are
	// accounted for, the streams hold everything the route will write.
	waitFor(t, 60*time.Second, "every input masked or dead-lettered", func() bool {
		return msgs("OUT")+msgs("DLQ") >= uint64(len(inputs))
	})
	out := readStream(t, js, "OUT", "out.>", int(msgs("OUT")), 30*time.Second)
	dlq := readStream(t, js, "DLQ", "dlq.>", int(msgs("DLQ")), 30*time.Second)

	// No original key in the output, under any header, in clear or in
	// base64, however many times encoded.
	var needles []string
	for _, ks := range keys {
		for _, k := range ks {
			needles = append(needles, k)
			if d, ok := decodeAny(k); ok {
				needles = append(needles, string(d))
			}
		}
	}
	leaks := func(text string) bool {
		if strings.Contains(text, keyCanary) || strings.Contains(text, "CANARY") {
			return true
		}
		for _, nd := range needles {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				if strings.Contains(text, enc.EncodeToString([]byte(nd))) {
					return true
				}
			}
		}
		return false
	}
	for _, m := range out {
		for _, text := range revealed(m) {
			if leaks(text) {
				t.Errorf("output message %s leaks an original key: %q", m.Data(), text)
				break
			}
		}
	}

	// The well-formed ones come out with their key masked.
	got := map[int]jetstream.Msg{}
	for _, m := range out {
		got[seqOf(t, m.Data())] = m
	}
	for _, in := range inputs {
		m, ok := got[in.seq]
		if in.dead {
			if ok {
				t.Errorf("seq %d: ambiguous key headers %q, yet the record was produced", in.seq, in.h)
			}
			continue
		}
		if !ok {
			t.Errorf("seq %d: not in the output", in.seq)
			continue
		}
		h := m.Headers()
		if k := h.Values(nats.HeaderKey); len(k) != 1 || len(k[0]) != 16 || len(h.Values(nats.HeaderKeyBase64)) != 0 {
			t.Errorf("seq %d: key headers %q, want one key masked to 16 characters", in.seq, h)
		}
		if strings.Contains(string(m.Data()), "real.test") {
			t.Errorf("seq %d: value not masked: %s", in.seq, m.Data())
		}
	}
	if m := got[9]; m != nil {
		if hs := m.Headers().Values(nats.HeaderBase64); len(hs) != 1 || hs[0] != b64(nats.HeaderKey)+":"+b64("header-not-key") {
			t.Errorf("seq 9: encoded headers %q, want the header named like the key header encoded again", hs)
		}
	}

	// The ambiguous ones are dead letters: original bytes and headers,
	// the reason, and no value quoted.
	if len(dlq) != wantDead {
		t.Errorf("%d dead letters, want %d", len(dlq), wantDead)
	}
	byseq := map[int]input{}
	for _, in := range inputs {
		byseq[in.seq] = in
	}
	for _, m := range dlq {
		seq := seqOf(t, m.Data())
		in := byseq[seq]
		if !in.dead {
			t.Errorf("seq %d was dead-lettered, want it masked: %s", seq, m.Headers().Get(processor.HeaderError))
			continue
		}
		h := m.Headers()
		msg := h.Get(processor.HeaderError)
		if !strings.HasPrefix(msg, processor.ReasonBadSourceRecord+": nats: ") {
			t.Errorf("seq %d: %s %q, want reason %s", seq, processor.HeaderError, msg, processor.ReasonBadSourceRecord)
		}
		if strings.Contains(msg, keyCanary) || strings.Contains(msg, "Q0FO") {
			t.Errorf("seq %d: %s %q quotes a header value", seq, processor.HeaderError, msg)
		}
		if !strings.Contains(string(m.Data()), "user@real.test") || h.Get("trace") != "t"+strconv.Itoa(seq) {
			t.Errorf("seq %d: dead letter %s %q, want the original value and headers", seq, m.Data(), h)
		}
		// The original key headers are kept (encoded, their names being
		// reserved), so the dead letter shows what was wrong.
		var kept []string
		for _, v := range h.Values(nats.HeaderBase64) {
			name, val, _ := strings.Cut(v, ":")
			nb, _ := base64.StdEncoding.DecodeString(name)
			vb, _ := base64.StdEncoding.DecodeString(val)
			if strings.EqualFold(string(nb), nats.HeaderKey) || strings.EqualFold(string(nb), nats.HeaderKeyBase64) {
				kept = append(kept, string(vb))
			}
		}
		if !slices.Equal(slices.Sorted(slices.Values(kept)), slices.Sorted(slices.Values(keys[seq]))) {
			t.Errorf("seq %d: dead letter keeps key headers %q, want %q", seq, kept, keys[seq])
		}
		if len(h.Values(nats.HeaderKey)) != 0 || len(h.Values(nats.HeaderKeyBase64)) != 0 {
			t.Errorf("seq %d: dead letter has a key header %q; a malformed record has no key", seq, h)
		}
	}
	waitFor(t, 30*time.Second, "the dead letters counted", func() bool {
		return counterValue(e.metrics.DeadLetters.WithLabelValues("keys", processor.ReasonBadSourceRecord)) == float64(wantDead)
	})
}

// revealed is every text of m a reader could see: the payload, each
// header as name and value, and what the maskstream headers' base64
// decodes to, again and again.
func revealed(m jetstream.Msg) []string {
	out := []string{string(m.Data())}
	for name, vs := range m.Headers() {
		for _, v := range vs {
			out = append(out, name+": "+v)
			if !strings.HasPrefix(strings.ToLower(name), "maskstream-") {
				continue
			}
			todo := strings.Split(v, ":")
			for len(todo) > 0 && len(out) < 1000 {
				s := todo[0]
				todo = todo[1:]
				if d, ok := decodeAny(s); ok {
					out = append(out, string(d))
					todo = append(todo, strings.Split(string(d), ":")...)
				}
			}
		}
	}
	return out
}

// decodeAny decodes s in any base64 form a producer may write.
func decodeAny(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(s); err == nil && len(d) > 0 {
			return d, true
		}
	}
	return nil, false
}

func seqOf(t *testing.T, v []byte) int {
	t.Helper()
	var r struct {
		Seq int `json:"seq"`
	}
	if err := json.Unmarshal(v, &r); err != nil {
		t.Fatalf("record %q: %v", v, err)
	}
	return r.Seq
}
