package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// Checks across routes: dead letters landing among masked outputs, routes
// that feed each other, and routes that share a queue group. Clusters are
// compared by their brokers, not by name: two names for one cluster are
// one cluster.

// sameCluster reports whether two configured names reach the same Kafka
// cluster (kafka) or NATS server: the same name, or a broker address in
// common (a broker belongs to one cluster).
func (c *Config) sameCluster(kafka bool, a, b string) bool {
	if a == b {
		return true
	}
	if !kafka && c.natsIdentity(a) != c.natsIdentity(b) {
		// One NATS server serves many accounts, each with subjects,
		// streams and queue groups of its own, and the credentials pick
		// the account: two names that log in differently may not share
		// anything, and nothing here can show they do.
		return false
	}
	as, bs := c.addrs(kafka, a), c.addrs(kafka, b)
	return slices.ContainsFunc(as, func(x string) bool { return slices.Contains(bs, x) })
}

// natsIdentity is how a configured NATS server logs in.
func (c *Config) natsIdentity(name string) string {
	n := c.NATS[name]
	if n == nil {
		return ""
	}
	return strings.Join([]string{n.CredsFile, n.NkeyFile, n.User, n.TokenEnv, n.TokenFile}, "\x00")
}

// addrs are a cluster's broker or server addresses as lowercase host:port.
func (c *Config) addrs(kafka bool, name string) []string {
	var out []string
	if kafka {
		if k := c.Kafka[name]; k != nil {
			for _, b := range k.Brokers {
				out = append(out, strings.ToLower(strings.TrimSpace(b)))
			}
		}
		return out
	}
	if n := c.NATS[name]; n != nil {
		for _, u := range strings.Split(n.URL, ",") {
			pu, err := url.Parse(strings.TrimSpace(u))
			if err != nil || pu.Host == "" {
				continue
			}
			host, port := pu.Hostname(), pu.Port()
			if port == "" {
				port = "4222"
			}
			out = append(out, net.JoinHostPort(strings.ToLower(host), port))
		}
	}
	return out
}

// sinkReaches reports whether what s writes lands where f reads from.
func (c *Config) sinkReaches(s *Sink, f *Source) bool {
	return s.Cluster() != "" && f.Cluster() != "" && s.IsKafka() == f.IsKafka() && c.sameCluster(s.IsKafka(), s.Cluster(), f.Cluster())
}

// has reports whether the source reads name. A JetStream source without
// a subject reads whatever its stream holds, unknown here: nothing can be
// shown, so it answers false.
func (f *Source) has(name string) bool {
	switch {
	case f.IsKafka() && f.TopicRegex != "":
		re, err := regexp.Compile(f.TopicRegex)
		return err == nil && re.MatchString(name)
	case f.IsKafka():
		return slices.Contains(f.Topics, name)
	case f.Subject != "":
		return subjectMatches(f.Subject, name)
	}
	return false
}

// samples are concrete names the source reads, to expand templates with.
func (f *Source) samples() []string {
	switch {
	case f.IsKafka() && f.TopicRegex != "":
		return regexSamples(f.TopicRegex)
	case f.IsKafka():
		return f.Topics
	case f.Subject != "":
		return []string{sampleSubject(f.Subject)}
	}
	return nil
}

// names are concrete names route r writes through s: s itself when fixed,
// else s expanded over the names r reads.
func (r *Route) names(s *Sink) []string {
	t, err := ParseTemplate(s.Template())
	if err != nil || s.Template() == "" {
		return nil
	}
	if t.IsFixed() {
		return []string{t.String()}
	}
	var out []string
	for _, src := range r.From.samples() {
		out = append(out, t.Expand(src, 0))
	}
	return out
}

// canName reports whether t expands to name for some source name that
// has accepts ({topic} standing for the same name wherever it appears).
func (t Template) canName(name string, has func(string) bool) bool {
	return matchParts(t.parts, name, "", has)
}

