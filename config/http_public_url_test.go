package config

import (
	"strings"
	"testing"
)

func TestHTTPPublicURLFixture(t *testing.T) {
	c, err := Load("testdata/http-public-url.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.PublicURL != "https://masking.example.com" {
		t.Errorf("public_url %q", c.HTTP.PublicURL)
	}
	c, err = Load("testdata/http-only.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.PublicURL != "" {
		t.Errorf("public_url left out: %q; want empty (taken from each request)", c.HTTP.PublicURL)
	}
}

// TestHTTPPublicURL: public_url is an http(s) URL with a host and at most
// a path, checked with its line:col; errors never quote a userinfo or a
// query, which may hold credentials.
func TestHTTPPublicURL(t *testing.T) {
	tests := []struct {
		value, wantErr string
	}{
		{"https://masking.example.com", ""},
		{"http://10.0.0.5:8080/", ""},
		{"https://ingress.example.com/maskstream", ""},
		{"https://[::1]:8443", ""},
		{"masking.example.com", `3:15: http.public_url "masking.example.com" must start with http:// or https://`},
		{"ftp://masking.example.com", "must start with http:// or https://"},
		{"https://", "has no host"},
		{"https://:8443", "has no host"},
		{"https://masking.example.com:", "has an empty port"},
		{"https://masking.example.com:port", "is not a URL"},
		{"https://masking example.com", "is not a URL"},
		{"https://user:hunter2@masking.example.com", `"https://***@masking.example.com" may hold a scheme, a host, a port and a path prefix only`},
		{"https://masking.example.com/?token=hunter2", `"https://masking.example.com/…" may hold`},
		{"https://masking.example.com/#x", "may hold a scheme"},
		{"true", "http.public_url must be a string, not a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			src := "http:\n  listen: 127.0.0.1:8080\n  public_url: " + tt.value + "\n  insecure_no_auth: true\n"
			if tt.value != "true" {
				src = strings.Replace(src, "public_url: "+tt.value, "public_url: \""+tt.value+"\"", 1)
			}
			c, err := Parse([]byte(src), "")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr == "" && c.HTTP.PublicURL != tt.value:
				t.Fatalf("public_url %q; want %q", c.HTTP.PublicURL, tt.value)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v; want one containing %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("the error quotes a credential: %v", err)
			}
		})
	}
}
