package httpapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzScanner checks the envelope scanner against encoding/json.
// Invariants: it never panics; when it accepts a body, encoding/json finds
// it valid and every member and element span is itself valid JSON; a valid
// JSON object with distinct keys, valid UTF-8 and shallow nesting is
// accepted.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"a":1},"x",2,null,true],"request_id":"r"}`,
		`{"data":[],"hash_values":["a",1]}`,
		`{"a":"\u00e9\n\"","b":{"c":[[]]},"d":-1.5e+3}`,
		`{"data":[1,2,]}`, `{"a":1,"a":2}`, `[1]`, ``, `{"x":"` + "\xff" + `"}`,
		`{"a":[[[[[[[[1]]]]]]]]}`, `{} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sc := scanner{buf: body, maxDepth: 8}
		ms, err := sc.object(nil)
		if err == nil {
			if !json.Valid(body) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
			for _, m := range ms {
				if !json.Valid(body[m.val.start:m.val.end]) {
					t.Fatalf("member %q span %q is not JSON", m.key, body[m.val.start:m.val.end])
				}
				for _, el := range m.elems {
					if !json.Valid(body[el.start:el.end]) {
						t.Fatalf("element span %q is not JSON", body[el.start:el.end])
					}
				}
			}
			return
		}
		var se *syntaxError
		if errors.As(err, &se) && (se.Offset < 0 || se.Offset > len(body)) {
			t.Fatalf("offset %d outside a body of %d bytes", se.Offset, len(body))
		}
		// A valid object is refused only for a duplicate key, depth, or
		// invalid UTF-8 (which encoding/json lets through).
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil && json.Valid(body) && strings.HasPrefix(strings.TrimLeft(string(body), " \t\r\n"), "{") {
			msg := err.Error()
			if !strings.Contains(msg, "duplicate key") && !strings.Contains(msg, "nesting deeper") && !strings.Contains(msg, "invalid UTF-8") {
				t.Fatalf("refused valid object %q: %v", body, err)
			}
		}
	})
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n tab\t ctl\x01", "é ü 中", "bad \xff utf8", "js \u2028 \u2029"} {
		t.Run(s, func(t *testing.T) {
			b := appendString(nil, s)
			var back string
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("%s is not a JSON string: %v", b, err)
			}
			if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
				t.Fatalf("round trip %q -> %s -> %q", s, b, back)
			}
		})
	}
}

func TestHashText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"abc"`, "abc"}, {`"a\"b"`, `a"b`}, {`123`, "123"}, {`true`, "true"}, {`{"a":1}`, `{"a":1}`},
	}
	for _, test := range tests {
		if got := string(hashText([]byte(test.in))); got != test.want {
			t.Errorf("hashText(%s) = %q, want %q", test.in, got, test.want)
		}
	}
	if hashText([]byte("null")) != nil {
		t.Error("hashText(null) is not nil")
	}
}

// TestScannerErrorsQuoteNoRecord: a body's syntax errors say where and
// what kind of byte, never a record's content (a mask request's data are
// the values to hide).
func TestScannerErrorsQuoteNoRecord(t *testing.T) {
	for _, body := range []string{
		`{"data":[{"a":CANARY7f3a9}]}`,
		`{"data":[{"a":tCANARY7f3a9}]}`,
		`{"data":[{"a":"x"} CANARY7f3a9]}`,
		`{"data":[{"a":"x"}]} CANARY7f3a9`,
		`{"data":[{"CANARY7f3a9" 1}]}`,
		`{"data":[{"a":"CANARY7f3a9` + "\x01" + `"}]}`,
		`{"data":[{"a":"CANARY7f3a9` + "\xff" + `"}]}`,
		`{"data":[{"a":-CANARY7f3a9}]}`,
	} {
		t.Run(body, func(t *testing.T) {
			sc := scanner{buf: []byte(body), maxDepth: 8}
			_, err := sc.object(nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error(); strings.Contains(msg, "CANARY") || strings.Contains(msg, "'C'") || strings.Contains(msg, "7f3a9") {
				t.Errorf("error %q quotes the record", msg)
			}
		})
	}
}
