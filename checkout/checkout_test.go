package checkout_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/internal/reconcile"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/store/storetest"
	"github.com/fikaandform/storefront/vault"
)

const testVaultKey = "vault-test-key-0123456789abcdef0123456789"

type fixture struct {
	client *klarna.Client
	svc    *checkout.Service
	sim    *simulator.Simulator
	store  store.Store
	cat    *shop.Catalog
}

func setup(t *testing.T) *fixture {
	t.Helper()
	return setupWith(t, sqlite(t))
}

func sqlite(t testing.TB) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// reconciled checks the shop's orders against Klarna's by content: amount,
// tax and every line, one to one.
func (f *fixture) reconciled(t testing.TB) reconcile.Report {
	t.Helper()
	orders, err := f.store.Orders(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	local, err := reconcile.Local(orders)
	if err != nil {
		t.Fatal(err)
	}
	r := reconcile.Compare(local, reconcile.FromSimulator(f.sim.Orders()))
	if !r.OK() {
		t.Errorf("reconciliation: %s", r)
	}
	return r
}

// setupWith runs the checkout against a simulator on loopback and the given
// store.
func setupWith(t *testing.T, st store.Store) *fixture {
	t.Helper()
	return setupFull(t, st, simulator.Config{})
}

// setupFull also chooses the simulator's configuration and, optionally, how
// long one call to it may take (default 2 s: generous for a busy machine
// running the race detector; the fault matrix passes a short one so that
// its hanging calls end quickly).
func setupFull(t testing.TB, st store.Store, simCfg simulator.Config, attemptTimeout ...time.Duration) *fixture {
	t.Helper()
	simCfg.Username, simCfg.Password, simCfg.DisableCallbacks = "u", "p", true
	sim, simURL := simtest.Start(t, simCfg)
	timeout := 2 * time.Second
	if len(attemptTimeout) > 0 {
		timeout = attemptTimeout[0]
	}
	client, err := klarna.NewClient(klarna.WithBaseURL(simURL), klarna.WithCredentials("u", "p"), klarna.WithMaxRetries(0), klarna.WithAttemptTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	cat := shop.DefaultCatalog()
	v, err := vault.New([]string{testVaultKey})
	if err != nil {
		t.Fatal(err)
	}
	svc := checkout.New(client, st, cat, handlers.NewURLs("http://shop.test"), checkout.Options{RetryWaits: []time.Duration{time.Millisecond, time.Millisecond}, Vault: v})
	return &fixture{client: client, svc: svc, sim: sim, store: st, cat: cat}
}

func cart(t testing.TB, cat *shop.Catalog, enc string) shop.Cart {
	c, err := shop.DecodeCart(enc, cat)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func market(code string) shop.Market { m, _ := shop.LookupMarket(code); return m }

// restarted is the checkout service of a new process on the same store and
// Klarna, started a minute later: what a restart after a crash looks like.
func (f *fixture) restarted(t testing.TB) *checkout.Service {
	v, err := vault.New([]string{testVaultKey})
	if err != nil {
		t.Fatal(err)
	}
	return checkout.New(f.client, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{
		Now: func() time.Time { return time.Now().Add(time.Minute) }, Vault: v, RetryWaits: []time.Duration{time.Millisecond},
	})
}

func TestBeginReusesUpdatesAndReplacesSessions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	gb := market("GB")
	c1, _, err := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), gb, "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	c2, _, _ := f.svc.Begin(ctx, c1.ID, cart(t, f.cat, "stoneware-mug:1"), gb, "en-GB")
	if c2.SessionID != c1.SessionID || f.sim.Count(simulator.OpUpdateSession) != 0 {
		t.Errorf("same cart: new session or update")
	}
	c3, p3, _ := f.svc.Begin(ctx, c1.ID, cart(t, f.cat, "stoneware-mug:3"), gb, "en-GB")
	if c3.SessionID != c1.SessionID || f.sim.Count(simulator.OpUpdateSession) != 1 || c3.Amount != p3.Total || c3.CartHash != p3.Hash() {
		t.Errorf("changed cart: %+v", c3)
	}
	c4, _, _ := f.svc.Begin(ctx, c1.ID, cart(t, f.cat, "stoneware-mug:3"), market("SE"), "sv-SE")
	if c4.SessionID == c1.SessionID || f.sim.Count(simulator.OpCreateSession) != 2 {
		t.Errorf("market change must create a new session")
	}
}

// TestConcurrentPlacementsMakeOneOrder: 50 callers, browser posts and
// Klarna callbacks mixed, on SQLite and on PostgreSQL. Each call to the
// simulator may take 5 s: 50 callers verifying their token at once took
// longer than 300 ms under the race detector on two busy cores.
func TestConcurrentPlacementsMakeOneOrder(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		concurrentPlacements(t, setupFull(t, sqlite(t), simulator.Config{}, 5*time.Second))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		pg := storetest.PostgresForTest(t)
		if pg == nil {
			t.Skip("no PostgreSQL")
		}
		concurrentPlacements(t, setupFull(t, pg, simulator.Config{}, 5*time.Second))
	})
}

