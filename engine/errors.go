package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/maskstream/maskstream/rulesets"
)

// Reason classifies why a record could not be masked. It is the
// dead_letters_total{reason} label and the maskstream-error header's prefix,
// so the set is small and fixed.
type Reason string

const (
	ReasonNotJSON     Reason = "not_json"     // the value does not parse as JSON
	ReasonInvalidUTF8 Reason = "invalid_utf8" // a string holds bytes that are not UTF-8
	ReasonTooDeep     Reason = "too_deep"     // nesting deeper than Options.MaxDepth
	ReasonTooLarge    Reason = "too_large"    // the value is longer than Options.MaxBytes
	ReasonMissing     Reason = "missing"      // a rule with on_missing: error found nothing
	ReasonMask        Reason = "mask_error"   // a mask could not take the value it was given
)

// ErrNotMasked is what every masking error wraps: errors.Is(err,
// ErrNotMasked) tells a record that must go to the dead letters from any
// other failure.
var ErrNotMasked = errors.New("record not masked")

// MaskError is the error Mask returns for a record it cannot mask. Its text
// names the reason, the place (a path or a byte offset) and the problem, but
// never a value of the record, nor a member name the record supplied.
type MaskError struct {
	Reason Reason
	// Where is the place of the failing value: a JSON path (member names
	// the record supplied through * or .. written as *, see
	// scanner.where), or "offset N" for a parse error, or "key"/"header
	// NAME".
	Where string
	// Msg says what was wrong, without record values.
	Msg string
}

func (e *MaskError) Error() string {
	if e.Where == "" {
		return fmt.Sprintf("engine: %s: %s", e.Reason, e.Msg)
	}
	return fmt.Sprintf("engine: %s at %s: %s", e.Reason, e.Where, e.Msg)
}

// Unwrap makes every MaskError match ErrNotMasked.
func (e *MaskError) Unwrap() error { return ErrNotMasked }

// ReasonOf returns the reason of a masking error, or ReasonMask for any
// other error.
func ReasonOf(err error) Reason {
	var me *MaskError
	if errors.As(err, &me) {
		return me.Reason
	}
	return ReasonMask
}

// where is the place of the value being scanned, for errors, as the path
// pathIdx of the program (the rule path that matched it) instantiated on
// the concrete path: a member name the ruleset wrote in that path is kept,
// an element's index is kept, and a member name the record supplied,
// through a wildcard or a step a descendant (..) passed over, is written *:
// $.byUser.*.email, never $.byUser.<a user's id>.email. Member names of a
// record are data (ids, emails as keys), and error texts go to stderr,
// HTTP responses and dead-letter headers, which never carry record
// content.
//
// It formats the concrete path against the rule's pattern rather than
// printing the pattern: the indexes a [*] or a .. reached stay useful.
// And it checks the one path that matched rather than every name the
// automaton knows: a name another rule writes there is still the record's
// here. It runs only to build an error: the scan keeps no extra state.
// pathIdx < 0 (no rule known) writes every member name as *.
func (s *scanner) where(pathIdx int32) string {
	var segs []rulesets.Segment
	if pathIdx >= 0 {
		segs = s.c.p.paths[pathIdx].segs
	}
	return formatSteps(s.c.path, segs)
}

// formatSteps writes steps as a JSON path, a member name only where
// pattern segs names it (see scanner.where). Steps that do not match segs
// (which a scan never gives) have every name written *.
func formatSteps(steps []pstep, segs []rulesets.Segment) string {
	m := stepMatch{steps: steps, segs: segs, lit: make([]bool, len(steps))}
	m.match(0, 0) // marks names only along a full match: none on a mismatch
	var b strings.Builder
	b.WriteByte('$')
	for i := range steps {
		st := &steps[i]
		switch {
		case st.idx >= 0:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.idx))
			b.WriteByte(']')
		case !m.lit[i]:
			b.WriteString(".*")
		default:
			writeName(&b, m.name(i))
		}
	}
	return b.String()
}

// stepMatch aligns a concrete path with a rule path. lit[i] is set when
// step i is a member whose name the rule path writes (a name or the name
// of a ..name), along the alignment found: a step is marked only once the
// rest of the path has matched, and a match below always carries up.
type stepMatch struct {
	steps []pstep
	segs  []rulesets.Segment
	lit   []bool
	// failed memoises the (step, segment) pairs that cannot match, so
	// several .. stay linear in the path's length.
	failed map[[2]int]bool
}

// match reports whether steps[i:] match segs[j:]. A negative index
// matches any element: the array's length is no longer known, and only
// names are at stake.
func (m *stepMatch) match(i, j int) bool {
	if j == len(m.segs) {
		return i == len(m.steps)
	}
	if i == len(m.steps) || m.failed[[2]int{i, j}] {
		return false
	}
	st, seg := &m.steps[i], m.segs[j]
	member := st.idx < 0
	switch seg.Kind {
	case rulesets.SegKey:
		if member && string(m.name(i)) == seg.Key && m.match(i+1, j+1) {
			m.lit[i] = true
			return true
		}
	case rulesets.SegIndex:
		if !member && (seg.Index < 0 || st.idx == seg.Index) && m.match(i+1, j+1) {
			return true
		}
	case rulesets.SegWildcard:
		if m.match(i+1, j+1) {
			return true
		}
	case rulesets.SegDescendant:
		if member && string(m.name(i)) == seg.Key && m.match(i+1, j+1) {
			m.lit[i] = true
			return true
		}
		if m.match(i+1, j) {
			return true
		}
	}
	if m.failed == nil {
		m.failed = map[[2]int]bool{}
	}
	m.failed[[2]int{i, j}] = true
	return false
}

// name is member step i's name, unescaped.
func (m *stepMatch) name(i int) []byte {
	st := &m.steps[i]
	if st.esc {
		return unescape(nil, st.key())
	}
	return st.key()
}

// writeName writes one member step: .name, or ['name'] when it needs
// quoting.
func writeName(b *strings.Builder, k []byte) {
	if isPlainName(k) {
		b.WriteByte('.')
		b.Write(k)
		return
	}
	b.WriteString("['")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(string(k), `\`, `\\`), "'", `\'`))
	b.WriteString("']")
}

func isPlainName(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c == '-' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
