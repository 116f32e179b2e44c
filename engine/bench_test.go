package engine

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bytedance/sonic"
	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// The engine benchmark masks the reference order events (testenv's
// generator, about 700 bytes each) with rulesets/examples/orders.yaml and
// compares with the cheapest thing a masker that decodes could do: a sonic
// Unmarshal into interface{} and Marshal back, with no masking at all.
//
//	make bench-engine
//	go test -run '^$' -bench BenchmarkEngine -benchmem ./engine/
//
// ratio (in BenchmarkEngine/ratio) is mask time / sonic round-trip time
// over the same records in the same run, in CPU time of the process (so
// other load on the machine does not skew it): the figure to watch (target
// <= 1.0). engine_only runs the same rules with do_nothing masks: the cost
// of the scan, matching and rewriting alone.

const benchRecords = 1024

func benchMasker(b *testing.B) (*Masker, [][]byte) {
	b.Helper()
	rs, err := rulesets.ParseFile(filepath.Join("..", "rulesets", "examples", "orders.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := Compile(rs, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m, testenv.Orders(1, benchRecords)
}

func BenchmarkEngine(b *testing.B) {
	m, recs := benchMasker(b)
	sec := MustSecret("bench-secret-0123456789abcdef")
	var size int
	for _, r := range recs {
		size += len(r)
	}
	maskLoop := func(n int) {
		var out []byte
		for i := range n {
			var err error
			out, err = m.MaskValue(out[:0], sec, recs[i%len(recs)], nil)
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	sonicLoop := func(n int) {
		for i := range n {
			var v any
			if err := sonic.Unmarshal(recs[i%len(recs)], &v); err != nil {
				b.Fatal(err)
			}
			if _, err := sonic.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	}
	report := func(b *testing.B) {
		b.SetBytes(int64(size / len(recs)))
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("mask", func(b *testing.B) {
		b.ReportAllocs()
		maskLoop(b.N)
		report(b)
	})
	b.Run("engine_only", func(b *testing.B) {
		// The same rules with every mask replaced by do_nothing: what
		// the scan, the path matching, the hash source lookups and the
		// rewriting cost without the masks themselves.
		rs, err := rulesets.ParseFile(filepath.Join("..", "rulesets", "examples", "orders.yaml"))
		if err != nil {
			b.Fatal(err)
		}
		var node yaml.Node
		if err := yaml.Unmarshal([]byte("type: do_nothing"), &node); err != nil {
			b.Fatal(err)
		}
		for i := range rs.Rules {
			rs.Rules[i].Masks = []rulesets.Mask{{Type: "do_nothing", Node: node.Content[0]}}
		}
		bare, err := Compile(rs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var out []byte
		for i := range b.N {
			out, err = bare.MaskValue(out[:0], sec, recs[i%len(recs)], nil)
			if err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("sonic_roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		sonicLoop(b.N)
		report(b)
	})
	b.Run("ratio", func(b *testing.B) {
		// Both loops run over the same records in alternating slices,
		// taking turns to go first, so drift in the machine's speed hits
		// them alike. Each slice ends with a collection inside its own
		// timing: each side pays for its own garbage, and neither for the
		// other's (a concurrent cycle started by sonic's allocations would
		// otherwise slow the masking slice after it).
		var maskT, sonicT time.Duration
		timed := func(loop func(int), n int) time.Duration {
			t0 := cpuTime()
			loop(n)
			runtime.GC()
			return cpuTime() - t0
		}
		const chunk = 1024
		runtime.GC()
		for done, turn := 0, 0; done < b.N; done, turn = done+chunk, turn+1 {
			n := min(chunk, b.N-done)
			if turn%2 == 0 {
				maskT += timed(maskLoop, n)
				sonicT += timed(sonicLoop, n)
			} else {
				sonicT += timed(sonicLoop, n)
				maskT += timed(maskLoop, n)
			}
		}
		b.ReportMetric(float64(maskT)/float64(sonicT), "ratio")
		b.ReportMetric(float64(maskT.Nanoseconds())/float64(b.N), "mask_ns/record")
		b.ReportMetric(float64(sonicT.Nanoseconds())/float64(b.N), "sonic_ns/record")
	})
}
