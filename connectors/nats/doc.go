// Package nats is the NATS side of maskstream: a JetStream durable pull
// consumer and a core NATS subscription as sources, and JetStream and core
// NATS publishers as sinks. It is built on nats.go and its jetstream
// package and uses nothing newer than nats-server 2.9 on the wire.
//
// # Delivery guarantees
//
//   - JetStreamSource: at least once. A message is acked only when the
//     processor acks it, which it does after the sink confirmed the masked
//     record. Unacked messages come back after AckWait (Record.Attempt
//     counts deliveries). Order is stream order, except that a redelivered
//     message arrives after the messages delivered since.
//   - CoreSource: at most once. Core NATS keeps nothing: a message
//     published while maskstream is down, or dropped because the local
//     buffer was full (a slow consumer), is gone.
//   - JetStreamSink: at least once into the stream, deduplicated by the
//     Nats-Msg-Id header within the stream's duplicate window, so a retried
//     publish is stored once. Order per subject is write order, across
//     disconnects and server restarts too: after a failure the sink holds
//     new records, lets what is in flight resolve and publishes the
//     unacknowledged records again in order before going on. The exception
//     is a publish lost while a later one on the same connection was stored
//     (see JetStreamSink).
//   - CoreSink: done means the server received the message (a flush round
//     trip). A publish whose flush fails is sent again, so a subscriber may
//     see a message twice after a reconnect.
//
// NATS messages have no key and no settable timestamp: a Record's Key is
// nil when read and ignored when written; its Timestamp is the stream's
// store time when read from JetStream, the receive time from core NATS,
// and not carried when written. NATS has no tombstones: an empty payload
// is an empty (non-nil) Value.
package nats
