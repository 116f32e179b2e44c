package engine

import (
	"strings"
	"testing"
)

// secretCanary is a credential's value in the redaction tests: it must never
// come out.
const secretCanary = "CANARY-L5-7f3a9"

// TestIsSecretKeyNumbered: a credential's name followed by a number is a
// credential; only digits number it, so the names that were not
// credentials stay so.
func TestIsSecretKeyNumbered(t *testing.T) {
	yes := []string{"password2", "PASSWORD2", "api_key_1", "token_01", "secret-2", "pwd1", "db_password_12",
		"X-Api-Key-2", "refresh_token.3", "password_2_", "session_id9", "otp0"}
	no := []string{"2", "_1", "123", "tokens", "tokens2", "tokens_used", "token_count2", "passwordless",
		"passwordless2", "password_hint1", "api_key_v2", "token2fa", "pass2word", "key1", "keys2", "author1",
		"passport2", "secretary3", "otp_sent_at2", "monkey7"}
	for _, k := range yes {
		if !isSecretKey([]byte(k)) {
			t.Errorf("isSecretKey(%q) = false, want true", k)
		}
	}
	for _, k := range no {
		if isSecretKey([]byte(k)) {
			t.Errorf("isSecretKey(%q) = true, want false", k)
		}
	}
}

