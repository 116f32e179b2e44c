package engine

import "time"

// Setup of the transform, date and identifier mask tests; the helpers are
// maskKit's.

const (
	xfSecret      = "xf-test-secret-0123456789abcdef"
	xfOtherSecret = "xf-other-secret-9876543210fedcba"
)

// xfNow is the "now" every test compiles with.
var xfNow = time.Date(2025, time.June, 15, 12, 0, 0, 0, time.UTC)

var xfKit = maskKit{secret: xfSecret, other: xfOtherSecret, now: xfNow}
