package engine

import "time"

// Setup of the generator mask tests (from_fixed, from_file,
// from_format_string, from_choices, from_json_path, imitate, the unique
// masks and the from_random_* masks); the helpers are maskKit's.

const (
	genSecret      = "gen-test-secret-0123456789abcdef"
	genOtherSecret = "gen-other-secret-fedcba9876543210"
)

// genNow is the "now" every test compiles with.
var genNow = time.Date(2025, time.March, 10, 9, 30, 0, 0, time.UTC)

// genSeedDir holds the user seed files of the tests.
const genSeedDir = "testdata/gen"

var genKit = maskKit{secret: genSecret, other: genOtherSecret, now: genNow, seedDir: genSeedDir}
