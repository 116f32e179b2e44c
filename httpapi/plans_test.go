package httpapi_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/httpapi"
	"github.com/maskstream/maskstream/httpapi/status"
)

// TestDataMasqueRoundTrip follows a DataMasque client through the /ifm
// API: verify the token, create a plan, mask with it, list, patch, replace,
// delete.
func TestDataMasqueRoundTrip(t *testing.T) {
	e := newEnv(t)

	if r := e.do("GET", "/ifm/verify-token/", allToken, nil); r.status != 200 {
		t.Fatalf("verify-token: %d %s", r.status, r.body)
	}

	r := e.do("POST", "/ifm/ruleset-plans/", adminToken, map[string]any{
		"name": "orders", "ruleset_yaml": customerYAML,
		"options": map[string]any{"default_log_level": "DEBUG"},
	})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	plan := r.json(t)
	serial1 := plan["serial"].(float64)
	if plan["name"] != "orders" || plan["ruleset_yaml"] != customerYAML || plan["url"] != e.baseURL+"/ifm/ruleset-plans/orders/" ||
		r.header.Get("Location") != plan["url"] || plan["created_time"] == nil || plan["modified_time"] == nil {
		t.Fatalf("created plan = %s", r.body)
	}
	opts := plan["options"].(map[string]any)
	if opts["enabled"] != true || opts["default_log_level"] != "debug" || opts["default_encoding"] != "json" || opts["default_charset"] != "utf-8" {
		t.Fatalf("options = %v", opts)
	}
	if logs := plan["logs"].([]any); len(logs) != 1 || logs[0].(map[string]any)["log_level"] != "info" {
		t.Fatalf("logs = %v", logs)
	}
	if r := e.do("POST", "/ifm/ruleset-plans/", adminToken, map[string]any{"name": "orders", "ruleset_yaml": customerYAML}); r.status != 409 {
		t.Fatalf("create again: %d %s", r.status, r.body)
	}

	// Mask: the plan's default_log_level (debug) gives a log line.
	r = e.do("POST", "/ifm/ruleset-plans/orders/mask/", maskToken, `{"data":[{"name":"Ann"}],"request_id":"r1"}`)
	m := r.json(t)
	if r.status != 200 || m["request_id"] != "r1" || m["ruleset_plan"].(map[string]any)["serial"] != serial1 ||
		m["data"].([]any)[0].(map[string]any)["name"] != "REDACTED" || len(m["logs"].([]any)) != 1 {
		t.Fatalf("mask: %d %s", r.status, r.body)
	}

	// List with limit/offset: customer, orders, strict (sorted).
	r = e.do("GET", "/ifm/ruleset-plans/?limit=1&offset=1", maskToken, nil)
	m = r.json(t)
	items := m["items"].([]any)
	if r.status != 200 || m["total"] != float64(3) || m["limit"] != float64(1) || m["offset"] != float64(1) || len(items) != 1 ||
		items[0].(map[string]any)["name"] != "orders" {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if _, ok := items[0].(map[string]any)["ruleset_yaml"]; ok {
		t.Fatal("the list shows ruleset text to a mask-only token")
	}
	if r := e.do("GET", "/ifm/ruleset-plans/?offset=10", readToken, nil); len(r.json(t)["items"].([]any)) != 0 {
		t.Fatalf("offset past the end: %s", r.body)
	}
	for _, q := range []string{"limit=0", "limit=x", "offset=-1", "limit=1001"} {
		if r := e.do("GET", "/ifm/ruleset-plans/?"+q, readToken, nil); r.status != 422 {
			t.Fatalf("list ?%s: %d %s", q, r.status, r.body)
		}
	}

	// PATCH options alone: the ruleset stays, enabled goes false.
	r = e.do("PATCH", "/ifm/ruleset-plans/orders/", adminToken, `{"options":{"enabled":false}}`)
	m = r.json(t)
	if r.status != 200 || m["serial"].(float64) <= serial1 || m["ruleset_yaml"] != customerYAML ||
		m["options"].(map[string]any)["enabled"] != false || m["options"].(map[string]any)["default_log_level"] != "debug" {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/ifm/ruleset-plans/orders/mask/", maskToken, `{"data":[]}`); r.status != 409 {
		t.Fatalf("mask a disabled plan: %d", r.status)
	}
	// An empty PATCH changes nothing.
	if r := e.do("PATCH", "/ifm/ruleset-plans/orders/", adminToken, `{}`); r.json(t)["serial"] != m["serial"] {
		t.Fatalf("empty patch: %s", r.body)
	}

	// PUT replaces the ruleset and resets the options to those given.
	r = e.do("PUT", "/ifm/ruleset-plans/orders/", adminToken, map[string]any{"ruleset_yaml": strictYAML})
	m = r.json(t)
	if r.status != 200 || m["ruleset_yaml"] != strictYAML || m["options"].(map[string]any)["enabled"] != true {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/ifm/ruleset-plans/orders/", adminToken, `{"options":{}}`); r.status != 422 {
		t.Fatalf("put without ruleset_yaml: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/ifm/ruleset-plans/nope/", adminToken, map[string]any{"ruleset_yaml": strictYAML}); r.status != 404 {
		t.Fatalf("put a missing plan: %d %s", r.status, r.body)
	}

	if r := e.do("DELETE", "/ifm/ruleset-plans/orders/", adminToken, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/ifm/ruleset-plans/orders/", adminToken, nil); r.status != 404 || !strings.Contains(string(r.body), `"detail"`) {
		t.Fatalf("get after delete: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/ifm/ruleset-plans/orders/", adminToken, nil); r.status != 404 {
		t.Fatalf("delete again: %d", r.status)
	}
}

// TestPublicURL: behind a TLS-terminating proxy the server sees plain
// HTTP on its own address; Config.PublicURL is what every url and
// Location it answers with starts with.
func TestPublicURL(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.PublicURL = "https://masking.example.com/" })
	r := e.do("POST", "/ifm/ruleset-plans/", adminToken, map[string]any{"name": "orders", "ruleset_yaml": customerYAML})
	const want = "https://masking.example.com/ifm/ruleset-plans/orders/"
	if r.status != 201 || r.json(t)["url"] != want || r.header.Get("Location") != want {
		t.Fatalf("create: %d Location %q: %s", r.status, r.header.Get("Location"), r.body)
	}
	r = e.do("GET", "/ifm/ruleset-plans/", readToken, nil)
	for _, it := range r.json(t)["items"].([]any) {
		p := it.(map[string]any)
		if p["url"] != "https://masking.example.com/ifm/ruleset-plans/"+p["name"].(string)+"/" {
			t.Errorf("listed plan url %v", p["url"])
		}
	}
	r = e.do("PUT", "/v1/rulesets/people", adminToken, customerYAML)
	if u, _ := r.json(t)["url"].(string); !strings.HasPrefix(u, "https://masking.example.com/v1/mask/people") {
		t.Errorf("v1 upload url %q", u)
	}
	for _, bad := range []string{"masking.example.com", "ftp://masking.example.com", "https://", "https://user:hunter2@masking.example.com", "https://masking.example.com/?token=hunter2", "https://masking.example.com/#x"} {
		_, err := httpapi.New(httpapi.Config{PublicURL: bad}, httpapi.Deps{Store: newStore(t), Secret: testSecretValue()})
		if err == nil || !strings.Contains(err.Error(), "public URL") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("public URL %q: %v", bad, err)
		}
	}
}

