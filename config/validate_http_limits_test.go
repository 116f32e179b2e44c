package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestHTTPInflightBytes(t *testing.T) {
	c := &Config{HTTP: &HTTP{}}
	c.applyDefaults()
	if c.HTTP.MaxInflightBytes != DefaultMaxInflightBytes {
		t.Fatalf("default max_inflight_bytes %d; want %d", c.HTTP.MaxInflightBytes, DefaultMaxInflightBytes)
	}
	c = &Config{HTTP: &HTTP{MaxInflightBytes: 1 << 30}}
	c.applyDefaults()
	if c.HTTP.MaxInflightBytes != 1<<30 {
		t.Fatalf("a set max_inflight_bytes became %d", c.HTTP.MaxInflightBytes)
	}

	tests := []struct {
		name     string
		inflight int
		wantErr  string
		wantWarn string
	}{
		{"default", DefaultMaxInflightBytes, "", ""},
		{"a unit slip", 64, "http.max_inflight_bytes is 64, below 65536 (64 KiB)", ""},
		{"just below the floor", 64<<10 - 1, "below 65536", ""},
		{"below one full body", 1 << 20, "", "runs only when no other mask request is in flight"},
		{"one full body", 4<<20 + 64<<10, "", ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			c := &Config{HTTP: &HTTP{MaxInflightBytes: test.inflight}}
			c.applyDefaults() // limits.max_record_bytes: 1 MiB, so a body of 4 MiB + 64 KiB
			var errs []string
			c.validateHTTPLimits(func(_ Pos, format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) })
			if got := strings.Join(errs, "\n"); (test.wantErr == "") != (got == "") || !strings.Contains(got, test.wantErr) {
				t.Errorf("errors %q; want %q", got, test.wantErr)
			}
			if got := strings.Join(c.Warnings, "\n"); (test.wantWarn == "") != (got == "") || !strings.Contains(got, test.wantWarn) {
				t.Errorf("warnings %q; want %q", got, test.wantWarn)
			}
		})
	}
}

func TestHTTPInflightBytesFixtures(t *testing.T) {
	c, err := Load("testdata/http-limits.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.MaxInflightBytes != 128<<20 {
		t.Errorf("max_inflight_bytes %d; want %d", c.HTTP.MaxInflightBytes, 128<<20)
	}
	c, err = Load("testdata/http-only.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.MaxInflightBytes != DefaultMaxInflightBytes {
		t.Errorf("max_inflight_bytes left out: %d; want %d", c.HTTP.MaxInflightBytes, DefaultMaxInflightBytes)
	}
}

func TestHTTPMaxRecords(t *testing.T) {
	c, err := Load("testdata/http-limits.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.MaxRecords != 50_000 {
		t.Errorf("max_records %d; want 50000", c.HTTP.MaxRecords)
	}
	c, err = Load("testdata/http-only.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.MaxRecords != DefaultMaxRecords {
		t.Errorf("max_records left out: %d; want %d", c.HTTP.MaxRecords, DefaultMaxRecords)
	}
	c = &Config{HTTP: &HTTP{MaxRecords: -1}}
	c.applyDefaults()
	var errs []string
	c.validateHTTPLimits(func(_ Pos, format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) })
	if got := strings.Join(errs, "\n"); !strings.Contains(got, "http.max_records is -1") {
		t.Errorf("max_records -1: errors %q", got)
	}
}
