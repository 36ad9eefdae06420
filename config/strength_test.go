package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

// TestGeneratedSecretsAccepted: what the documentation tells operators to
// run is never refused (no false alarms on real random secrets).
func TestGeneratedSecretsAccepted(t *testing.T) {
	t.Parallel()
	for range 2000 {
		b := make([]byte, 32)
		rand.Read(b)
		for _, s := range []string{hex.EncodeToString(b), hex.EncodeToString(b[:16]), base64.StdEncoding.EncodeToString(b)} {
			if w := secretWeakness(s); w != "" {
				t.Fatalf("%s refused: %s", s, w)
			}
		}
	}
}
