package checkout_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
)

// faultKinds are every fault the simulator can inject, each hitting the
// next request of an operation once.
var faultKinds = []simulator.Fault{
	{Kind: simulator.FaultLatency, Latency: 150 * time.Millisecond},
	{Kind: simulator.FaultStatus, Status: 500},
	{Kind: simulator.FaultStatus, Status: 503},
	{Kind: simulator.FaultStatus, Status: 429, RetryAfter: 0},
	{Kind: simulator.FaultHang},
	{Kind: simulator.FaultDrop},
	{Kind: simulator.FaultAnswerLost},
}

var (
	matrixMu sync.Mutex
	matrix   = map[string]string{}
)

func record(op string, f simulator.Fault, outcome string) {
	matrixMu.Lock()
	defer matrixMu.Unlock()
	matrix[fmt.Sprintf("%-22s %-10s", op, f.String())] = outcome
}

// TestFaultMatrix injects every fault at every Klarna operation of a
// checkout and checks what the shopper sees and what is left behind: no order
// lost (every authorization ends as exactly one local order matching one
// Klarna order, or as nothing at all), none duplicated, nothing half-written.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	for _, fk := range faultKinds {
		t.Run("create_session/"+fk.String(), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			fault := fk
			fault.Operation, fault.Times = simulator.OpCreateSession, 1
			f.sim.InjectFault(fault)
			c, _, err := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
			seen := "checkout page shown"
			if err != nil {
				if !errors.Is(err, checkout.ErrUnavailable) {
					t.Fatalf("err = %v", err)
				}
				seen = "friendly retry page"
				if orders, _ := f.store.InState(ctx, store.StateOpen, 10); len(orders) != 0 {
					t.Fatal("a checkout was stored without a session")
				}
				c, _, err = f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
				if err != nil {
					t.Fatalf("retry: %v", err)
				}
			}
			finish(t, f, c)
			record("create_session", fault, seen+"; retry places 1 order")
		})
		t.Run("update_session/"+fk.String(), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
			fault := fk
			fault.Operation, fault.Times = simulator.OpUpdateSession, 1
			f.sim.InjectFault(fault)
			_, _, err := f.svc.Begin(ctx, c.ID, cart(t, f.cat, "stoneware-mug:2"), market("GB"), "en-GB")
			seen := "checkout page shown"
			if err != nil {
				if !errors.Is(err, checkout.ErrUnavailable) {
					t.Fatalf("err = %v", err)
				}
				seen = "friendly retry page"
				if got, _ := f.svc.Checkout(ctx, c.ID); got.CartHash != c.CartHash {
					t.Fatal("local snapshot changed although Klarna's update failed")
				}
			}
			c, _, err = f.svc.Begin(ctx, c.ID, cart(t, f.cat, "stoneware-mug:2"), market("GB"), "en-GB")
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			finish(t, f, c)
			record("update_session", fault, seen+"; retry places 1 order")
		})
		// Klarna does not say whether it repeats create order for a spent
		// token: both answers are tried.
		for _, replay := range []bool{false, true} {
			name := "create_order/" + fk.String()
			if replay {
				name += "/klarna-replays"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				f := setupFull(t, sqlite(t), simulator.Config{ReplayOrders: replay}, 300*time.Millisecond)
				ctx := t.Context()
				c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
				fault := fk
				fault.Operation, fault.Times = simulator.OpCreateOrder, 1
				f.sim.InjectFault(fault)
				o := finish(t, f, c)
				outcome := "order confirmed once (asked again with the same token)"
				if o.KlarnaOrderID == "" {
					outcome = "order recorded once, on hold until its Klarna id is looked up"
				}
				op := "create_order"
				if replay {
					op += " (replays)"
				}
				record(op, fault, outcome)
			})
		}
		t.Run("cancel_authorization/"+fk.String(), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
			a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
			fault := fk
			fault.Operation, fault.Times = simulator.OpCancelAuthorization, 1
			f.sim.InjectFault(fault)
			_, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "some-other-cart")
			if !errors.Is(err, checkout.ErrCartChanged) {
				t.Fatalf("err = %v", err)
			}
			if n := len(f.sim.Snapshot().Orders); n != 0 {
				t.Fatalf("%d orders for a changed cart", n)
			}
			c, _, _ = f.svc.Begin(ctx, c.ID, cart(t, f.cat, "stoneware-mug:3"), market("GB"), "en-GB")
			finish(t, f, c)
			record("cancel_authorization", fault, "asked to pay again; new approval places 1 order")
		})
		t.Run("get_order/"+fk.String(), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
			a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomePending)
			o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
			if err != nil || o.State != store.StatePendingReview {
				t.Fatalf("pending order: %v", err)
			}
			f.sim.Decide(o.KlarnaOrderID, "accept")
			fault := fk
			fault.Operation, fault.Times = simulator.OpGetOrder, 1
			f.sim.InjectFault(fault)
			got, err := f.svc.Notify(ctx, o.ID, o.KlarnaOrderID, "FRAUD_RISK_ACCEPTED")
			seen := "decision recorded"
			if err != nil {
				if !errors.Is(err, checkout.ErrUnavailable) {
					t.Fatalf("err = %v", err)
				}
				seen = "503 to Klarna, which retries; retry records the decision"
				got, err = f.svc.Notify(ctx, o.ID, o.KlarnaOrderID, "FRAUD_RISK_ACCEPTED")
			}
			if err != nil || got.State != store.StatePlaced {
				t.Fatalf("after notification: %+v %v", got, err)
			}
			record("get_order", fault, seen)
		})
	}
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		var rows []string
		for k, v := range matrix {
			rows = append(rows, k+" "+v)
		}
		sort.Strings(rows)
		t.Logf("fault matrix (%d cells):\n%s", len(rows), strings.Join(rows, "\n"))
	})
}

// finish authorizes and places a checkout, and checks the invariant: one
// local order, one Klarna order, the same content (and the same id, unless
// Klarna would not repeat a lost answer: then the order is on hold for an
// operator to look up).
func finish(t *testing.T, f *fixture, c *store.Checkout) *store.Checkout {
	t.Helper()
	ctx := context.Background()
	a, err := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if errors.Is(err, checkout.ErrInProgress) {
		f.sim.ClearFaults()
		_, err = f.restarted(t).Recover(ctx)
		if err == nil {
			o, err = f.svc.Checkout(ctx, c.ID)
		}
	}
	if err != nil {
		t.Fatalf("placing: %v", err)
	}
	orders := f.sim.Snapshot().Orders
	if o.State != store.StatePlaced || len(orders) != 1 || (orders[0].ID != o.KlarnaOrderID && !(o.KlarnaOrderID == "" && o.Hold != "")) {
		t.Fatalf("invariant broken: local %s %q, Klarna orders %v", o.State, o.KlarnaOrderID, orders)
	}
	f.reconciled(t)
	return o
}
