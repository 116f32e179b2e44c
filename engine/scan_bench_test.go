package engine

import (
	"path/filepath"
	"runtime"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/testenv"
)

// BenchmarkValidate is the validating lexer alone over the reference
// records: the floor under every masking scan.
func BenchmarkValidate(b *testing.B) {
	recs := testenv.Orders(1, benchRecords)
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	for i := range b.N {
		if err := validJSON(recs[i%len(recs)], 128); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanCPU runs the engine benchmark's two loops (the orders
// ruleset as written, and with do_nothing masks) and reports CPU time per
// record besides wall time: on a shared machine the CPU time of a single
// goroutine with no garbage is the steadier figure to compare changes by.
func BenchmarkScanCPU(b *testing.B) {
	m, recs := benchMasker(b)
	bare := bareMasker(b)
	sec := MustSecret("bench-secret-0123456789abcdef")
	for _, bc := range []struct {
		name string
		m    *Masker
	}{{"mask", m}, {"engine_only", bare}} {
		b.Run(bc.name, func(b *testing.B) {
			var out []byte
			// Warm the pools and buffers, and collect the setup's
			// garbage now rather than in a cycle inside the loop.
			for i := range 64 {
				out, _ = bc.m.MaskValue(out[:0], sec, recs[i], nil)
			}
			runtime.GC()
			b.ResetTimer()
			t0 := cpuTime()
			for i := range b.N {
				var err error
				out, err = bc.m.MaskValue(out[:0], sec, recs[i%len(recs)], nil)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-t0).Nanoseconds())/float64(b.N), "cpu_ns/op")
		})
	}
}

// bareMasker is the orders ruleset with every mask replaced by do_nothing.
func bareMasker(b *testing.B) *Masker {
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
	return bare
}
