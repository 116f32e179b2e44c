// Package processor runs routes: a source's records go through
// partition-aware lanes, are masked by the engine and are produced to a
// sink, with ordered acknowledgements, dead letters and a bounded memory
// footprint (DESIGN §3).
//
// # Goroutines
//
// A Route owns its Source, its Sink and its dead-letter Sink. Run starts
// the source (which owns its fetch goroutines), a small pool of mask
// workers shared by the route's lanes, and a status/lag poller; it waits
// for all of them before returning.
//
// For each lane the source opens (a Kafka partition, a JetStream
// consumer, a core NATS subscription) the route starts two goroutines:
//
//   - the writer takes chunks of records from the lane's bounded queue in
//     order, masks them (or waits for a worker that took the chunk), and
//     writes each record to the sink, or its dead letter to the
//     dead-letter sink. Sink.Write blocks when the sink is full, which
//     blocks the writer, which fills the queue, which blocks Deliver,
//     which stops the source fetching: memory stays flat.
//   - the acker collects sink acknowledgements, which arrive from any
//     goroutine in any order across destination partitions, and acks the
//     contiguous done prefix to the source in one call per batch. A
//     record whose sink write failed permanently is dead-lettered by the
//     acker before the prefix moves past it, so the source never commits
//     past a record that is not either produced or dead-lettered.
//
// Workers mask chunks ahead of the writer when a lane has a backlog, so
// one partition uses every core while its records are still written and
// acked in their original order. A chunk is claimed by exactly one of a
// worker or the writer (whoever comes first), so no chunk waits for a
// busy pool.
//
// # Acks and shutdown
//
// Each lane has a ring of in-flight slots (its in-flight limit). A slot is
// taken by the writer in record order, completed by the sink's callback,
// and freed by the acker once it and every slot before it are done.
// Source.Ack is therefore only ever called for a contiguous prefix, in
// order, and only after the sink acknowledged every record in it.
//
// Lane.Stop stops Deliver, lets the writer finish the queue and the acker
// ack what completes, and returns when everything is acked or when its
// context ends; then it cancels the lane's writes and gives the rest back
// with Source.Abandon. Nothing is acked after Abandon.
//
// Lock order: a lane's ring mutex is a leaf; it is never held while
// calling a sink, a source or the engine.
package processor