func matchParts(parts []tmplPart, s, topic string, has func(string) bool) bool {
	if len(parts) == 0 {
		return s == ""
	}
	rest := parts[1:]
	switch parts[0].ph {
	case phNone:
		after, ok := strings.CutPrefix(s, parts[0].lit)
		return ok && matchParts(rest, after, topic, has)
	case phPartition:
		for i := 1; i <= len(s) && s[i-1] >= '0' && s[i-1] <= '9'; i++ {
			if matchParts(rest, s[i:], topic, has) {
				return true
			}
		}
		return false
	}
	if topic != "" {
		after, ok := strings.CutPrefix(s, topic)
		return ok && matchParts(rest, after, topic, has)
	}
	for i := 1; i <= len(s); i++ {
		if has(s[:i]) && matchParts(rest, s[i:], s[:i], has) {
			return true
		}
	}
	return false
}

// regexSamples are a few topic names re matches, built from its syntax
// tree (the first alternatives, the fewest repetitions).
func regexSamples(expr string) []string {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range regexpSamples(tree.Simplify()) {
		if strings.HasSuffix(s, ".") && re.MatchString(s+"x") {
			s += "x" // '^shop\.' reads shop.x more plausibly than shop.
		}
		if s != "" && kafkaTopicRE.MatchString(s) && re.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}

const maxSamples = 8

func regexpSamples(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}
	case syntax.OpCharClass:
		for _, ch := range "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ._-" {
			for i := 0; i+1 < len(re.Rune); i += 2 {
				if re.Rune[i] <= ch && ch <= re.Rune[i+1] {
					return []string{string(ch)}
				}
			}
		}
		return nil
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return []string{"x"}
	case syntax.OpCapture, syntax.OpPlus:
		return regexpSamples(re.Sub[0])
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			var next []string
			for _, a := range out {
				for _, b := range regexpSamples(sub) {
					if len(next) < maxSamples {
						next = append(next, a+b)
					}
				}
			}
			out = next
		}
		return out
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			out = append(out, regexpSamples(sub)...)
		}
		return out[:min(len(out), maxSamples)]
	case syntax.OpNoMatch:
		return nil
	}
	// *, ?, anchors and other empty-width operators: the empty string.
	return []string{""}
}

// kind names what a sink writes, for messages.
func (s *Sink) kind() string {
	if s.IsKafka() {
		return "topic"
	}
	return "subject"
}

// validateDeadLetters refuses a dead letter that lands among masked
// records: it holds the original, unmasked bytes, and whoever reads the
// masked output would read those too. A fixed name is compared with every
// name an output template can produce ("masked.dlq" is within
// "masked.{subject}", which a "masked.>" reader gets). Only names the
// output's route really produces count for a dead-letter template
// ("maskstream.dlq.{topic}" beside "{topic}.masked" is fine unless a
// route masks a topic named maskstream.dlq.x), for an output that is a
// bare placeholder ("{topic}" covers every name) and for the default dead
// letter, which the user did not choose (route "copy"'s
// maskstream.dlq.copy is within "{topic}.copy").
func (c *Config) validateDeadLetters(pos posFunc) {
	for _, r := range c.Routes {
		dl := &r.DeadLetter
		others := slices.DeleteFunc(slices.Clone(c.Routes), func(q *Route) bool { return q == r })
	routes:
		for _, q := range append([]*Route{r}, others...) {
			if dl.Cluster() == "" || q.To.IsKafka() != dl.IsKafka() || !c.sameCluster(dl.IsKafka(), dl.Cluster(), q.To.Cluster()) {
				continue
			}
			to, err := ParseTemplate(q.To.Template())
			if err != nil || q.To.Template() == "" {
				continue
			}
			has := q.From.has
			if dlt, err := ParseTemplate(dl.Template()); err == nil && dlt.IsFixed() && !dl.defaulted && to.literals() != "" {
				has = func(string) bool { return true }
			}
			for _, name := range r.names(dl) {
				if !to.canName(name, has) {
					continue
				}
				whose := "its own to"
				if q != r {
					whose = fmt.Sprintf("route %q's to", q.Name)
				}
				pos(dl.Pos, "route %q dead_letter %s %q on %s is among the names %s (%q) writes masked records to: dead letters are the original, unmasked records, and whoever reads the masked output would read them too; give dead_letter a name of its own, such as %q", r.Name, dl.kind(), name, dl.Cluster(), whose, q.To.Template(), DefaultDeadLetterPrefix+r.Name)
				break routes
			}
		}
	}
}

