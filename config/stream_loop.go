package config

import "fmt"

// StreamLoop checks a JetStream route that reads its whole stream (no
// subject filter): config time cannot know the stream's subjects, so the
// route asks the server at start and passes them here. It returns an error
// when the route's to or dead_letter, on the same server, writes a subject
// the stream stores: the route would read its own output back (and mask it
// again) until the stream's duplicate window no longer catches it.
func (c *Config) StreamLoop(r *Route, subjects []string) error {
	if r.From.IsKafka() || r.From.Subject != "" {
		return nil
	}
	for _, s := range []struct {
		key  string
		sink *Sink
	}{{"to", &r.To}, {"dead_letter", &r.DeadLetter}} {
		if s.sink.IsKafka() || s.sink.Template() == "" || !c.sameCluster(false, s.sink.NATS, r.From.NATS) {
			continue
		}
		t, err := ParseTemplate(s.sink.Template())
		if err != nil {
			continue
		}
		for _, in := range subjects {
			out := t.Expand(sampleSubject(in), 0)
			for _, f := range subjects {
				if subjectMatches(f, out) {
					return fmt.Errorf("config: route %q reads all of stream %s (from has no subject), which stores %q, and its %s writes %q there: it would re-mask its own output; set from.subject to the input subjects only, or write %s outside the stream's subjects",
						r.Name, r.From.Stream, f, s.key, out, s.key)
				}
			}
		}
	}
	return nil
}
