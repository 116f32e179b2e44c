package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"
)

// mainChildEnv makes the re-executed test binary run main() itself: the
// maskstream command with its own signal handling and exit status.
const mainChildEnv = "MASKSTREAM_CMD_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainChildEnv) != "" {
		main() // exits with the command's status
	}
	os.Exit(m.Run())
}

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
	for _, want := range []string{`maskstream_records_out_total{route="orders"}`, `maskstream_records_out_total{route="customers"}`,
		`maskstream_ruleset_healthy{ruleset="orders"} 1`, `maskstream_ruleset_healthy{ruleset="customer-record"} 1`, `maskstream_run_secret_info{fingerprint="`} {
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

// startMain runs `maskstream args...` as a child process (the test binary
// running main), so signals sent to it never reach the test process.
func startMain(t *testing.T, args ...string) (*exec.Cmd, *lockedBuffer, *lockedBuffer) {
	t.Helper()
	return startMainStdin(t, nil, args...)
}

// startMainStdin is startMain with stdin as the child's standard input
// (nil: none).
func startMainStdin(t *testing.T, stdin io.Reader, args ...string) (*exec.Cmd, *lockedBuffer, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainChildEnv+"=1")
	cmd.Stdin = stdin
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, out, errOut
}

var (
	demoBrokerRE = regexp.MustCompile(`kcat -b (\S+) -t orders\.masked `)
	demoNATSRE   = regexp.MustCompile(`nats --server (\S+) sub `)
)

// TestDemoStopsOnSIGINT runs `maskstream demo` as its own process, reads
// masked records from both routes the way the demo prints, checks they
// are masked against the raw records, then stops it with SIGINT (Ctrl-C):
// exit status 0, and every record read was written.
func TestDemoStopsOnSIGINT(t *testing.T) {
	cmd, out, errOut := startMain(t, "demo", "-http", "", "-rate", "50")
	var broker, natsURL string
	waitFor(t, 60*time.Second, "the demo to print how to read the masked records", func() bool {
		o := out.String()
		b, n := demoBrokerRE.FindStringSubmatch(o), demoNATSRE.FindStringSubmatch(o)
		if b == nil || n == nil || !strings.Contains(o, "Ctrl-C stops the demo.") {
			return false
		}
		broker, natsURL = b[1], n[1]
		return true
	})
	const want = 20
	checkDemoOrdersMasked(t, broker, want)
	checkDemoCustomersMasked(t, natsURL, want)

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("demo after SIGINT: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("demo did not stop within 60s of SIGINT\nstderr:\n%s", errOut)
	}
	o := out.String()
	stopped := regexp.MustCompile(`maskstream demo stopped\. orders: (\d+) in, (\d+) out.* \| customers: (\d+) in, (\d+) out`).FindStringSubmatch(o)
	if stopped == nil {
		t.Fatalf("no \"demo stopped\" line with both routes' counts:\n%s", o)
	}
	for i, route := range []string{"orders", "customers"} {
		in, _ := strconv.Atoi(stopped[1+2*i])
		outN, _ := strconv.Atoi(stopped[2+2*i])
		if in < want || outN != in {
			t.Errorf("route %s: %d in, %d out: want at least %d in and all of them out after the drain", route, in, outN, want)
		}
	}
}

