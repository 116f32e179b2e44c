package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/maskstream/maskstream/config"
	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/processor"
	"github.com/maskstream/maskstream/rulesets/examples"
	"github.com/maskstream/maskstream/testenv"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "see it work: in-process Kafka and NATS, a producer, two masking routes",
		order:   5,
		run:     runDemo,
	})
}

const demoUsage = `usage: maskstream demo [-http 127.0.0.1:8080] [-rate 20] [-duration 0]

Starts everything in this process, with nothing to install: a Kafka broker
(franz-go's kfake) and a NATS server with JetStream, a producer writing
realistic order and customer records, and two routes masking them:

  Kafka     orders          → orders.masked      (rulesets/examples/orders.yaml)
  JetStream customers.nz    → masked.customers.nz (rulesets/examples/customer-record.yaml)

It prints how to read the masked topics with kcat and the nats CLI, serves
/metrics, the status page and the mask endpoint on -http (no token needed:
loopback only), shows progress, and stops cleanly on Ctrl-C.

The run secret is MASKSTREAM_RUN_SECRET when set, else a demo secret made
up for this run (so the masked values differ from run to run).

Flags:
`

type demoFlags struct {
	http     string
	rate     int
	duration time.Duration
	logLevel string
}

func runDemo(ctx context.Context, env *cliEnv, args []string) int {
	var f demoFlags
	fs := newCmdFlags(env, "demo", demoUsage, false)
	fs.StringVar(&f.http, "http", "127.0.0.1:8080", "HTTP server `address` (loopback; empty: no HTTP server)")
	fs.IntVar(&f.rate, "rate", 20, "records per second the producer writes to each source")
	fs.DurationVar(&f.duration, "duration", 0, "stop by itself after this long (0: run until Ctrl-C)")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log `level`: debug, info, warn or error")
	if code, ok := fs.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 || f.rate < 1 || f.rate > 100000 {
		fmt.Fprintln(env.stderr, "maskstream demo: takes no arguments; -rate is 1 to 100000")
		return 2
	}
	log, err := newLogger(env.stderr, "text", f.logLevel)
	if err != nil {
		fmt.Fprintln(env.stderr, "maskstream demo:", err)
		return 2
	}
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	if err := demo(ctx, env, f, log); err != nil {
		fmt.Fprintln(env.stderr, "maskstream demo:", err)
		return 1
	}
	return 0
}

func demo(ctx context.Context, env *cliEnv, f demoFlags, log *slog.Logger) error {
	sec, secNote, err := demoRunSecret(env)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "maskstream-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(env.stdout, "maskstream demo: starting Kafka (kfake) and NATS (JetStream) in this process...")
	k, err := testenv.NewKafka()
	if err != nil {
		return err
	}
	defer k.Close()
	n, err := testenv.NewNATS(filepath.Join(dir, "nats"))
	if err != nil {
		return err
	}
	defer n.Shutdown()
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := k.CreateTopics(setupCtx, 3, "orders", "orders.masked", "maskstream.dlq.orders"); err != nil {
		return err
	}
	for _, s := range [][2]string{{"CUSTOMERS", "customers.>"}, {"MASKED", "masked.>"}, {"DEAD_LETTERS", "maskstream.dlq.>"}} {
		if err := n.CreateStream(setupCtx, s[0], s[1]); err != nil {
			return err
		}
	}
	rulesetsDir := filepath.Join(dir, "rulesets")
	if err := writeExamples(rulesetsDir); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "maskstream.yaml")
	if err := os.WriteFile(cfgPath, []byte(demoConfig(k.Brokers()[0], n.URL(), rulesetsDir, f.http)), 0o600); err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("the demo's own config does not load (a bug): %w", err)
	}

	fmt.Fprintf(env.stdout, "\n%s\n", secNote)
	printDemoHelp(env.stdout, k.Brokers()[0], n.URL(), f.http, cfgPath)

	var (
		wg       sync.WaitGroup
		prodErr  = make(chan error, 2)
		progress *demoProgress
	)
	prodCtx, stopProducers := context.WithCancel(ctx)
	defer wg.Wait()
	defer stopProducers()
	wg.Go(func() { prodErr <- produceOrders(prodCtx, k.Brokers(), f.rate) })
	wg.Go(func() { prodErr <- publishCustomers(prodCtx, n.URL(), f.rate) })
	err = runDaemon(ctx, env, daemon{cfg: cfg, secret: sec, log: log, mode: "demo", started: func(p *processor.Processor) {
		progress = startProgress(prodCtx, &wg, env, p)
	}})
	stopProducers()
	wg.Wait()
	for range 2 {
		if perr := <-prodErr; perr != nil && prodCtx.Err() == nil && err == nil {
			err = perr
		}
	}
	if progress != nil {
		progress.final()
	}
	return err
}

// demoRunSecret is MASKSTREAM_RUN_SECRET, else a fresh demo secret.
func demoRunSecret(env *cliEnv) (*engine.Secret, string, error) {
	if env.getenv(runSecretEnv) != "" {
		sec, _, err := readRunSecret(env, "")
		return sec, "Run secret: from " + runSecretEnv + ".", err
	}
	sec, err := demoSecret()
	return sec, "Run secret: a demo secret made up for this run (set " + runSecretEnv + " to choose one; the same secret gives the same masked values).", err
}

// writeExamples copies the embedded example rulesets into dir.
func writeExamples(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return fs.WalkDir(examples.FS(), ".", func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := fs.ReadFile(examples.FS(), p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o600)
	})
}