func concurrentPlacements(t *testing.T, f *fixture) {
	ctx := t.Context()
	c, p, err := f.svc.Begin(ctx, "", cart(t, f.cat, "pour-over-kettle:1,house-blend:2|FIKA10"), market("DE"), "de-DE")
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ids := make([]string, 50)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src, hash := checkout.FromBrowser, p.Hash()
			if i%2 == 1 {
				src, hash = checkout.FromCallback, ""
			}
			o, err := f.svc.Place(context.Background(), c.SessionID, a.AuthorizationToken, src, hash)
			if src == checkout.FromCallback && errors.Is(err, checkout.ErrInProgress) {
				return // a callback leaves the placing to whoever holds it
			}
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
				return
			}
			ids[i] = o.KlarnaOrderID
		}()
	}
	wg.Wait()
	if n := f.sim.Count(simulator.OpCreateOrder); n != 1 {
		t.Errorf("create order called %d times", n)
	}
	got, _ := f.svc.Checkout(ctx, c.ID)
	if got.State != store.StatePlaced || got.Amount != p.Total || got.KlarnaOrderID == "" {
		t.Fatalf("stored: %+v", got)
	}
	for i, id := range ids {
		if i%2 == 0 && id != got.KlarnaOrderID {
			t.Errorf("browser caller %d got order %q, stored %q", i, id, got.KlarnaOrderID)
		}
		if i%2 == 1 && id != "" && id != got.KlarnaOrderID {
			t.Errorf("callback caller %d got order %q, stored %q", i, id, got.KlarnaOrderID)
		}
	}
}

func TestCartChangedAfterAuthorization(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	_, p2, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:2"), market("GB"), "en-GB")
	if _, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, p2.Hash()); !errors.Is(err, checkout.ErrCartChanged) {
		t.Fatalf("err = %v", err)
	}
	if f.sim.Count(simulator.OpCreateOrder) != 0 || f.sim.Count(simulator.OpCancelAuthorization) != 1 {
		t.Errorf("Klarna called: orders %d cancels %d", f.sim.Count(simulator.OpCreateOrder), f.sim.Count(simulator.OpCancelAuthorization))
	}
}

func TestStaleAuthorizationFromCallbackAsksToReauthorize(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	// The cart changed in another tab: the session is updated, the old
	// authorization no longer matches.
	c2, _, _ := f.svc.Begin(ctx, c.ID, cart(t, f.cat, "stoneware-mug:2"), market("GB"), "en-GB")
	if _, err := f.svc.Place(ctx, c2.SessionID, a.AuthorizationToken, checkout.FromCallback, ""); !errors.Is(err, checkout.ErrReauthorize) {
		t.Fatalf("err = %v", err)
	}
	got, _ := f.svc.Checkout(ctx, c.ID)
	if got.State != store.StateOpen || got.LastError == "" {
		t.Errorf("after 409: %+v", got)
	}
	// Approving again places the order.
	a2, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if o, err := f.svc.Place(ctx, c.SessionID, a2.AuthorizationToken, checkout.FromBrowser, ""); err != nil || o.State != store.StatePlaced {
		t.Fatalf("second approval: %v %v", o, err)
	}
}

// TestLostAnswerIsResolvedByAskingAgain: with a Klarna that repeats its
// answer for a spent token, the lost answer is simply asked for again.
func TestLostAnswerIsResolvedByAskingAgain(t *testing.T) {
	t.Parallel()
	f := setupFull(t, sqlite(t), simulator.Config{ReplayOrders: true})
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "wool-throw:1"), market("NL"), "nl-NL")
	a, _ := f.sim.Authorize(c.SessionID, "pay_over_time", simulator.OutcomePending)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultAnswerLost, Times: 1})
	o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.State != store.StatePendingReview || len(f.sim.Snapshot().Orders) != 1 {
		t.Errorf("state %s, orders at Klarna %d", o.State, len(f.sim.Snapshot().Orders))
	}
}

func TestUnknownOutcomeIsRecoveredLater(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("AU"), "en-AU")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultStatus, Status: 503, Times: 3})
	if _, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, ""); !errors.Is(err, checkout.ErrInProgress) {
		t.Fatalf("err = %v", err)
	}
	// Right away, recovery leaves the placement to the request that owns it.
	if n, err := f.svc.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("recover while the placement may still run: %d %v", n, err)
	}
	// After a restart (or 45 s later) it takes over.
	if n, err := f.restarted(t).Recover(ctx); err != nil || n != 1 {
		t.Fatalf("recover: %d %v", n, err)
	}
	got, _ := f.svc.Checkout(ctx, c.ID)
	if got.State != store.StatePlaced || got.KlarnaOrderID == "" {
		t.Errorf("after recovery: %+v", got)
	}
}

