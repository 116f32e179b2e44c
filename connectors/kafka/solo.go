package kafka

import (
	"context"
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// batchRefusals are broker answers about one record that Kafka gives to
// the whole batch holding it, and that kgo then gives to every record
// buffered for that partition. Only a record produced alone tells whether
// it is the culprit or a neighbour.
var batchRefusals = []error{
	kerr.MessageTooLarge,
	kerr.RecordListTooLarge,
	kerr.InvalidRecord,
	kerr.InvalidTimestamp,
	kerr.CorruptMessage,
}

func isBatchRefusal(err error) bool {
	for _, e := range batchRefusals {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// refusedAlone reports whether err, a batch refusal, is kgo's own verdict
// on r alone: a record too large for any batch under the topic's cap
// (batchCap, the largest kgo was given) fails before it is batched, with
// the same kerr.MessageTooLarge the broker gives a whole batch. Only the
// record's size tells them apart; a record near the cap counts as batched,
// which costs a needless retry alone, never a neighbour's dead letter.
func refusedAlone(r *kgo.Record, err error, batchCap int32) bool {
	if !errors.Is(err, kerr.MessageTooLarge) {
		return false
	}
	size := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		size += len(h.Key) + len(h.Value)
	}
	return size > int(batchCap)
}

// errSoloClosed is what a record waiting for its solo retry gets when the
// sink closes first. It is not permanent: the route stops without acking.
var errSoloClosed = errors.New("kafka: sink closed before a record refused with its batch could be produced alone")

// soloRetrier produces, one at a time, records the broker refused together
// with a neighbour (see batchRefusals), so each lands in a batch of its
// own: the culprit fails alone and its neighbours are stored. It has its
// own client, built on first use, because kgo batches every record of a
// partition together and a record cannot be forced into a batch of one.
//
// A retried record is stored (and its done called) after records written
// to the same partition after it that went through meanwhile: order per
// partition holds except around a refused batch.
type soloRetrier struct {
	newClient func() (*kgo.Client, error)

	mu      sync.Mutex
	queue   []soloItem
	running bool
	stopped bool
	cl      *kgo.Client
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type soloItem struct {
	rec    *kgo.Record
	cause  error       // the batch refusal, for when no client can be built
	finish func(error) // called once with the solo outcome (unclassified)
}

func newSoloRetrier(newClient func() (*kgo.Client, error)) *soloRetrier {
	ctx, cancel := context.WithCancel(context.Background())
	return &soloRetrier{newClient: newClient, ctx: ctx, cancel: cancel}
}

// push queues r (a record kgo just failed with cause) for a solo retry. It
// never blocks: it runs in kgo's promise goroutine.
func (s *soloRetrier) push(r *kgo.Record, cause error, finish func(error)) {
	rec := &kgo.Record{
		Topic: r.Topic,
		// The partition kgo chose: the solo record goes where it would
		// have gone, so keys keep their partition.
		Partition: r.Partition,
		Key:       r.Key,
		Value:     r.Value,
		Headers:   r.Headers,
		Timestamp: r.Timestamp,
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		finish(errSoloClosed)
		return
	}
	s.queue = append(s.queue, soloItem{rec: rec, cause: cause, finish: finish})
	if !s.running {
		s.running = true
		s.wg.Go(s.run)
	}
	s.mu.Unlock()
}

// run produces the queue in order, one record in flight at a time, and
// returns when the queue is empty.
func (s *soloRetrier) run() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		it := s.queue[0]
		s.queue[0] = soloItem{}
		s.queue = s.queue[1:]
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			it.finish(errSoloClosed)
			continue
		}
		cl, err := s.client()
		switch {
		case errors.Is(err, errSoloClosed):
			it.finish(err)
			continue
		case err != nil:
			// No second client: the batch's verdict stands for this record.
			it.finish(it.cause)
			continue
		}
		it.finish(cl.ProduceSync(s.ctx, it.rec).FirstErr())
	}
}

func (s *soloRetrier) client() (*kgo.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, errSoloClosed
	}
	if s.cl != nil {
		return s.cl, nil
	}
	cl, err := s.newClient()
	if err != nil {
		return nil, err
	}
	s.cl = cl
	return cl, nil
}

// stop fails what is queued with errSoloClosed and the record in flight
// with kgo.ErrClientClosed, and waits for the goroutine.
func (s *soloRetrier) stop() {
	s.mu.Lock()
	s.stopped = true
	cl := s.cl
	s.mu.Unlock()
	s.cancel()
	if cl != nil {
		cl.Close() // fails a record in flight at once; ctx alone may not
	}
	s.wg.Wait()
}
