// Package nats is the NATS side of maskstream: a JetStream durable pull
// consumer and a core NATS subscription as sources, and JetStream and core
// NATS publishers as sinks. It is built on nats.go and its jetstream
// package and uses nothing newer than nats-server 2.9 on the wire.
//
// # Delivery guarantees
//
//   - JetStreamSource: at least once. A message is acked only when the
//     processor acks it, which it does after the sink confirmed the masked
//     record. While the processor holds a message the source keeps it
//     alive (InProgress), so only an instance that died or lost its server
//     sees messages come back after AckWait (Record.Attempt counts
//     deliveries). Order is stream order, across graceful restarts too
//     (a stop lets the pull in progress finish into the lane), except that
//     a redelivered message arrives after the messages delivered since.
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
// # Keys and headers
//
// NATS messages have no key. Both sinks write a non-nil Record.Key as the
// header Maskstream-Key (HeaderKey) when it is safe as a header value,
// else as Maskstream-Key-Base64 (HeaderKeyBase64); a nil key writes none.
// Both sources read either back into Record.Key, whatever the case of the
// name, and leave it out of Record.Headers; Maskstream-Key-Base64 may be
// standard or URL-safe, padded or not. Every key header is read and none
// stays a header, since one left there would carry an original key past
// the ruleset's key rule: when they give different keys or one does not
// decode, the record is marked Record.Malformed, has no key and keeps its
// key headers as headers, for the processor to dead-letter.
//
// A header a NATS header line cannot hold (a name with ':' or a space, a
// value with CR, LF or bytes that are not UTF-8) travels in base64 under
// Maskstream-Header-Base64 (HeaderBase64) and comes back byte for byte,
// as a header even when its name is a key header's. So Kafka->NATS->Kafka
// and NATS->NATS keep keys and headers whole, except Nats-* headers other
// than Nats-Msg-Id: server directives (Nats-TTL, Nats-Rollup...) or the
// source stream's metadata, never copied to a destination stream. HeaderKey says which values
// are safe and why unsafe headers are encoded rather than refused.
//
// NATS has no settable timestamp: a Record's Timestamp is the stream's
// store time when read from JetStream, the receive time from core NATS,
// and not carried when written. NATS has no tombstones: an empty payload
// is an empty (non-nil) Value, and a Kafka tombstone is written as an
// empty message that keeps its key.
package nats
