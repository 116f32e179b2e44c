package engine

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/rulesets"
)

// Test-only masks with outputs easy to predict.
func init() {
	// test_upper upper-cases a string (a number or boolean passes through).
	register("test_upper", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) {
			if v.Kind != String {
				return v, nil
			}
			return Str(strings.ToUpper(v.S)), nil
		}), nil
	})
	// test_tag wraps the value's text: <text>.
	register("test_tag", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) {
			return Str("<" + v.Text() + ">"), nil
		}), nil
	})
	// test_seed outputs 8 hex digits of the mask's seed: equal outputs
	// mean equal hash inputs.
	register("test_seed", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) {
			s := c.Seed(nil)
			return Str(hex.EncodeToString(s[:4])), nil
		}), nil
	})
	register("test_drop", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) { return Value{}, nil }), nil
	})
	register("test_obj", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) {
			return Value{Kind: Object, Raw: []byte(`{"inner":"x","password":"p"}`)}, nil
		}), nil
	})
	register("test_num", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) { return Int(42), nil }), nil
	})
	register("test_fail", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) {
			return Value{}, errors.New("cannot take this value")
		}), nil
	})
	register("test_badnum", func(p *Params) (Mask, error) {
		return maskFunc(func(c *Ctx, v Value) (Value, error) { return Num("12x"), nil }), nil
	})
}

type maskFunc func(c *Ctx, v Value) (Value, error)

func (f maskFunc) Apply(c *Ctx, v Value) (Value, error) { return f(c, v) }

var testSecret = MustSecret("test-secret-0123456789abcdef")

