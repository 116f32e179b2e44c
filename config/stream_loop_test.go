package config

import (
	"strings"
	"testing"
)

// TestStreamLoop: a JetStream route without a subject filter is refused
// when its stream stores a subject its to or dead_letter writes on the
// same server, and accepted otherwise.
func TestStreamLoop(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		dlq      string
		subjects []string
		want     string // part of the error, or "" for none
	}{
		{"to inside the stream", `{ nats: main, stream: EV }`, `{ nats: main, jetstream: true, subject: "events.masked.{subject}" }`, "", []string{"events.>"}, `its to writes "events.masked.events.x"`},
		{"default dead letter inside", `{ nats: main, stream: EV }`, `{ nats: main, jetstream: true }`, "", []string{">"}, "its to writes"},
		{"dead letter inside", `{ nats: main, stream: EV }`, `{ nats: main, jetstream: true }`, `{ nats: main, jetstream: true, subject: "events.dlq" }`, []string{"events.>"}, "its dead_letter writes"},
		{"to another server's alias", `{ nats: main, stream: EV }`, `{ nats: again, jetstream: true, subject: "events.masked.{subject}" }`, "", []string{"events.>"}, "its to writes"},
		{"outside the stream", `{ nats: main, stream: EV }`, `{ nats: main, jetstream: true }`, "", []string{"events.>"}, ""},
		{"another server", `{ nats: main, stream: EV }`, `{ nats: other, jetstream: true, subject: "events.masked.{subject}" }`, "", []string{"events.>"}, ""},
		{"with a subject filter", `{ nats: main, stream: EV, subject: "events.in.>" }`, `{ nats: main, jetstream: true, subject: "events.masked.{subject}" }`, "", []string{"events.>"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `nats:
  main: { url: "nats://n1:4222" }
  again: { url: "nats://N1:4222" }
  other: { url: "nats://n2:4222" }
routes:
  - name: r
    from: ` + tt.from + `
    to: ` + tt.to + `
    ruleset: x
`
			if tt.dlq != "" {
				src += "    dead_letter: " + tt.dlq + "\n"
			}
			c, err := Parse([]byte(src), "")
			if err != nil {
				t.Fatal(err)
			}
			err = c.StreamLoop(c.Routes[0], tt.subjects)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}
