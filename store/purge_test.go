package store_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/fikaandform/storefront/store"
)

// TestPurge deletes open checkouts whose Klarna session expired more than a
// margin ago and failed ones past their retention, on SQLite and
// PostgreSQL, and never a checkout that is placing or became an order.
func TestPurge(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			now := time.Now().Truncate(time.Second)
			day := 24 * time.Hour
			mk := func(id string, st State, expires, updated time.Time) {
				c := newCheckout(id)
				c.State, c.SessionExpiresAt, c.UpdatedAt = st, expires, updated
				if err := s.CreateCheckout(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			long := now.Add(-60 * day)
			mk("KS-open-expired", StateOpen, now.Add(-2*day), now.Add(-4*day))
			mk("KS-open-just-expired", StateOpen, now.Add(-time.Hour), now.Add(-49*time.Hour))
			mk("KS-open-live", StateOpen, now.Add(47*time.Hour), now)
			mk("KS-placing", StatePlacing, long, long)
			mk("KS-placed", StatePlaced, long, long)
			mk("KS-pending", StatePendingReview, long, long)
			mk("KS-rejected", StateRejected, long, long)
			mk("KS-failed-old", StateFailed, long, now.Add(-31*day))
			mk("KS-failed-recent", StateFailed, long, now.Add(-29*day))
			n, err := s.(*SQL).Purge(ctx, now, DefaultPurgePolicy)
			if err != nil || n != 2 {
				t.Fatalf("purged %d (%v), want 2", n, err)
			}
			for _, id := range []string{"KS-open-expired", "KS-failed-old"} {
				if _, err := s.Checkout(ctx, id); err != ErrNotFound {
					t.Errorf("%s kept: %v", id, err)
				}
			}
			for _, id := range []string{"KS-open-just-expired", "KS-open-live", "KS-placing", "KS-placed", "KS-pending", "KS-rejected", "KS-failed-recent"} {
				if _, err := s.Checkout(ctx, id); err != nil {
					t.Errorf("%s deleted: %v", id, err)
				}
			}
			if n, err := s.(*SQL).Purge(ctx, now, DefaultPurgePolicy); n != 0 || err != nil {
				t.Errorf("second purge: %d %v", n, err)
			}
		})
	}
}

// TestPurgeInBatches deletes more than one batch.
func TestPurgeInBatches(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			now := time.Now()
			for i := range 1200 {
				c := newCheckout(fmt.Sprintf("KS-b%d", i))
				c.SessionID = fmt.Sprintf("sess-b%d", i)
				c.SessionExpiresAt = now.Add(-3 * 24 * time.Hour)
				if err := s.CreateCheckout(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.(*SQL).Purge(ctx, now, DefaultPurgePolicy); n != 1200 || err != nil {
				t.Errorf("purged %d (%v)", n, err)
			}
		})
	}
}
