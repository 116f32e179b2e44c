package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/httpapi"
	"github.com/maskstream/maskstream/rulesets"
)

func TestMaskResponseShape(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/v1/mask/customer", "/ifm/ruleset-plans/customer/mask/", "/ifm/ruleset-plans/customer/mask"} {
		t.Run(path, func(t *testing.T) {
			r := e.do("POST", path, maskToken, `{"data":[{"customer_id":"c-1","email":"ann@corp.example","name":"Ann","keep":[1,2.50,{"x":null}]},{"customer_id":7},"just text",42,null],"request_id":"req-42"}`)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("Cache-Control = %q", got)
			}
			m := r.json(t)
			plan := m["ruleset_plan"].(map[string]any)
			if m["request_id"] != "req-42" || plan["name"] != "customer" || plan["serial"].(float64) < 1 ||
				m["encoding"] != "json" || m["charset"] != "utf-8" || len(m["logs"].([]any)) != 0 {
				t.Fatalf("envelope = %s", r.body)
			}
			data := m["data"].([]any)
			if len(data) != 5 {
				t.Fatalf("data has %d entries", len(data))
			}
			rec := data[0].(map[string]any)
			if rec["name"] != "REDACTED" || rec["email"] == "ann@corp.example" || !strings.HasSuffix(rec["email"].(string), "@example.com") || rec["customer_id"] == "c-1" {
				t.Fatalf("record 0 = %v", rec)
			}
			// Unselected bytes pass through as they were.
			if !strings.Contains(string(r.body), `"keep":[1,2.50,{"x":null}]`) {
				t.Fatalf("untouched member changed: %s", r.body)
			}
			if data[2] != "just text" || data[3] != float64(42) || data[4] != nil {
				t.Fatalf("scalar roots = %v", data[2:])
			}
		})
	}
}

func TestMaskGeneratesRequestID(t *testing.T) {
	e := newEnv(t)
	ids := map[string]bool{}
	for range 3 {
		r := e.do("POST", "/v1/mask/customer", maskToken, `{"data":[]}`)
		id, _ := r.json(t)["request_id"].(string)
		if len(id) != 36 || ids[id] {
			t.Fatalf("request_id = %q (seen: %v)", id, ids)
		}
		ids[id] = true
	}
}

