package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Template is a destination topic or subject with placeholders:
// {topic} and {subject} (both the record's source topic or subject) and
// {partition} (its source partition).
type Template struct {
	text  string
	parts []tmplPart
}

type tmplPart struct {
	lit string
	ph  placeholder
}

type placeholder uint8

const (
	phNone placeholder = iota
	phTopic
	phPartition
)

var placeholders = map[string]placeholder{
	"topic":     phTopic,
	"subject":   phTopic,
	"partition": phPartition,
}

// ParseTemplate parses a destination template.
func ParseTemplate(s string) (Template, error) {
	t := Template{text: s}
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		closing := strings.IndexByte(rest, '}')
		if closing >= 0 && (open < 0 || closing < open) {
			return Template{}, fmt.Errorf("config: template %q has a } with no {; placeholders are {topic}, {subject} and {partition}", s)
		}
		if open < 0 {
			t.parts = append(t.parts, tmplPart{lit: rest})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return Template{}, fmt.Errorf("config: template %q has a { with no }; placeholders are {topic}, {subject} and {partition}", s)
		}
		name := rest[open+1 : open+end]
		ph, ok := placeholders[name]
		if !ok {
			return Template{}, fmt.Errorf("config: template %q has an unknown placeholder {%s}; placeholders are {topic}, {subject} and {partition}", s, name)
		}
		t.parts = append(t.parts, tmplPart{ph: ph})
		rest = rest[open+end+1:]
	}
	return t, nil
}

// MustTemplate is ParseTemplate for fixed templates; it panics on error.
func MustTemplate(s string) Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the template as written.
func (t Template) String() string { return t.text }

// IsFixed reports whether the template has no placeholder.
func (t Template) IsFixed() bool {
	for _, p := range t.parts {
		if p.ph != phNone {
			return false
		}
	}
	return true
}

// UsesPartition reports whether the template has {partition}.
func (t Template) UsesPartition() bool {
	for _, p := range t.parts {
		if p.ph == phPartition {
			return true
		}
	}
	return false
}

// Expand returns the destination for a record read from topic and
// partition.
func (t Template) Expand(topic string, partition int32) string {
	if len(t.parts) == 1 && t.parts[0].ph == phNone {
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.ph {
		case phNone:
			b.WriteString(p.lit)
		case phTopic:
			b.WriteString(topic)
		case phPartition:
			b.WriteString(strconv.FormatInt(int64(partition), 10))
		}
	}
	return b.String()
}

// Pattern is an anchored regexp matching every name t can expand to, for
// any topic or subject.
func (t Template) Pattern() string { return t.patternOver(".+") }

// literals returns the template's fixed text (placeholders left out), for
// checking the characters a topic or subject may hold.
func (t Template) literals() string {
	var b strings.Builder
	for _, p := range t.parts {
		b.WriteString(p.lit)
	}
	return b.String()
}
