package nats

import (
	"slices"
	"strings"

	natsgo "github.com/nats-io/nats.go"

	"github.com/maskstream/maskstream/connectors"
)

// fromNATS flattens a header map into a list: keys in sorted order (a Go
// map has none), the values of one key in their order.
func fromNATS(h natsgo.Header) []connectors.Header {
	if len(h) == 0 {
		return nil
	}
	keys := make([]string, 0, len(h))
	n := 0
	for k, vs := range h {
		keys = append(keys, k)
		n += len(vs)
	}
	slices.Sort(keys)
	out := make([]connectors.Header, 0, n)
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, connectors.Header{Key: k, Value: []byte(v)})
		}
	}
	return out
}

// toNATS builds a header map; repeated keys keep all their values in
// order. Publish-time JetStream directives copied from a source message
// (Nats-Expected-*, Nats-Rollup) are dropped: they were meant for the
// source stream and would fail or purge the destination.
func toNATS(hs []connectors.Header) natsgo.Header {
	if len(hs) == 0 {
		return nil
	}
	h := make(natsgo.Header, len(hs))
	for _, x := range hs {
		if strings.HasPrefix(x.Key, "Nats-Expected-") || x.Key == "Nats-Rollup" {
			continue
		}
		h.Add(x.Key, string(x.Value))
	}
	return h
}
