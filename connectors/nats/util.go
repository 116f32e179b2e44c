package nats

import (
	"net/url"
	"strings"
)

// redactURL drops user information from server URLs for error messages.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		parts[i] = p
		u, err := url.Parse(p)
		if err != nil || u.User == nil {
			continue
		}
		u.User = url.User("redacted")
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
