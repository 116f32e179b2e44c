package httpapi_test

import (
	"strings"
	"testing"
)

// TestReadOnlyBeforeValidation: a change to a ruleset of the rulesets dir
// answers 409 read_only whatever its body holds. An invalid ruleset must
// not get 400 invalid_ruleset first: the caller would fix the YAML only to
// be refused for the name.
func TestReadOnlyBeforeValidation(t *testing.T) {
	e := newEnv(t)
	const invalid = "version: 1.0\nrules:\n  - path: \"$.a\"\n    masks: [ { type: no_such_mask } ]\n"
	// The control: the same bodies under a free name are refused as
	// invalid, so the 409s below are not about the bodies.
	if r := e.do("PUT", "/v1/rulesets/free", adminToken, invalid); r.status != 400 || !strings.Contains(string(r.body), "invalid_ruleset") {
		t.Fatalf("control: invalid upload under a free name: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/ifm/ruleset-plans/", adminToken, map[string]any{"name": "free", "ruleset_yaml": invalid}); r.status != 400 {
		t.Fatalf("control: invalid plan under a free name: %d %s", r.status, r.body)
	}

	before, _ := e.store.Get("customer")
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"v1 PUT invalid YAML", "PUT", "/v1/rulesets/customer", invalid},
		{"v1 PUT valid YAML", "PUT", "/v1/rulesets/customer", customerYAML},
		{"ifm PUT invalid YAML", "PUT", "/ifm/ruleset-plans/customer/", map[string]any{"ruleset_yaml": invalid}},
		{"ifm PUT invalid options", "PUT", "/ifm/ruleset-plans/customer/", map[string]any{"ruleset_yaml": customerYAML, "options": map[string]any{"default_encoding": "xml"}}},
		{"ifm PATCH invalid YAML", "PATCH", "/ifm/ruleset-plans/customer/", map[string]any{"ruleset_yaml": invalid}},
		{"ifm PATCH options", "PATCH", "/ifm/ruleset-plans/customer/", map[string]any{"options": map[string]any{"enabled": false}}},
		{"ifm PATCH nothing", "PATCH", "/ifm/ruleset-plans/customer", `{}`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			r := e.do(test.method, test.path, adminToken, test.body)
			if r.status != 409 {
				t.Fatalf("%d %s; want 409 read_only", r.status, r.body)
			}
			m := r.json(t)
			if strings.HasPrefix(test.path, "/v1/") {
				if m["error"].(map[string]any)["code"] != "read_only" {
					t.Fatalf("code: %s", r.body)
				}
			} else if d, _ := m["detail"].(string); !strings.Contains(d, "read-only") {
				t.Fatalf("detail: %s", r.body)
			}
		})
	}
	if after, _ := e.store.Get("customer"); after.Serial != before.Serial || !after.Options.Enabled {
		t.Fatalf("the file ruleset changed: serial %d -> %d, options %+v", before.Serial, after.Serial, after.Options)
	}

	// Body errors still come first: a request that is not well formed is
	// answered as such before the name is looked at.
	if r := e.do("PUT", "/v1/rulesets/customer", adminToken, ""); r.status != 400 || !strings.Contains(string(r.body), "body is empty") {
		t.Fatalf("empty body: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/ifm/ruleset-plans/customer/", adminToken, `{"colour":1}`); r.status != 422 {
		t.Fatalf("unknown field: %d %s", r.status, r.body)
	}
}
