package klarna

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// IdempotencyKeyHeader is the header that makes an Order Management or
// Customer Token write idempotent: Klarna runs a request once per key and
// answers a repeat within 24 hours with the first answer, whatever its body.
const IdempotencyKeyHeader = "Klarna-Idempotency-Key"

// ErrNoIdempotencyKey is returned, before anything is sent, by a write that
// was given an empty idempotency key.
var ErrNoIdempotencyKey = errors.New("klarna: empty idempotency key (make one with NewIdempotencyKey and store it before the call)")

// NewIdempotencyKey returns a random UUID version 4, the key format Klarna's
// Order Management documentation recommends. Make one per logical operation
// (one operator action, one subscription period) and store it before the
// call, so that a retry after a lost answer sends the same key again.
func NewIdempotencyKey() string {
	var b [16]byte
	rand.Read(b[:])         // never fails (crypto/rand panics rather than return an error)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func checkKey(op, key string) error {
	if key == "" {
		return fmt.Errorf("%w: %s", ErrNoIdempotencyKey, op)
	}
	return nil
}
