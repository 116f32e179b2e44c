// Package engine compiles a ruleset into a Masker and applies it to JSON
// records. It is pure: no I/O at mask time, no brokers; the one thing it
// reads besides its input is the clock, for the current UTC day of the
// masks that depend on "today" (see Options.Now). A Masker is safe for
// concurrent use.
//
// Masking touches only the selected values: the rest of the record passes
// through byte for byte, key order and spacing kept.
package engine

import (
	"time"

	"github.com/maskstream/maskstream/rulesets"
)

// Default limits (DESIGN §6 limits).
const (
	DefaultMaxDepth = 128
	DefaultMaxBytes = 1 << 20
)

// Options tune Compile. The zero value is usable: it means the defaults.
type Options struct {
	// MaxDepth is the deepest nesting of objects and arrays a record may
	// have. This overrides the default of 128.
	MaxDepth int
	// MaxBytes is the largest record value accepted. This overrides the
	// default of 1 MiB.
	MaxBytes int
	// Now fixes "today" for the clock-dependent masks (retain_age,
	// retain_date_component, from_random_date/datetime bounded by now):
	// tests and reproducible runs. Only its UTC day counts: every instant
	// of one UTC day masks alike, whatever its time zone. This overrides
	// Clock and the default of reading the current UTC day from time.Now
	// each time such a mask masks a value (so a Masker follows the
	// calendar without recompiling, and processes agree on any day).
	Now time.Time
	// Clock is read instead of time.Now when Now is zero (tests of a
	// clock that moves under one Masker). It must be safe for concurrent
	// use; only the UTC day of what it returns counts.
	Clock func() time.Time
	// Seeds opens seed files by name at compile time. This overrides the
	// default of rulesets.OpenSeed(ruleset.Dir, name): the built-in
	// files, then CSVs beside the ruleset.
	Seeds func(name string) (*rulesets.SeedFile, error)
}

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is what Mask takes and returns. A nil Value is a tombstone (Kafka
// null value): it stays a tombstone, only its key is masked.
type Record struct {
	Key     []byte
	Value   []byte
	Headers []Header
}

// CallOptions change one call. The zero value is the normal case.
type CallOptions struct {
	// HashValue, when non-nil, replaces the record's own hash source
	// values (the HTTP API's hash_values entry for this record): every
	// rule hashes this text instead.
	HashValue []byte
	// Counts, when len(Counts) == Masker.NumRules(), receives how many
	// values each rule masked in this call (added, not set), for
	// fields_masked_total without atomics on the hot path.
	Counts []uint32
	// Found, when len(Found) == Masker.NumRules(), receives how many
	// values each rule's paths reached in this call (added, not set),
	// masked or left alone (null, skip_defaults); a rule whose if: does
	// not hold reaches none. A rule that reaches nothing over many
	// records has a path that fits no field (`maskstream mask` says so).
	Found []uint32
}
