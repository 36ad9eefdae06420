package checkout_test

import (
	"errors"
	"testing"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
)

// TestAnOlderCookieIsNotAskedToPayAgain: a browser can come back without
// its checkout's reference but with the same cart (an older cookie: two
// requests raced to save the session, or a cookie was restored). If that
// cart was started before the browser's checkout that is being placed, or
// that became an order for the same cart, the browser is shown that
// checkout: no second Klarna session, no second order. A cart started
// after the order is a new purchase, even of the same items.
func TestAnOlderCookieIsNotAskedToPayAgain(t *testing.T) {
	t.Parallel()
	// The older cookie's shopper: its cart was started a minute ago.
	sh := checkout.Shopper{BrowserID: "browser-1", Established: true, CartSince: time.Now().Add(-time.Minute)}
	begin := func(t *testing.T, f *fixture, sh checkout.Shopper) (*store.Checkout, *shop.Priced, error) {
		return f.svc.BeginFor(t.Context(), sh, cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	}
	// approved opens the shopper's checkout and approves it at Klarna,
	// returning the authorization token.
	approved := func(t *testing.T, f *fixture) (*store.Checkout, *shop.Priced, string) {
		c, p, err := begin(t, f, sh)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
		return c, p, a.AuthorizationToken
	}

	t.Run("placed by Klarna's callback", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		c, _, token := approved(t, f)
		if _, err := f.svc.Place(ctx, c.SessionID, token, checkout.FromCallback, ""); err != nil {
			t.Fatal(err)
		}
		got, _, err := begin(t, f, sh)
		if !errors.Is(err, checkout.ErrAlreadyPlaced) || got == nil || got.ID != c.ID {
			t.Errorf("the older cookie got %s, %v; want %s and ErrAlreadyPlaced", idOf(got), err, c.ID)
		}
		if n := f.sim.Count(simulator.OpCreateSession); n != 1 {
			t.Errorf("%d Klarna sessions for one cart", n)
		}
		f.reconciled(t)

		// The same items in a cart started after the order: a new purchase.
		again := sh
		again.CartSince = c.CreatedAt.Add(2 * time.Second)
		if next, _, err := begin(t, f, again); err != nil || next.ID == c.ID {
			t.Errorf("a new cart of the same items after the order: %s, %v", idOf(next), err)
		}
		// A cart whose start is not known is not held back either.
		unknown := sh
		unknown.CartSince = time.Time{}
		if next, _, err := begin(t, f, unknown); err != nil || next.ID == c.ID {
			t.Errorf("a cart of unknown age: %s, %v", idOf(next), err)
		}
	})

	t.Run("still being placed", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx := t.Context()
		c, p, token := approved(t, f)
		f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultStatus, Status: 503, Times: 3})
		if _, err := f.svc.Place(ctx, c.SessionID, token, checkout.FromBrowser, p.Hash()); !errors.Is(err, checkout.ErrInProgress) {
			t.Fatalf("first placement: %v", err)
		}
		got, _, err := begin(t, f, sh)
		if !errors.Is(err, checkout.ErrInProgress) || got == nil || got.ID != c.ID {
			t.Errorf("the older cookie got %s, %v; want %s and ErrInProgress", idOf(got), err, c.ID)
		}
		if _, err := f.restarted(t).Recover(ctx); err != nil {
			t.Fatal(err)
		}
		if n, m := len(f.sim.Orders()), f.sim.Count(simulator.OpCreateSession); n != 1 || m != 1 {
			t.Errorf("one cart of one browser: %d Klarna orders, %d sessions", n, m)
		}
		f.reconciled(t)
	})
}

func idOf(c *store.Checkout) string {
	if c == nil {
		return "<nil>"
	}
	return c.ID
}