// TestMaskConsistentWithEngine: the HTTP endpoint's output is byte for
// byte what the engine gives for the same record and secret.
func TestMaskConsistentWithEngine(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.AllowRequestSecret = true })
	rs, err := rulesets.Parse("customer", "", []byte(customerYAML))
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.Compile(rs, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	records := []string{
		`{"customer_id":"c-1","email":"ann@corp.example","name":"Ann"}`,
		`{ "customer_id" : 123456, "email": "b\u00e9@x.example", "other": {"deep": [true, false]} }`,
		`{"customer_id":"c-1","email":null}`,
	}
	secrets := []struct {
		name   string
		field  string
		secret *engine.Secret
	}{
		{"server secret", "", e.secret},
		{"request secret", `,"run_secret":"another-secret-0123456789"`, engine.MustSecret("another-secret-0123456789")},
	}
	for _, sec := range secrets {
		t.Run(sec.name, func(t *testing.T) {
			body := `{"data":[` + strings.Join(records, ",") + `]` + sec.field + `}`
			r := e.do("POST", "/v1/mask/customer", maskToken, body)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var resp struct {
				Data []json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(r.body, &resp); err != nil {
				t.Fatal(err)
			}
			for i, rec := range records {
				want, err := m.MaskValue(nil, sec.secret, []byte(rec), nil)
				if err != nil {
					t.Fatal(err)
				}
				if string(resp.Data[i]) != string(want) {
					t.Fatalf("record %d: HTTP %s, engine %s", i, resp.Data[i], want)
				}
			}
		})
	}
}

func TestMaskHashValues(t *testing.T) {
	e := newEnv(t)
	mask := func(body string) []map[string]any {
		t.Helper()
		r := e.do("POST", "/v1/mask/customer", maskToken, body)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var out []map[string]any
		for _, d := range r.json(t)["data"].([]any) {
			out = append(out, d.(map[string]any))
		}
		return out
	}
	recs := `[{"customer_id":"a","email":"a@x.example"},{"customer_id":"b","email":"b@y.example"},{"customer_id":"c","email":"c@z.example"}]`
	plain := mask(`{"data":` + recs + `}`)
	if plain[0]["email"] == plain[1]["email"] {
		t.Fatal("different emails masked alike without hash_values")
	}
	// 123 and "123" hash alike; null keeps the record's own hash input.
	hashed := mask(`{"data":` + recs + `,"hash_values":["123",123,null]}`)
	if hashed[0]["email"] != hashed[1]["email"] || hashed[0]["customer_id"] != hashed[1]["customer_id"] {
		t.Fatalf("equal hash values masked differently: %v / %v", hashed[0], hashed[1])
	}
	if hashed[2]["email"] != plain[2]["email"] {
		t.Fatalf("a null hash value changed the output: %v vs %v", hashed[2], plain[2])
	}

	r := e.do("POST", "/v1/mask/customer", maskToken, `{"data":`+recs+`,"hash_values":["x"]}`)
	if r.status != 400 || !strings.Contains(string(r.body), "one entry per data entry") {
		t.Fatalf("short hash_values: %d %s", r.status, r.body)
	}
}

func TestMaskSoftFailure(t *testing.T) {
	e := newEnv(t)
	body := `{"data":[{"customer_id":"c-1"},{"email":"ann@corp.example"},{"customer_id":"c-3"},{"name":"Bob"}],"request_id":"soft"}`
	for _, path := range []string{"/v1/mask/strict", "/ifm/ruleset-plans/strict/mask/"} {
		t.Run(path, func(t *testing.T) {
			r := e.do("POST", path, maskToken, body)
			if r.status != 400 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.json(t)
			if _, ok := m["data"]; ok {
				t.Fatalf("a soft failure carries data: %s", r.body)
			}
			if m["request_id"] != "soft" || m["ruleset_plan"].(map[string]any)["name"] != "strict" {
				t.Fatalf("soft failure envelope: %s", r.body)
			}
			logs := m["logs"].([]any)
			if len(logs) != 2 {
				t.Fatalf("logs = %v, want the two records without customer_id", logs)
			}
			for i, want := range []string{"data[1]", "data[3]"} {
				l := logs[i].(map[string]any)
				if l["log_level"] != "error" || !strings.HasPrefix(l["message"].(string), want+": ") || l["timestamp"] == "" {
					t.Fatalf("log %d = %v", i, l)
				}
			}
			if strings.Contains(string(r.body), "ann@corp.example") || strings.Contains(string(r.body), "Bob") {
				t.Fatalf("the soft failure quotes a record: %s", r.body)
			}
			_, hasErr := m["error"]
			if hasErr != strings.HasPrefix(path, "/v1/") {
				t.Fatalf("error object on %s: %v", path, hasErr)
			}
		})
	}
}

func TestMaskRequestFields(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		path, body string
		wantStatus int
		want       string
	}{
		{"unknown field v1", "/v1/mask/customer", `{"data":[],"extra":1}`, 400, `unknown field \"extra\"`},
		{"unknown field ifm", "/ifm/ruleset-plans/customer/mask/", `{"data":[],"extra":1}`, 422, `unknown field \"extra\"`},
		{"missing data v1", "/v1/mask/customer", `{}`, 400, "field data is required"},
		{"missing data ifm", "/ifm/ruleset-plans/customer/mask/", `{"request_id":"x"}`, 422, "field data is required"},
		{"data not array", "/ifm/ruleset-plans/customer/mask/", `{"data":{"a":1}}`, 422, "must be an array of records, not an object"},
		{"request_id type", "/ifm/ruleset-plans/customer/mask/", `{"data":[],"request_id":5}`, 422, "request_id must be a string"},
		{"log_level value", "/ifm/ruleset-plans/customer/mask/", `{"data":[],"log_level":"loud"}`, 422, "log_level must be debug, info, warning, error or critical"},
		{"log_level CRITICAL", "/ifm/ruleset-plans/customer/mask/", `{"data":[{"name":"Ann"}],"log_level":"CRITICAL"}`, 200, `"logs":[],"data":[{"name":"REDACTED"}]`},
		// A soft failure's error logs come at every level (docs/http-api.md).
		{"log_level critical soft failure", "/ifm/ruleset-plans/strict/mask/", `{"data":[{"name":"Ann"}],"log_level":"critical"}`, 400, `"logs":[{"log_level":"error"`},
		{"disable_instance_secret type", "/ifm/ruleset-plans/customer/mask/", `{"data":[],"disable_instance_secret":"yes"}`, 422, "must be a boolean"},
		{"disable_instance_secret on v1", "/v1/mask/customer", `{"data":[],"disable_instance_secret":true}`, 400, "unknown field"},
		{"ai_engine_url", "/ifm/ruleset-plans/customer/mask/", `{"data":[],"ai_engine_url":"http://x"}`, 422, "not supported"},
		{"body not object", "/ifm/ruleset-plans/customer/mask/", `[1]`, 422, "must be a JSON object"},
		{"duplicate key", "/ifm/ruleset-plans/customer/mask/", `{"data":[],"data":[]}`, 400, `byte offset 11: duplicate key \"data\"`},
		{"unknown ruleset", "/v1/mask/nope", `{"data":[]}`, 404, `no ruleset plan named \"nope\"`},
		{"unknown plan", "/ifm/ruleset-plans/nope/mask/", `{"data":[]}`, 404, `"detail"`},
		{"nulls are absent", "/ifm/ruleset-plans/customer/mask/", `{"data":[],"request_id":null,"run_secret":null,"hash_values":null,"log_level":null,"disable_instance_secret":null}`, 200, `"data":[]`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			r := e.do("POST", test.path, maskToken, test.body)
			if r.status != test.wantStatus || !strings.Contains(string(r.body), test.want) {
				t.Fatalf("%d %s; want %d with %q", r.status, r.body, test.wantStatus, test.want)
			}
		})
	}
}

