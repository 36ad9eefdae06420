package config

import (
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestGeneratedSecretsAccepted: what the documentation tells operators to
// run is never refused (no false alarms on real random secrets).
func TestGeneratedSecretsAccepted(t *testing.T) {
	t.Parallel()
	// A fixed seed: the same 5000 random secrets on every run.
	rng := rand.NewChaCha8([32]byte{'f', 'i', 'k', 'a'})
	for range 5000 {
		b := make([]byte, 32)
		rng.Read(b)
		for _, s := range []string{hex.EncodeToString(b), hex.EncodeToString(b[:16]), base64.StdEncoding.EncodeToString(b)} {
			if w := secretWeakness(s); w != "" {
				t.Fatalf("%s refused: %s", s, w)
			}
		}
	}
}

// TestSecretWeaknessReasons: each rule catches what it is for.
func TestSecretWeaknessReasons(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "different characters",
		"q7xm2pk9b4q7xm2pk9b4q7xm2pk9b4q7": "pattern",
		"abcdefghijklmnopqrstuvwxyz012345": "consecutive",
		"axaxayaxazaxaxawaxavaxaxauaxatax": "entropy",
		"9f2c4e1ab7d05836c2e9f14a7b3d8e60": "",
	} {
		got := secretWeakness(s)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", s, got, want)
		}
	}
}