func TestPlanBodyStrictness(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path, body string
		wantStatus         int
		want               string
	}{
		{"POST", "/ifm/ruleset-plans/", `{"name":"a","ruleset_yaml":"x","color":1}`, 422, `unknown field \"color\"`},
		{"POST", "/ifm/ruleset-plans/", `{"name":1,"ruleset_yaml":"x"}`, 422, "name must be a string, not a number"},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a","ruleset_yaml":["x"]}`, 422, "ruleset_yaml must be a string, not an array"},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a"}`, 422, "ruleset_yaml is required"},
		{"POST", "/ifm/ruleset-plans/", `{"ruleset_yaml":"x"}`, 422, "name is required"},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a","ruleset_yaml":"x","options":{"enabled":"yes"}}`, 422, "options.enabled must be a boolean"},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a","ruleset_yaml":"x","options":{"mode":1}}`, 422, "unknown field options.mode"},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a","ruleset_yaml":"x","options":[]}`, 422, "options must be an object"},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a","ruleset_yaml":` + quote(customerYAML) + `,"options":{"default_encoding":"xml"}}`, 422, "only encoding is json"},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a/b","ruleset_yaml":"x"}`, 400, "a ruleset name is"},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a","ruleset_yaml":"x"`, 400, "byte offset 30"},
		{"PATCH", "/ifm/ruleset-plans/customer/", `{"name":"x"}`, 422, `unknown field \"name\"`},
		{"POST", "/ifm/ruleset-plans/", `{"name":"a","ruleset_yaml":` + quote(customerYAML) + `,"options":{"default_log_level":"loud"}}`, 422, "use debug, info, warning, error or critical"},
		// DataMasque's dm CLI sends its levels upper case, CRITICAL included.
		{"POST", "/ifm/ruleset-plans/", `{"name":"crit","ruleset_yaml":` + quote(customerYAML) + `,"options":{"default_log_level":"CRITICAL"}}`, 201, `"default_log_level":"critical"`},
	}
	for _, test := range tests {
		t.Run(test.body, func(t *testing.T) {
			r := e.do(test.method, test.path, adminToken, test.body)
			if r.status != test.wantStatus || !strings.Contains(string(r.body), test.want) {
				t.Fatalf("%d %s; want %d with %q", r.status, r.body, test.wantStatus, test.want)
			}
		})
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func TestRulesetUploadErrors(t *testing.T) {
	e := newEnv(t)
	bad := "version: 1.0\nrules:\n  - path: \"$.a\"\n    masks: [ { type: from_fixed } ]\n    colour: red\n"
	r := e.do("PUT", "/v1/rulesets/broken", adminToken, bad)
	if r.status != 400 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	errObj := r.json(t)["error"].(map[string]any)
	details := errObj["details"].([]any)
	if errObj["code"] != "invalid_ruleset" || len(details) < 2 {
		t.Fatalf("error = %s", r.body)
	}
	var got []string
	for _, d := range details {
		dm := d.(map[string]any)
		if dm["message"] == "" {
			t.Fatalf("detail without message: %v", dm)
		}
		got = append(got, fmt.Sprintf("%v:%v", dm["line"], dm["column"]))
	}
	if strings.Join(got, " ") != "1:10 5:5" {
		t.Fatalf("positions = %v, want 1:10 (version) and 5:5 (unknown key); %s", got, r.body)
	}
	if _, ok := e.store.Get("broken"); ok {
		t.Fatal("a ruleset with errors was stored")
	}

	// The same through /ifm: DataMasque's detail plus the list.
	r = e.do("POST", "/ifm/ruleset-plans/", adminToken, map[string]any{"name": "broken", "ruleset_yaml": bad})
	m := r.json(t)
	if r.status != 400 || !strings.Contains(m["detail"].(string), "not valid") || len(m["errors"].([]any)) != len(details) {
		t.Fatalf("ifm: %d %s", r.status, r.body)
	}

	if r := e.do("PUT", "/v1/rulesets/empty", adminToken, ""); r.status != 400 {
		t.Fatalf("empty upload: %d %s", r.status, r.body)
	}
}

// TestRulesetUploadTooLarge: an upload over the limit is a 413 that
// speaks of the ruleset and where a larger one fits, not of records.
func TestRulesetUploadTooLarge(t *testing.T) {
	const limit = 1024
	e := newEnv(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.MaxRulesetBytes = limit })
	// pad is a valid ruleset of size bytes, so only the size check can
	// refuse it.
	pad := func(size int) string {
		y := customerYAML + "#"
		y += strings.Repeat("x", size-len(y)-1) + "\n"
		if len(y) != size {
			t.Fatalf("pad(%d) is %d bytes", size, len(y))
		}
		return y
	}
	const want = "the ruleset is larger than the upload limit of 1024 bytes; shorten it, or put it in a file of the rulesets dir (up to 4194304 bytes) and reload"
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"v1", "PUT", "/v1/rulesets/big", pad(limit + 1)},
		{"v1, no Content-Length", "PUT", "/v1/rulesets/big", chunked(pad(limit + 1))},
		{"ifm create", "POST", "/ifm/ruleset-plans/", map[string]any{"name": "big", "ruleset_yaml": pad(limit + 1)}},
		{"ifm body", "POST", "/ifm/ruleset-plans/", `{"name":"big","ruleset_yaml":"` + strings.Repeat(" ", 2*limit+64<<10) + `"}`},
		{"ifm body, no Content-Length", "POST", "/ifm/ruleset-plans/", chunked(`{"name":"big","ruleset_yaml":"` + strings.Repeat(" ", 2*limit+64<<10) + `"}`)},
		{"ifm update", "PUT", "/ifm/ruleset-plans/big/", map[string]any{"ruleset_yaml": pad(limit + 1)}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			r := e.do(test.method, test.path, adminToken, test.body)
			msg := string(r.body)
			if r.status != 413 || !strings.Contains(msg, want) || strings.Contains(msg, "records") {
				t.Fatalf("%d %s; want 413 with %q", r.status, r.body, want)
			}
			if strings.HasPrefix(test.path, "/v1/") && r.json(t)["error"].(map[string]any)["code"] != "too_large" {
				t.Fatalf("code: %s", r.body)
			}
			if _, ok := e.store.Get("big"); ok {
				t.Fatal("an upload over the limit was stored")
			}
		})
	}
	if r := e.do("PUT", "/v1/rulesets/big", adminToken, chunked(pad(limit))); r.status != 201 {
		t.Fatalf("an upload at the limit: %d %s", r.status, r.body)
	}
}

