package status

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/maskstream/maskstream/rulesets"
)

// FromEntry describes a stored ruleset for the page. The last reload's
// result comes from the entry's newest log: the store logs every load,
// reload, upload and failed reload there, and a failed reload keeps the
// previous version serving with an error log.
func FromEntry[T any](e *rulesets.Entry[T]) Ruleset {
	r := Ruleset{
		Name:       e.Name,
		Serial:     e.Serial,
		Source:     string(e.Source),
		Enabled:    e.Options.Enabled,
		Modified:   e.Modified,
		LastReload: e.Modified,
		LastResult: ReloadOK,
	}
	if e.Ruleset != nil {
		r.Rules = len(e.Ruleset.Rules)
	}
	if len(e.Logs) == 0 {
		return r
	}
	last := e.Logs[len(e.Logs)-1]
	r.LastReload = last.Time
	if last.Level == rulesets.LogError {
		r.LastResult = ReloadFailed
		r.Problems = problemsFromText(last.Message)
	}
	return r
}

// FromEntries describes every entry, in the order given (Store.List sorts
// them by name).
func FromEntries[T any](es []*rulesets.Entry[T]) []Ruleset {
	out := make([]Ruleset, len(es))
	for i, e := range es {
		out[i] = FromEntry(e)
	}
	return out
}

// Problems turns a ruleset error (a rulesets.ErrorList, a *rulesets.Error,
// a rulesets.LoadError or anything wrapping one) into positions and
// messages, leaving out the file path: the page names the ruleset already.
func Problems(err error) []Problem {
	out := []Problem{}
	var le rulesets.LoadError
	if errors.As(err, &le) {
		// One file's errors each: the page shows a ruleset's own.
		for _, fe := range le {
			out = appendProblems(out, fe.Err)
		}
		return out
	}
	return appendProblems(out, err)
}

func appendProblems(out []Problem, err error) []Problem {
	for _, e := range rulesets.Errors(err) {
		out = append(out, Problem{Line: e.Pos.Line, Col: e.Pos.Col, Message: e.Msg})
	}
	return out
}

// posLine matches one line of a rulesets.ErrorList's text:
// "[file:]line:col: message". The file part, when present, ends with the
// colon right before the line number.
var posLine = regexp.MustCompile(`^(?:.*?:)?(\d+):(\d+): (.*)$`)

// problemsFromText recovers positions and messages from a failed reload's
// log message ("reload failed, still serving serial N: <errors>"), whose
// errors are a rulesets.ErrorList's text, one error a line.
func problemsFromText(msg string) []Problem {
	if _, rest, ok := strings.Cut(msg, "still serving serial "); ok {
		if _, errs, ok := strings.Cut(rest, ": "); ok {
			msg = errs
		}
	}
	var out []Problem
	for line := range strings.SplitSeq(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if m := posLine.FindStringSubmatch(line); m != nil {
			l, _ := strconv.Atoi(m[1])
			c, _ := strconv.Atoi(m[2])
			out = append(out, Problem{Line: l, Col: c, Message: m[3]})
			continue
		}
		out = append(out, Problem{Message: strings.TrimPrefix(line, "rulesets: ")})
	}
	return out
}
