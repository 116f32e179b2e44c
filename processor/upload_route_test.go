package processor_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/connectors/kafka"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// TestRoutesIgnoreUploads: what a stream masks with is the rulesets dir's
// to say. A plan uploaded over the HTTP API under a route's ruleset name
// (its file removed) does not change what the running route masks with,
// and a route whose ruleset exists only as an upload does not start, so an
// admin token cannot turn a production stream's masking off.
func TestRoutesIgnoreUploads(t *testing.T) {
	const fileYAML = "version: \"1.0\"\nrules:\n  - path: \"$.name\"\n    masks: [ { type: from_fixed, value: FILE } ]\n"
	const uploadYAML = "version: \"1.0\"\nrules:\n  - path: \"$.other\"\n    masks: [ { type: do_nothing } ]\n"
	dir, data := t.TempDir(), t.TempDir()
	file := filepath.Join(dir, "orders.yaml")
	if err := os.WriteFile(file, []byte(fileYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	newStore := func(t *testing.T) *rulesets.Store[*engine.Masker] {
		t.Helper()
		s := rulesets.NewStore(rulesets.StoreConfig{Dir: dir, DataDir: data}, processor.Compiler(0, 0))
		if err := s.Load(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	src, sink := idleConnectors(t)
	var logs testenv.LogBuffer
	routeOn := func(store *rulesets.Store[*engine.Masker]) (*processor.Route, error) {
		return processor.NewRoute(processor.RouteConfig{Name: "orders", Source: src, Sink: sink,
			Ruleset: "orders", Rulesets: store, Secret: engine.MustSecret(testSecret),
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	}

	store := newStore(t)
	r, err := routeOn(store)
	if err != nil {
		t.Fatal(err)
	}
	fileSerial := r.Status().RulesetSerial

	t.Run("an upload under the name of a removed file", func(t *testing.T) {
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		if err := store.Reload(); err != nil {
			t.Fatal(err)
		}
		up, err := store.Put("orders", []byte(uploadYAML))
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		if got := r.Status().RulesetSerial; got != fileSerial {
			t.Errorf("the route masks with serial %d, the upload's is %d: an upload replaced the file's ruleset (want %d)", got, up.Serial, fileSerial)
		}
	})
	t.Run("the file back, changed, over the upload", func(t *testing.T) {
		changed := strings.Replace(fileYAML, "FILE", "FILE-V2", 1)
		if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := store.Reload(); err != nil {
			t.Fatalf("reload with the file back: %v", err)
		}
		e, _ := store.Get("orders")
		if e.Source != rulesets.SourceFile || r.Status().RulesetSerial != e.Serial {
			t.Errorf("the route masks with serial %d, the file's is %d (%s): the operator's new file is not applied", r.Status().RulesetSerial, e.Serial, e.Source)
		}
		// Put the upload-only state back for the next case. The upload
		// the file had shadowed serves HTTP again; the route says what
		// matters to it: its file is gone.
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		before := len(logs.String())
		if err := store.Reload(); err != nil {
			t.Fatal(err)
		}
		if got := logs.String()[before:]; !strings.Contains(got, "ruleset file removed") || strings.Contains(got, "uploaded over the HTTP API") {
			t.Errorf("route log on the file's removal:\n%s\nwant the removal, not an upload", got)
		}
	})
	t.Run("a route whose ruleset is only an upload", func(t *testing.T) {
		_, err := routeOn(newStore(t))
		if err == nil || !strings.Contains(err.Error(), "uploaded over the HTTP API") {
			t.Fatalf("NewRoute on an upload: error %v, want one saying routes mask only with files", err)
		}
	})
}

// idleConnectors are a Kafka source and sink that never connect, for
// routes a test builds and does not run; closed at the test's end.
func idleConnectors(t *testing.T) (*kafka.Source, *kafka.Sink) {
	t.Helper()
	cc := kafka.ClusterConfig{Brokers: []string{"127.0.0.1:1"}}
	src, err := kafka.NewSource(cc, kafka.SourceConfig{Topics: []string{"orders"}, Group: "g"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	sink, err := kafka.NewSink(cc, kafka.SinkConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return src, sink
}
