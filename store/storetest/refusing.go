package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/fikaandform/storefront/store"
)

// ErrRefused is what a Refusing store answers to writes while it refuses
// them.
var ErrRefused = errors.New("storetest: attempt to write a readonly database")

// Refusing wraps a Store and, while Refuse(true) holds, fails every write
// the way a read-only file or a full disk does, while reads go on working.
type Refusing struct {
	store.Store
	refuse atomic.Bool
	// Refused counts the writes refused.
	Refused atomic.Int64
}

// NewRefusing wraps s.
func NewRefusing(s store.Store) *Refusing { return &Refusing{Store: s} }

// Refuse turns write refusal on or off.
func (r *Refusing) Refuse(on bool) { r.refuse.Store(on) }

func (r *Refusing) fail() error {
	if r.refuse.Load() {
		r.Refused.Add(1)
		return ErrRefused
	}
	return nil
}

// CreateCheckout implements store.Store.
func (r *Refusing) CreateCheckout(ctx context.Context, c *store.Checkout) error {
	if err := r.fail(); err != nil {
		return err
	}
	return r.Store.CreateCheckout(ctx, c)
}

// Transition implements store.Store.
func (r *Refusing) Transition(ctx context.Context, id string, from []store.State, to store.State, ch store.Changes) (bool, error) {
	if err := r.fail(); err != nil {
		return false, err
	}
	return r.Store.Transition(ctx, id, from, to, ch)
}

// TransitionRow implements store.Store.
func (r *Refusing) TransitionRow(ctx context.Context, id string, from []store.State, to store.State, ch store.Changes) (*store.Checkout, error) {
	if err := r.fail(); err != nil {
		return nil, err
	}
	return r.Store.TransitionRow(ctx, id, from, to, ch)
}

// Reprice implements store.Store.
func (r *Refusing) Reprice(ctx context.Context, id string, version int64, rp store.Repricing) (bool, error) {
	if err := r.fail(); err != nil {
		return false, err
	}
	return r.Store.Reprice(ctx, id, version, rp)
}

// SetSubscription implements store.Store.
func (r *Refusing) SetSubscription(ctx context.Context, id string, from []store.SubscriptionStatus, sub store.Subscription) (bool, error) {
	if err := r.fail(); err != nil {
		return false, err
	}
	return r.Store.SetSubscription(ctx, id, from, sub)
}

// NoteCallback implements store.Store.
func (r *Refusing) NoteCallback(ctx context.Context, id, token string, at time.Time) error {
	if err := r.fail(); err != nil {
		return err
	}
	return r.Store.NoteCallback(ctx, id, token, at)
}

// CheckWrite implements store.Store.
func (r *Refusing) CheckWrite(ctx context.Context) error {
	if err := r.fail(); err != nil {
		return err
	}
	return r.Store.CheckWrite(ctx)
}

var _ store.Store = (*Refusing)(nil)

// Eventually polls cond until it holds or the wait is over.
func Eventually(wait time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
