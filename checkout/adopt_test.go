package checkout_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/orders"
	"github.com/fikaandform/storefront/store"
)

// TestOrderIDFromANotificationLiftsItsHold: an order recorded without
// Klarna's id (its answer was lost and Klarna would not repeat it) is held
// until the id is known. When Klarna's notification names the order, the
// id is filled in and the hold goes, as when the answer arrives late: an
// accepted order can then be captured. An order Klarna still reviews
// becomes a pending review, followed by the review checks, not an order
// the merchant may ship.
func TestOrderIDFromANotificationLiftsItsHold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		decide         string // what Klarna decides before the notification ("" : still reviewing)
		event          string
		state          store.State
		mayCapture     bool
		nextCheckAfter bool
	}{
		{"accepted", "accept", checkout.EventAccepted, store.StatePlaced, true, false},
		// The notification came before Klarna's own read shows the decision.
		{"read while still in review", "", checkout.EventAccepted, store.StatePendingReview, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			ctx := t.Context()
			c, orderID := placedWithoutItsID(t, f)
			if tc.decide != "" {
				if err := f.sim.Decide(orderID, tc.decide); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.svc.Notify(ctx, c.ID, orderID, tc.event); err != nil && !errors.Is(err, checkout.ErrStale) {
				t.Fatal(err)
			}
			got, err := f.svc.Checkout(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.KlarnaOrderID != orderID || got.Hold != "" || got.LastError != "" || got.State != tc.state || (got.NextCheckAt != nil) != tc.nextCheckAfter {
				t.Errorf("after the notification: state %s, id %q, fraud %s, hold %q, last error %q, next check %v",
					got.State, got.KlarnaOrderID, got.FraudStatus, got.Hold, got.LastError, got.NextCheckAt)
			}
			om := orders.New(f.client, f.store, orders.Policy{}, orders.Options{})
			if _, _, err := om.Plan(ctx, c.ID, orders.Request{Kind: orders.CaptureAll}); (err == nil) != tc.mayCapture {
				t.Errorf("planning a capture: %v (may capture: %v)", err, tc.mayCapture)
			}
		})
	}
}

// placedWithoutItsID places an order that Klarna's review holds, losing
// Klarna's answer: the order is recorded without its Klarna id, on hold.
// It returns the checkout and the id Klarna gave the order.
func placedWithoutItsID(t *testing.T, f *fixture) (*store.Checkout, string) {
	t.Helper()
	ctx := t.Context()
	c, p, err := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomePending)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultAnswerLost, Times: 1})
	placed, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, p.Hash())
	if err != nil || placed.KlarnaOrderID != "" || placed.Hold == "" {
		t.Fatalf("placed after a lost answer: %+v %v", placed, err)
	}
	return c, f.sim.Orders()[0].ID
}

// TestStopNamesAnOrderWithoutItsID: a FRAUD_RISK_STOPPED notification that
// names an order recorded without Klarna's id fills the id in and holds the
// order in the same write, so that it is never free to ship in between,
// even when Klarna cannot be asked for the order's status right after.
func TestStopNamesAnOrderWithoutItsID(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, orderID := placedWithoutItsID(t, f)
	if err := f.sim.Decide(orderID, "stop"); err != nil {
		t.Fatal(err)
	}
	// Klarna's status read fails after the id is recorded: the shop asks
	// to be sent the notification again.
	svc := checkout.New(statusFails{f.client}, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{})
	if _, err := svc.Notify(ctx, c.ID, orderID, checkout.EventStopped); !errors.Is(err, checkout.ErrUnavailable) {
		t.Fatalf("the notification, with Klarna failing after the id: %v", err)
	}
	got, err := f.svc.Checkout(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.KlarnaOrderID != orderID || !strings.Contains(got.Hold, "FRAUD_RISK_STOPPED") {
		t.Errorf("after a stop: id %q, hold %q", got.KlarnaOrderID, got.Hold)
	}
	om := orders.New(f.client, f.store, orders.Policy{}, orders.Options{})
	if _, _, err := om.Plan(ctx, c.ID, orders.Request{Kind: orders.CaptureAll}); err == nil {
		t.Error("a stopped order may be captured")
	}
}

// statusFails is Klarna whose order status reads fail.
type statusFails struct{ *klarna.Client }

func (statusFails) GetOrderStatus(context.Context, string) (*klarna.OrderStatus, *klarna.Response, error) {
	return nil, nil, errors.New("Klarna unreachable")
}
