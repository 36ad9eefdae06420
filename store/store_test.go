package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/store/storetest"
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
			ok, err := s.Reprice(ctx, "KS-1", 1, Repricing{Cart: "x:2", CartHash: "h2", SessionPayload: "{}", Amount: 3600, TaxAmount: 600, SessionExpiresAt: time.Now()})
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
			if ok, _ := s.Reprice(ctx, "KS-1", 2, Repricing{}); ok {
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

// TestOneOrderPerCheckout: the database itself refuses a Klarna order id or
// an authorization token on a second checkout.
func TestOneOrderPerCheckout(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			for _, id := range []string{"KS-A", "KS-B"} {
				if err := s.CreateCheckout(ctx, newCheckout(id)); err != nil {
					t.Fatal(err)
				}
			}
			tok, oid := "tok-1", "order-1"
			if ok, err := s.Transition(ctx, "KS-A", []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &tok}); !ok || err != nil {
				t.Fatalf("first token: %v %v", ok, err)
			}
			if _, err := s.Transition(ctx, "KS-B", []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &tok}); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("second checkout with the same token: %v", err)
			}
			if ok, err := s.Transition(ctx, "KS-A", []State{StatePlacing}, StatePlaced, Changes{KlarnaOrderID: &oid}); !ok || err != nil {
				t.Fatalf("first order: %v %v", ok, err)
			}
			tok2 := "tok-2"
			s.Transition(ctx, "KS-B", []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &tok2})
			if _, err := s.Transition(ctx, "KS-B", []State{StatePlacing}, StatePlaced, Changes{KlarnaOrderID: &oid}); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("second checkout with the same Klarna order: %v", err)
			}
			if got, _ := s.Checkout(ctx, "KS-B"); got.State != StatePlacing || got.KlarnaOrderID != "" {
				t.Errorf("refused transition changed the row: %+v", got)
			}
		})
	}
}

// TestVersionIsACompareAndSet: every change bumps the version, and a
// change at a stale version is refused.
func TestVersionIsACompareAndSet(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s.CreateCheckout(ctx, newCheckout("KS-V"))
			c, _ := s.Checkout(ctx, "KS-V")
			if c.Version != 1 {
				t.Fatalf("version %d", c.Version)
			}
			if ok, _ := s.Reprice(ctx, "KS-V", 1, Repricing{Cart: "x:2", CartHash: "h2", SessionPayload: "{}", SessionExpiresAt: time.Now()}); !ok {
				t.Fatal("reprice at the current version refused")
			}
			if ok, _ := s.Transition(ctx, "KS-V", []State{StateOpen}, StatePlacing, Changes{AtVersion: 1}); ok {
				t.Fatal("placing at a stale version allowed")
			}
			if ok, _ := s.Reprice(ctx, "KS-V", 1, Repricing{}); ok {
				t.Fatal("reprice at a stale version allowed")
			}
			if ok, _ := s.Transition(ctx, "KS-V", []State{StateOpen}, StatePlacing, Changes{AtVersion: 2}); !ok {
				t.Fatal("placing at the current version refused")
			}
			if c, _ := s.Checkout(ctx, "KS-V"); c.Version != 3 || c.CartHash != "h2" {
				t.Errorf("after: version %d hash %s", c.Version, c.CartHash)
			}
		})
	}
}