// edge is route from writing, through sink, a name route to reads.
type edge struct {
	from, to *Route
	sink     *Sink
	name     string
}

// feeds returns the edges from r to other routes: a name r writes (to or
// dead_letter) that q reads. A route feeding itself is validateNoLoop's.
func (c *Config) feeds(r *Route) []edge {
	var out []edge
	for _, s := range []*Sink{&r.To, &r.DeadLetter} {
		t, err := ParseTemplate(s.Template())
		if err != nil || s.Template() == "" {
			continue
		}
	next:
		for _, q := range c.Routes {
			if q == r || !c.sinkReaches(s, &q.From) {
				continue
			}
			if q.From.IsKafka() && q.From.TopicRegex == "" {
				// A topic list is known exactly: can r name one of them?
				for _, topic := range q.From.Topics {
					if t.canName(topic, r.From.has) {
						out = append(out, edge{r, q, s, topic})
						continue next
					}
				}
				continue
			}
			for _, name := range r.names(s) {
				if q.From.has(name) {
					out = append(out, edge{r, q, s, name})
					continue next
				}
			}
		}
	}
	return out
}

// validateNoCycle refuses routes that feed each other in a circle (a
// two-way mirror, two topic_regex routes reading each other's outputs):
// each would re-mask the others' output forever. Dead letters count:
// a route reading another's dead letters must not feed it back.
func (c *Config) validateNoCycle(pos posFunc) {
	const (
		unseen = iota
		open
		done
	)
	state := map[*Route]int{}
	var path []edge
	var visit func(r *Route)
	visit = func(r *Route) {
		state[r] = open
		for _, e := range c.feeds(r) {
			switch state[e.to] {
			case unseen:
				path = append(path, e)
				visit(e.to)
				path = path[:len(path)-1]
			case open:
				i := slices.IndexFunc(path, func(p edge) bool { return p.from == e.to })
				reportCycle(append(slices.Clone(path[i:]), e), pos)
			}
		}
		state[r] = done
	}
	for _, r := range c.Routes {
		if state[r] == unseen {
			visit(r)
		}
	}
}

func reportCycle(cycle []edge, pos posFunc) {
	steps := make([]string, len(cycle))
	for i, e := range cycle {
		key := "to"
		if e.sink == &e.from.DeadLetter {
			key = "dead_letter"
		}
		steps[i] = fmt.Sprintf("route %q %s writes %s %q on %s, which route %q reads", e.from.Name, key, e.sink.kind(), e.name, e.sink.Cluster(), e.to.Name)
	}
	pos(cycle[0].sink.Pos, "%s: the routes would re-mask each other's output forever; write to names (or a cluster) none of these routes reads", strings.Join(steps, "; "))
}

// validateQueueGroups refuses two core NATS routes in one queue group with
// overlapping subjects: NATS hands each message to one member of a queue
// group, so each route would get only part of the messages.
func (c *Config) validateQueueGroups(pos posFunc) {
	for i, r := range c.Routes {
		f := &r.From
		if f.IsKafka() || f.IsJetStream() || f.Queue == "" || f.Subject == "" {
			continue
		}
		for _, prev := range c.Routes[:i] {
			p := &prev.From
			if p.IsKafka() || p.IsJetStream() || p.Queue != f.Queue || p.Subject == "" || !c.sameCluster(false, p.NATS, f.NATS) || !filtersOverlap(p.Subject, f.Subject) {
				continue
			}
			pos(f.Pos, "routes %q and %q subscribe to overlapping subjects (%q, %q) in one queue group %q on %s: NATS gives each message to one member of a queue group, so each route would get only part of the messages; give each route its own queue", prev.Name, r.Name, p.Subject, f.Subject, f.Queue, f.NATS)
			break
		}
	}
}

// filtersOverlap reports whether some subject matches both NATS filters.
func filtersOverlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(at), len(bt)) {
		if i >= len(at) || i >= len(bt) {
			return false
		}
		if at[i] == ">" || bt[i] == ">" {
			return true
		}
		if at[i] != bt[i] && at[i] != "*" && bt[i] != "*" {
			return false
		}
	}
	return true
}

