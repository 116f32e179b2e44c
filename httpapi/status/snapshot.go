package status

import "time"

// Source gives the status page its data. Status is called once per
// /status.json request (every 2 seconds per open page), from the request's
// goroutine, so it must be safe for concurrent use and cheap: read
// counters, do not ask the brokers.
type Source interface {
	Status() Snapshot
}

// SourceFunc adapts a function to Source.
type SourceFunc func() Snapshot

// Status calls f.
func (f SourceFunc) Status() Snapshot { return f() }

// Snapshot is the process's state at one moment. It holds names, counts
// and positions only: never a record value, a key, a header value or a
// secret. The JSON field names are the /status.json contract.
type Snapshot struct {
	// Version is the binary's version.
	Version string `json:"version"`
	// Mode is the subcommand serving the page: run, serve or demo.
	Mode string `json:"mode,omitempty"`
	// StartedAt is when the process started; the handler derives
	// UptimeSeconds from it.
	StartedAt time.Time `json:"started_at,omitzero"`
	// GeneratedAt and UptimeSeconds are set by the handler.
	GeneratedAt   time.Time `json:"generated_at"`
	UptimeSeconds float64   `json:"uptime_seconds"`

	Routes   []Route   `json:"routes"`
	Rulesets []Ruleset `json:"rulesets"`
}

// Route is one route's state. Its fields and JSON names follow
// processor.RouteStatus, so filling it is a field-by-field copy.
type Route struct {
	Name string `json:"name"`
	// State is starting, running, draining, stopped or failed (the page
	// shows any other word, such as reconnecting, as it is).
	State string `json:"state"`
	// Error is why a failed route stopped; it never quotes a record.
	Error string `json:"error,omitempty"`
	// Source, Sink and DeadLetter describe where the route reads and
	// writes, for example "kafka prod: orders,payments".
	Source        string `json:"source"`
	Sink          string `json:"sink"`
	DeadLetter    string `json:"dead_letter"`
	Ruleset       string `json:"ruleset"`
	RulesetSerial int64  `json:"ruleset_serial"`
	// Lanes is how many partitions (or JetStream consumers) the route
	// reads right now.
	Lanes int `json:"lanes"`

	RecordsIn           uint64            `json:"records_in"`
	RecordsOut          uint64            `json:"records_out"`
	DeadLetters         uint64            `json:"dead_letters"`
	DeadLettersByReason map[string]uint64 `json:"dead_letters_by_reason,omitempty"`
	// InRate and OutRate are records per second over the last few
	// seconds, as the Source measures them (the page does not derive
	// rates from consecutive polls: a page opened a second ago would
	// have nothing to show, and two open pages would disagree).
	InRate  float64 `json:"in_rate"`
	OutRate float64 `json:"out_rate"`

	// Lag is the sum of Partitions' lags, as of LagTime (zero when the
	// source cannot tell).
	Lag        int64       `json:"lag"`
	Partitions []Partition `json:"partitions,omitempty"`
	LagTime    time.Time   `json:"lag_time,omitzero"`
}

// Partition is one Kafka partition's lag, or a JetStream consumer's
// pending count (partition 0).
type Partition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Lag       int64  `json:"lag"`
}

// Reload results.
const (
	ReloadOK     = "ok"
	ReloadFailed = "failed"
)

// Ruleset is one stored ruleset: a file of the rulesets dir or an uploaded
// plan.
type Ruleset struct {
	Name string `json:"name"`
	// Serial is the version serving now.
	Serial int64 `json:"serial"`
	// Source is "file" or "upload".
	Source string `json:"source"`
	// Rules is the number of top-level rules of the serving version.
	Rules   int  `json:"rules"`
	Enabled bool `json:"enabled"`
	// Modified is when the serving version was loaded.
	Modified time.Time `json:"modified,omitzero"`
	// LastReload is when the ruleset was last loaded or last failed to
	// load, and LastResult how that went (ReloadOK or ReloadFailed).
	LastReload time.Time `json:"last_reload,omitzero"`
	LastResult string    `json:"last_result"`
	// Problems are the errors of the last failed reload, each with its
	// position in the file; empty when the last reload succeeded. The
	// previous version (Serial) keeps serving meanwhile.
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is one error of a ruleset: where it is and what is wrong. It
// never quotes a record value (a ruleset error cannot: rulesets are
// checked without records).
type Problem struct {
	// Line and Col are 1-based; zero when the error has no position
	// (the file could not be read, for example).
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
}
