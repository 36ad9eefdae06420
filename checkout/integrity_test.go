package checkout_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
)

// TestOneTokenSeveralCheckouts is the first attack: four shoppers with the
// same cart, one approves, and the approval's token is posted to every
// checkout, by browsers and by Klarna's callback, all at once. Exactly one
// order comes of it, on the owner's checkout, and the other checkouts are
// left untouched (no token stored, nothing cancelled).
func TestOneTokenSeveralCheckouts(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	var cs []*store.Checkout
	for range 4 {
		c, _, err := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	owner := cs[1]
	a, err := f.sim.Authorize(owner.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	// The attacker is first: each other checkout gets the token before its
	// owner has used it.
	for _, c := range cs {
		if c == owner {
			continue
		}
		if _, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, c.CartHash); !errors.Is(err, checkout.ErrForeignToken) {
			t.Fatalf("%s took the owner's token: %v", c.ID, err)
		}
	}
	// Then everyone at once, with Klarna's callback for the owner.
	var wg sync.WaitGroup
	results := make([]error, len(cs))
	for i, c := range cs {
		wg.Go(func() {
			_, results[i] = f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, c.CartHash)
		})
	}
	wg.Go(func() {
		// The callback places the order, or leaves it to the owner's
		// browser if that is placing it already.
		if _, err := f.svc.Place(ctx, owner.SessionID, a.AuthorizationToken, checkout.FromCallback, ""); err != nil && !errors.Is(err, checkout.ErrInProgress) {
			t.Errorf("callback: %v", err)
		}
	})
	wg.Wait()
	for i, err := range results {
		if cs[i] == owner {
			if err != nil {
				t.Errorf("owner: %v", err)
			}
		} else if !errors.Is(err, checkout.ErrForeignToken) {
			t.Errorf("checkout %d: %v, want the token refused", i, err)
		}
	}
	orders := f.sim.Snapshot().Orders
	if len(orders) != 1 || orders[0].Reference != owner.ID {
		t.Fatalf("Klarna orders %+v, want one for %s", orders, owner.ID)
	}
	for _, c := range cs {
		got, _ := f.svc.Checkout(ctx, c.ID)
		switch {
		case c == owner && (got.State != store.StatePlaced || got.KlarnaOrderID != orders[0].ID):
			t.Errorf("owner: %s %q", got.State, got.KlarnaOrderID)
		case c != owner && (got.State != store.StateOpen || got.AuthorizationToken != ""):
			t.Errorf("%s was touched: %s, token stored %v", c.ID, got.State, got.AuthorizationToken != "")
		}
	}
	if n := f.sim.Count(simulator.OpCancelAuthorization); n != 0 {
		t.Errorf("the owner's authorization was cancelled %d times", n)
	}
	f.reconciled(t)
}

// TestCallbackWithAnotherSessionsToken: even with a checkout's callback
// secret, a token Klarna does not hold for that checkout's session is
// refused.
func TestCallbackWithAnotherSessionsToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	mine, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	theirs, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	f.sim.Authorize(mine.SessionID, "pay_later", simulator.OutcomeApprove)
	a, _ := f.sim.Authorize(theirs.SessionID, "pay_later", simulator.OutcomeApprove)
	if _, err := f.svc.Place(ctx, mine.SessionID, a.AuthorizationToken, checkout.FromCallback, ""); !errors.Is(err, checkout.ErrForeignToken) {
		t.Fatalf("err = %v", err)
	}
	if len(f.sim.Snapshot().Orders) != 0 || f.sim.Count(simulator.OpCancelAuthorization) != 0 {
		t.Error("the other shopper's authorization was used or cancelled")
	}
}

// TestCartChangedDuringPlacement is the second attack at the service level:
// the cart is repriced (another request's session update) at every point of
// a placement. Whatever the interleaving, the order recorded is the order
// Klarna has, line for line.
func TestCartChangedDuringPlacement(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	small, big := cart(t, f.cat, "brass-pen:1"), cart(t, f.cat, "wool-throw:5")
	placed, changed := 0, 0
	for i := range 40 {
		c, p, err := f.svc.Begin(ctx, "", small, market("GB"), "en-GB")
		if err != nil {
			t.Fatal(err)
		}
		a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
		var wg sync.WaitGroup
		var perr error
		wg.Go(func() { _, perr = f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, p.Hash()) })
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 100 * time.Microsecond)
			f.svc.Begin(ctx, c.ID, big, market("GB"), "en-GB")
		})
		wg.Wait()
		switch {
		case perr == nil:
			placed++
		case errors.Is(perr, checkout.ErrCartChanged), errors.Is(perr, checkout.ErrReauthorize):
			changed++
		default:
			t.Fatalf("round %d: %v", i, perr)
		}
	}
	t.Logf("placed %d, asked to pay again %d", placed, changed)
	if r := f.reconciled(t); r.Local != placed {
		t.Errorf("local orders %d, placed %d", r.Local, placed)
	}
}