func TestFraudNotifications(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	place := func(outcome string) *store.Checkout {
		c, _, err := f.svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
		if err != nil {
			t.Fatal(err)
		}
		a, _ := f.sim.Authorize(c.SessionID, "pay_later", outcome)
		o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := place(simulator.OutcomePending)
	if o.State != store.StatePendingReview {
		t.Fatalf("state %s", o.State)
	}
	// A notification that arrives before Klarna decided is ignored.
	if _, err := f.svc.Notify(ctx, o.ID, o.KlarnaOrderID, "FRAUD_RISK_ACCEPTED"); !errors.Is(err, checkout.ErrStale) {
		t.Errorf("early notification: %v", err)
	}
	// The wrong order id for this checkout changes nothing.
	if _, err := f.svc.Notify(ctx, o.ID, "someone-elses-order", "FRAUD_RISK_REJECTED"); !errors.Is(err, checkout.ErrStale) {
		t.Errorf("foreign order: %v", err)
	}
	if _, err := f.svc.Notify(ctx, "KS-NOPE", o.KlarnaOrderID, "FRAUD_RISK_REJECTED"); !errors.Is(err, checkout.ErrNotFound) {
		t.Errorf("unknown checkout: %v", err)
	}
	if err := f.sim.Decide(o.KlarnaOrderID, "reject"); err != nil {
		t.Fatal(err)
	}
	// The body claims ACCEPTED, Klarna says REJECTED: Klarna wins.
	got, err := f.svc.Notify(ctx, o.ID, o.KlarnaOrderID, "FRAUD_RISK_ACCEPTED")
	if err != nil || got.State != store.StateRejected || got.LastError == "" {
		t.Fatalf("decision: %+v %v", got, err)
	}
	// Twice, and late: the final state is kept.
	for range 2 {
		if got, err := f.svc.Notify(ctx, o.ID, o.KlarnaOrderID, "FRAUD_RISK_ACCEPTED"); err != nil || got.State != store.StateRejected {
			t.Errorf("repeat: %+v %v", got, err)
		}
	}
	o2 := place(simulator.OutcomePending)
	f.sim.Decide(o2.KlarnaOrderID, "accept")
	if got, err := f.svc.Notify(ctx, o2.ID, o2.KlarnaOrderID, "FRAUD_RISK_ACCEPTED"); err != nil || got.State != store.StatePlaced {
		t.Errorf("accepted: %+v %v", got, err)
	}
}

// TestLostAnswerWhenKlarnaRefusesReplay covers the other plausible Klarna:
// one that refuses a second create order for a spent token. The shop must
// still record the order once, never reopen the checkout for a second one.
func TestLostAnswerWhenKlarnaRefusesReplay(t *testing.T) {
	t.Parallel()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := setupFull(t, st, simulator.Config{ReplayOrders: false})
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "wool-throw:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultAnswerLost, Times: 1})
	o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.State != store.StatePlaced || !strings.Contains(o.LastError, c.ID) || len(f.sim.Snapshot().Orders) != 1 {
		t.Errorf("state %s, note %q, Klarna orders %d", o.State, o.LastError, len(f.sim.Snapshot().Orders))
	}
	if f.sim.Count(simulator.OpCancelAuthorization) != 0 {
		t.Error("the authorization of a real order was cancelled")
	}
}

func TestExpiredAuthorizationAsksToReauthorize(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "brass-pen:1"), market("SE"), "sv-SE")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	f.sim.Advance(61 * time.Minute)
	if _, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromCallback, ""); !errors.Is(err, checkout.ErrReauthorize) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := f.svc.Checkout(ctx, c.ID); got.State != store.StateOpen || len(f.sim.Snapshot().Orders) != 0 {
		t.Errorf("state %s", got.State)
	}
	a2, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if o, err := f.svc.Place(ctx, c.SessionID, a2.AuthorizationToken, checkout.FromBrowser, ""); err != nil || o.State != store.StatePlaced {
		t.Fatalf("after approving again: %v", err)
	}
}