func TestMalformedJSON(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		body string
		want string
	}{
		{``, "byte offset 0: the body is empty"},
		{`{"data":[1,2,]}`, "byte offset 13"},
		{`{"data":[{"a":1}]`, "byte offset 17"},
		{`{"data":[]} {}`, "byte offset 12: unexpected data after"},
		{`{"data":["ab` + "\x01" + `"]}`, "byte offset 12: control character"},
		{`{"data":["` + "\xff" + `"]}`, "byte offset 10: invalid UTF-8"},
		{`{"data":[01]}`, "byte offset 10"},
		{`{"data":[tru]}`, "byte offset 9: invalid literal"},
		{`{"data":["\x"]}`, "byte offset 10: invalid escape"},
		{`{data:[]}`, "byte offset 1: expected a quoted key"},
		{`{"data" []}`, "byte offset 8: expected ':'"},
	}
	for _, test := range tests {
		for _, path := range []string{"/v1/mask/customer", "/ifm/ruleset-plans/customer/mask/"} {
			t.Run(path+" "+test.body, func(t *testing.T) {
				r := e.do("POST", path, maskToken, test.body)
				if r.status != 400 || !strings.Contains(string(r.body), test.want) {
					t.Fatalf("%d %s; want 400 with %q", r.status, r.body, test.want)
				}
			})
		}
	}
}

func TestMaskLimits(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) {
		c.MaxBodyBytes = 4096
		c.MaxDepth = 5
		c.MaxRecordBytes = 200
	})
	deep := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	// fill is a body of size bytes of small records: one that gets past
	// the size check masks fine, so only the check can refuse it.
	fill := func(size int) string {
		const head, rec, tail = `{"data":[`, `{"customer_id":"c-1"},`, `{}]`
		b := head + strings.Repeat(rec, (size-len(head)-len(tail)-1)/len(rec)) + tail
		b += strings.Repeat(" ", size-len(b)-1) + "}"
		if len(b) != size {
			t.Fatalf("fill(%d) is %d bytes", size, len(b))
		}
		return b
	}
	tests := []struct {
		name       string
		body       string
		chunked    bool
		wantStatus int
		want       string
	}{
		{"body too large", `{"data":["` + strings.Repeat("x", 5000) + `"]}`, false, 413, "larger than the limit of 4096 bytes"},
		{"body over the limit, no Content-Length", fill(4097), true, 413, "larger than the limit of 4096 bytes"},
		{"body at the limit, no Content-Length", fill(4096), true, 200, `"data":[{"customer_id":`},
		{"nesting at the limit", `{"data":[` + deep(5) + `]}`, false, 200, `"data":[{"a":`},
		{"nesting beyond the limit", `{"data":[` + deep(6) + `]}`, false, 400, "nesting deeper than 5 levels"},
		{"deep arrays", `{"data":[` + strings.Repeat("[", 6) + strings.Repeat("]", 6) + `]}`, false, 400, "nesting deeper than 5 levels"},
		{"record too large", `{"data":[{"customer_id":"x","pad":"` + strings.Repeat("y", 300) + `"}]}`, false, 400, "too_large"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var body any = test.body
			if test.chunked {
				body = chunked(test.body)
			}
			r := e.do("POST", "/v1/mask/customer", maskToken, body)
			if r.status != test.wantStatus || !strings.Contains(string(r.body), test.want) {
				t.Fatalf("%d %s; want %d with %q", r.status, r.body, test.wantStatus, test.want)
			}
		})
	}
}

