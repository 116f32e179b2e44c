package engine

import (
	"os"
	"os/exec"
	"testing"
)

// TestSecretFingerprintFIPSOnly: run, serve and validate-config derive the
// fingerprint at start, and a process in FIPS 140-only mode refuses short
// PBKDF2 keys: the fingerprint must still come out, and the same.
func TestSecretFingerprintFIPSOnly(t *testing.T) {
	if os.Getenv("MASKSTREAM_FIPS_CHILD") == "1" {
		if got := MustSecret("maskstream fingerprint pin").Fingerprint(); got != "99d5ee7d" {
			t.Fatalf("Fingerprint = %q under fips140=only, want the pinned 99d5ee7d", got)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecretFingerprintFIPSOnly$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MASKSTREAM_FIPS_CHILD=1", "GODEBUG=fips140=only")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("under GODEBUG=fips140=only: %v\n%s", err, out)
	}
}
