package kafka

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// txnGuard is what a TxnSource and its Sink share about the transaction.
//
// It keeps Sink.Write out of the window where the transaction is being
// begun or ended (kgo forbids Produce concurrent with Begin/End) and
// refuses writes while no transaction is open.
//
// It also holds the records the broker refused together with their batch
// (see batchRefusals): their verdict is not their own, so rather than
// dead-letter them the TxnSource aborts the transaction and produces the
// batch again with serial set, one record at a time, where each verdict
// is the record's own.
type txnGuard struct {
	mu   sync.RWMutex
	open bool

	timeout time.Duration // the transaction timeout
	began   atomic.Int64  // unix nanos of the latest Begin
	serial  atomic.Bool   // the sink produces one record at a time
	// describe says what the open transaction waits for (TxnSource.waiting):
	// set before the sink's first record, read by any goroutine.
	describe func() string
	wake     func() // tells the TxnSource a record was held

	heldMu sync.Mutex
	held   []func(error) // finish of each held record
}

// enter returns true with the read lock held when a transaction is open;
// leave releases it.
func (g *txnGuard) enter() bool {
	g.mu.RLock()
	if !g.open {
		g.mu.RUnlock()
		return false
	}
	return true
}

func (g *txnGuard) leave() { g.mu.RUnlock() }

func (g *txnGuard) begin(sess *kgo.GroupTransactSession) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := sess.Begin(); err != nil {
		return err
	}
	g.open = true
	g.began.Store(time.Now().UnixNano())
	return nil
}

func (g *txnGuard) end(ctx context.Context, sess *kgo.GroupTransactSession, commit kgo.TransactionEndTry) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = false
	return sess.End(ctx, commit)
}

// openFor is how long ago the latest transaction began.
func (g *txnGuard) openFor() time.Duration {
	return time.Since(time.Unix(0, g.began.Load()))
}

// hold keeps the finish of a record refused with its batch until release.
// It never blocks: it runs in kgo's promise goroutine.
func (g *txnGuard) hold(finish func(error)) {
	g.heldMu.Lock()
	g.held = append(g.held, finish)
	g.heldMu.Unlock()
	if g.wake != nil {
		g.wake()
	}
}

// refused is the number of held records.
func (g *txnGuard) refused() int {
	g.heldMu.Lock()
	defer g.heldMu.Unlock()
	return len(g.held)
}

// release fails the held records with errTxnAborted. Call it once their
// lanes are stopped: the error is not permanent, so a lane still running
// would stop the route rather than dead-letter a good record.
func (g *txnGuard) release() {
	g.heldMu.Lock()
	held := g.held
	g.held = nil
	g.heldMu.Unlock()
	for _, finish := range held {
		finish(errTxnAborted)
	}
}

// fenceHint explains err when it says the producer was fenced: a
// transaction open past the transaction timeout was aborted by the
// broker, which bumps the producer epoch exactly as another instance with
// the same transactional id would, so the age of the transaction tells
// the two apart. It returns nil for other errors.
func (g *txnGuard) fenceHint(err error) error {
	if !isFenced(err) {
		return nil
	}
	if g.began.Load() != 0 {
		if open := g.openFor(); open >= g.timeout {
			waiting := "unknown"
			if g.describe != nil {
				waiting = g.describe()
			}
			return txnTimedOut(open, g.timeout, waiting, err)
		}
	}
	return fencedHint(err)
}
