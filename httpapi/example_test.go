package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/maskstream/maskstream/engine"
	"github.com/maskstream/maskstream/httpapi"
	"github.com/maskstream/maskstream/rulesets"
)

// A server over a store with one uploaded ruleset, masking one record.
func ExampleNew() {
	store := rulesets.NewStore(rulesets.StoreConfig{}, func(rs *rulesets.Ruleset) (*engine.Masker, error) {
		return engine.Compile(rs, engine.Options{})
	})
	if err := store.Load(); err != nil {
		panic(err)
	}
	if _, err := store.Put("greeting", []byte(`version: "1.0"
rules:
  - path: "$.name"
    masks: [ { type: from_fixed, value: "REDACTED" } ]
`)); err != nil {
		panic(err)
	}
	srv, err := httpapi.New(httpapi.Config{
		Tokens: []httpapi.Token{{Name: "demo", Value: "demo-token-0123456789", Scopes: []string{httpapi.ScopeMask}}},
	}, httpapi.Deps{Store: store, Secret: engine.MustSecret("example-run-secret-0123")})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	req, _ := http.NewRequestWithContext(context.Background(), "POST", ts.URL+"/v1/mask/greeting",
		strings.NewReader(`{"data":[{"name":"Ann","id":7}],"request_id":"ex-1"}`))
	req.Header.Set("Authorization", "Bearer demo-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output: 200 {"request_id":"ex-1","ruleset_plan":{"name":"greeting","serial":1},"encoding":"json","charset":"utf-8","logs":[],"data":[{"name":"REDACTED","id":7}]}
}
