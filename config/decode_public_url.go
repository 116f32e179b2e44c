package config

import (
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// publicURL decodes http.public_url. It must be an absolute http:// or
// https:// URL with a host, and at most a path after it: the API appends
// its own paths to it, so a query, a fragment or credentials would end up
// in the middle of every url it answers with.
func (d *decoder) publicURL(n *yaml.Node) string {
	const what = "http.public_url"
	s := d.str(n, what)
	if s == "" {
		return ""
	}
	// Errors never carry what may be a credential: the userinfo, a query.
	shown := withoutUserinfo(s)
	if i := strings.IndexAny(shown, "?#"); i >= 0 {
		shown = shown[:i] + "…"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || strings.ContainsAny(s, " \t\r\n"):
		d.errorf(resolve(n), "%s %q is not a URL; give the address clients reach the server at, such as https://masking.example.com", what, shown)
	case u.Scheme != "http" && u.Scheme != "https":
		d.errorf(resolve(n), "%s %q must start with http:// or https://, such as https://masking.example.com", what, shown)
	case u.Hostname() == "":
		d.errorf(resolve(n), "%s %q has no host; give the address clients reach the server at, such as https://masking.example.com", what, shown)
	case strings.HasSuffix(u.Host, ":"):
		d.errorf(resolve(n), "%s %q has an empty port; give one (https://masking.example.com:8443) or none", what, shown)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"):
		d.errorf(resolve(n), "%s %q may hold a scheme, a host, a port and a path prefix only: no user, query or fragment", what, shown)
	default:
		return s
	}
	return ""
}