// TestRecoveryWaitsForTheLease: a placement left placing (Klarna's answer
// never came) belongs to its process until its lease runs out; then
// recovery on any instance takes it over, once.
func TestRecoveryWaitsForTheLease(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "brass-pen:1"), market("GB"), "en-GB")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultStatus, Status: 503, Times: 3})
	if _, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, ""); !errors.Is(err, checkout.ErrInProgress) {
		t.Fatalf("err = %v", err)
	}
	soon := checkout.New(f.client, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{Now: func() time.Time { return time.Now().Add(30 * time.Second) }})
	if n, err := soon.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("another instance took the placement within its lease: %d %v", n, err)
	}
	later := checkout.New(f.client, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
	other := checkout.New(f.client, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
	var wg sync.WaitGroup
	var total atomic.Int32
	for _, svc := range []*checkout.Service{later, other} {
		wg.Go(func() {
			n, err := svc.Recover(ctx)
			if err != nil {
				t.Error(err)
			}
			total.Add(int32(n))
		})
	}
	wg.Wait()
	got, _ := f.svc.Checkout(ctx, c.ID)
	if total.Load() != 1 || got.State != store.StatePlaced || got.KlarnaOrderID == "" || len(f.sim.Snapshot().Orders) != 1 {
		t.Fatalf("after the lease: settled %d, %+v, Klarna orders %d", total.Load(), got, len(f.sim.Snapshot().Orders))
	}
}

func TestSessionQuota(t *testing.T) {
	t.Parallel()
	f := setup(t)
	limited := checkout.New(f.client, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{SessionsPerSecond: 2})
	start := time.Now()
	for i := range 5 {
		if _, _, err := limited.Begin(t.Context(), "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB"); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	// 2/s with a burst of 2: the 5th session cannot start before 1.5s.
	if d := time.Since(start); d < 1400*time.Millisecond {
		t.Errorf("5 sessions in %v: the quota was not applied", d)
	}
}

func TestSubscriptionGetsAnEncryptedCustomerToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, p, err := f.svc.Begin(ctx, "", cart(t, f.cat, "coffee-subscription:1,stoneware-mug:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	if p.Plan == nil || !strings.Contains(c.SessionPayload, `"intent":"buy_and_tokenize"`) || !strings.Contains(c.SessionPayload, `"subscription":{"name":"Fika \u0026 Form monthly coffee","interval":"MONTH","interval_count":1}`) {
		t.Fatalf("session payload: %s", c.SessionPayload)
	}
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if err != nil {
		t.Fatal(err)
	}
	sub := o.Subscription
	if o.State != store.StatePlaced || sub.Status != store.SubscriptionActive || sub.Next == nil || sub.Next.Sub(*o.PlacedAt) < 27*24*time.Hour {
		t.Fatalf("after placing: %s %+v", o.State, sub)
	}
	tokens := f.sim.Snapshot().CustomerTokens
	if len(tokens) != 1 {
		t.Fatalf("customer tokens at Klarna: %d", len(tokens))
	}
	end := strings.TrimPrefix(tokens[0].ID, "…") // the simulator shows a token's last characters
	v, _ := vault.New([]string{testVaultKey})
	plain, err := v.Decrypt(sub.CustomerToken, o.ID)
	if err != nil || !strings.HasSuffix(plain, end) {
		t.Fatalf("decrypted token %q (%v), Klarna's ends %q", plain, err, end)
	}
	if !strings.HasPrefix(sub.CustomerToken, "v1:") || strings.Contains(sub.CustomerToken, plain) {
		t.Errorf("token stored in clear: %q", sub.CustomerToken)
	}
	// A repeated placement does not ask for a second token.
	f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromCallback, "")
	if n := f.sim.Count(simulator.OpCustomerToken); n != 1 {
		t.Errorf("customer token requested %d times", n)
	}
}

func TestRefusedCustomerTokenLeavesTheOrder(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "coffee-subscription:2"), market("SE"), "sv-SE")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCustomerToken, Kind: simulator.FaultStatus, Status: 403})
	o, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.State != store.StatePlaced || o.Subscription.Status != store.SubscriptionNeedsAttention || !strings.Contains(o.LastError, "Subscription needs attention") {
		t.Errorf("state %s, subscription %s, note %q", o.State, o.Subscription.Status, o.LastError)
	}
	if len(f.sim.Snapshot().Orders) != 1 {
		t.Error("the order was lost")
	}
}

func TestLostCustomerTokenIsRecovered(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, _ := f.svc.Begin(ctx, "", cart(t, f.cat, "coffee-subscription:1"), market("DE"), "de-DE")
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	f.sim.InjectFault(simulator.Fault{Operation: simulator.OpCustomerToken, Kind: simulator.FaultStatus, Status: 503, Times: 1})
	o, _ := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if o.Subscription.Status != store.SubscriptionPending {
		t.Fatalf("after a 503: %s", o.Subscription.Status)
	}
	f.svc.Recover(ctx)
	got, _ := f.svc.Checkout(ctx, c.ID)
	if got.Subscription.Status != store.SubscriptionActive || len(f.sim.Snapshot().CustomerTokens) != 1 {
		t.Errorf("after recovery: %s, tokens at Klarna %d", got.Subscription.Status, len(f.sim.Snapshot().CustomerTokens))
	}
}
