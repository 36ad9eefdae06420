package orders_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
	"github.com/fikaandform/storefront/orders"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/store/storetest"
)

type fixture struct {
	client   *klarna.Client
	sim      *simulator.Simulator
	store    store.Store
	checkout *checkout.Service
	svc      *orders.Service
	cat      *shop.Catalog
}

type config struct {
	sim    simulator.Config
	policy orders.Policy
	now    func() time.Time
	store  store.Store
}

func setup(t *testing.T, cfg config) *fixture {
	t.Helper()
	cfg.sim.Username, cfg.sim.Password, cfg.sim.DisableCallbacks = "u", "p", true
	cfg.sim.RequireIdempotencyKey = true // every Order Management write must carry one
	sim, simURL := simtest.Start(t, cfg.sim)
	// No retries inside the client: a lost answer reaches the service.
	client, err := klarna.NewClient(klarna.WithBaseURL(simURL), klarna.WithCredentials("u", "p"), klarna.WithMaxRetries(0),
		klarna.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	st := cfg.store
	if st == nil {
		st = sqliteStore(t)
	}
	svc := orders.New(client, st, cfg.policy, orders.Options{Now: cfg.now})
	cat := shop.DefaultCatalog()
	co := checkout.New(client, st, cat, handlers.NewURLs("http://shop.test"), checkout.Options{
		RetryWaits: []time.Duration{time.Millisecond}, AutoCapture: svc.Policy().AutoCapture, AutoCaptured: svc.Refresh,
	})
	t.Cleanup(co.Wait)
	return &fixture{client: client, sim: sim, store: st, checkout: co, svc: svc, cat: cat}
}

func sqliteStore(t *testing.T) *store.SQL {
	t.Helper()
	sq, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	return sq
}

// place buys a cart ("stoneware-mug:2,house-blend:1") in the GB market and
// returns the placed order.
func (f *fixture) place(t *testing.T, cart, outcome string) *store.Checkout {
	t.Helper()
	ctx := t.Context()
	c, err := shop.DecodeCart(cart, f.cat)
	if err != nil {
		t.Fatal(err)
	}
	gb, _ := shop.LookupMarket("GB")
	co, _, err := f.checkout.Begin(ctx, "", c, gb, "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.sim.Authorize(co.SessionID, "pay_later", outcome)
	if err != nil {
		t.Fatal(err)
	}
	placed, err := f.checkout.Place(ctx, co.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if err != nil {
		t.Fatal(err)
	}
	return placed
}

// act plans a request and confirms it, as an operator does.
func (f *fixture) act(t *testing.T, ref string, req orders.Request) (*store.Action, error) {
	t.Helper()
	_, p, err := f.svc.Plan(t.Context(), ref, req)
	if err != nil {
		return nil, err
	}
	return f.svc.Confirm(t.Context(), ref, p.ActionID, p.Version, req, "admin")
}

func (f *fixture) order(t *testing.T, ref string) *orders.Order {
	t.Helper()
	o, err := f.svc.Order(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// klarnaOrder is the simulator's record of an order.
func (f *fixture) klarnaOrder(t *testing.T, id string) simulator.OrderRecord {
	t.Helper()
	for _, o := range f.sim.Orders() {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("Klarna has no order %s", id)
	return simulator.OrderRecord{}
}

// agrees checks the shop's amounts against Klarna's.
func (f *fixture) agrees(t *testing.T, o *orders.Order) {
	t.Helper()
	k := f.klarnaOrder(t, o.Checkout.KlarnaOrderID)
	if o.Captured != k.CapturedAmount || o.Refunded != k.RefundedAmount || o.Remaining != k.RemainingAmount {
		t.Errorf("shop: captured %d refunded %d remaining %d; Klarna: %d %d %d", o.Captured, o.Refunded, o.Remaining,
			k.CapturedAmount, k.RefundedAmount, k.RemainingAmount)
	}
	if o.Read == nil || o.Read.Mismatch != "" || o.Read.Status != k.Status {
		t.Errorf("Klarna read: %+v, Klarna status %s", o.Read, k.Status)
	}
}

// TestShipRefundOneLineThenTheRest follows an order through a partial
// shipment, the rest with tracking, a refund of one line and of the rest.
func TestShipRefundOneLineThenTheRest(t *testing.T) {
	t.Parallel()
	f := setup(t, config{})
	c := f.place(t, "stoneware-mug:2,house-blend:1", simulator.OutcomeApprove) // 3600 + 995 + 495 shipping
	o := f.order(t, c.ID)
	if o.Authorized != 5090 || o.Remaining != 5090 || o.Status() != "AUTHORIZED" || o.ExpiryEstimated || o.ExpiresAt == nil {
		t.Fatalf("new order: authorized %d remaining %d status %s expiry %v", o.Authorized, o.Remaining, o.Status(), o.ExpiresAt)
	}
	if o.Allowed[orders.Release] == "" || o.Allowed[orders.RefundAll] == "" || o.Allowed[orders.CaptureAll] != "" || o.Allowed[orders.Cancel] != "" {
		t.Errorf("allowed on a new order: %+v", o.Allowed)
	}

	// One mug ships first.
	a, err := f.act(t, c.ID, orders.Request{Kind: orders.CaptureLines, Quantities: map[int]int64{0: 1}})
	if err != nil || a.Status != store.ActionSucceeded || a.Amount != 1800 || a.ResultID == "" || a.CorrelationID == "" {
		t.Fatalf("capture one mug: %+v %v", a, err)
	}
	o = f.order(t, c.ID)
	if o.Lines[0].Captured != 1 || o.Remaining != 3290 || o.Status() != "PART_CAPTURED" || o.Allowed[orders.Cancel] == "" {
		t.Errorf("after one mug: %+v remaining %d status %s", o.Lines[0], o.Remaining, o.Status())
	}
	f.agrees(t, o)

	// The rest ships with a tracking number.
	a, err = f.act(t, c.ID, orders.Request{Kind: orders.CaptureAll, Carrier: "Royal Mail", TrackingNumber: "RM123456785GB",
		TrackingURI: "https://www.royalmail.com/track-your-item#/tracking-results/RM123456785GB"})
	if err != nil || a.Amount != 3290 || !strings.Contains(a.Summary, "Royal Mail") {
		t.Fatalf("capture the rest: %+v %v", a, err)
	}
	o = f.order(t, c.ID)
	if o.Captured != 5090 || o.Remaining != 0 || o.Status() != "CAPTURED" || o.Captures[1].TrackingNumber != "RM123456785GB" {
		t.Errorf("fully captured: captured %d status %s captures %+v", o.Captured, o.Status(), o.Captures)
	}
	for _, l := range o.Lines {
		if l.Captured != l.Quantity {
			t.Errorf("line %s captured %d of %d", l.Name, l.Captured, l.Quantity)
		}
	}
	f.agrees(t, o)

	// One mug comes back.
	a, err = f.act(t, c.ID, orders.Request{Kind: orders.RefundLines, Quantities: map[int]int64{0: 1}, Reason: "Chipped in transit"})
	if err != nil || a.Amount != 1800 {
		t.Fatalf("refund a mug: %+v %v", a, err)
	}
	// Then everything else.
	if a, err = f.act(t, c.ID, orders.Request{Kind: orders.RefundAll}); err != nil || a.Amount != 3290 {
		t.Fatalf("refund the rest: %+v %v", a, err)
	}
	o = f.order(t, c.ID)
	if o.Refunded != 5090 || o.Refundable != 0 || len(o.Refunds) != 2 || o.Refunds[0].Reason != "Chipped in transit" {
		t.Errorf("refunded: %d, refunds %+v", o.Refunded, o.Refunds)
	}
	f.agrees(t, o)
	if len(o.Actions) != 4 {
		t.Errorf("history: %d actions", len(o.Actions))
	}
	for _, a := range o.Actions {
		if a.Actor != "admin" || a.IdempotencyKey == "" || a.CorrelationID == "" || a.Status != store.ActionSucceeded {
			t.Errorf("history entry %+v", a)
		}
	}
	if n := f.sim.Snapshot().UnkeyedWrites; len(n) != 0 {
		t.Errorf("writes without an idempotency key: %v", n)
	}
	fl, err := f.svc.ForShopper(t.Context(), c.ID)
	if err != nil || len(fl.Shipments) != 2 || fl.Refunded != 5090 || fl.Shipments[1].Carrier != "Royal Mail" {
		t.Errorf("shopper's view: %+v %v", fl, err)
	}
}

// TestRulesBeforeKlarna: the shop refuses what its rules forbid without
// asking Klarna.
func TestRulesBeforeKlarna(t *testing.T) {
	t.Parallel()
	f := setup(t, config{})
	ctx := t.Context()
	notAllowed := func(t *testing.T, ref string, req orders.Request, want string) {
		t.Helper()
		_, err := f.act(t, ref, req)
		var na *orders.NotAllowedError
		if !errors.As(err, &na) || !strings.Contains(na.Reason, want) {
			t.Errorf("%s on %s: %v, want a refusal saying %q", req.Kind, ref, err, want)
		}
	}
	pending := f.place(t, "brass-pen:1", simulator.OutcomePending)
	notAllowed(t, pending.ID, orders.Request{Kind: orders.CaptureAll}, "still reviewing")

	rejected := f.place(t, "brass-pen:1", simulator.OutcomePending)
	if err := f.sim.Decide(rejected.KlarnaOrderID, "reject"); err != nil {
		t.Fatal(err)
	}
	if c, err := f.checkout.Notify(ctx, rejected.ID, rejected.KlarnaOrderID, checkout.EventRejected); err != nil || c.State != store.StateRejected {
		t.Fatalf("rejection: %v %v", c, err)
	}
	// Klarna reports a rejected order as cancelled.
	notAllowed(t, rejected.ID, orders.Request{Kind: orders.CaptureAll}, "Klarna has cancelled this order")

	held := f.place(t, "brass-pen:1", simulator.OutcomeApprove)
	hold := "Klarna stopped this order (FRAUD_RISK_STOPPED): do not ship"
	if ok, _ := f.store.Transition(ctx, held.ID, []store.State{store.StatePlaced}, store.StatePlaced, store.Changes{Hold: &hold}); !ok {
		t.Fatal("hold")
	}
	notAllowed(t, held.ID, orders.Request{Kind: orders.CaptureAll}, "stopped")
	notAllowed(t, held.ID, orders.Request{Kind: orders.CaptureLines, Quantities: map[int]int64{0: 1}}, "stopped")

	c := f.place(t, "stoneware-mug:2", simulator.OutcomeApprove)
	notAllowed(t, c.ID, orders.Request{Kind: orders.Release}, "cancel the order instead")
	notAllowed(t, c.ID, orders.Request{Kind: orders.RefundAmount, Amount: "1.00", Reason: "x"}, "Nothing captured")
	notAllowed(t, c.ID, orders.Request{Kind: orders.CaptureLines, Quantities: map[int]int64{0: 3}}, "Only 2 of")
	notAllowed(t, c.ID, orders.Request{Kind: orders.CaptureLines}, "Choose at least one line")
	notAllowed(t, c.ID, orders.Request{Kind: orders.CaptureAll, TrackingNumber: "123"}, "carrier")
	if _, err := f.act(t, c.ID, orders.Request{Kind: orders.CaptureLines, Quantities: map[int]int64{0: 1}}); err != nil {
		t.Fatal(err)
	}
	notAllowed(t, c.ID, orders.Request{Kind: orders.Cancel}, "has captures")
	notAllowed(t, c.ID, orders.Request{Kind: orders.RefundAmount, Amount: "18.01", Reason: "x"}, "£18.00, not £18.01")
	notAllowed(t, c.ID, orders.Request{Kind: orders.RefundAmount, Amount: "1.00"}, "Say why")
	notAllowed(t, c.ID, orders.Request{Kind: orders.RefundLines, Quantities: map[int]int64{0: 2}}, "Only 1 of")
	if n := f.sim.Count(simulator.OpCapture); n != 1 {
		t.Errorf("Klarna was asked to capture %d times, want 1", n)
	}
	if n := f.sim.Count(simulator.OpRefund) + f.sim.Count(simulator.OpReleaseAuthorization) + f.sim.Count(simulator.OpCancelOrder); n != 0 {
		t.Errorf("Klarna was asked %d times what the shop's rules refuse", n)
	}
}

// TestRefusalInPlainWords: an order that expired at Klarna since the shop
// last read it is refused by Klarna; the operator reads why.
func TestRefusalInPlainWords(t *testing.T) {
	t.Parallel()
	f := setup(t, config{})
	c := f.place(t, "oak-board:1", simulator.OutcomeApprove)
	_, p, err := f.svc.Plan(t.Context(), c.ID, orders.Request{Kind: orders.CaptureAll})
	if err != nil {
		t.Fatal(err)
	}
	f.sim.Advance(29 * 24 * time.Hour) // past Klarna's 28 days
	a, err := f.svc.Confirm(t.Context(), c.ID, p.ActionID, p.Version, orders.Request{Kind: orders.CaptureAll}, "admin")
	var ke *klarna.Error
	if !errors.Is(err, orders.ErrRefused) || !errors.As(err, &ke) || ke.ErrorCode != klarna.CodeCaptureNotAllowed {
		t.Fatalf("err = %v", err)
	}
	if a.Status != store.ActionFailed || !strings.Contains(a.Error, "authorization expired on") || a.CorrelationID == "" || a.ErrorCode != "CAPTURE_NOT_ALLOWED" {
		t.Errorf("failed action: %+v", a)
	}
	o := f.order(t, c.ID)
	if o.Status() != "EXPIRED" || o.Allowed[orders.CaptureAll] == "" {
		t.Errorf("after the refusal: status %s, capture allowed %q", o.Status(), o.Allowed[orders.CaptureAll])
	}
	if list, _ := f.svc.Attention(t.Context(), 10); len(list) != 1 || !strings.Contains(strings.Join(list[0].Why, " "), "Last action failed") {
		t.Errorf("attention: %+v", list)
	}
}

// TestDoubleSubmit: the same confirmation posted again, or ten times at
// once, captures once.
func TestDoubleSubmit(t *testing.T) {
	t.Parallel()
	f := setup(t, config{})
	c := f.place(t, "wool-throw:1", simulator.OutcomeApprove)
	req := orders.Request{Kind: orders.CaptureAll}
	_, p, err := f.svc.Plan(t.Context(), c.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	var done, taken atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := f.svc.Confirm(t.Context(), c.ID, p.ActionID, p.Version, req, "admin")
			switch {
			case err == nil:
				done.Add(1)
			case errors.Is(err, orders.ErrAlreadyTaken) && a != nil && a.ID == p.ActionID:
				taken.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if done.Load() != 1 || taken.Load() != 9 {
		t.Errorf("done %d, already taken %d", done.Load(), taken.Load())
	}
	if _, err := f.svc.Confirm(t.Context(), c.ID, p.ActionID, p.Version, req, "admin"); !errors.Is(err, orders.ErrAlreadyTaken) {
		t.Errorf("a later resubmit: %v", err)
	}
	if k := f.klarnaOrder(t, c.KlarnaOrderID); len(k.Captures) != 1 || f.sim.Count(simulator.OpCapture) != 1 {
		t.Errorf("Klarna captured %d times", len(k.Captures))
	}
}

// TestTwoOperatorsRace: two operators confirm captures planned on the same
// order version; one wins, the other is told the order changed, on SQLite
// and PostgreSQL.
func TestTwoOperatorsRace(t *testing.T) {
	t.Parallel()
	stores := map[string]store.Store{"sqlite": nil}
	if pg := storetest.PostgresForTest(t); pg != nil {
		stores["postgres"] = pg
	}
	for name, st := range stores {
		t.Run(name, func(t *testing.T) {
			f := setup(t, config{store: st})
			c := f.place(t, "stoneware-mug:2", simulator.OutcomeApprove)
			for round := range 3 {
				reqs := []orders.Request{{Kind: orders.CaptureLines, Quantities: map[int]int64{0: 1}}, {Kind: orders.CaptureLines, Quantities: map[int]int64{0: 1}}}
				if round == 2 {
					reqs = []orders.Request{{Kind: orders.RefundLines, Quantities: map[int]int64{0: 1}}, {Kind: orders.RefundAll}}
				}
				var plans []*orders.Plan
				for _, r := range reqs {
					_, p, err := f.svc.Plan(t.Context(), c.ID, r)
					if err != nil {
						t.Fatal(err)
					}
					plans = append(plans, p)
				}
				var won, lost atomic.Int32
				var wg sync.WaitGroup
				for i, p := range plans {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := f.svc.Confirm(t.Context(), c.ID, p.ActionID, p.Version, reqs[i], fmt.Sprintf("operator-%d", i))
						switch {
						case err == nil:
							won.Add(1)
						case errors.Is(err, orders.ErrChanged), errors.Is(err, orders.ErrBusy):
							lost.Add(1)
						default:
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				if won.Load() != 1 || lost.Load() != 1 {
					t.Fatalf("round %d: %d won, %d lost", round, won.Load(), lost.Load())
				}
			}
			o := f.order(t, c.ID)
			k := f.klarnaOrder(t, c.KlarnaOrderID)
			if len(k.Captures) != 2 || len(k.Refunds) != 1 || o.Captured != 3600 {
				t.Errorf("Klarna: %d captures, %d refunds; shop captured %d", len(k.Captures), len(k.Refunds), o.Captured)
			}
			f.agrees(t, o)
		})
	}
}

// TestLostAnswerRetriedWithTheSameKey: Klarna captures but its answer is
// lost; the action stays pending, and the operator's retry (and, for a
// second order, recovery's) sends the same key: one capture at Klarna.
func TestLostAnswerRetriedWithTheSameKey(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var clock atomic.Int64 // seconds added to now
	f := setup(t, config{now: func() time.Time { return now.Add(time.Duration(clock.Load()) * time.Second) }})
	ctx := t.Context()
	for _, by := range []string{"operator", "recovery"} {
		t.Run(by, func(t *testing.T) {
			c := f.place(t, "pour-over-kettle:1", simulator.OutcomeApprove)
			f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCapture, Kind: simulator.FaultAnswerLost, Times: 1})
			a, err := f.act(t, c.ID, orders.Request{Kind: orders.CaptureAll})
			if !errors.Is(err, orders.ErrUnknownOutcome) || a == nil || a.Status != store.ActionPending || a.NextAttemptAt == nil {
				t.Fatalf("lost answer: %+v %v", a, err)
			}
			if k := f.klarnaOrder(t, c.KlarnaOrderID); len(k.Captures) != 1 {
				t.Fatalf("Klarna did not capture: %+v", k.Captures)
			}
			o := f.order(t, c.ID)
			if o.Pending == nil || o.Allowed[orders.RefundAll] == "" || o.Allowed[orders.Cancel] == "" {
				t.Errorf("while the outcome is unknown every action must wait: pending %v, allowed %+v", o.Pending, o.Allowed)
			}
			if _, err := f.act(t, c.ID, orders.Request{Kind: orders.CaptureAll}); err == nil {
				t.Error("a second capture was allowed while the first one's outcome is unknown")
			}
			var got *store.Action
			if by == "operator" {
				got, err = f.svc.Retry(ctx, c.ID, a.ID, "admin")
			} else {
				clock.Add(10) // past the first wait of 5 s
				var n int
				n, err = f.svc.Recover(ctx)
				if n != 1 {
					t.Errorf("recovery settled %d actions", n)
				}
				got, _ = f.store.Action(ctx, a.ID)
			}
			if err != nil || got.Status != store.ActionSucceeded || got.IdempotencyKey != a.IdempotencyKey || got.Attempts != 2 {
				t.Fatalf("retry: %+v %v", got, err)
			}
			k := f.klarnaOrder(t, c.KlarnaOrderID)
			o = f.order(t, c.ID)
			if len(k.Captures) != 1 || len(o.Captures) != 1 || o.Captures[0].ID != k.Captures[0].ID || o.Captures[0].ActionID != a.ID {
				t.Errorf("Klarna %d captures, shop %+v", len(k.Captures), o.Captures)
			}
			f.agrees(t, o)
		})
	}
	if n := f.sim.Count(simulator.OpCapture); n != 2 {
		t.Errorf("Klarna ran %d captures for two orders", n)
	}
}

// TestSettledByReadingAfterTheKeyWindow: a pending action older than the
// key's 24 hours is not sent again; Klarna's read says whether it happened.
func TestSettledByReadingAfterTheKeyWindow(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var later atomic.Bool
	f := setup(t, config{now: func() time.Time {
		if later.Load() {
			return now.Add(25 * time.Hour)
		}
		return now
	}})
	c := f.place(t, "linen-notebook:1", simulator.OutcomeApprove)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCapture, Kind: simulator.FaultAnswerLost, Times: 1})
	a, err := f.act(t, c.ID, orders.Request{Kind: orders.CaptureAll})
	if !errors.Is(err, orders.ErrUnknownOutcome) {
		t.Fatal(err)
	}
	later.Store(true)
	got, err := f.svc.Retry(t.Context(), c.ID, a.ID, "admin")
	if err != nil || got.Status != store.ActionSucceeded || got.ResultID == "" || !strings.Contains(got.Error, "settled by reading") {
		t.Fatalf("settled: %+v %v", got, err)
	}
	if f.sim.Count(simulator.OpCapture) != 1 {
		t.Error("the capture was sent again after the key window")
	}
	if o := f.order(t, c.ID); len(o.Captures) != 1 || o.Captures[0].ActionID != a.ID {
		t.Errorf("captures %+v", o.Captures)
	}
}

func TestCancelReleaseExtend(t *testing.T) {
	t.Parallel()
	f := setup(t, config{})
	unshipped := f.place(t, "ceramic-dripper:1", simulator.OutcomeApprove)
	if a, err := f.act(t, unshipped.ID, orders.Request{Kind: orders.Cancel}); err != nil || a.Status != store.ActionSucceeded {
		t.Fatalf("cancel: %+v %v", a, err)
	}
	o := f.order(t, unshipped.ID)
	if o.Status() != "CANCELLED" || o.Allowed[orders.CaptureAll] == "" {
		t.Errorf("cancelled: %s", o.Status())
	}
	if fl, _ := f.svc.ForShopper(t.Context(), unshipped.ID); !fl.Cancelled {
		t.Error("the shopper is not told of the cancellation")
	}

	partial := f.place(t, "stoneware-mug:2", simulator.OutcomeApprove)
	before := f.order(t, partial.ID).ExpiresAt
	f.sim.Advance(20 * 24 * time.Hour)
	if _, err := f.act(t, partial.ID, orders.Request{Kind: orders.Extend}); err != nil {
		t.Fatal(err)
	}
	if after := f.order(t, partial.ID).ExpiresAt; !after.After(before.Add(19 * 24 * time.Hour)) {
		t.Errorf("expiry %v, was %v", after, before)
	}
	if _, err := f.act(t, partial.ID, orders.Request{Kind: orders.CaptureLines, Quantities: map[int]int64{0: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.act(t, partial.ID, orders.Request{Kind: orders.Release}); err != nil {
		t.Fatal(err)
	}
	o = f.order(t, partial.ID)
	if o.Status() != "CLOSED" || o.Remaining != 0 || o.Captured != 1800 || o.Allowed[orders.CaptureAll] == "" {
		t.Errorf("released: %s remaining %d", o.Status(), o.Remaining)
	}
	f.agrees(t, o)
}

// TestLinkKlarnaOrder: an order placed while Klarna would not repeat a lost
// answer is on hold without its Klarna id; the operator links the id after
// looking it up, and the shop verifies it with Klarna first.
func TestLinkKlarnaOrder(t *testing.T) {
	t.Parallel()
	f := setup(t, config{})
	other := f.place(t, "brass-pen:1", simulator.OutcomeApprove)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultAnswerLost, Times: 1})
	c := f.place(t, "wool-throw:1", simulator.OutcomeApprove)
	if c.KlarnaOrderID != "" || c.Hold == "" {
		t.Fatalf("lost answer: %+v", c)
	}
	o := f.order(t, c.ID)
	if o.Allowed[orders.CaptureAll] == "" {
		t.Error("capture allowed without a Klarna order id")
	}
	var id string
	for _, k := range f.sim.Orders() {
		if k.Reference == c.ID {
			id = k.ID
		}
	}
	var na *orders.NotAllowedError
	if _, err := f.svc.Link(t.Context(), c.ID, c.Version, other.KlarnaOrderID, "admin"); !errors.As(err, &na) || !strings.Contains(na.Reason, other.ID) {
		t.Errorf("another order's id: %v", err)
	}
	if _, err := f.svc.Link(t.Context(), c.ID, c.Version, "0b1d9815-165e-42e2-8867-35bc03789e00", "admin"); !errors.As(err, &na) {
		t.Errorf("an unknown id: %v", err)
	}
	if _, err := f.svc.Link(t.Context(), c.ID, c.Version, id, "admin"); err != nil {
		t.Fatal(err)
	}
	o = f.order(t, c.ID)
	if o.Checkout.KlarnaOrderID != id || o.Checkout.Hold != "" || o.Allowed[orders.CaptureAll] != "" || o.Read == nil {
		t.Errorf("linked: %+v allowed %q", o.Checkout, o.Allowed[orders.CaptureAll])
	}
	if _, err := f.act(t, c.ID, orders.Request{Kind: orders.CaptureAll}); err != nil {
		t.Fatal(err)
	}
}

// TestDigitalGoodsCapturedAtOrder: with the policy on, an order of
// downloads is captured by Klarna when it is created and the shop records
// that capture; a parcel is not.
func TestDigitalGoodsCapturedAtOrder(t *testing.T) {
	t.Parallel()
	f := setup(t, config{policy: orders.Policy{CaptureDigitalAtOrder: true}})
	ebook := f.place(t, "coffee-ebook:1", simulator.OutcomeApprove)
	mixed := f.place(t, "coffee-ebook:1,brass-pen:1", simulator.OutcomeApprove)
	f.checkout.Wait()
	if k := f.klarnaOrder(t, ebook.KlarnaOrderID); k.CapturedAmount != ebook.Amount || k.Status != "CAPTURED" {
		t.Errorf("e-book at Klarna: %+v", k)
	}
	if k := f.klarnaOrder(t, mixed.KlarnaOrderID); k.CapturedAmount != 0 {
		t.Errorf("an order with a parcel was captured at creation: %+v", k)
	}
	caps, _ := f.store.Captures(t.Context(), ebook.ID)
	if len(caps) != 1 || caps[0].Amount != ebook.Amount || caps[0].ActionID != "" {
		t.Errorf("recorded captures: %+v", caps)
	}
	if fl, _ := f.svc.ForShopper(t.Context(), ebook.ID); len(fl.Shipments) != 1 || !fl.Shipments[0].Digital {
		t.Errorf("shopper's view: %+v", fl)
	}
	off := setup(t, config{})
	c := off.place(t, "coffee-ebook:1", simulator.OutcomeApprove)
	if k := off.klarnaOrder(t, c.KlarnaOrderID); k.CapturedAmount != 0 {
		t.Error("captured at creation with the policy off")
	}
}

// TestDigitalGoodsCapturedWhenTheIDComesLater: Klarna captured an order
// of downloads when it created it, but the shop learned the order's id
// only later: its write of the order was refused and retried, another
// instance recorded the order without the id before the retry filled it
// in, or the answer was lost and a notification named the order. However
// the id arrives, the capture Klarna made is recorded with it, so the
// orders area shows the money taken without an operator's refresh.
func TestDigitalGoodsCapturedWhenTheIDComesLater(t *testing.T) {
	t.Parallel()
	policy := orders.Policy{CaptureDigitalAtOrder: true}

	t.Run("the order's write was refused, then retried", func(t *testing.T) {
		t.Parallel()
		db := &refusingOrders{Store: sqliteStore(t)}
		f := setup(t, config{policy: policy, store: db})
		c, token := f.ebook(t, simulator.OutcomeApprove)
		db.refuse.Store(true)
		if _, err := f.checkout.Place(t.Context(), c.SessionID, token, checkout.FromBrowser, ""); !errors.Is(err, checkout.ErrInProgress) {
			t.Fatalf("placing while the database refuses the order: %v", err)
		}
		db.refuse.Store(false)
		f.checkout.Wait()
		f.capturedOnce(t, c.ID)
	})

	t.Run("another instance recorded it without the id first", func(t *testing.T) {
		t.Parallel()
		inner := sqliteStore(t)
		db := &refusingOrders{Store: inner}
		f := setup(t, config{policy: policy, store: db})
		c, token := f.ebook(t, simulator.OutcomeApprove)
		db.refuse.Store(true)
		if _, err := f.checkout.Place(t.Context(), c.SessionID, token, checkout.FromBrowser, ""); !errors.Is(err, checkout.ErrInProgress) {
			t.Fatalf("placing while the database refuses the order: %v", err)
		}
		// Past the lease, recovery elsewhere asks Klarna again, is refused
		// (the token is spent) and records the order without its id.
		other := checkout.New(f.client, inner, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{
			Now: func() time.Time { return time.Now().Add(2 * time.Minute) },
		})
		if n, err := other.Recover(t.Context()); err != nil || n != 1 {
			t.Fatalf("recovery elsewhere: %d %v", n, err)
		}
		if got, _ := inner.Checkout(t.Context(), c.ID); !got.State.IsOrder() || got.KlarnaOrderID != "" {
			t.Fatalf("recorded elsewhere: state %s, id %q", got.State, got.KlarnaOrderID)
		}
		db.refuse.Store(false)
		f.checkout.Wait()
		f.capturedOnce(t, c.ID)
	})

	t.Run("the answer was lost; a notification names the order", func(t *testing.T) {
		t.Parallel()
		f := setup(t, config{policy: policy})
		c, token := f.ebook(t, simulator.OutcomeApprove)
		f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultAnswerLost, Times: 1})
		placed, err := f.checkout.Place(t.Context(), c.SessionID, token, checkout.FromBrowser, "")
		if err != nil || placed.KlarnaOrderID != "" {
			t.Fatalf("placed after a lost answer: id %q, %v", placed.KlarnaOrderID, err)
		}
		orderID := f.sim.Orders()[0].ID
		if _, err := f.checkout.Notify(t.Context(), c.ID, orderID, checkout.EventAccepted); err != nil && !errors.Is(err, checkout.ErrStale) {
			t.Fatal(err)
		}
		f.checkout.Wait()
		f.capturedOnce(t, c.ID)
	})
}

// refusingOrders is a store that, while refuse holds, fails the write that
// records an order (a full disk at the wrong moment); other writes work.
type refusingOrders struct {
	store.Store
	refuse atomic.Bool
}

func (r *refusingOrders) TransitionRow(ctx context.Context, id string, from []store.State, to store.State, ch store.Changes) (*store.Checkout, error) {
	if r.refuse.Load() && to.IsOrder() {
		return nil, errors.New("disk full")
	}
	return r.Store.TransitionRow(ctx, id, from, to, ch)
}

func TestAttention(t *testing.T) {
	t.Parallel()
	now := time.Now()
	f := setup(t, config{now: func() time.Time { return now.Add(22 * 24 * time.Hour) }})
	old := f.place(t, "oak-board:1", simulator.OutcomeApprove)
	review := f.place(t, "oak-board:1", simulator.OutcomePending)
	list, err := f.svc.Attention(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range list {
		got[a.Ref] = strings.Join(a.Why, " ")
	}
	if !strings.Contains(got[old.ID], "estimated") || !strings.Contains(got[review.ID], "reviewing") {
		t.Errorf("attention: %v", got)
	}
	// Reading the order replaces the estimate with Klarna's expiry.
	f.order(t, old.ID)
	list, _ = f.svc.Attention(t.Context(), 10)
	for _, a := range list {
		if a.Ref == old.ID && (a.ExpiresAt == nil || !strings.Contains(a.Why[0], "in 6 days")) {
			t.Errorf("after reading: %+v", a)
		}
	}
}

func TestParseAmount(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, cur string
		want    int64
		ok      bool
	}{
		{"12.50", "GBP", 1250, true}, {"12,5", "EUR", 1250, true}, {"12", "SEK", 1200, true}, {" 0.01 ", "USD", 1, true},
		{"12.505", "GBP", 0, false}, {"-1", "GBP", 0, false}, {"1e3", "GBP", 0, false}, {"", "GBP", 0, false}, {"12.", "GBP", 0, false},
		{"1,000.00", "GBP", 0, false},
	} {
		got, err := orders.ParseAmount(tt.in, tt.cur)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v", tt.in, tt.cur, got, err)
		}
	}
}
