package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the demo for a few seconds with its HTTP server: records
// flow through both routes, /metrics counts them, and it stops by itself
// with exit status 0.
func TestDemo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env, out, errOut := testCLIEnv(nil)
	code := make(chan int, 1)
	go func() {
		code <- runMain(context.Background(), env, []string{"demo", "-duration", "5s", "-rate", "50", "-http", addr})
	}()
	var metrics string
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(metrics, `maskstream_records_out_total{route="customers"}`) {
		time.Sleep(500 * time.Millisecond)
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			metrics = string(b)
		}
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", c, out, errOut)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("demo did not stop after -duration")
	}
	for _, want := range []string{`maskstream_records_out_total{route="orders"}`, `maskstream_records_out_total{route="customers"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	o := out.String()
	for _, want := range []string{"demo secret made up for this run", "kcat -b ", "-t orders.masked -C", "nats --server nats://", "http://" + addr + "/metrics", "maskstream demo stopped."} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	m := regexp.MustCompile(`(orders|customers): (\d+) in, (\d+) out`).FindAllStringSubmatch(o, -1)
	if len(m) != 2 {
		t.Fatalf("no final counts in the output:\n%s", o)
	}
	for _, r := range m {
		in, _ := strconv.Atoi(r[2])
		outN, _ := strconv.Atoi(r[3])
		if in == 0 || outN != in {
			t.Errorf("route %s: %d in, %d out: want records through and all of them out after the drain", r[1], in, outN)
		}
	}
}
