// Package testenv runs the brokers maskstream's tests, benchmarks and demo
// need without Docker: Kafka as franz-go's kfake (in this process, or in
// its own for benchmarks), NATS as an embedded nats-server with JetStream
// (or Debian's nats-server binary for interop), realistic record
// generators, and the conformance suite every connector passes.
package testenv