func TestV1Rulesets(t *testing.T) {
	e := newEnv(t)
	r := e.do("PUT", "/v1/rulesets/uploaded", adminToken, customerYAML)
	m := r.json(t)
	if r.status != 201 || m["name"] != "uploaded" || m["url"] != e.baseURL+"/v1/mask/uploaded" {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	s1 := m["serial"].(float64)
	r = e.do("PUT", "/v1/rulesets/uploaded", adminToken, strictYAML)
	if r.status != 200 || r.json(t)["serial"].(float64) <= s1 {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}

	r = e.do("GET", "/v1/rulesets", readToken, nil)
	var names []string
	for _, it := range r.json(t)["rulesets"].([]any) {
		im := it.(map[string]any)
		names = append(names, fmt.Sprint(im["name"], ":", im["source"]))
	}
	if got := strings.Join(names, " "); got != "customer:file strict:file uploaded:upload" {
		t.Fatalf("list = %s", got)
	}

	r = e.do("GET", "/v1/rulesets/uploaded", readToken, nil)
	if r.status != 200 || r.json(t)["ruleset_yaml"] != strictYAML {
		t.Fatalf("get: %d %s", r.status, r.body)
	}

	// A ruleset from the rulesets dir is read-only.
	for _, method := range []string{"PUT", "DELETE"} {
		r := e.do(method, "/v1/rulesets/customer", adminToken, customerYAML)
		if r.status != 409 || r.json(t)["error"].(map[string]any)["code"] != "read_only" {
			t.Fatalf("%s file ruleset: %d %s", method, r.status, r.body)
		}
	}
	if r := e.do("PUT", "/v1/rulesets/bad.name!", adminToken, customerYAML); r.status != 400 || !strings.Contains(string(r.body), "bad_name") {
		t.Fatalf("bad name: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/v1/rulesets/uploaded", adminToken, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/rulesets/uploaded", readToken, nil); r.status != 404 {
		t.Fatalf("get deleted: %d", r.status)
	}
}

// TestRulesetFileRestored: a file of the rulesets dir that failed to
// reload and is then put back is shown healthy again, on the API and on
// the status page, still at the serial it served throughout.
func TestRulesetFileRestored(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, "customer.yaml")
	get := func() (serial float64, last map[string]any) {
		t.Helper()
		r := e.do("GET", "/v1/rulesets/customer", readToken, nil)
		m := r.json(t)
		logs := m["logs"].([]any)
		return m["serial"].(float64), logs[len(logs)-1].(map[string]any)
	}
	serial, _ := get()

	broken := customerYAML + "  - path: \"$.phone\"\n    masks: [ { type: no_such_mask } ]\n"
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Reload(); err == nil {
		t.Fatal("Reload of a broken file: no error")
	}
	if _, last := get(); last["log_level"] != "error" {
		t.Fatalf("after the broken reload, last log = %v", last)
	}

	if err := os.WriteFile(path, []byte(customerYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Reload(); err != nil {
		t.Fatal(err)
	}
	s2, last := get()
	want := fmt.Sprintf("reloaded from customer.yaml: the file is back to the version serving (serial %.0f)", serial)
	if s2 != serial || last["log_level"] != "info" || last["message"] != want {
		t.Fatalf("after the restore: serial %v (was %v), last log %v; want info %q", s2, serial, last, want)
	}
	ent, _ := e.store.Get("customer")
	if st := status.FromEntry(ent); st.LastResult != status.ReloadOK || len(st.Problems) != 0 {
		t.Fatalf("status page: last_result %q, problems %v", st.LastResult, st.Problems)
	}
}

func TestPlansSurviveRestart(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/ifm/ruleset-plans/", adminToken, map[string]any{
		"name": "kept", "ruleset_yaml": customerYAML, "options": map[string]any{"default_log_level": "info"},
	})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	before := r.json(t)
	masked := e.do("POST", "/v1/mask/kept", maskToken, maskBody).json(t)["data"]

	e.start() // a new store and server over the same dirs

	r = e.do("GET", "/ifm/ruleset-plans/kept/", adminToken, nil)
	after := r.json(t)
	for _, k := range []string{"serial", "created_time", "modified_time", "ruleset_yaml"} {
		if fmt.Sprint(before[k]) != fmt.Sprint(after[k]) {
			t.Fatalf("%s changed across the restart: %v -> %v", k, before[k], after[k])
		}
	}
	if after["options"].(map[string]any)["default_log_level"] != "info" {
		t.Fatalf("options after restart = %v", after["options"])
	}
	if again := e.do("POST", "/v1/mask/kept", maskToken, maskBody).json(t)["data"]; fmt.Sprint(again) != fmt.Sprint(masked) {
		t.Fatalf("the same record and secret masked differently after a restart: %v vs %v", masked, again)
	}
	r = e.do("PUT", "/v1/rulesets/kept", adminToken, strictYAML)
	if r.json(t)["serial"].(float64) <= before["serial"].(float64) {
		t.Fatalf("serial after restart did not go up: %s", r.body)
	}
}
