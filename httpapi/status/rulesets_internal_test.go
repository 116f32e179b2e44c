package status

import (
	"reflect"
	"strings"
	"testing"
)

func TestProblemsFromText(t *testing.T) {
	tests := []struct {
		name, msg string
		want      []Problem
	}{
		{"store's failed reload", "reload failed, still serving serial 3: /etc/rs/a.yaml:4:7: unknown key \"maskz\"\n/etc/rs/a.yaml:9:1: rule 2 has no masks",
			[]Problem{{Line: 4, Col: 7, Message: `unknown key "maskz"`}, {Line: 9, Col: 1, Message: "rule 2 has no masks"}}},
		{"no file part", "reload failed, still serving serial 1: 2:3: bad version", []Problem{{Line: 2, Col: 3, Message: "bad version"}}},
		{"no position", "reload failed, still serving serial 1: open /etc/rs/a.yaml: permission denied",
			[]Problem{{Message: "open /etc/rs/a.yaml: permission denied"}}},
		{"package prefix dropped", "rulesets: no rules", []Problem{{Message: "no rules"}}},
		{"times inside a message stay in it", "reload failed, still serving serial 1: a.yaml:5:2: the value 12:30: is not a date",
			[]Problem{{Line: 5, Col: 2, Message: "the value 12:30: is not a date"}}},
		{"blank lines skipped", "\n\n", nil},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := problemsFromText(test.msg); !reflect.DeepEqual(got, test.want) {
				t.Errorf("got %+v\nwant %+v", got, test.want)
			}
		})
	}
}

// FuzzProblemsFromText: any log text gives problems without panicking,
// each with a non-negative position, a message that is one line, and no
// more problems than the text has lines.
func FuzzProblemsFromText(f *testing.F) {
	f.Add("reload failed, still serving serial 3: /etc/rs/a.yaml:4:7: unknown key\nb.yaml:9:1: x")
	f.Add("rulesets: no rules")
	f.Add("1:2: ")
	f.Add("still serving serial : :99999999999999999999:1: overflow")
	f.Fuzz(func(t *testing.T, msg string) {
		ps := problemsFromText(msg)
		if len(ps) > strings.Count(msg, "\n")+1 {
			t.Fatalf("%d problems from %d lines", len(ps), strings.Count(msg, "\n")+1)
		}
		for _, p := range ps {
			if p.Line < 0 || p.Col < 0 || strings.Contains(p.Message, "\n") {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}