// demoOrder is what the check reads of an order record: the fields the
// orders ruleset masks, and the kept ones that pair a masked record with
// its raw one.
type demoOrder struct {
	key       string // the Kafka record key
	OrderID   string `json:"order_id"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	Channel   string `json:"channel"`
	Customer  struct {
		CustomerID string `json:"customer_id"`
		Email      string `json:"email"`
		Phone      string `json:"phone"`
	} `json:"customer"`
	Payment struct {
		CardNumber string          `json:"card_number"`
		Amount     json.RawMessage `json:"amount"`
	} `json:"payment"`
}

func (o demoOrder) kept() string {
	return strings.Join([]string{o.Status, o.CreatedAt, o.UpdatedAt, o.Channel, string(o.Payment.Amount)}, "|")
}

// checkDemoOrdersMasked reads want records of orders.masked and the raw
// orders topic, pairs each masked record with its raw one by the fields
// the ruleset keeps, and checks every identifying field was replaced. It
// never prints a value.
func checkDemoOrdersMasked(t *testing.T, broker string, want int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics("orders", "orders.masked"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	raw := map[string][]demoOrder{}
	var masked []demoOrder
	paired := func() bool {
		for _, m := range masked {
			if len(raw[m.kept()]) == 0 {
				return false
			}
		}
		return len(masked) >= want
	}
	for !paired() && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var o demoOrder
			if err := json.Unmarshal(r.Value, &o); err != nil {
				t.Errorf("a record of %s is not an order: %v", r.Topic, err)
				return
			}
			o.key = string(r.Key)
			if r.Topic == "orders" {
				raw[o.kept()] = append(raw[o.kept()], o)
			} else if len(masked) < want {
				// Stop at want, or newer masked records could keep
				// outrunning their raw ones.
				masked = append(masked, o)
			}
		})
	}
	if !paired() {
		t.Fatalf("read %d masked orders (want %d), not all with their raw order", len(masked), want)
	}
	var u unmasked
	for _, m := range masked {
		for _, r := range raw[m.kept()] {
			u.check("order_id", m.OrderID, r.OrderID)
			u.check("key", m.key, r.key)
			u.check("customer.customer_id", m.Customer.CustomerID, r.Customer.CustomerID)
			u.check("customer.email", m.Customer.Email, r.Customer.Email)
			u.check("customer.phone", m.Customer.Phone, r.Customer.Phone)
			u.check("payment.card_number", m.Payment.CardNumber, r.Payment.CardNumber)
		}
		u.checkEmail("customer.email", m.Customer.Email)
		// The key is the order id, masked by the same mask: the masked
		// key must still name the masked order, or joins on it break.
		if m.key != m.OrderID {
			u.add("key is not the masked order_id")
		}
	}
	u.report(t, "orders.masked", len(masked))
}

// unmasked counts, per field, the masked records whose value is empty or
// still the raw one. Only field names are reported, never a value.
type unmasked map[string]int

func (u *unmasked) check(field, masked, raw string) {
	if masked == "" || masked == raw {
		u.add(field + " is empty or the raw value")
	}
}

// checkEmail: both example rulesets make every email @example.com, a
// domain the generator never uses.
func (u *unmasked) checkEmail(field, masked string) {
	if !strings.HasSuffix(masked, "@example.com") {
		u.add(field + " is not the ruleset's @example.com")
	}
}

func (u *unmasked) add(problem string) {
	if *u == nil {
		*u = unmasked{}
	}
	(*u)[problem]++
}

func (u unmasked) report(t *testing.T, where string, n int) {
	t.Helper()
	for problem, c := range u {
		t.Errorf("%s: in %d of %d records read, %s", where, c, n, problem)
	}
}

// demoCustomer is what the check reads of a customer record.
type demoCustomer struct {
	CustomerID    string `json:"customer_id"`
	Email         string `json:"email"`
	Phone         string `json:"phone"`
	AccountStatus string `json:"account_status"`
	Address       struct {
		City     string `json:"city"`
		Postcode string `json:"postcode"`
		Country  string `json:"country"`
	} `json:"address"`
}

func (c demoCustomer) kept() string {
	return strings.Join([]string{c.AccountStatus, c.Address.City, c.Address.Postcode, c.Address.Country}, "|")
}

// checkDemoCustomersMasked is checkDemoOrdersMasked for the JetStream
// route: the MASKED stream against the raw CUSTOMERS stream.
func checkDemoCustomersMasked(t *testing.T, url string, want int) {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	read := func(stream string) func() []demoCustomer {
		c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatalf("reading stream %s: %v", stream, err)
		}
		return func() []demoCustomer {
			b, err := c.Fetch(100, jetstream.FetchMaxWait(200*time.Millisecond))
			if err != nil {
				return nil
			}
			var out []demoCustomer
			for m := range b.Messages() {
				var cu demoCustomer
				if err := json.Unmarshal(m.Data(), &cu); err != nil {
					t.Errorf("a message of %s is not a customer: %v", stream, err)
					continue
				}
				out = append(out, cu)
			}
			return out
		}
	}
	readRaw, readMasked := read("CUSTOMERS"), read("MASKED")
	raw := map[string][]demoCustomer{}
	var masked []demoCustomer
	paired := func() bool {
		for _, m := range masked {
			if len(raw[m.kept()]) == 0 {
				return false
			}
		}
		return len(masked) >= want
	}
	for !paired() && ctx.Err() == nil {
		for _, c := range readRaw() {
			raw[c.kept()] = append(raw[c.kept()], c)
		}
		// Masked records stop at want: newer ones could be masked
		// before their raw record is read, and the pairing never end.
		if len(masked) < want {
			masked = append(masked, readMasked()...)
			masked = masked[:min(len(masked), want)]
		}
	}
	if !paired() {
		t.Fatalf("read %d masked customers (want %d), not all with their raw record", len(masked), want)
	}
	var u unmasked
	for _, m := range masked {
		for _, r := range raw[m.kept()] {
			u.check("customer_id", m.CustomerID, r.CustomerID)
			u.check("email", m.Email, r.Email)
			u.check("phone", m.Phone, r.Phone)
		}
		u.checkEmail("email", m.Email)
	}
	u.report(t, "stream MASKED", len(masked))
}
