package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskstream/maskstream/config"
)

// TestPublicURLReachesServer: http.public_url of the daemon config reaches
// httpapi.Config under run and serve (both map it with httpapiConfigFrom),
// and serve's -public-url sets it or overrides the file's.
func TestPublicURLReachesServer(t *testing.T) {
	c, err := config.Load(filepath.Join("..", "..", "config", "testdata", "http-public-url.good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := httpapiConfigFrom(c).PublicURL; got != "https://masking.example.com" {
		t.Fatalf("httpapi.Config.PublicURL %q from the config fixture", got)
	}

	dir := t.TempDir()
	writeServeFile(t, filepath.Join(dir, "rules", "people.yaml"), serveTestYAML)
	cfg := filepath.Join(dir, "maskstream.yaml")
	writeServeFile(t, cfg, "rulesets_dir: ./rules\nhttp:\n  listen: 127.0.0.1:0\n  insecure_no_auth: true\n  public_url: https://from-file.example.com\n")
	s, err := serveSetupFrom(serveFlags{config: cfg, set: map[string]bool{}})
	if err != nil {
		t.Fatal(err)
	}
	if s.http.PublicURL != "https://from-file.example.com" {
		t.Fatalf("serve -c: PublicURL %q", s.http.PublicURL)
	}
	s, err = serveSetupFrom(serveFlags{config: cfg, publicURL: "https://from-flag.example.com", set: map[string]bool{"public-url": true}})
	if err != nil {
		t.Fatal(err)
	}
	if s.http.PublicURL != "https://from-flag.example.com" {
		t.Fatalf("serve -c -public-url: PublicURL %q", s.http.PublicURL)
	}

	// End to end, config-less: a plan's url names the public address.
	vars := map[string]string{"MASKSTREAM_RUN_SECRET": serveTestSecret, "TOK": serveTestToken}
	base, _, _ := startServe(t, vars, "-rulesets", filepath.Join(dir, "rules"), "-listen", "127.0.0.1:0", "-token-env", "TOK",
		"-public-url", "https://masking.example.com")
	code, body := serveRequest(t, "GET", base+"/ifm/ruleset-plans/people/", serveTestToken, "")
	if code != 200 || !strings.Contains(body, `"url":"https://masking.example.com/ifm/ruleset-plans/people/"`) {
		t.Fatalf("plan: %d %s", code, body)
	}
}
