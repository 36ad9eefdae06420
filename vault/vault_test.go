package vault

import (
	"errors"
	"strings"
	"testing"
)

const (
	k1 = "first-key-0123456789abcdef0123456789abcdef"
	k2 = "second-key-0123456789abcdef0123456789abcdef"
)

func TestRoundTripAndRotation(t *testing.T) {
	t.Parallel()
	old, _ := New([]string{k1})
	ct, err := old.Encrypt("customer-token-123", "KS-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ct, "customer-token-123") {
		t.Fatal("plaintext visible")
	}
	if pt, err := old.Decrypt(ct, "KS-1"); err != nil || pt != "customer-token-123" {
		t.Fatalf("round trip: %q %v", pt, err)
	}
	if _, err := old.Decrypt(ct, "KS-2"); err == nil {
		t.Error("ciphertext moved to another record still decrypts")
	}
	again, _ := old.Encrypt("customer-token-123", "KS-1")
	if again == ct {
		t.Error("same ciphertext twice: nonces are not random")
	}
	// Rotation: a new key first; old ciphertexts still open; Rotate moves them.
	rotated, _ := New([]string{k2, k1})
	if pt, err := rotated.Decrypt(ct, "KS-1"); err != nil || pt != "customer-token-123" {
		t.Fatalf("old ciphertext after adding a key: %v", err)
	}
	moved, err := rotated.Rotate(ct, "KS-1")
	if err != nil || strings.Split(moved, ":")[1] == strings.Split(ct, ":")[1] {
		t.Fatalf("rotate: %q %v", moved, err)
	}
	retired, _ := New([]string{k2})
	if _, err := retired.Decrypt(ct, "KS-1"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("retired key: %v", err)
	}
	if pt, err := retired.Decrypt(moved, "KS-1"); err != nil || pt != "customer-token-123" {
		t.Errorf("rotated ciphertext with the new key only: %v", err)
	}
	for _, bad := range []string{"", "v1:x", "v2:" + strings.Split(ct, ":")[1] + ":AAAA", ct[:len(ct)-4] + "AAAA", "v1:" + strings.Split(ct, ":")[1] + ":!!"} {
		if _, err := old.Decrypt(bad, "KS-1"); err == nil {
			t.Errorf("Decrypt(%q) succeeded", bad)
		}
	}
	if _, err := New([]string{"short"}); err == nil {
		t.Error("short key accepted")
	}
	if Mask("abcdef123456") != "••••3456" || Mask("ab") != "••••" {
		t.Error("mask")
	}
}
