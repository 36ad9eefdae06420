package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "storefront/store"
	"storefront/store/storetest"
)

func newCheckout(id string) *Checkout {
	now := time.Now().Truncate(time.Second)
	return &Checkout{ID: id, SessionID: "sess-" + id, ClientToken: "ct", Categories: "[]", Market: "GB", Locale: "en-GB", Currency: "GBP",
		Cart: "stoneware-mug:1", CartHash: "h1", Amount: 1800, TaxAmount: 300, SessionPayload: "{}", CallbackSecret: "s",
		State: StateOpen, CreatedAt: now, UpdatedAt: now, SessionExpiresAt: now.Add(48 * time.Hour)}
}

// stores returns every Store implementation to run the suite against:
// SQLite always, PostgreSQL when a server answers (always under CI=true).
func stores(t *testing.T) map[string]Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	out := map[string]Store{"sqlite": s}
	if pg := storetest.PostgresForTest(t); pg != nil {
		out["postgres"] = pg
	}
	return out
}

func TestStore(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			c := newCheckout("KS-1")
			if err := s.CreateCheckout(ctx, c); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateCheckout(ctx, c); err == nil {
				t.Error("duplicate id accepted")
			}
			got, err := s.CheckoutBySession(ctx, "sess-KS-1")
			if err != nil || got.ID != "KS-1" || got.Amount != 1800 || got.State != StateOpen || !got.CreatedAt.Equal(c.CreatedAt) {
				t.Fatalf("read back %+v %v", got, err)
			}
			if _, err := s.Checkout(ctx, "nope"); err != ErrNotFound {
				t.Errorf("missing: %v", err)
			}
			ok, err := s.Reprice(ctx, "KS-1", Repricing{Cart: "x:2", CartHash: "h2", SessionPayload: "{}", Amount: 3600, TaxAmount: 600, SessionExpiresAt: time.Now()})
			if !ok || err != nil {
				t.Fatalf("reprice: %v %v", ok, err)
			}
			tok := "tok"
			if ok, _ := s.Transition(ctx, "KS-1", []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &tok}); !ok {
				t.Fatal("open -> placing refused")
			}
			if ok, _ := s.Transition(ctx, "KS-1", []State{StateOpen}, StatePlacing, Changes{}); ok {
				t.Fatal("second open -> placing allowed")
			}
			if ok, _ := s.Reprice(ctx, "KS-1", Repricing{}); ok {
				t.Fatal("repriced a placing checkout")
			}
			oid, now := "order-1", time.Now()
			if ok, _ := s.Transition(ctx, "KS-1", []State{StatePlacing}, StatePlaced, Changes{KlarnaOrderID: &oid, PlacedAt: &now}); !ok {
				t.Fatal("placing -> placed refused")
			}
			got, _ = s.Checkout(ctx, "KS-1")
			if got.State != StatePlaced || got.KlarnaOrderID != oid || got.AuthorizationToken != tok || got.PlacedAt == nil || got.CartHash != "h2" {
				t.Errorf("after placing: %+v", got)
			}
			orders, err := s.Orders(ctx, 10)
			if err != nil || len(orders) != 1 {
				t.Errorf("orders: %v %v", orders, err)
			}
			if err := s.Ping(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestTransitionIsACompareAndSet races many callers on one checkout: exactly
// one may win.
func TestTransitionIsACompareAndSet(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			for i := range 5 {
				id := fmt.Sprintf("KS-race-%d", i)
				if err := s.CreateCheckout(ctx, newCheckout(id)); err != nil {
					t.Fatal(err)
				}
				var wins atomic.Int32
				var wg sync.WaitGroup
				for range 50 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ok, err := s.Transition(ctx, id, []State{StateOpen}, StatePlacing, Changes{})
						if err != nil {
							t.Error(err)
						}
						if ok {
							wins.Add(1)
						}
					}()
				}
				wg.Wait()
				if wins.Load() != 1 {
					t.Fatalf("%d winners", wins.Load())
				}
			}
		})
	}
}

func TestSubscriptionCompareAndSet(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			c := newCheckout("KS-sub")
			c.Subscription = Subscription{Status: SubscriptionPending, Plan: "MONTH:1:coffee"}
			if err := s.CreateCheckout(ctx, c); err != nil {
				t.Fatal(err)
			}
			next := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
			ok, err := s.SetSubscription(ctx, c.ID, []SubscriptionStatus{SubscriptionPending}, Subscription{Status: SubscriptionActive, Plan: "MONTH:1:coffee", Next: &next, CustomerToken: "v1:k:ct"})
			if !ok || err != nil {
				t.Fatalf("pending -> active: %v %v", ok, err)
			}
			if ok, _ := s.SetSubscription(ctx, c.ID, []SubscriptionStatus{SubscriptionPending}, Subscription{Status: SubscriptionNeedsAttention}); ok {
				t.Fatal("moved from a state it was not in")
			}
			got, _ := s.Checkout(ctx, c.ID)
			if got.Subscription.Status != SubscriptionActive || got.Subscription.CustomerToken != "v1:k:ct" || !got.Subscription.Next.Equal(next) {
				t.Errorf("read back %+v", got.Subscription)
			}
			if l, _ := s.SubscriptionsIn(ctx, SubscriptionActive, 10); len(l) != 1 {
				t.Errorf("list: %d", len(l))
			}
		})
	}
}
