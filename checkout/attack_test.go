package checkout_test

import (
	"errors"
	"github.com/fikaandform/storefront/store/storetest"
	"testing"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
)

// TestAttackStaleRowAfterCallbackPlaced: the browser's /checkout/place
// reads the checkout, prices the cookie's cart (which another tab has
// changed meanwhile) and hands the row it read to PlaceCheckout. Between
// the read and the placement Klarna's callback places the order for the
// cart the shopper approved. The browser must be shown that order: telling
// the shopper "your cart changed, pay again" while Klarna holds an order
// sends them to pay a second time without knowing of the first.
func TestAttackStaleRowAfterCallbackPlaced(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, err := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	// The browser's request reads its checkout...
	read, err := f.svc.Checkout(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	// ...Klarna's callback places the approved cart...
	if placed, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromCallback, ""); err != nil || !placed.State.IsOrder() {
		t.Fatalf("callback: %+v %v", placed, err)
	}
	// ...and the browser's request goes on with the row it read and the
	// cart its cookie holds now (a mug added in another tab).
	_, other, err := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:2"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.PlaceCheckout(ctx, read, a.AuthorizationToken, checkout.FromBrowser, other.Hash())
	if errors.Is(err, checkout.ErrCartChanged) {
		t.Errorf("the browser was told the cart changed (pay again) though Klarna's callback placed the order")
	} else if err != nil || got == nil || got.State != store.StatePlaced {
		t.Errorf("browser: %+v %v, want the placed order", got, err)
	}
	if n := f.sim.Count(simulator.OpCancelAuthorization); n != 0 {
		t.Errorf("the shop asked Klarna %d time(s) to release an authorization that is an order", n)
	}
	f.reconciled(t)
}

// TestAttackChangedCartWhileCallbackPlaces: Klarna's callback is placing
// the approved cart (Klarna slow to answer) when the browser's request
// arrives with a changed cart and the row it read before. The browser must
// not release the authorization the callback is turning into an order:
// it waits for that placement and shows its outcome.
func TestAttackChangedCartWhileCallbackPlaces(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, err := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:2"), market("GB"), "en-GB")
	read, err := f.svc.Checkout(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultLatency, Latency: 300 * time.Millisecond, Times: 1})
	done := make(chan error, 1)
	go func() {
		_, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromCallback, "")
		done <- err
	}()
	storetest.Eventually(2*time.Second, func() bool {
		now, err := f.svc.Checkout(ctx, c.ID)
		return err == nil && now.State == store.StatePlacing
	})
	got, err := f.svc.PlaceCheckout(ctx, read, a.AuthorizationToken, checkout.FromBrowser, other.Hash())
	if cerr := <-done; cerr != nil {
		t.Logf("callback: %v", cerr)
	}
	final, _ := f.svc.Checkout(ctx, c.ID)
	t.Logf("browser: %v; checkout %s; Klarna orders %d, cancels %d", err, final.State, len(f.sim.Orders()), f.sim.Count(simulator.OpCancelAuthorization))
	if len(f.sim.Orders()) == 1 && (err != nil || got == nil || !got.State.IsOrder()) {
		t.Errorf("Klarna made the order but the browser was told %v", err)
	}
	if f.sim.Count(simulator.OpCancelAuthorization) != 0 {
		t.Errorf("the browser released an authorization another caller was placing")
	}
	f.reconciled(t)
}