func TestRequestSecrets(t *testing.T) {
	rec := `{"customer_id":"c-1","email":"ann@corp.example"}`
	tests := []struct {
		name       string
		allow      bool
		noServer   bool
		path       string
		extra      string
		wantStatus int
		want       string
	}{
		{"refused", false, false, "/v1/mask/customer", `,"run_secret":"request-secret-0123456789"`, 403, "does not allow a run_secret"},
		{"refused ifm", false, false, "/ifm/ruleset-plans/customer/mask/", `,"run_secret":"request-secret-0123456789"`, 403, `"detail"`},
		{"allowed", true, false, "/v1/mask/customer", `,"run_secret":"request-secret-0123456789"`, 200, `"data"`},
		{"too short", true, false, "/v1/mask/customer", `,"run_secret":"short"`, 400, "16 to 256 characters"},
		{"shortest", true, false, "/v1/mask/customer", `,"run_secret":"` + strings.Repeat("s", 16) + `"`, 200, `"data"`},
		{"one too short", true, false, "/v1/mask/customer", `,"run_secret":"` + strings.Repeat("s", 15) + `"`, 400, "16 to 256 characters"},
		{"longest", true, false, "/v1/mask/customer", `,"run_secret":"` + strings.Repeat("s", 256) + `"`, 200, `"data"`},
		{"one too long", true, false, "/ifm/ruleset-plans/customer/mask/", `,"run_secret":"` + strings.Repeat("s", 257) + `"`, 400, "16 to 256 characters"},
		{"trailing space", true, false, "/v1/mask/customer", `,"run_secret":"request-secret-0123456789 "`, 400, "run_secret: starts or ends with a space or a tab; remove them"},
		{"shell line", true, false, "/v1/mask/customer", `,"run_secret":"export S=request-secret-0123456789"`, 400, `run_secret: starts with \"export \"`},
		// Characters, not bytes: 256 two-byte characters are 512 bytes.
		{"longest in characters", true, false, "/v1/mask/customer", `,"run_secret":"` + strings.Repeat("é", 256) + `"`, 200, `"data"`},
		{"one too long in characters", true, false, "/v1/mask/customer", `,"run_secret":"` + strings.Repeat("é", 257) + `"`, 400, "16 to 256 characters"},
		{"not a string", true, false, "/ifm/ruleset-plans/customer/mask/", `,"run_secret":12345678901234567890`, 422, "run_secret must be a string, not a number"},
		{"no server secret", true, true, "/v1/mask/customer", ``, 400, "no run secret of its own"},
		{"no server secret, request secret", true, true, "/v1/mask/customer", `,"run_secret":"request-secret-0123456789"`, 200, `"data"`},
		{"disable_instance_secret without run_secret", false, false, "/ifm/ruleset-plans/customer/mask/", `,"disable_instance_secret":true`, 200, `"data"`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			e := newEnv(t, func(c *httpapi.Config, d *httpapi.Deps) {
				c.AllowRequestSecret = test.allow
				if test.noServer {
					d.Secret = nil
				}
			})
			r := e.do("POST", test.path, maskToken, `{"data":[`+rec+`]`+test.extra+`}`)
			if r.status != test.wantStatus || !strings.Contains(string(r.body), test.want) {
				t.Fatalf("%d %s; want %d with %q", r.status, r.body, test.wantStatus, test.want)
			}
			if strings.Contains(string(r.body), "request-secret-0123456789") {
				t.Fatal("the response quotes the run secret")
			}
		})
	}

	// The request's secret decides the output: not the server's.
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.AllowRequestSecret = true })
	a := e.do("POST", "/v1/mask/customer", maskToken, `{"data":[`+rec+`]}`).json(t)["data"]
	b := e.do("POST", "/v1/mask/customer", maskToken, `{"data":[`+rec+`],"run_secret":"request-secret-0123456789"}`).json(t)["data"]
	if fmt.Sprint(a) == fmt.Sprint(b) {
		t.Fatal("a request secret gave the server secret's output")
	}
}