// TestRedactSecretsReach: redact_secrets reaches numbered names, JSON
// inside a string a json mask opens, and a record key that is a JSON
// document.
func TestRedactSecretsReach(t *testing.T) {
	const v1 = "version: \"1.0\"\n"
	jsonRule := `rules: [{path: "$.payload", masks: [{type: json, transforms: [{path: [name], masks: [{type: test_upper}]}]}]}]` + "\n"
	tests := []struct {
		name, ruleset, in, want string
	}{
		{"numbered names", v1 + `rules: [{path: "$.name", masks: [{type: test_upper}]}]` + "\n",
			`{"name":"a","password2":"C","api_key_1":"C","token_01":{"x":"C"},"secret-2":["C"],"tokens":"t","passwordless":true}`,
			`{"name":"A","password2":"[REDACTED]","api_key_1":"[REDACTED]","token_01":"[REDACTED]","secret-2":"[REDACTED]","tokens":"t","passwordless":true}`},
		{"numbered name a rule selects", v1 + `rules: [{path: "$.api_key_1", masks: [{type: test_tag}]}]` + "\n",
			`{"api_key_1":"k","api_key_2":"C"}`, `{"api_key_1":"<k>","api_key_2":"[REDACTED]"}`},
		{"json in a string", v1 + jsonRule,
			`{"payload":"{\"name\":\"bob\",\"password\":\"C\",\"user\":{\"api_key_1\":\"C\"}}"}`,
			`{"payload":"{\"name\":\"BOB\",\"password\":\"[REDACTED]\",\"user\":{\"api_key_1\":\"[REDACTED]\"}}"}`},
		{"json in a string, transform on the credential wins", v1 + `rules: [{path: "$.p", masks: [{type: json, transforms: [{path: [token], masks: [{type: test_tag}]}]}]}]` + "\n",
			`{"p":"{\"token\":\"k\",\"secret\":\"C\"}"}`, `{"p":"{\"token\":\"<k>\",\"secret\":\"[REDACTED]\"}"}`},
		{"json in json in a string", v1 + `rules: [{path: "$.a", masks: [{type: json, transforms: [{path: [b], masks: [{type: json, transforms: [{path: [n], masks: [{type: test_upper}]}]}]}]}]}]` + "\n",
			`{"a":"{\"b\":\"{\\\"n\\\":\\\"x\\\",\\\"cookie\\\":\\\"C\\\"}\"}"}`,
			`{"a":"{\"b\":\"{\\\"n\\\":\\\"X\\\",\\\"cookie\\\":\\\"[REDACTED]\\\"}\"}"}`},
		{"json in a string, redact_secrets false", v1 + "redact_secrets: false\n" + jsonRule,
			`{"payload":"{\"name\":\"bob\",\"password\":\"C\"}"}`, `{"payload":"{\"name\":\"BOB\",\"password\":\"C\"}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, tt.ruleset)
			in := strings.ReplaceAll(tt.in, `"C"`, `"`+secretCanary+`"`)
			in = strings.ReplaceAll(in, `\"C\"`, `\"`+secretCanary+`\"`)
			in = strings.ReplaceAll(in, `\\\"C\\\"`, `\\\"`+secretCanary+`\\\"`)
			want := strings.ReplaceAll(tt.want, `"C"`, `"`+secretCanary+`"`)
			want = strings.ReplaceAll(want, `\"C\"`, `\"`+secretCanary+`\"`)
			got, err := maskString(t, m, in)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestRedactSecretsKey: a record key that is a JSON document is redacted
// like the value when the ruleset masks keys.
func TestRedactSecretsKey(t *testing.T) {
	for _, tt := range []struct {
		name, ruleset, want string
	}{
		{"redacting", "version: \"1.0\"\nkey: {masks: [{type: do_nothing}]}\n", `{"id":7,"token":"[REDACTED]"}`},
		{"redact_secrets false", "version: \"1.0\"\nredact_secrets: false\nkey: {masks: [{type: do_nothing}]}\n", `{"id":7,"token":"` + secretCanary + `"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, tt.ruleset)
			out, err := m.MaskRecord(testSecret, Record{Key: []byte(`{"id":7,"token":"` + secretCanary + `"}`), Value: []byte(`{}`)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(out.Key) != tt.want {
				t.Errorf("key %s, want %s", out.Key, tt.want)
			}
		})
	}
}

// TestRedactSecretsHeaders: headers named like credentials are redacted
// when no header rule names them; a header rule that names one wins.
func TestRedactSecretsHeaders(t *testing.T) {
	const nameRule = `rules: [{path: "$.name", masks: [{type: test_upper}]}]` + "\n"
	in := func() []Header {
		return []Header{
			{Key: "Authorization", Value: []byte("Bearer " + secretCanary)},
			{Key: "trace", Value: []byte("t1")},
			{Key: "cookie", Value: []byte("session=" + secretCanary)},
			{Key: "X-Api-Key-2", Value: []byte(secretCanary)},
			{Key: "Content-Type", Value: []byte("application/json")},
		}
	}
	tests := []struct {
		name, ruleset string
		want          []string // header values in order
	}{
		{"no header rules", "version: \"1.0\"\n" + nameRule,
			[]string{Redacted, "t1", Redacted, Redacted, "application/json"}},
		{"a rule names one", "version: \"1.0\"\nheaders: [{name: AUTHORIZATION, masks: [{type: test_upper}]}]\n",
			[]string{"BEARER " + strings.ToUpper(secretCanary), "t1", Redacted, Redacted, "application/json"}},
		{"a rule drops one", "version: \"1.0\"\nheaders: [{name: trace, masks: [{type: drop}]}]\n",
			[]string{Redacted, Redacted, Redacted, "application/json"}},
		{"redact_secrets false", "version: \"1.0\"\nredact_secrets: false\n" + nameRule,
			[]string{"Bearer " + secretCanary, "t1", "session=" + secretCanary, secretCanary, "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, tt.ruleset)
			hs := in()
			out, err := m.MaskRecord(testSecret, Record{Value: []byte(`{}`), Headers: hs}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range out.Headers {
				got = append(got, string(h.Value))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("headers %q, want %q", got, tt.want)
			}
			for i, h := range in() {
				if hs[i].Key != h.Key || string(hs[i].Value) != string(h.Value) {
					t.Errorf("input header %d changed to %s: %s", i, hs[i].Key, hs[i].Value)
				}
			}
			// The processor skips headers MasksHeader says pass: it must
			// say true for every header MaskRecord changed or dropped.
			kept := map[string]string{}
			for _, h := range out.Headers {
				kept[h.Key] = string(h.Value)
			}
			for _, h := range in() {
				if v, ok := kept[h.Key]; (!ok || v != string(h.Value)) && !m.MasksHeader(h.Key) {
					t.Errorf("MasksHeader(%q) = false, but MaskRecord changed it", h.Key)
				}
			}
			if m.MasksHeader("trace") != strings.Contains(tt.ruleset, "name: trace") {
				t.Errorf("MasksHeader(trace) = %v for %s", m.MasksHeader("trace"), tt.name)
			}
		})
	}

	// A tombstone's headers are redacted too.
	m := mustCompile(t, "version: \"1.0\"\n"+nameRule)
	out, err := m.MaskRecord(testSecret, Record{Key: []byte("k"), Headers: in()[:1]}, nil)
	if err != nil || out.Value != nil || string(out.Headers[0].Value) != Redacted {
		t.Errorf("tombstone: value %q headers %q, %v", out.Value, out.Headers, err)
	}
}

// TestRedactHeadersNoAlloc: headers that all pass cost no copy.
func TestRedactHeadersNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	m := mustCompile(t, "version: \"1.0\"\nheaders: [{name: x-user, masks: [{type: test_upper}]}]\n")
	hs := []Header{{Key: "trace", Value: []byte("t1")}, {Key: "Content-Type", Value: []byte("application/json")},
		{Key: "x-request-id-that-is-longer-than-thirty-two-bytes", Value: []byte("r")}}
	var out []Header
	var err error
	n := testing.AllocsPerRun(200, func() {
		out, err = m.maskHeaders(testSecret, hs, nil)
	})
	if err != nil || &out[0] != &hs[0] {
		t.Fatalf("headers copied (%v) though none changed", err)
	}
	if n > 0 {
		t.Errorf("checking headers that all pass allocates %v times; want none", n)
	}
}