// TestLeasesAndReviewChecks: Unclaimed lists placements whose lease ran out
// and DueChecks pending reviews whose check is due.
func TestLeasesAndReviewChecks(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			now := time.Now()
			soon, past := now.Add(time.Minute), now.Add(-time.Minute)
			for id, until := range map[string]*time.Time{"KS-L1": &soon, "KS-L2": &past, "KS-L3": nil} {
				s.CreateCheckout(ctx, newCheckout(id))
				owner := "me"
				s.Transition(ctx, id, []State{StateOpen}, StatePlacing, Changes{ClaimedBy: &owner, ClaimedUntil: &until})
			}
			got, err := s.Unclaimed(ctx, StatePlacing, now, 10)
			if err != nil || len(got) != 2 {
				t.Fatalf("unclaimed: %d %v", len(got), err)
			}
			for _, c := range got {
				if c.ID == "KS-L1" {
					t.Error("a live lease was listed")
				}
			}
			s.CreateCheckout(ctx, newCheckout("KS-R"))
			s.Transition(ctx, "KS-R", []State{StateOpen}, StatePendingReview, Changes{NextCheckAt: &[]*time.Time{&soon}[0]})
			if due, _ := s.DueChecks(ctx, now, 10); len(due) != 0 {
				t.Errorf("due before time: %d", len(due))
			}
			if due, _ := s.DueChecks(ctx, now.Add(2*time.Minute), 10); len(due) != 1 || due[0].NextCheckAt == nil {
				t.Errorf("due after time: %d", len(due))
			}
			if err := s.CheckWrite(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestPostgresRecoversFromReadOnly: PostgreSQL refuses writes (the role's
// sessions are made read-only, as on a standby), readiness fails; once it
// accepts them again the next write works without a restart.
func TestPostgresRecoversFromReadOnly(t *testing.T) {
	schema := storetest.NewPostgresSchema(t)
	if schema == "" {
		t.Skip("no PostgreSQL")
	}
	ctx := t.Context()
	admin, err := sql.Open("pgx", storetest.PostgresTestURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	role := "ro_" + schema
	for _, q := range []string{"CREATE ROLE " + role + " LOGIN", "GRANT ALL ON SCHEMA " + schema + " TO " + role} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		a, _ := sql.Open("pgx", storetest.PostgresTestURL())
		a.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		a.Exec("DROP ROLE IF EXISTS " + role)
		a.Close()
	})
	u, _ := url.Parse(storetest.PostgresSchemaURL(schema))
	u.User = url.User(role)
	s, err := OpenPostgres(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckWrite(ctx); err != nil {
		t.Fatal(err)
	}
	terminate := func() {
		admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
	}
	admin.ExecContext(ctx, "ALTER ROLE "+role+" SET default_transaction_read_only = on")
	terminate()
	refusedOnce := false
	for range 5 {
		if err := s.CheckWrite(ctx); err != nil {
			refusedOnce = true
			break
		}
	}
	if !refusedOnce {
		t.Fatal("writes were never refused")
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("reads must go on: %v", err)
	}
	// Writes allowed again; connections opened meanwhile stay read-only.
	admin.ExecContext(ctx, "ALTER ROLE "+role+" RESET default_transaction_read_only")
	if err := s.CheckWrite(ctx); err != nil {
		t.Fatalf("the first write after PostgreSQL accepted writes failed: %v", err)
	}
}

// TestTransitionRowIsTheRowAfter: the row a move returns is the row a read
// finds afterwards; a move that loses returns none and changes nothing; a
// token another checkout holds is refused as a duplicate.
func TestTransitionRowIsTheRowAfter(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			for _, id := range []string{"KR-1", "KR-2"} {
				if err := s.CreateCheckout(ctx, newCheckout(id)); err != nil {
					t.Fatal(err)
				}
			}
			token, order, placed := "tok-r1", "order-r1", time.Now().Add(-time.Minute).Truncate(time.Second)
			row, err := s.TransitionRow(ctx, "KR-1", []State{StateOpen}, StatePlaced, Changes{AtVersion: 1, AuthorizationToken: &token, KlarnaOrderID: &order, PlacedAt: &placed})
			if err != nil || row == nil {
				t.Fatalf("move: %v %v", row, err)
			}
			read, err := s.Checkout(ctx, "KR-1")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%+v", *row) != fmt.Sprintf("%+v", *read) {
				t.Errorf("returned row differs from the row read after it:\n%+v\n%+v", *row, *read)
			}
			if row.State != StatePlaced || row.Version != 2 || row.KlarnaOrderID != order || row.PlacedAt == nil || !row.PlacedAt.Equal(placed) {
				t.Errorf("returned row: %+v", *row)
			}
			// The same move again (it is no longer open, nor at version 1).
			again, err := s.TransitionRow(ctx, "KR-1", []State{StateOpen}, StatePlaced, Changes{AtVersion: 1})
			if err != nil || again != nil {
				t.Errorf("lost move: %v %v", again, err)
			}
			if after, _ := s.Checkout(ctx, "KR-1"); after.Version != 2 {
				t.Errorf("a lost move changed the row: version %d", after.Version)
			}
			// Another checkout cannot take the token.
			_, err = s.TransitionRow(ctx, "KR-2", []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &token})
			if !errors.Is(err, ErrDuplicate) {
				t.Errorf("a token another checkout holds: %v", err)
			}
			if other, _ := s.Checkout(ctx, "KR-2"); other.State != StateOpen || other.AuthorizationToken != "" {
				t.Errorf("the refused move changed KR-2: %+v", *other)
			}
		})
	}
}

// TestBrowserCheckouts: a browser's newest open checkout, and its newest
// checkout that is being placed or is an order, each whatever else the
// browser has; another browser's never.
func TestBrowserCheckouts(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			prefix := fmt.Sprintf("KS-B%d-", time.Now().UnixNano())
			base := time.Now().Truncate(time.Second).Add(-time.Hour)
			for i, st := range []State{StateOpen, StatePlacing, StatePlaced, StateOpen, StateFailed, StatePlaced} {
				c := newCheckout(fmt.Sprintf("%s%d", prefix, i))
				c.BrowserID, c.CreatedAt = prefix+"browser", base.Add(time.Duration(i)*time.Minute)
				if i == 5 {
					c.BrowserID = prefix + "another" // the newest order is another browser's
				}
				if err := s.CreateCheckout(ctx, c); err != nil {
					t.Fatal(err)
				}
				if st != StateOpen {
					if ok, err := s.Transition(ctx, c.ID, []State{StateOpen}, st, Changes{}); !ok || err != nil {
						t.Fatal(ok, err)
					}
				}
			}
			if c, err := s.OpenCheckoutFor(ctx, prefix+"browser"); err != nil || c.ID != prefix+"3" {
				t.Errorf("open checkout: %v %v", c, err)
			}
			if c, err := s.PaidCheckoutFor(ctx, prefix+"browser"); err != nil || c.ID != prefix+"2" {
				t.Errorf("placing or ordered checkout: %v %v", c, err)
			}
			if _, err := s.PaidCheckoutFor(ctx, prefix+"nobody"); !errors.Is(err, ErrNotFound) {
				t.Errorf("a browser without checkouts: %v", err)
			}
			if _, err := s.PaidCheckoutFor(ctx, ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("no browser: %v", err)
			}
		})
	}
}
