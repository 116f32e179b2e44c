package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/httpapi"
	"github.com/maskstream/maskstream/rulesets"
	"github.com/maskstream/maskstream/rulesets/examples"
)

// BenchmarkHTTP is the HTTP endpoint's load test (make bench-http): the
// customer record of rulesets/examples/customer-record.yaml, one record
// per request, over loopback keep-alive connections, first at a fixed
// 1,000 requests/s, then as fast as it goes with 32 connections; each
// beside GET /healthz in the same process as the floor (routing, auth-free
// middleware, HTTP parsing and the load generator's own cost).
//
// Each sub-benchmark runs for MASKSTREAM_BENCH_SECONDS (default 5) whatever
// b.N is: run it with -benchtime 1x. It reports p50/p99/p99.9 latency in
// ms counted from the scheduled send time (no coordinated omission),
// requests/s, and the mask run's p99 and rate as ratios of the floor; at the
// fixed rate also p99 from the actual send, which leaves out the
// generator's own lateness on a busy machine.
func BenchmarkHTTP(b *testing.B) {
	dur := 5 * time.Second
	if v := os.Getenv("MASKSTREAM_BENCH_SECONDS"); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil {
			b.Fatalf("MASKSTREAM_BENCH_SECONDS=%q: %v", v, err)
		}
		dur = time.Duration(s * float64(time.Second))
	}
	addr := startBenchServer(b)
	records := benchRecords(1000)
	maskReqs := make([][]byte, len(records))
	for i, rec := range records {
		maskReqs[i] = rawRequest("POST", "/v1/mask/customer-record", addr, maskToken, []byte(`{"data":[`+string(rec)+`]}`))
	}
	healthReqs := [][]byte{rawRequest("GET", "/healthz", addr, "", nil)}

	var floor loadResult
	for _, mode := range []struct {
		name  string
		rate  int // requests/s; 0 = flat out
		conns int
	}{
		{"fixed-1000rps", 1000, 32},
		{"flat-32conns", 0, 32},
	} {
		for _, target := range []struct {
			name string
			reqs [][]byte
		}{
			{"healthz", healthReqs},
			{"mask", maskReqs},
		} {
			b.Run(mode.name+"/"+target.name, func(b *testing.B) {
				res, err := runLoad(addr, target.reqs, mode.rate, mode.conns, dur)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(res.pct(50), "p50-ms")
				b.ReportMetric(res.pct(99), "p99-ms")
				b.ReportMetric(res.pct(99.9), "p99.9-ms")
				b.ReportMetric(res.rate(), "req/s")
				if mode.rate > 0 {
					b.ReportMetric(res.svcPct(99), "p99-service-ms")
				}
				if target.name == "healthz" {
					floor = res
				} else if floor.n() > 0 {
					b.ReportMetric(res.pct(99)/floor.pct(99), "p99-x-healthz")
					b.ReportMetric(res.rate()/floor.rate(), "rate-x-healthz")
				}
				fmt.Fprintf(os.Stderr, "%-22s %8d requests  p50 %7.3f ms  p99 %7.3f ms  p99.9 %7.3f ms  %9.0f req/s  (from the actual send: p50 %.3f p99 %.3f p99.9 %.3f ms)\n",
					mode.name+"/"+target.name, res.n(), res.pct(50), res.pct(99), res.pct(99.9), res.rate(),
					res.svcPct(50), res.svcPct(99), res.svcPct(99.9))
			})
		}
	}
}

// startBenchServer serves the customer-record example on loopback.
func startBenchServer(b *testing.B) string {
	b.Helper()
	src, err := examples.Source("customer-record")
	if err != nil {
		b.Fatal(err)
	}
	store := rulesets.NewStore(rulesets.StoreConfig{}, compileFunc)
	if err := store.Load(); err != nil {
		b.Fatal(err)
	}
	if _, err := store.Put("customer-record", src); err != nil {
		b.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Config{
		Tokens: []httpapi.Token{{Name: "bench", Value: maskToken, Scopes: []string{"mask"},
			RateLimit: &httpapi.RateLimit{PerTokenRPS: 1e9, Burst: 1e9}}},
	}, httpapi.Deps{Store: store, Secret: engine.MustSecret(testSecret)})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	return ln.Addr().String()
}

