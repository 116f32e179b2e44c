// Package kafka is the Kafka side of maskstream: a consumer-group Source
// that splits its assignment into one lane per partition, a Sink that
// produces asynchronously with bounded in-flight records, and a
// transactional source/sink pair for exactly-once routes on one cluster.
// It is built on franz-go (kgo, kadm) and knows brokers, never masks.
//
// # Goroutines and acks (Source)
//
// Run owns one poll loop and one goroutine per partition that has
// records (franz-go's goroutine-per-partition pattern). The poll loop
// hands each partition's records to that partition's goroutine over a
// small channel; the goroutine calls Lane.Deliver, which blocks while the
// lane is full. A full lane therefore blocks the poll loop, and kgo stops
// fetching once its bounded buffer is full: a slow sink stops the source.
//
// The client runs with BlockRebalanceOnPoll, so a rebalance only happens
// between polls. On revoke the source cancels the partition's goroutine,
// calls Lane.Stop, and only when Stop has returned (after the lane's last
// Ack) commits the marked offsets and lets the partition go. Ack marks the
// last record of the acknowledged prefix (AutoCommitMarks); marks are
// committed every CommitInterval, on revoke and at the end of Run. A crash
// therefore loses nothing and at worst produces records twice.
//
// Clients refresh metadata every ClusterConfig.MetadataMaxAge (30s by
// default, against kgo's 5 minutes): that is how soon a topic_regex source
// reads a new matching topic, and any source new partitions. With start
// latest, such a topic or partition is read from its first record stamped
// after the source was built, not from where its end was when noticed.
// A listed topic that does not exist is named in a warning at start.
//
// # Sink
//
// The Sink produces with acks=all and idempotence, unlimited retries and
// no delivery timeout by default, so a transient broker error is retried
// inside kgo in order and done is only ever called with nil or a
// permanent error (see Sink.Write).
//
// A record for a topic that does not exist lets the cluster create it
// (the broker's auto.create.topics.enable decides, as for kcat and the
// Java producer). A cluster that does not create it holds the record
// back, retried, until the topic exists; the Sink logs a warning naming
// the topic every 30 seconds meanwhile. Topics known in advance
// (SinkConfig.Topics) are checked by Preflight, which fails naming each
// one that is missing.
//
// Before the first record to a topic the Sink reads the topic's
// max.message.bytes and caps that topic's batches at it, so a record too
// large for the topic fails alone in the client instead of taking its
// whole batch down at the broker. When the limit cannot be read, or was
// lowered while the Sink ran, the broker refuses whole batches; the Sink
// then produces each refused record again alone, through a second client,
// so only the culprit gets the permanent error (its neighbours are stored
// after records written later).
//
// Batches are compressed with snappy unless SinkConfig.Compression says
// otherwise, as franz-go does by default. Measured with franz-go's codecs
// on 256KB batches of 800-byte JSON order records (one core): snappy
// costs 0.6µs per record and shrinks batches 3.9 times; lz4 shrinks them
// as much for 2.5 times the CPU; zstd shrinks them 5.9 times for 4.4
// times the CPU, gzip likewise for 6.5 times. Snappy is a few percent of a
// masking route's CPU, and cuts what the brokers store, replicate and
// send to every consumer by nearly four times; producing uncompressed
// saved no CPU in maskstream's route benchmark (more bytes to copy and
// send). Pick zstd where broker disk or a cross-region link costs more
// than CPU.
//
// # Allocation
//
// The hot path allocates per batch, not per record, where the contracts
// allow: the Source builds one batch's connectors.Records in one slice,
// and the Sink recycles the kgo.Record it produces (with its headers) once
// done has been called, finding each record's done through the record's
// Context rather than a closure per record.
package kafka
