package config

import "strconv"

// DefaultMaxInflightBytes is http.max_inflight_bytes when the file leaves
// it out (httpapi.DefaultMaxInflightBytes).
const DefaultMaxInflightBytes = 64 << 20

// DefaultMaxRecords is http.max_records when the file leaves it out
// (httpapi.DefaultMaxRecords).
const DefaultMaxRecords = 10_000

// minInflightBytes is the smallest http.max_inflight_bytes: below it every
// mask request would run alone, which a unit slip (64 for 64 MiB) is more
// likely to mean than a wish.
const minInflightBytes = 64 << 10

// maskBodyBytes is the largest mask request body the HTTP server takes:
// httpapi's default of 4 × max_record_bytes + 64 KiB.
func (c *Config) maskBodyBytes() int { return 4*c.Limits.MaxRecordBytes + 64<<10 }

// validateHTTPLimits checks the http section's memory limits. It runs
// from validateHTTP, after defaults.
func (c *Config) validateHTTPLimits(pos posFunc) {
	h := c.HTTP
	switch {
	case h.MaxInflightBytes < minInflightBytes:
		pos(h.Pos, "http.max_inflight_bytes is %d, below %d (64 KiB); it is a number of bytes, such as 67108864 for 64 MiB", h.MaxInflightBytes, minInflightBytes)
	case h.MaxInflightBytes < c.maskBodyBytes():
		c.Warnings = append(c.Warnings, "http.max_inflight_bytes ("+strconv.Itoa(h.MaxInflightBytes)+") is below the largest mask request body ("+
			strconv.Itoa(c.maskBodyBytes())+" bytes: 4 × limits.max_record_bytes + 64 KiB): such a request runs only when no other mask request is in flight")
	}
	if h.MaxRecords < 1 {
		pos(h.Pos, "http.max_records is %d; it is the most records one mask request may carry, at least 1 (default %d)", h.MaxRecords, DefaultMaxRecords)
	}
}