// TestDisableInstanceSecret: with a run_secret, disable_instance_secret
// masks with that secret exactly; without one, with a fresh secret per
// request. Never with the server's.
func TestDisableInstanceSecret(t *testing.T) {
	const reqSecret = "request-secret-0123456789"
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.AllowRequestSecret = true })
	rs, err := rulesets.Parse("customer", "", []byte(customerYAML))
	if err != nil {
		t.Fatal(err)
	}
	m, err := engine.Compile(rs, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := `{"customer_id":"C1234567","email":"ann@corp.example"}`
	withSecret := func(sec *engine.Secret) string {
		out, err := m.MaskValue(nil, sec, []byte(rec), nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	serverOut, reqOut := withSecret(e.secret), withSecret(engine.MustSecret(reqSecret))
	if serverOut == reqOut {
		t.Fatal("the two secrets mask alike: the test cannot tell them apart")
	}
	mask := func(extra string) string {
		t.Helper()
		r := e.do("POST", "/ifm/ruleset-plans/customer/mask/", maskToken, `{"data":[`+rec+`]`+extra+`}`)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", extra, r.status, r.body)
		}
		var resp struct{ Data []json.RawMessage }
		if err := json.Unmarshal(r.body, &resp); err != nil || len(resp.Data) != 1 {
			t.Fatalf("%s: %v %s", extra, err, r.body)
		}
		return string(resp.Data[0])
	}

	if got := mask(`,"disable_instance_secret":false`); got != serverOut {
		t.Fatalf("disable_instance_secret false: %s, want the server secret's %s", got, serverOut)
	}
	if got := mask(`,"run_secret":"` + reqSecret + `","disable_instance_secret":true`); got != reqOut {
		t.Fatalf("with a run_secret: %s, want that secret's %s (the server secret gives %s)", got, reqOut, serverOut)
	}
	a, b := mask(`,"disable_instance_secret":true`), mask(`,"disable_instance_secret":true`)
	if a == serverOut || b == serverOut {
		t.Fatal("without a run_secret, the request was masked with the server secret")
	}
	if a == b {
		t.Fatal("without a run_secret, two requests masked alike: the secret is not fresh per request")
	}
}

func TestNoSecretNeedsAllowRequestSecret(t *testing.T) {
	_, err := httpapi.New(httpapi.Config{}, httpapi.Deps{Store: newStore(t)})
	if err == nil || !strings.Contains(err.Error(), "no run secret") {
		t.Fatalf("New without a secret: %v", err)
	}
}

func TestMaskDisabledPlan(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/ifm/ruleset-plans/", adminToken, map[string]any{"name": "off", "ruleset_yaml": customerYAML, "options": map[string]any{"enabled": false}})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/ifm/ruleset-plans/off/mask/", maskToken, `{"data":[]}`)
	if r.status != 409 || !strings.Contains(string(r.body), "disabled") {
		t.Fatalf("mask with a disabled plan: %d %s", r.status, r.body)
	}
}

func TestMaskDebugLogs(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/mask/customer", maskToken, `{"data":[{"customer_id":"x"}],"log_level":"DEBUG"}`)
	logs := r.json(t)["logs"].([]any)
	if len(logs) != 1 || logs[0].(map[string]any)["log_level"] != "debug" || !strings.Contains(logs[0].(map[string]any)["message"].(string), "masking 1 records") {
		t.Fatalf("debug logs = %v", logs)
	}
}