// benchRecords returns n customer records of testenv's shape (about 350
// bytes each), distinct ids so hash sources vary.
func benchRecords(n int) [][]byte {
	firsts := []string{"Aroha", "Liam", "Mia", "Noah", "Olivia", "Wiremu", "Charlotte", "Jack"}
	lasts := []string{"Smith", "Ngata", "Williams", "Brown", "Wilson", "Taylor", "Tipene", "Jones"}
	streets := []string{"Queen Street", "Cuba Street", "Ponsonby Road", "Colombo Street"}
	out := make([][]byte, n)
	for i := range out {
		f, l := firsts[i%len(firsts)], lasts[(i/3)%len(lasts)]
		out[i] = fmt.Appendf(nil, `{"customer_id":"C%07d","first_name":%q,"last_name":%q,"email":"%s.%s%d@mail.example","date_of_birth":"19%02d-%02d-%02d","account_balance":%d.%02d,"account_status":"active","phone":"+64 21 %03d %04d","address":{"street":"%d %s","city":"Wellington","postcode":"%04d","country":"NZ"}}`,
			1000000+i*7919%9000000, f, l, f, l, i%100, 40+i%60, 1+i%12, 1+i%28, i*37%25000, i%100, i%1000, i*13%10000, 1+i%300, streets[i%len(streets)], i%10000)
	}
	return out
}

// rawRequest is one HTTP/1.1 keep-alive request, ready to write.
func rawRequest(method, path, host, token string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// loadResult holds every request's latency: lat from the scheduled send
// time (queueing included, so a stalled server or generator shows), svc
// from the actual send (the server's answer time alone). Flat out they
// are the same.
type loadResult struct {
	lat     []time.Duration
	svc     []time.Duration
	elapsed time.Duration
}

func (r loadResult) n() int { return len(r.lat) }

func (r loadResult) rate() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

// pct is the p-th percentile latency from the scheduled time, in ms.
func (r loadResult) pct(p float64) float64 { return percentile(r.lat, p) }

// svcPct is the p-th percentile latency from the actual send, in ms.
func (r loadResult) svcPct(p float64) float64 { return percentile(r.svc, p) }

// percentile of sorted durations, in milliseconds.
func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p / 100)
	return float64(d[i]) / float64(time.Millisecond)
}

// runLoad sends reqs round-robin over conns keep-alive connections for
// dur. With rate > 0 requests are scheduled every 1/rate seconds and
// latency counts from the scheduled time (no coordinated omission: a
// stalled server shows up as queueing); with rate 0 each connection sends
// its next request as soon as the last one is answered.
func runLoad(addr string, reqs [][]byte, rate, conns int, dur time.Duration) (loadResult, error) {
	var (
		mu     sync.Mutex
		all    []time.Duration
		allSvc []time.Duration
		ferr   error
		wg     sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(dur)
	var sched chan time.Time
	if rate > 0 {
		sched = make(chan time.Time, rate)
	}
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, svc, err := runConn(addr, reqs, c, sched, end)
			mu.Lock()
			all = append(all, lat...)
			allSvc = append(allSvc, svc...)
			if err != nil && ferr == nil {
				ferr = err
			}
			mu.Unlock()
		}()
	}
	if rate > 0 {
		interval := time.Second / time.Duration(rate)
		for i := 0; ; i++ {
			at := start.Add(time.Duration(i) * interval)
			if at.After(end) {
				break
			}
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			sched <- at
		}
		close(sched)
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(all)
	slices.Sort(allSvc)
	return loadResult{lat: all, svc: allSvc, elapsed: elapsed}, ferr
}

// runConn drives one connection: from sched when given, else flat out
// until end. It returns the latencies from the scheduled and from the
// actual send.
func runConn(addr string, reqs [][]byte, offset int, sched <-chan time.Time, end time.Time) (lat, svc []time.Duration, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	lat = make([]time.Duration, 0, 1<<14)
	svc = make([]time.Duration, 0, 1<<14)
	for i := offset; ; i++ {
		var at time.Time
		if sched != nil {
			t, ok := <-sched
			if !ok {
				return lat, svc, nil
			}
			at = t
		}
		sent := time.Now()
		if sched == nil {
			if sent.After(end) {
				return lat, svc, nil
			}
			at = sent
		}
		if _, err := conn.Write(reqs[i%len(reqs)]); err != nil {
			return lat, svc, err
		}
		if err := readResponse(br); err != nil {
			return lat, svc, err
		}
		done := time.Now()
		lat = append(lat, done.Sub(at))
		svc = append(svc, done.Sub(sent))
	}
}

// readResponse reads one HTTP/1.1 response with a Content-Length and
// checks it is a 200.
func readResponse(br *bufio.Reader) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("bench: response %q", bytes.TrimSpace(line))
	}
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			if n, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return err
			}
		}
	}
	if n < 0 {
		return errors.New("bench: response without Content-Length")
	}
	_, err = br.Discard(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