// demoConfig is the daemon config the demo runs: the same file format as
// `maskstream run`, printed so users can start from it.
func demoConfig(broker, natsURL, rulesetsDir, httpAddr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# The config maskstream demo runs with (maskstream run -c takes the same).
rulesets_dir: %q
drain_timeout: 10s
kafka:
  demo: { brokers: [%q] }
nats:
  demo: { url: %q }
routes:
  - name: orders
    from: { kafka: demo, topics: [orders], group: maskstream-demo }
    to:   { kafka: demo, topic: "{topic}.masked", keep_partition: true }
    ruleset: orders
  - name: customers
    from: { nats: demo, stream: CUSTOMERS, durable: maskstream-demo, subject: "customers.>" }
    to:   { nats: demo, subject: "masked.{subject}", jetstream: true }
    ruleset: customer-record
`, rulesetsDir, broker, natsURL)
	if httpAddr != "" {
		fmt.Fprintf(&b, "http:\n  listen: %q\n  insecure_no_auth: true   # loopback only; give tokens in production\n", httpAddr)
	}
	return b.String()
}

func printDemoHelp(w io.Writer, broker, natsURL, httpAddr, cfgPath string) {
	fmt.Fprintf(w, `
Two routes are masking records as they are produced:
  orders     Kafka %s  orders → orders.masked            (ruleset orders)
  customers  NATS  %s  customers.nz → masked.customers.nz (ruleset customer-record)

Read the masked records (and the originals, to compare):
  kcat -b %s -t orders.masked -C -o beginning
  kcat -b %s -t orders -C -o beginning
  nats --server %s sub 'masked.>'
  nats --server %s stream view MASKED
Dead letters go to maskstream.dlq.orders (Kafka) and maskstream.dlq.customers (NATS).
The config this demo runs with: %s
`, broker, natsURL, broker, broker, natsURL, natsURL, cfgPath)
	if httpAddr != "" {
		fmt.Fprintf(w, `
HTTP server on http://%[1]s (no token: loopback demo only):
  status page  http://%[1]s/
  metrics      curl -s http://%[1]s/metrics | grep '^maskstream_'
  mask a record:
    curl -s -X POST http://%[1]s/v1/mask/customer-record -d '{"data":[{"customer_id":"C1234567","first_name":"Ana","email":"ana@mail.test"}]}'
`, httpAddr)
	}
	fmt.Fprintln(w, "\nCtrl-C stops the demo.")
}

// produceOrders writes testenv order records to the orders topic at rate
// records per second until ctx ends.
func produceOrders(ctx context.Context, brokers []string, rate int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		return fmt.Errorf("demo producer: %w", err)
	}
	defer cl.Close()
	gen := testenv.NewGen(uint64(time.Now().UnixNano()))
	return paced(ctx, rate, func() error {
		v := gen.Order()
		// The order id is the key, so an order's events stay in order.
		key := v[len(`{"order_id":"`) : len(`{"order_id":"`)+12]
		cl.Produce(ctx, &kgo.Record{Key: key, Value: v}, nil)
		return nil
	})
}

// publishCustomers publishes testenv customer records to JetStream.
func publishCustomers(ctx context.Context, url string, rate int) error {
	nc, err := natsgo.Connect(url, natsgo.Name("maskstream-demo-producer"))
	if err != nil {
		return fmt.Errorf("demo publisher: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	gen := testenv.NewGen(uint64(time.Now().UnixNano()) + 1)
	return paced(ctx, rate, func() error {
		_, err := js.PublishAsync("customers.nz", gen.Customer())
		if err != nil && ctx.Err() == nil {
			// A full async window: wait for acks rather than pile up.
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
			}
		}
		return nil
	})
}

// paced calls fn rate times a second, in small bursts, until ctx ends.
func paced(ctx context.Context, rate int, fn func() error) error {
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	perTick := float64(rate) * tick.Seconds()
	owed := 0.0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			owed += perTick
			for ; owed >= 1; owed-- {
				if err := fn(); err != nil {
					return err
				}
			}
		}
	}
}

// demoProgress shows the routes' counts while the demo runs.
type demoProgress struct {
	env *cliEnv
	p   *processor.Processor
	mu  sync.Mutex
	// drawn is set while a progress line is on the terminal.
	drawn bool
}

// startProgress redraws one status line every second on a terminal, or
// prints a line every 10 seconds otherwise, until ctx ends.
func startProgress(ctx context.Context, wg *sync.WaitGroup, env *cliEnv, p *processor.Processor) *demoProgress {
	dp := &demoProgress{env: env, p: p}
	every := 10 * time.Second
	if env.stderrIsTerminal {
		every = time.Second
	}
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				dp.show()
			}
		}
	})
	return dp
}

func (dp *demoProgress) line() string {
	var parts []string
	for _, st := range dp.p.Status() {
		s := fmt.Sprintf("%s: %d in, %d out (%.0f/s)", st.Name, st.RecordsIn, st.RecordsOut, st.OutRate)
		if st.DeadLetters > 0 {
			s += fmt.Sprintf(", %d dead letters", st.DeadLetters)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

func (dp *demoProgress) show() {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if dp.env.stderrIsTerminal {
		fmt.Fprintf(dp.env.stderr, "\r\033[K%s", dp.line())
		dp.drawn = true
		return
	}
	fmt.Fprintln(dp.env.stderr, dp.line())
}

// final ends the progress line and prints the totals.
func (dp *demoProgress) final() {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	if dp.drawn {
		fmt.Fprint(dp.env.stderr, "\r\033[K")
	}
	fmt.Fprintf(dp.env.stdout, "maskstream demo stopped. %s\n", dp.line())
}