// TestAttackCallbackWhileTheDatabaseRefusesWrites: Klarna's authorization
// callback is never sent again once answered, and the shopper's browser is
// gone (closed tab, lost request). The database refuses writes as the
// callback arrives: the shop cannot keep the token, so it answers with an
// error, and Klarna's next attempt, once writes work again, places the
// order. The database then refuses writes again just as the placement
// starts: the kept token is placed once writes come back.
func TestAttackCallbackWhileTheDatabaseRefusesWrites(t *testing.T) {
	t.Parallel()
	db := storetest.NewRefusing(sqlite(t))
	f := setupWith(t, db)
	ctx := t.Context()
	c, _, err := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	read, err := f.svc.Checkout(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	db.Refuse(true)
	if err := f.svc.PlaceInBackground(ctx, read, a.AuthorizationToken); err == nil {
		t.Fatal("the callback was accepted although its token could not be kept")
	}
	db.Refuse(false)
	// Klarna's next attempt; writes fail again once the token is kept.
	if err := f.svc.PlaceInBackground(ctx, read, a.AuthorizationToken); err != nil {
		t.Fatal(err)
	}
	db.Refuse(true)
	time.Sleep(200 * time.Millisecond)
	db.Refuse(false)
	placed := storetest.Eventually(8*time.Second, func() bool {
		now, err := f.svc.Checkout(ctx, c.ID)
		return err == nil && now.State.IsOrder()
	})
	f.svc.Wait()
	if !placed {
		now, _ := f.svc.Checkout(ctx, c.ID)
		t.Errorf("the callback's authorization never became an order: checkout %s, Klarna orders %d, refused writes %d", now.State, len(f.sim.Orders()), db.Refused.Load())
	}
	f.reconciled(t)
}

// TestKeptCallbackPlacedByRecovery: the instance that answered Klarna's
// callback stopped before placing the order (a deploy, a crash), and the
// browser never came back. Recovery on another instance finds the kept
// token and places the order once; a kept token that is not the
// checkout's is verified, refused and forgotten.
func TestKeptCallbackPlacedByRecovery(t *testing.T) {
	t.Parallel()
	st := sqlite(t)
	f := setupWith(t, st)
	ctx := t.Context()
	mine, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	other, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(mine.SessionID, "pay_later", simulator.OutcomeApprove)
	b, _ := f.sim.Authorize(other.SessionID, "pay_later", simulator.OutcomeApprove)
	long := time.Now().Add(-time.Hour)
	// What the stopped instance left: tokens kept, nothing placed. The
	// other checkout's kept token is this shopper's (a replayed callback
	// body under the other checkout's secret).
	if err := st.NoteCallback(ctx, mine.ID, a.AuthorizationToken, long); err != nil {
		t.Fatal(err)
	}
	if err := st.NoteCallback(ctx, other.ID, a.AuthorizationToken, long); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := f.svc.Recover(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.svc.Checkout(ctx, mine.ID)
	if !got.State.IsOrder() {
		t.Fatalf("the kept callback was not placed: %s", got.State)
	}
	them, _ := f.svc.Checkout(ctx, other.ID)
	if them.State != store.StateOpen || them.CallbackToken != "" {
		t.Errorf("the other checkout: %s, kept token %v", them.State, them.CallbackToken != "")
	}
	if n := f.sim.Count(simulator.OpCreateOrder); n != 1 {
		t.Errorf("create order called %d times", n)
	}
	// The other shopper can still pay with their own approval.
	if _, err := f.svc.Place(ctx, other.SessionID, b.AuthorizationToken, checkout.FromBrowser, other.CartHash); err != nil {
		t.Errorf("the other shopper's own approval: %v", err)
	}
	f.reconciled(t)
}

// TestLeaseKeptWhileAskingAgain: Klarna's answer to create order is lost
// and the placing caller waits to ask again for longer than its lease.
// Recovery on another instance, running meanwhile, must not take the
// placement over while its owner is still at it.
func TestLeaseKeptWhileAskingAgain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	urls := handlers.NewURLs("http://shop.test")
	owner := checkout.New(f.client, f.store, f.cat, urls, checkout.Options{RetryWaits: []time.Duration{400 * time.Millisecond}, Lease: 50 * time.Millisecond})
	other := checkout.New(f.client, f.store, f.cat, urls, checkout.Options{Lease: 50 * time.Millisecond})
	c, p, err := owner.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultStatus, Status: 503, Times: 1})
	done := make(chan error, 1)
	go func() {
		_, err := owner.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, p.Hash())
		done <- err
	}()
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := other.Recover(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("owner: %v", err)
	}
	// The simulator counts the calls it ran: not the one answered 503.
	if n := f.sim.Count(simulator.OpCreateOrder); n != 1 {
		t.Errorf("create order ran %d times, want once (the owner's retry), recovery none", n)
	}
	f.reconciled(t)
}

// TestNotificationNamesAnOrderRecordedWithoutItsID: an order recorded
// without Klarna's id (create order's answer was lost and Klarna would not
// repeat it) is pending review at Klarna. Klarna's decision names the
// order: the shop checks with Klarna that it carries this checkout's
// reference, takes the id, and applies the decision, instead of ignoring
// a notification Klarna will not send again. A notification naming
// another checkout's order changes nothing.
func TestNotificationNamesAnOrderRecordedWithoutItsID(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	mine, p, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(mine.SessionID, "pay_later", simulator.OutcomePending)
	placed, err := f.svc.Place(ctx, mine.SessionID, a.AuthorizationToken, checkout.FromBrowser, p.Hash())
	if err != nil || placed.State != store.StatePendingReview {
		t.Fatalf("placed: %v %v", placed, err)
	}
	theirs, q, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	b, _ := f.sim.Authorize(theirs.SessionID, "pay_later", simulator.OutcomeApprove)
	other, err := f.svc.Place(ctx, theirs.SessionID, b.AuthorizationToken, checkout.FromBrowser, q.Hash())
	if err != nil {
		t.Fatal(err)
	}
	// As recorded after a lost answer: an order, without Klarna's id.
	orderID, empty := placed.KlarnaOrderID, ""
	if _, err := f.store.Transition(ctx, mine.ID, []store.State{store.StatePendingReview}, store.StatePlaced, store.Changes{KlarnaOrderID: &empty}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Notify(ctx, mine.ID, other.KlarnaOrderID, checkout.EventRejected); !errors.Is(err, checkout.ErrStale) {
		t.Errorf("another checkout's order: %v", err)
	}
	if got, _ := f.svc.Checkout(ctx, mine.ID); got.KlarnaOrderID != "" || got.State != store.StatePlaced {
		t.Fatalf("changed by another checkout's order: %s %q", got.State, got.KlarnaOrderID)
	}
	if err := f.sim.Decide(orderID, "reject"); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Notify(ctx, mine.ID, orderID, checkout.EventRejected)
	if err != nil || got.State != store.StateRejected || got.KlarnaOrderID != orderID {
		t.Fatalf("after Klarna's decision: %v %v", got, err)
	}
}