func mustCompile(t testing.TB, yaml string) *Masker {
	t.Helper()
	rs, err := rulesets.Parse("test", "", []byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	m, err := Compile(rs, Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return m
}

func maskString(t testing.TB, m *Masker, in string) (string, error) {
	t.Helper()
	out, err := m.MaskValue(nil, testSecret, []byte(in), nil)
	if err == nil && !json.Valid(out) {
		t.Fatalf("output is not valid JSON: %s", out)
	}
	return string(out), err
}

const header = "version: \"1.0\"\nredact_secrets: false\n"

func TestMaskPaths(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		in    string
		want  string
	}{
		{"member", `[{path: "$.a", masks: [{type: test_upper}]}]`,
			`{"a": "x", "b" : "y"}`, `{"a": "X", "b" : "y"}`},
		{"nested member", `[{path: "$.a.b", masks: [{type: test_upper}]}]`,
			`{"b":"q","a":{"b":"x","c":"y"}}`, `{"b":"q","a":{"b":"X","c":"y"}}`},
		{"quoted member", `[{path: "$['credit-card'].cvv", masks: [{type: test_upper}]}]`,
			`{"credit-card":{"cvv":"abc"}}`, `{"credit-card":{"cvv":"ABC"}}`},
		{"escaped member name", `[{path: "$.a", masks: [{type: test_upper}]}]`,
			`{"\u0061":"x"}`, `{"\u0061":"X"}`},
		{"every element", `[{path: "$.items[*].sku", masks: [{type: test_upper}]}]`,
			`{"items":[{"sku":"a"},{"n":1},{"sku":"b"}]}`, `{"items":[{"sku":"A"},{"n":1},{"sku":"B"}]}`},
		{"index", `[{path: "$.a[1]", masks: [{type: test_upper}]}]`,
			`{"a":["x","y","z"]}`, `{"a":["x","Y","z"]}`},
		{"negative index", `[{path: "$.a[-1]", masks: [{type: test_upper}]}]`,
			`{"a":["x","y","z"]}`, `{"a":["x","y","Z"]}`},
		{"index out of range", `[{path: "$.a[5]", masks: [{type: test_upper}]}]`,
			`{"a":["x"]}`, `{"a":["x"]}`},
		{"descendant", `[{path: "$..email", masks: [{type: test_upper}]}]`,
			`{"email":"a","x":{"email":"b","y":[{"email":"c"}]}}`, `{"email":"A","x":{"email":"B","y":[{"email":"C"}]}}`},
		{"descendant then member", `[{path: "$..addr.city", masks: [{type: test_upper}]}]`,
			`{"addr":{"city":"a"},"o":{"addr":{"city":"b"}}}`, `{"addr":{"city":"A"},"o":{"addr":{"city":"B"}}}`},
		{"member wildcard", `[{path: "$.a.*", masks: [{type: test_upper}]}]`,
			`{"a":{"x":"p","y":"q"},"b":"r"}`, `{"a":{"x":"P","y":"Q"},"b":"r"}`},
		{"root array", `[{path: "$[*].email", masks: [{type: test_upper}]}]`,
			`[{"email":"a"},{"email":"b"}]`, `[{"email":"A"},{"email":"B"}]`},
		{"whole value scalar", `[{masks: [{type: test_upper}]}]`,
			`"abc"`, `"ABC"`},
		{"whole value with spaces", `[{masks: [{type: test_upper}]}]`,
			" \"abc\" \n", " \"ABC\" \n"},
		{"key twice", `[{path: "$.a", masks: [{type: test_upper}]}]`,
			`{"a":"x","a":"y"}`, `{"a":"X","a":"Y"}`},
		{"two rules in order", `[{path: "$.a", masks: [{type: test_upper}]}, {path: "$.a", masks: [{type: test_tag}]}]`,
			`{"a":"x"}`, `{"a":"<X>"}`},
		{"pipeline", `[{path: "$.a", masks: [{type: test_tag}, {type: test_upper}]}]`,
			`{"a":"x"}`, `{"a":"<X>"}`},
		{"paths", `[{paths: ["$.a", "$.b"], masks: [{type: test_upper}]}]`,
			`{"a":"x","b":"y","c":"z"}`, `{"a":"X","b":"Y","c":"z"}`},
		{"number to string", `[{path: "$.n", masks: [{type: test_tag}]}]`,
			`{"n":12}`, `{"n":"<12>"}`},
		{"string to number", `[{path: "$.s", masks: [{type: test_num}]}]`,
			`{"s":"12"}`, `{"s":42}`},
		{"escapes decoded and re-escaped", `[{path: "$.s", masks: [{type: test_tag}]}]`,
			`{"s":"a\"b\\c\u00e9\n"}`, `{"s":"<a\"b\\cé\n>"}`},
		{"unselected escapes kept", `[{path: "$.s", masks: [{type: test_upper}]}]`,
			`{"t":"\u00e9\/","s":"x"}`, `{"t":"\u00e9\/","s":"X"}`},
		{"null skipped", `[{path: "$.a", masks: [{type: test_tag}]}]`,
			`{"a":null}`, `{"a":null}`},
		{"null masked with on_null mask", `[{path: "$.a", on_null: mask, masks: [{type: test_tag}]}]`,
			`{"a":null}`, `{"a":"<>"}`},
		{"object value masked whole", `[{path: "$.a", masks: [{type: test_tag}]}]`,
			`{"a":{"b":1}}`, `{"a":"<{\"b\":1}>"}`},
		{"missing skipped", `[{path: "$.zz", masks: [{type: test_tag}]}]`,
			`{"a":1}`, `{"a":1}`},
		{"drop first member", `[{path: "$.a", masks: [{type: test_drop}]}]`,
			`{"a":1, "b":2}`, `{ "b":2}`},
		{"drop middle member", `[{path: "$.b", masks: [{type: test_drop}]}]`,
			`{"a":1, "b":2, "c":3}`, `{"a":1, "c":3}`},
		{"drop last member", `[{path: "$.c", masks: [{type: test_drop}]}]`,
			`{"a":1,"c":3}`, `{"a":1}`},
		{"drop only member", `[{path: "$.c", masks: [{type: test_drop}]}]`,
			`{"c":3}`, `{}`},
		{"drop every member", `[{path: "$.*", masks: [{type: test_drop}]}]`,
			`{"a":1,"b":2,"c":3}`, `{}`},
		{"drop twice leading", `[{paths: ["$.a","$.b"], masks: [{type: test_drop}]}]`,
			`{"a":1,"b":2,"c":3}`, `{"c":3}`},
		{"drop array element", `[{path: "$.a[1]", masks: [{type: test_drop}]}]`,
			`{"a":[1,2,3]}`, `{"a":[1,3]}`},
		{"drop first array element", `[{path: "$.a[0]", masks: [{type: test_drop}]}]`,
			`{"a":[1,2,3]}`, `{"a":[2,3]}`},
		{"drop root", `[{masks: [{type: test_drop}]}]`,
			`{"a":1}`, `null`},
		{"mask reaches into earlier output", `[{path: "$.a", masks: [{type: test_obj}]}, {path: "$.a.inner", masks: [{type: test_upper}]}]`,
			`{"a":"q"}`, `{"a":{"inner":"X","password":"p"}}`},
		{"earlier inner rule then container rule", `[{path: "$.a.b", masks: [{type: test_upper}]}, {path: "$.a", masks: [{type: test_tag}]}]`,
			`{"a":{"b":"x"}}`, `{"a":"<{\"b\":\"X\"}>"}`},
		{"whole value after path rule", `[{path: "$.a", masks: [{type: test_upper}]}, {masks: [{type: test_tag}]}]`,
			`{"a":"x"}`, `"<{\"a\":\"X\"}>"`},
		{"whole value then path rule", `[{masks: [{type: test_obj}]}, {path: "$.inner", masks: [{type: test_upper}]}]`,
			`[1]`, `{"inner":"X","password":"p"}`},
		{"deep unselected kept byte for byte", `[{path: "$.z", masks: [{type: test_upper}]}]`,
			"{ \"a\" : [ 1 , 2.5e3 , true , false , null , { } , [ ] ] ,\n\t\"z\" : \"q\" }", "{ \"a\" : [ 1 , 2.5e3 , true , false , null , { } , [ ] ] ,\n\t\"z\" : \"Q\" }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, header+"rules: "+tt.rules+"\n")
			got, err := maskString(t, m, tt.in)
			if err != nil {
				t.Fatalf("mask: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestSkipDefaults(t *testing.T) {
	m := mustCompile(t, "version: \"1.0\"\nskip_defaults: [null, \"\", 0, N/A]\nrules: [{path: \"$.*\", on_null: mask, masks: [{type: test_tag}]}]\n")
	got, err := maskString(t, m, `{"a":"","b":null,"c":0,"d":0.0,"e":"N/A","f":"x","g":"0"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":"","b":null,"c":0,"d":0.0,"e":"N/A","f":"<x>","g":"<0>"}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRedactSecrets(t *testing.T) {
	m := mustCompile(t, "version: \"1.0\"\nrules: [{path: \"$.name\", masks: [{type: test_upper}]}]\n")
	in := `{"name":"a","password":"hunter2","db_password":{"x":1},"X-Api-Key":[1,2],` +
		`"refresh_token":null,"Set-Cookie":"c","user":{"client.secret":"s","passwordHint":"h"},` +
		`"tokens_used":5,"token_type":"bearer","author":"me","key":"k","passport":"p","list":[{"pwd":1}]}`
	want := `{"name":"A","password":"[REDACTED]","db_password":"[REDACTED]","X-Api-Key":"[REDACTED]",` +
		`"refresh_token":"[REDACTED]","Set-Cookie":"[REDACTED]","user":{"client.secret":"[REDACTED]","passwordHint":"h"},` +
		`"tokens_used":5,"token_type":"bearer","author":"me","key":"k","passport":"p","list":[{"pwd":"[REDACTED]"}]}`
	got, err := maskString(t, m, in)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// A rule that names a credential member wins over redaction.
	explicit := mustCompile(t, "version: \"1.0\"\nrules: [{path: \"$.api_key\", on_missing: error, masks: [{type: test_tag}]}]\n")
	got, err = maskString(t, explicit, `{"api_key":"k","token":"t"}`)
	if err != nil || got != `{"api_key":"<k>","token":"[REDACTED]"}` {
		t.Errorf("explicit rule on a credential: got %s, %v", got, err)
	}

	off := mustCompile(t, "version: \"1.0\"\nredact_secrets: false\nrules: [{path: \"$.name\", masks: [{type: test_upper}]}]\n")
	got, err = maskString(t, off, `{"password":"x","name":"a"}`)
	if err != nil || got != `{"password":"x","name":"A"}` {
		t.Errorf("redact_secrets false: got %s, %v", got, err)
	}

	// A secret inside a container a rule masks whole is still redacted.
	m2 := mustCompile(t, "version: \"1.0\"\nrules: [{path: \"$.a\", masks: [{type: test_obj}]}]\n")
	got, err = maskString(t, m2, `{"a":1}`)
	if err != nil || got != `{"a":{"inner":"x","password":"[REDACTED]"}}` {
		t.Errorf("secret in a mask's output: got %s, %v", got, err)
	}
}

func TestIsSecretKey(t *testing.T) {
	yes := []string{"password", "PASSWORD", "db_password", "passwd", "pwd", "secret", "client_secret", "clientSecret",
		"token", "access_token", "refreshToken", "api_key", "X-API-KEY", "apikey", "authorization", "Proxy-Authorization",
		"cookie", "set-cookie", "cookies", "private_key", "aws.secret_access_key", "credentials", "session_id", "jwt"}
	no := []string{"", "name", "tokens_used", "token_count", "token_type", "secretary", "author", "key", "keys",
		"passport", "password_hint", "email", "monkey", "cookie_consent", "id", "otp_sent_at", "total"}
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

func TestHashSources(t *testing.T) {
	m := mustCompile(t, header+`rules:
  - path: "$.first"
    hash_sources: ["$.id"]
    masks: [{type: test_seed}]
  - path: "$.items[*].name"
    hash_sources: ["$.items[*].sku"]
    masks: [{type: test_seed}]
  - path: "$.plain"
    masks: [{type: test_seed}]
  - path: "$.two"
    hash_sources: ["$.id", "$.nope"]
    masks: [{type: test_seed}]
`)
	get := func(in string) map[string]any {
		t.Helper()
		out, err := m.MaskValue(nil, testSecret, []byte(in), nil)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		return v
	}
	a := get(`{"id":7,"first":"Ann","plain":"x","two":"q","items":[{"sku":"s1","name":"n1"},{"sku":"s2","name":"n1"}]}`)
	b := get(`{"first":"Bob","id":"7","plain":"x","two":"r","items":[{"name":"zz","sku":"s2"}]}`)
	if a["first"] != b["first"] {
		t.Errorf("same hash source (7 and \"7\") gave %v and %v", a["first"], b["first"])
	}
	ia, ib := a["items"].([]any), b["items"].([]any)
	n0, n1 := ia[0].(map[string]any)["name"], ia[1].(map[string]any)["name"]
	if n0 == n1 {
		t.Errorf("items with different skus got the same name %v", n0)
	}
	if nb := ib[0].(map[string]any)["name"]; nb != n1 {
		t.Errorf("[*] binding: sku s2 gave %v and %v", n1, nb)
	}
	if a["two"] != b["two"] {
		t.Errorf("two sources with a missing one: %v vs %v", a["two"], b["two"])
	}
	c := get(`{"id":8,"first":"Ann","plain":"y","two":"q"}`)
	if c["first"] == a["first"] || c["plain"] == a["plain"] {
		t.Errorf("different hash inputs gave equal outputs")
	}
	// HashValue replaces every rule's hash input.
	o := &CallOptions{HashValue: []byte("h")}
	x, _ := m.MaskValue(nil, testSecret, []byte(`{"first":"a","plain":"b"}`), o)
	y, _ := m.MaskValue(nil, testSecret, []byte(`{"first":"c","plain":"d"}`), o)
	if string(x) != string(y) {
		t.Errorf("HashValue: %s vs %s", x, y)
	}
}

func TestConditions(t *testing.T) {
	m := mustCompile(t, header+`rules:
  - if: [{path: "$.country", equals: NZ}]
    rules:
      - {path: "$.name", masks: [{type: test_upper}]}
    else_rules:
      - {path: "$.name", masks: [{type: test_tag}]}
  - if: [{or: [{path: "$.age", greater_than: 17}, {path: "$.vip", equals: true}]}]
    rules:
      - {path: "$.adult", masks: [{type: test_upper}]}
  - if: [{path: "$.nick", is_missing: true}]
    rules:
      - {path: "$.flag", masks: [{type: test_upper}]}
`)
	tests := []struct{ in, want string }{
		{`{"country":"NZ","name":"a"}`, `{"country":"NZ","name":"A"}`},
		{`{"country":"AU","name":"a"}`, `{"country":"AU","name":"<a>"}`},
		{`{"name":"a","country":"NZ"}`, `{"name":"A","country":"NZ"}`},
		{`{"age":18,"adult":"x"}`, `{"age":18,"adult":"X"}`},
		{`{"age":17,"adult":"x"}`, `{"age":17,"adult":"x"}`},
		{`{"age":3,"vip":true,"adult":"x"}`, `{"age":3,"vip":true,"adult":"X"}`},
		{`{"flag":"f"}`, `{"flag":"F"}`},
		{`{"flag":"f","nick":null}`, `{"flag":"f","nick":null}`},
	}
	for _, tt := range tests {
		got, err := maskString(t, m, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.in, got, tt.want)
		}
	}
	if m.NumRules() != 4 {
		t.Errorf("NumRules = %d, want 4 (conditionals flattened)", m.NumRules())
	}
}

func TestMaskErrors(t *testing.T) {
	m := mustCompile(t, header+`rules:
  - {path: "$.a", masks: [{type: test_upper}]}
  - {path: "$.f", masks: [{type: test_fail}]}
  - {path: "$.bad", masks: [{type: test_badnum}]}
  - {path: "$.req", on_missing: error, masks: [{type: test_upper}]}
  - {path: "$.nn", on_null: error, masks: [{type: test_upper}]}
`)
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	tests := []struct {
		name   string
		in     string
		reason Reason
		where  string
	}{
		{"empty", ``, ReasonNotJSON, "offset 0"},
		{"garbage", `{"req":1} x`, ReasonNotJSON, "offset 10"},
		{"unclosed", `{"req":"a"`, ReasonNotJSON, ""},
		{"trailing comma", `{"req":1,}`, ReasonNotJSON, ""},
		{"bad number", `{"req":01}`, ReasonNotJSON, ""},
		{"bad literal", `{"req":tru}`, ReasonNotJSON, ""},
		{"control char", "{\"req\":\"a\x01\"}", ReasonNotJSON, ""},
		{"invalid utf8", "{\"req\":\"a\xff\"}", ReasonInvalidUTF8, "offset 9"},
		{"invalid utf8 in a name", "{\"r\xc3\":1,\"req\":1}", ReasonInvalidUTF8, ""},
		{"too deep", `{"req":1,"x":` + deep + `}`, ReasonTooDeep, ""},
		{"mask failed", `{"req":1,"f":"x"}`, ReasonMask, "$.f"},
		{"bad number from a mask", `{"req":1,"bad":"x"}`, ReasonMask, "$.bad"},
		{"missing", `{"a":"x"}`, ReasonMissing, "$.req"},
		{"null with on_null error", `{"req":1,"nn":null}`, ReasonMask, "$.nn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := m.MaskValue([]byte("keep"), testSecret, []byte(tt.in), nil)
			var me *MaskError
			if !errors.As(err, &me) {
				t.Fatalf("got %v (%s), want a *MaskError", err, out)
			}
			if me.Reason != tt.reason {
				t.Errorf("reason %s, want %s (%v)", me.Reason, tt.reason, err)
			}
			if tt.where != "" && me.Where != tt.where {
				t.Errorf("where %q, want %q", me.Where, tt.where)
			}
			if !errors.Is(err, ErrNotMasked) {
				t.Errorf("error does not wrap ErrNotMasked")
			}
			if string(out) != "keep" {
				t.Errorf("dst changed on error: %q", out)
			}
			if strings.Contains(err.Error(), "hunter") {
				t.Errorf("error quotes a value")
			}
		})
	}
	small, err := Compile(&rulesets.Ruleset{Name: "s"}, Options{MaxBytes: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.MaskValue(nil, testSecret, []byte(`"hello"`), nil); ReasonOf(err) != ReasonTooLarge {
		t.Errorf("too large: %v", err)
	}
}

func TestErrorsNeverQuoteValues(t *testing.T) {
	m := mustCompile(t, header+"rules: [{path: \"$.f\", masks: [{type: test_fail}]}]\n")
	_, err := m.MaskValue(nil, testSecret, []byte(`{"f":"SENSITIVE-VALUE"}`), nil)
	if err == nil || strings.Contains(err.Error(), "SENSITIVE") {
		t.Errorf("error %v", err)
	}
}

func TestCounts(t *testing.T) {
	m := mustCompile(t, header+`rules:
  - {path: "$.items[*].a", masks: [{type: test_upper}]}
  - {path: "$.b", masks: [{type: test_upper}]}
  - {path: "$.c", masks: [{type: test_upper}]}
`)
	counts := make([]uint32, m.NumRules())
	for range 2 {
		if _, err := m.MaskValue(nil, testSecret, []byte(`{"items":[{"a":"x"},{"a":"y"},{"a":""}],"b":null}`), &CallOptions{Counts: counts}); err != nil {
			t.Fatal(err)
		}
	}
	if counts[0] != 6 || counts[1] != 0 || counts[2] != 0 {
		t.Errorf("counts %v, want [6 0 0]", counts)
	}
	if got := m.RuleNames(); len(got) != 3 || got[0] != "0" {
		t.Errorf("RuleNames %v", got)
	}
}

func TestMaskRecord(t *testing.T) {
	m := mustCompile(t, header+`key:
  masks: [{type: test_upper}]
headers:
  - {name: Authorization, masks: [{type: test_tag}]}
  - {name: x-drop, masks: [{type: test_drop}]}
rules: [{path: "$.a", masks: [{type: test_upper}]}]
`)
	if !m.MasksKey() {
		t.Fatal("MasksKey false")
	}
	hs := []Header{{Key: "trace", Value: []byte("t")}, {Key: "authorization", Value: []byte("Bearer x")}, {Key: "X-Drop", Value: []byte("d")}}
	in := Record{Key: []byte("abc"), Value: []byte(`{"a":"x"}`), Headers: hs}
	out, err := m.MaskRecord(testSecret, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Value) != `{"a":"X"}` || string(out.Key) != "ABC" {
		t.Errorf("value %s key %s", out.Value, out.Key)
	}
	if len(out.Headers) != 2 || string(out.Headers[1].Value) != "<Bearer x>" || string(out.Headers[0].Value) != "t" {
		t.Errorf("headers %+v", out.Headers)
	}
	if string(hs[1].Value) != "Bearer x" || len(hs) != 3 {
		t.Errorf("the caller's headers changed")
	}
	// A key that parses as JSON is masked as a document.
	out, err = m.MaskRecord(testSecret, Record{Key: []byte(`"abc"`)}, nil)
	if err != nil || string(out.Key) != `"ABC"` || out.Value != nil {
		t.Errorf("JSON key: %s %v %v", out.Key, out.Value, err)
	}
	// A tombstone stays a tombstone.
	out, err = m.MaskRecord(testSecret, Record{Key: []byte("k")}, nil)
	if err != nil || out.Value != nil || string(out.Key) != "K" {
		t.Errorf("tombstone: %+v %v", out, err)
	}
}

func TestCompileErrors(t *testing.T) {
	rs, err := rulesets.Parse("bad", "bad.yaml", []byte(header+`rules:
  - {path: "$.a", masks: [{type: no_such_mask}]}
  - {path: "$.b", masks: [{type: also_missing}]}
`))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	_, err = Compile(rs, Options{})
	var l rulesets.ErrorList
	if !errors.As(err, &l) || len(l) != 2 {
		t.Fatalf("want an ErrorList of 2, got %v", err)
	}
	if l[0].Pos.Line != 4 || l[1].Pos.Line != 5 {
		t.Errorf("positions %v %v", l[0].Pos, l[1].Pos)
	}
}

func TestLookup(t *testing.T) {
	doc := []byte(`{"a":{"b":[1,{"c":"x\u0041"}]},"d":null,"e":[{"f":1},{"f":2}],"g":{"h":{"email":"e"}}}`)
	c := &Ctx{doc: doc}
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"$.a.b[1].c", "xA", true},
		{"$.a.b[-1].c", "xA", true},
		{"$.a.b[0]", "1", true},
		{"$.d", "", true},
		{"$.e[*].f", "1", true},
		{"$..email", "e", true},
		{"$.zz", "", false},
		{"$.a.b[5]", "", false},
		{"$.a.b[-5]", "", false},
		{"$.a.b.c", "", false},
	}
	for _, tt := range tests {
		p, err := rulesets.ParsePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := c.Lookup(p)
		if ok != tt.ok || ok && v.Text() != tt.want {
			t.Errorf("Lookup(%s) = %q %v, want %q %v", tt.path, v.Text(), ok, tt.want, tt.ok)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	m := mustCompile(t, header+"rules: [{path: \"$.items[*].a\", hash_sources: [\"$.id\"], masks: [{type: test_seed}]}]\n")
	in := []byte(`{"id":1,"items":[{"a":"x"},{"a":"y"}]}`)
	want, err := m.MaskValue(nil, testSecret, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 8)
	for range 8 {
		go func() {
			var out []byte
			for range 200 {
				out, _ = m.MaskValue(out[:0], testSecret, in, nil)
			}
			done <- string(out)
		}()
	}
	for range 8 {
		if got := <-done; got != string(want) {
			t.Errorf("concurrent output %s, want %s", got, want)
		}
	}
}

func compileString(y string) (*Masker, error) {
	rs, err := rulesets.Parse("test", "", []byte(y))
	if err != nil {
		return nil, err
	}
	return Compile(rs, Options{})
}

// TestHashSourceBindingInSubScan: a [*]-bound hash source gives the same
// result when its rule runs inside a container an earlier rule matched (a
// sub-scan over that rule's output) as in the main scan.
func TestHashSourceBindingInSubScan(t *testing.T) {
	rules := `  - path: "$.items[*].name"
    hash_sources: ["$.items[*].sku"]
    masks: [{type: test_seed}]
`
	plain := mustCompile(t, header+"rules:\n"+rules)
	nested := mustCompile(t, header+"rules:\n  - {path: \"$.items\", masks: [{type: do_nothing}]}\n"+rules)
	in := `{"items":[{"sku":"a","name":"x"},{"name":"x","sku":"b"},{"sku":"a","name":"y"}]}`
	a, err := maskString(t, plain, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := maskString(t, nested, in)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("main scan %s\nsub-scan  %s", a, b)
	}
	var v struct{ Items []struct{ Name string } }
	if err := json.Unmarshal([]byte(a), &v); err != nil {
		t.Fatal(err)
	}
	if v.Items[0].Name != v.Items[2].Name || v.Items[0].Name == v.Items[1].Name {
		t.Errorf("names should follow the sku: %s", a)
	}
}
