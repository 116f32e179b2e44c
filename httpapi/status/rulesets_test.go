package status_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/maskstream/maskstream/httpapi/status"
	"github.com/maskstream/maskstream/rulesets"
)

const (
	goodRuleset = "version: \"1.0\"\nrules:\n  - path: \"$.email\"\n    masks: [ { type: from_fixed, value: x } ]\n"
	// Two problems: rule 2 (line 5) has no masks, and its key maskz (line
	// 6) is unknown.
	badRuleset = goodRuleset + "  - path: \"$.name\"\n    maskz: []\n"
)

func newStore(t *testing.T, dir string, now *time.Time) *rulesets.Store[int] {
	t.Helper()
	s := rulesets.NewStore(rulesets.StoreConfig{Dir: dir, Now: func() time.Time { return *now }},
		func(rs *rulesets.Ruleset) (int, error) { return len(rs.Rules), nil })
	if err := s.Load(); err != nil {
		t.Fatalf("loading the store: %v", err)
	}
	return s
}

func TestFromEntryFollowsReloads(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "people.yaml")
	write := func(src string) {
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := t0
	write(goodRuleset)
	s := newStore(t, dir, &now)
	entry := func() *rulesets.Entry[int] {
		e, ok := s.Get("people")
		if !ok {
			t.Fatal("ruleset people not in the store")
		}
		return e
	}

	first := status.FromEntry(entry())
	want := status.Ruleset{Name: "people", Serial: first.Serial, Source: "file", Rules: 1, Enabled: true,
		Modified: t0, LastReload: t0, LastResult: status.ReloadOK}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("after load:\n got %+v\nwant %+v", first, want)
	}

	now = t0.Add(time.Minute)
	write(badRuleset)
	if err := s.Reload(); err == nil {
		t.Fatal("reloading a broken ruleset succeeded")
	}
	failed := status.FromEntry(entry())
	if failed.Serial != first.Serial || failed.LastResult != status.ReloadFailed || !failed.LastReload.Equal(now) || !failed.Modified.Equal(t0) {
		t.Errorf("after a failed reload: %+v; want serial %d still serving, result failed at %v", failed, first.Serial, now)
	}
	if len(failed.Problems) != 2 {
		t.Fatalf("problems %+v, want the two errors of the file; log %q", failed.Problems, entry().Logs)
	}
	for i, line := range []int{5, 6} {
		p := failed.Problems[i]
		if p.Line != line || p.Col == 0 || p.Message == "" {
			t.Errorf("problem %d = %+v, want line %d with a column and a message", i, p, line)
		}
		if strings.Contains(p.Message, dir) || strings.Contains(p.Message, "people.yaml:") {
			t.Errorf("problem %d message %q carries the file path: position and message only", i, p.Message)
		}
	}

	now = t0.Add(2 * time.Minute)
	write(goodRuleset + "  - path: \"$.phone\"\n    masks: [ { type: from_fixed, value: y } ]\n")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	fixed := status.FromEntry(entry())
	if fixed.LastResult != status.ReloadOK || fixed.Problems != nil || fixed.Serial <= first.Serial || fixed.Rules != 2 || !fixed.LastReload.Equal(now) {
		t.Errorf("after fixing the file: %+v", fixed)
	}
}

func TestFromEntryUpload(t *testing.T) {
	now := t0
	s := newStore(t, "", &now)
	if _, err := s.Put("adhoc", []byte(goodRuleset)); err != nil {
		t.Fatal(err)
	}
	got := status.FromEntries(s.List())
	if len(got) != 1 || got[0].Name != "adhoc" || got[0].Source != "upload" || got[0].LastResult != status.ReloadOK || got[0].Rules != 1 {
		t.Errorf("uploaded plan: %+v", got)
	}
}

func TestProblems(t *testing.T) {
	list := rulesets.ErrorList{
		{Pos: rulesets.Pos{File: "/etc/maskstream/rulesets/a.yaml", Line: 3, Col: 7}, Msg: "unknown mask type"},
		{Msg: "no rules"},
	}
	tests := []struct {
		name string
		err  error
		want []status.Problem
	}{
		{"list", list, []status.Problem{{Line: 3, Col: 7, Message: "unknown mask type"}, {Message: "no rules"}}},
		{"wrapped in a load error", rulesets.LoadError{{Name: "a", Path: "a.yaml", Err: list}}, []status.Problem{{Line: 3, Col: 7, Message: "unknown mask type"}, {Message: "no rules"}}},
		{"plain error", errors.New("permission denied"), []status.Problem{{Message: "permission denied"}}},
		{"nil", nil, []status.Problem{}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := status.Problems(test.err); !reflect.DeepEqual(got, test.want) {
				t.Errorf("got %+v, want %+v", got, test.want)
			}
		})
	}
}