// TestPlacedCheckoutIsShownNotPaidAgain: the browser's post never arrived,
// Klarna's callback placed the order, and the shopper comes back to the
// checkout with the same cart: Begin returns that order instead of a new
// Klarna session.
func TestPlacedCheckoutIsShownNotPaidAgain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if _, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromCallback, ""); err != nil {
		t.Fatal(err)
	}
	got, _, err := f.svc.Begin(ctx, c.ID, cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	if !errors.Is(err, checkout.ErrAlreadyPlaced) || got.ID != c.ID {
		t.Fatalf("second visit: %v %v", got, err)
	}
	// A different cart is a new purchase.
	next, _, err := f.svc.Begin(ctx, c.ID, cart(t, f.cat, "oak-board:2"), market("GB"), "en-GB")
	if err != nil || next.ID == c.ID {
		t.Fatalf("new cart: %v %v", next, err)
	}
	if n := f.sim.Count(simulator.OpCreateSession); n != 2 {
		t.Errorf("sessions %d", n)
	}
	f.reconciled(t)
}

// TestReplacedCheckoutCannotBePlaced: a market change replaces the open
// checkout; a late approval of the old one is released, not placed beside
// the new one.
func TestReplacedCheckoutCannotBePlaced(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	old, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(old.SessionID, "pay_later", simulator.OutcomeApprove)
	fresh, _, err := f.svc.Begin(ctx, old.ID, cart(t, f.cat, "oak-board:1"), market("SE"), "sv-SE")
	if err != nil || fresh.ID == old.ID {
		t.Fatal(err)
	}
	if _, err := f.svc.Place(ctx, old.SessionID, a.AuthorizationToken, checkout.FromCallback, ""); !errors.Is(err, checkout.ErrRefused) {
		t.Fatalf("late approval of the replaced checkout: %v", err)
	}
	if len(f.sim.Snapshot().Orders) != 0 || f.sim.Count(simulator.OpCancelAuthorization) != 1 {
		t.Errorf("orders %d, cancelled %d", len(f.sim.Snapshot().Orders), f.sim.Count(simulator.OpCancelAuthorization))
	}
}

// TestDecisionsAfterTheShopWasDown: Klarna decided while the shop could not
// hear it (its notifications were lost). Recovery asks Klarna once the
// bounded wait has passed, and the order ends as Klarna decided; a restart
// in between keeps the schedule.
func TestDecisionsAfterTheShopWasDown(t *testing.T) {
	t.Parallel()
	for _, decision := range []string{"accept", "reject", "stop"} {
		t.Run(decision, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
			a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomePending)
			o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
			if err != nil || o.State != store.StatePendingReview || o.NextCheckAt == nil {
				t.Fatalf("pending: %+v %v", o, err)
			}
			// The shop is down: the simulator's notification goes nowhere.
			if err := f.sim.Decide(o.KlarnaOrderID, decision); err != nil {
				t.Fatal(err)
			}
			at := func(d time.Duration) *checkout.Service {
				return checkout.New(f.client, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{
					Now: func() time.Time { return time.Now().Add(d) }, ReviewChecks: []time.Duration{15 * time.Minute, time.Hour},
				})
			}
			if n, err := at(10 * time.Minute).CheckReviews(ctx); err != nil || n != 0 {
				t.Fatalf("checked before the wait: %d %v", n, err)
			}
			// Two instances after a restart, racing for the check.
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					if _, err := at(16 * time.Minute).Recover(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			got, _ := f.svc.Checkout(ctx, c.ID)
			want := map[string]store.State{"accept": store.StatePlaced, "reject": store.StateRejected, "stop": store.StateRejected}[decision]
			if got.State != want || got.NextCheckAt != nil || got.Checks != 1 {
				t.Errorf("after the check: %s (want %s), next check %v, checks %d", got.State, want, got.NextCheckAt, got.Checks)
			}
			if n := f.sim.Count(simulator.OpGetOrder); n != 1 {
				t.Errorf("Klarna asked %d times", n)
			}
		})
	}
}

