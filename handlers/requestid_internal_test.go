package handlers

import (
	"regexp"
	"testing"
)

// TestMadeRequestIDsAreUniqueHex: an id the shop makes is 32 hex digits
// (128 bits) and no two of many are the same.
func TestMadeRequestIDsAreUniqueHex(t *testing.T) {
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 100_000 {
		id := newRequestID()
		if !hexID.MatchString(id) {
			t.Fatalf("made id %q", id)
		}
		if seen[id] {
			t.Fatalf("id %s made twice", id)
		}
		seen[id] = true
	}
}
