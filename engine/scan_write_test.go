package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIsJSONNumber(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"0", true}, {"-0", true}, {"12", true}, {"1.50", true}, {"-3.2e+10", true}, {"1E5", true},
		{"", false}, {"-", false}, {"01", false}, {"1.", false}, {".5", false}, {"1e", false},
		{"+1", false}, {"0x1F", false}, {"1_000", false}, {"NaN", false}, {" 1", false},
	}
	for _, tt := range tests {
		if got := isJSONNumber(tt.s); got != tt.want {
			t.Errorf("isJSONNumber(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct {
		name, in string
		jsSafe   bool
		want     string
	}{
		{name: "plain", in: "plain", want: `"plain"`},
		{name: "empty", in: "", want: `""`},
		{name: "escapes", in: "q\" b\\ n\n r\r t\t c\x01", want: `"q\" b\\ n\n r\r t\t c\u0001"`},
		{name: "non-ASCII kept", in: "é 中", want: `"é 中"`},
		{name: "invalid UTF-8", in: "a\xffb", want: "\"a\ufffdb\""},
		{name: "line separators kept", in: "a\u2028b\u2029", want: "\"a\u2028b\u2029\""},
		{name: "line separators escaped", in: "a\u2028b\u2029", jsSafe: true, want: `"a\u2028b\u2029"`},
		{name: "jsSafe invalid UTF-8", in: "\xff", jsSafe: true, want: "\"\ufffd\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendJSONString([]byte("x"), tt.in, tt.jsSafe))
			if got != "x"+tt.want {
				t.Fatalf("AppendJSONString(%q, %v) = %s, want x%s", tt.in, tt.jsSafe, got, tt.want)
			}
			var back string
			if err := json.Unmarshal([]byte(got[1:]), &back); err != nil {
				t.Fatalf("%s is not a JSON string: %v", got[1:], err)
			}
			if want := strings.ToValidUTF8(tt.in, "\ufffd"); back != want {
				t.Fatalf("round trip %q -> %q", tt.in, back)
			}
		})
	}
}

// FuzzIsJSONNumber checks that isJSONNumber accepts exactly what the
// lexer scans as one whole number: the two must never disagree.
func FuzzIsJSONNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "12", "-3.2e+10", "1E5", "", "-", "01", "1.", ".5", "1e", "+1", "1e+", "0.0e-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := lexer{src: []byte(s), maxDepth: 1}
		want := s != "" && l.num() == nil && l.i == len(s)
		if got := isJSONNumber(s); got != want {
			t.Fatalf("isJSONNumber(%q) = %v, the lexer says %v", s, got, want)
		}
	})
}