// TestReviewStillPendingIsAskedAgainLater: while Klarna still reviews, each
// check schedules the next one further away.
func TestReviewStillPendingIsAskedAgainLater(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomePending)
	o, _ := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	later := checkout.New(f.client, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{
		Now: func() time.Time { return time.Now().Add(20 * time.Minute) }, ReviewChecks: []time.Duration{15 * time.Minute, time.Hour},
	})
	if _, err := later.CheckReviews(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := f.svc.Checkout(ctx, o.ID)
	if got.State != store.StatePendingReview || got.Checks != 1 || got.NextCheckAt == nil || time.Until(*got.NextCheckAt) < 70*time.Minute {
		t.Errorf("after a check while pending: %s, checks %d, next %v", got.State, got.Checks, got.NextCheckAt)
	}
}

// TestNotificationsInEveryState: STOPPED holds an order whatever its state,
// REJECTED rejects a placed order as well as a pending one.
func TestNotificationsInEveryState(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	place := func(outcome string) *store.Checkout {
		c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
		a, _ := f.sim.Authorize(c.SessionID, "pay_later", outcome)
		o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	// A pending order stopped by Klarna.
	o := place(simulator.OutcomePending)
	f.sim.Decide(o.KlarnaOrderID, "stop")
	got, err := f.svc.Notify(ctx, o.ID, o.KlarnaOrderID, checkout.EventStopped)
	if err != nil || got.State != store.StateRejected || got.Hold == "" {
		t.Errorf("stopped pending order: %s hold %q %v", got.State, got.Hold, err)
	}
	// An accepted order stopped afterwards keeps its state but is held.
	o = place(simulator.OutcomeApprove)
	got, err = f.svc.Notify(ctx, o.ID, o.KlarnaOrderID, checkout.EventStopped)
	if err != nil || got.State != store.StatePlaced || got.Hold == "" {
		t.Errorf("stopped placed order: %s hold %q %v", got.State, got.Hold, err)
	}
	// A duplicate changes nothing.
	again, err := f.svc.Notify(ctx, o.ID, o.KlarnaOrderID, checkout.EventStopped)
	if err != nil || again.Version != got.Version {
		t.Errorf("duplicate: %v, version %d -> %d", err, got.Version, again.Version)
	}
}

// TestUnavailableKeepsKlarnasError: wrapping keeps *klarna.Error reachable.
func TestUnavailableKeepsKlarnasError(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateSession, Kind: simulator.FaultStatus, Status: 503, Times: 1})
	_, _, err := f.svc.Begin(t.Context(), "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	var ke *klarna.Error
	if !errors.Is(err, checkout.ErrUnavailable) || !errors.As(err, &ke) || ke.StatusCode != 503 || ke.CorrelationID == "" {
		t.Errorf("err = %v", err)
	}
}

// TestBrowserFindsItsOpenCheckout: a browser that comes back without the
// checkout's reference (an older cookie sent again, as an attacker replaying
// one cookie does) reuses its open checkout instead of opening a Klarna
// session every time.
func TestBrowserFindsItsOpenCheckout(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	sh := checkout.Shopper{BrowserID: "browser-1", Established: true}
	first, _, err := f.svc.BeginFor(ctx, sh, cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, _, err := f.svc.BeginFor(ctx, sh, cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
		if err != nil || again.ID != first.ID {
			t.Fatalf("replayed cookie: %v %v", again, err)
		}
	}
	if n := f.sim.Count(simulator.OpCreateSession); n != 1 {
		t.Errorf("Klarna sessions: %d, want 1", n)
	}
	// Another browser gets its own.
	other, _, _ := f.svc.BeginFor(ctx, checkout.Shopper{BrowserID: "browser-2"}, cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	if other.ID == first.ID {
		t.Error("two browsers share a checkout")
	}
}

// TestNewCartsLeaveQuotaForOlderOnes: a flood of brand-new carts may use at
// most half of Klarna's session quota; a shopper whose cart is older is
// served at once from the other half.
func TestNewCartsLeaveQuotaForOlderOnes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	svc := checkout.New(f.client, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{SessionsPerSecond: 2})
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			_, _, err := svc.BeginFor(ctx, checkout.Shopper{BrowserID: fmt.Sprint("new-", i)}, cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				order = append(order, "new")
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if _, _, err := svc.BeginFor(ctx, checkout.Shopper{BrowserID: "old", Established: true}, cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB"); err != nil {
		t.Fatalf("the older cart was refused: %v", err)
	}
	mu.Lock()
	order = append(order, "old")
	mu.Unlock()
	wg.Wait()
	if i := slices.Index(order, "old"); i > 1 {
		t.Errorf("the older cart waited behind %d new ones: %v", i, order)
	}
}