// OutputPatterns are anchored regexps of every topic a route of c writes
// (to and dead_letter) on the Kafka cluster named cluster or one with the
// same brokers. A topic_regex route excludes them: which topics it will
// match is known only at run time, and it must never consume a route's
// output, its own ({topic}.masked under '^prod\..*', one level deeper per
// metadata refresh) or another's (two such routes feeding each other).
func (c *Config) OutputPatterns(cluster string) []string {
	var out []string
	for _, r := range c.Routes {
		for _, s := range []*Sink{&r.To, &r.DeadLetter} {
			if !s.IsKafka() || !c.sameCluster(true, s.Kafka, cluster) {
				continue
			}
			t, err := ParseTemplate(s.Template())
			if err != nil || s.Template() == "" {
				continue
			}
			// A bare {topic} over names the config cannot know (a
			// topic_regex, a whole stream) is every name: excluding it
			// would leave the regex route nothing to read.
			// validateAnyNameOutputs warns about it instead.
			if p := t.patternOver(r.From.pattern()); p != anyName && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// anyName is the output pattern that matches every topic.
const anyName = "^.+$"

// validateAnyNameOutputs warns where a route writes topics named only by
// what it reads from a topic_regex or a whole stream ({topic}), on a
// cluster another route reads with a topic_regex: that route cannot tell
// those topics from its inputs, so it does not skip them.
func (c *Config) validateAnyNameOutputs() {
	for _, r := range c.Routes {
		if !r.From.IsKafka() || r.From.TopicRegex == "" {
			continue
		}
		for _, q := range c.Routes {
			if q == r {
				continue
			}
			for _, s := range []struct {
				key  string
				sink *Sink
			}{{"to", &q.To}, {"dead_letter", &q.DeadLetter}} {
				if !s.sink.IsKafka() || !c.sameCluster(true, s.sink.Kafka, r.From.Kafka) {
					continue
				}
				t, err := ParseTemplate(s.sink.Template())
				if err != nil || s.sink.Template() == "" || t.patternOver(q.From.pattern()) != anyName {
					continue
				}
				c.Warnings = append(c.Warnings, fmt.Sprintf("route %q %s writes topic %q on %s, named after topics its source finds at run time; route %q's topic_regex %q cannot tell those from its inputs and reads any it matches: make sure the two cannot name the same topic (a prefix in %q helps)",
					q.Name, s.key, s.sink.Template(), s.sink.Kafka, r.Name, r.From.TopicRegex, s.key))
			}
		}
	}
}

// pattern is a regexp of the names the source reads when they are known
// from the config (a topic list, a subject filter), else of any name: a
// regexp's matches cannot be embedded in another pattern (its anchors).
func (f *Source) pattern() string {
	switch {
	case f.IsKafka() && f.TopicRegex == "" && len(f.Topics) > 0:
		quoted := make([]string, len(f.Topics))
		for i, t := range f.Topics {
			quoted[i] = regexp.QuoteMeta(t)
		}
		return "(?:" + strings.Join(quoted, "|") + ")"
	case !f.IsKafka() && f.Subject != "":
		toks := strings.Split(f.Subject, ".")
		for i, t := range toks {
			switch t {
			case "*":
				toks[i] = `[^.]+`
			case ">":
				toks[i] = `.+`
			default:
				toks[i] = regexp.QuoteMeta(t)
			}
		}
		return strings.Join(toks, `\.`)
	}
	return ".+"
}

// patternOver is an anchored regexp of the names t can expand to when
// {topic} stands for what topicRE matches.
func (t Template) patternOver(topicRE string) string {
	var b strings.Builder
	b.WriteByte('^')
	for _, p := range t.parts {
		switch p.ph {
		case phNone:
			b.WriteString(regexp.QuoteMeta(p.lit))
		case phTopic:
			b.WriteString(topicRE)
		case phPartition:
			b.WriteString("[0-9]+")
		}
	}
	b.WriteByte('$')
	return b.String()
}
