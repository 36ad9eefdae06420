// Package vault encrypts credentials kept at rest, such as Klarna customer
// tokens, with AES-256-GCM. Several keys may be configured for rotation: the
// first encrypts, every key decrypts, and each ciphertext names its key.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Vault encrypts and decrypts short secrets.
type Vault struct {
	keys []key
}

type key struct {
	id   string
	aead cipher.AEAD
}

// ErrUnknownKey means the ciphertext was made with a key that is no longer
// configured.
var ErrUnknownKey = errors.New("vault: ciphertext made with a key that is not configured")

// New builds a vault from secrets (at least 32 characters each), newest
// first. Each secret is stretched to an AES-256 key with SHA-256.
func New(secrets []string) (*Vault, error) {
	if len(secrets) == 0 {
		return nil, errors.New("vault: no keys")
	}
	v := &Vault{}
	for _, s := range secrets {
		if len(s) < 32 {
			return nil, errors.New("vault: keys need at least 32 characters")
		}
		sum := sha256.Sum256([]byte("vault-key:" + s))
		block, err := aes.NewCipher(sum[:])
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := sha256.Sum256(sum[:])
		v.keys = append(v.keys, key{id: hex.EncodeToString(id[:4]), aead: aead})
	}
	return v, nil
}

// Encrypt seals plaintext with the newest key as "v1:<key id>:<base64>".
// additional binds the ciphertext to its context (a checkout reference), so
// it cannot be moved to another record.
func (v *Vault) Encrypt(plaintext, additional string) (string, error) {
	k := v.keys[0]
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("vault: %w", err)
	}
	sealed := k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(additional))
	return "v1:" + k.id + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Decrypt opens a ciphertext made by Encrypt with any configured key.
func (v *Vault) Decrypt(ciphertext, additional string) (string, error) {
	parts := strings.SplitN(ciphertext, ":", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", errors.New("vault: not a vault ciphertext")
	}
	raw, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil {
		return "", errors.New("vault: corrupt ciphertext")
	}
	for _, k := range v.keys {
		if k.id != parts[1] {
			continue
		}
		ns := k.aead.NonceSize()
		if len(raw) < ns {
			return "", errors.New("vault: corrupt ciphertext")
		}
		plain, err := k.aead.Open(nil, raw[:ns], raw[ns:], []byte(additional))
		if err != nil {
			return "", errors.New("vault: ciphertext does not verify")
		}
		return string(plain), nil
	}
	return "", ErrUnknownKey
}

// Rotate re-encrypts a ciphertext with the newest key, for a migration after
// adding a key.
func (v *Vault) Rotate(ciphertext, additional string) (string, error) {
	plain, err := v.Decrypt(ciphertext, additional)
	if err != nil {
		return "", err
	}
	return v.Encrypt(plain, additional)
}

// Mask shows only the end of a secret, for operators.
func Mask(s string) string {
	if len(s) <= 4 {
		return "••••"
	}
	return "••••" + s[len(s)-4:]
}
