package subscriptions_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
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
	"github.com/fikaandform/storefront/subscriptions"
	"github.com/fikaandform/storefront/vault"
)

const vaultKey = "subscriptions-test-key-0123456789abcdef012345"

// clock is the shop's and Klarna's time, moved on together.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
	sim    *simulator.Simulator
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	c.sim.Advance(d)
}

type fixture struct {
	t      testing.TB
	st     *store.SQL
	sim    *simulator.Simulator
	client *klarna.Client
	cat    *shop.Catalog
	vault  *vault.Vault
	clock  *clock
	signup *store.Checkout
	token  string // the customer token in clear, for the simulator's controls
}

func sqliteStore(t testing.TB) *store.SQL {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newFixture signs a shopper up for the monthly coffee through a real
// checkout against the simulator.
func newFixture(t testing.TB, st *store.SQL) *fixture {
	t.Helper()
	sim, simURL := simtest.Start(t, simulator.Config{Username: "u", Password: "p", DisableCallbacks: true})
	client, err := klarna.NewClient(klarna.WithBaseURL(simURL), klarna.WithCredentials("u", "p"), klarna.WithMaxRetries(0), klarna.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New([]string{vaultKey})
	if err != nil {
		t.Fatal(err)
	}
	cat := shop.DefaultCatalog()
	co := checkout.New(client, st, cat, handlers.NewURLs("http://shop.test"), checkout.Options{Vault: v})
	ctx := context.Background()
	cart, _ := shop.DecodeCart("coffee-subscription:2,stoneware-mug:1", cat)
	gb, _ := shop.LookupMarket("GB")
	c, _, err := co.Begin(ctx, "", cart, gb, "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, err := sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	placed, err := co.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if err != nil || placed.Subscription.Status != store.SubscriptionActive {
		t.Fatalf("sign-up: %+v %v", placed, err)
	}
	token, err := v.Decrypt(placed.Subscription.CustomerToken, placed.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, sim: sim, client: client, cat: cat, vault: v, clock: &clock{sim: sim}, signup: placed, token: token}
}

func (f *fixture) service(o subscriptions.Options) *subscriptions.Service {
	if o.Now == nil {
		o.Now = f.clock.now
	}
	o.URLs = handlers.NewURLs("http://shop.test")
	return subscriptions.New(f.client, f.st, f.cat, f.vault, o)
}

// renewals are the orders Klarna made from the customer token.
func (f *fixture) renewals() []simulator.OrderRecord {
	var out []simulator.OrderRecord
	for _, o := range f.sim.Orders() {
		if o.FromCustomerToken {
			out = append(out, o)
		}
	}
	return out
}

func (f *fixture) reconciled() reconcile.Report {
	f.t.Helper()
	orders, err := f.st.Orders(context.Background(), 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	local, err := reconcile.Local(orders)
	if err != nil {
		f.t.Fatal(err)
	}
	r := reconcile.Compare(local, reconcile.FromSimulator(f.sim.Orders()))
	if !r.OK() {
		f.t.Errorf("reconciliation: %s", r)
	}
	return r
}

func (f *fixture) sub(ctx context.Context) *store.Recurring {
	f.t.Helper()
	r, err := f.st.RecurringByCheckout(ctx, f.signup.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

const month = 31 * 24 * time.Hour

// crashed is what the crash hook panics with, as a kill -9 would stop the
// process at that step.
type crashed struct{ step string }

// TestTwelveMonths runs a subscription through twelve monthly renewals with
// two instances racing for every due period and crashes injected between
// claim, Klarna call and record at random periods. Klarna ends with exactly
// twelve renewal orders, one per period, each recorded once, line for line.
func TestTwelveMonths(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, st *store.SQL) {
		f := newFixture(t, st)
		ctx := context.Background()
		seed := rand.Uint64()
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 7))
		// Four crashes at random periods: one at each step, and one more.
		crashAt := map[int]string{}
		steps := []string{"claimed", "charged", "recorded", []string{"claimed", "charged", "recorded"}[rng.IntN(3)]}
		for _, p := range rng.Perm(12)[:len(steps)] {
			crashAt[p+1] = steps[len(crashAt)]
		}
		t.Logf("crashes: %v", crashAt)
		var period atomic.Int32
		var crashes atomic.Int32
		hook := func(step string) {
			p := int(period.Load())
			if crashAt[p] == step {
				delete(crashAt, p)
				crashes.Add(1)
				panic(crashed{step})
			}
		}
		var mu sync.Mutex
		instances := []*subscriptions.Service{f.service(subscriptions.Options{Crash: hook}), f.service(subscriptions.Options{Crash: hook})}
		renew := func(i int) (crash bool) {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(crashed); !ok {
						panic(r)
					}
					// The instance died; a new process starts in its place.
					mu.Lock()
					instances[i] = f.service(subscriptions.Options{Crash: hook})
					mu.Unlock()
					crash = true
				}
			}()
			mu.Lock()
			svc := instances[i]
			mu.Unlock()
			if _, err := svc.Renew(ctx); err != nil {
				t.Logf("renew: %v", err)
			}
			return false
		}
		if _, err := instances[0].Renew(ctx); err != nil { // adopts the sign-up
			t.Fatal(err)
		}
		for p := 1; p <= 12; p++ {
			period.Store(int32(p))
			f.clock.advance(month)
			for try := 0; f.sub(ctx).Period == p; try++ {
				if try > 10 {
					t.Fatalf("period %d never charged", p)
				}
				var wg sync.WaitGroup
				var crashedNow atomic.Bool
				for i := range instances {
					wg.Go(func() {
						if renew(i) {
							crashedNow.Store(true)
						}
					})
				}
				wg.Wait()
				if crashedNow.Load() {
					// The dead process's claim runs out before another
					// may take the period.
					f.clock.advance(3 * time.Minute)
				}
			}
		}
		orders := f.renewals()
		periods, err := st.Periods(ctx, f.sub(ctx).ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) != 12 || len(periods) != 12 {
			t.Fatalf("renewal orders at Klarna %d, periods %d, want 12 each", len(orders), len(periods))
		}
		refs := map[string]bool{}
		for _, p := range periods {
			if p.Status != store.PeriodCharged || p.KlarnaOrderID == "" || p.Attempt != 1 {
				t.Errorf("period %d: %s attempt %d", p.Period, p.Status, p.Attempt)
			}
			refs[p.OrderRef] = true
		}
		for _, o := range orders {
			if !refs[o.Reference] {
				t.Errorf("Klarna order %s (%s) belongs to no period", o.ID, o.Reference)
			}
			for _, l := range o.Lines {
				if !l.Subscription {
					t.Errorf("order %s line %q without the subscription object", o.ID, l.Name)
				}
			}
		}
		if crashes.Load() != 4 {
			t.Errorf("%d crashes happened, want 4", crashes.Load())
		}
		r := f.reconciled()
		t.Logf("12 periods, %d crashes, %d create_token_order calls, %d renewal orders; %s", crashes.Load(), f.sim.Count("create_token_order"), len(orders), r)
	}
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); run(t, sqliteStore(t)) })
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		pg := storetest.PostgresForTest(t)
		if pg == nil {
			t.Skip("no PostgreSQL")
		}
		run(t, pg)
	})
}

// renewOnce moves to the first renewal and runs the job.
func (f *fixture) renewOnce(svc *subscriptions.Service, d time.Duration) subscriptions.Result {
	f.t.Helper()
	f.clock.advance(d)
	res, err := svc.Renew(context.Background())
	if err != nil {
		f.t.Logf("renew: %v", err)
	}
	return res
}

func TestSoftDeclineThenSuccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteStore(t))
	svc := f.service(subscriptions.Options{})
	ctx := context.Background()
	svc.Renew(ctx)
	if err := f.sim.SetTokenBehaviour(f.token, simulator.TokenBehaviour{SoftDeclines: 2}); err != nil {
		t.Fatal(err)
	}
	if res := f.renewOnce(svc, month); res.Declined != 1 {
		t.Fatalf("first try: %+v", res)
	}
	// Not retried before the dunning wait (1 day).
	if res := f.renewOnce(svc, 12*time.Hour); res != (subscriptions.Result{}) {
		t.Fatalf("retried too early: %+v", res)
	}
	if res := f.renewOnce(svc, 13*time.Hour); res.Declined != 1 {
		t.Fatalf("second try after a day: %+v", res)
	}
	if res := f.renewOnce(svc, 3*24*time.Hour+time.Hour); res.Charged != 1 {
		t.Fatalf("third try after three more days: %+v", res)
	}
	r := f.sub(ctx)
	p, _ := f.st.Period(ctx, r.ID, 1)
	if r.Status != store.RecurringActive || r.Period != 2 || p.Attempt != 3 || len(f.renewals()) != 1 || f.sim.Count("create_token_order") != 3 {
		t.Errorf("after: %s period %d attempt %d, orders %d, calls %d", r.Status, r.Period, p.Attempt, len(f.renewals()), f.sim.Count("create_token_order"))
	}
	// The next period is due on its own date, not shifted by the retries.
	if want := f.signup.PlacedAt.AddDate(0, 2, 0); !r.NextChargeAt.Equal(want) {
		t.Errorf("next charge %v, want %v", r.NextChargeAt, want)
	}
	f.reconciled()
}

func TestDeclinesGiveUpAfterThreeRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteStore(t))
	svc := f.service(subscriptions.Options{})
	ctx := context.Background()
	svc.Renew(ctx)
	f.sim.SetTokenBehaviour(f.token, simulator.TokenBehaviour{SoftDeclines: 10})
	f.renewOnce(svc, month)
	for _, wait := range []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour} {
		f.renewOnce(svc, wait+time.Minute)
	}
	r := f.sub(ctx)
	if r.Status != store.RecurringPaused || r.Attention == "" || f.sim.Count("create_token_order") != 4 || len(f.renewals()) != 0 {
		t.Errorf("after four declines: %s %q, calls %d", r.Status, r.Attention, f.sim.Count("create_token_order"))
	}
	// Nothing more happens while paused.
	f.renewOnce(svc, month)
	if n := f.sim.Count("create_token_order"); n != 4 {
		t.Errorf("charged while paused: %d calls", n)
	}
}

func TestHardDeclinesPauseAtOnce(t *testing.T) {
	t.Parallel()
	for name, b := range map[string]simulator.TokenBehaviour{
		"unavailable payment method": {Decline: "UNAVAILABLE_PAYMENT_METHOD"},
		"suspended token":            {Status: simulator.TokenSuspended},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, sqliteStore(t))
			svc := f.service(subscriptions.Options{})
			ctx := context.Background()
			svc.Renew(ctx)
			if err := f.sim.SetTokenBehaviour(f.token, b); err != nil {
				t.Fatal(err)
			}
			if res := f.renewOnce(svc, month); res.Paused != 1 {
				t.Fatalf("result %+v", res)
			}
			r := f.sub(ctx)
			p, _ := f.st.Period(ctx, r.ID, 1)
			if r.Status != store.RecurringPaused || r.Attention == "" || p.Status != store.PeriodFailed || len(f.renewals()) != 0 {
				t.Errorf("after a hard decline: %s %q, period %s", r.Status, r.Attention, p.Status)
			}
			// The operator asks the customer, then charges again: a new
			// attempt (and key) for the same period.
			f.sim.SetTokenBehaviour(f.token, simulator.TokenBehaviour{})
			if name == "suspended token" {
				f.sim.SetTokenBehaviour(f.token, simulator.TokenBehaviour{Status: simulator.TokenActive})
			}
			if _, err := svc.ChargeNow(ctx, r.ID, "admin"); err != nil {
				t.Fatal(err)
			}
			if res := f.renewOnce(svc, time.Second); res.Charged != 1 {
				t.Errorf("charge now: %+v", res)
			}
			if r := f.sub(ctx); r.Status != store.RecurringActive || r.Attention != "" || r.Period != 2 {
				t.Errorf("after charge now: %+v", r)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	for _, who := range []string{"shopper", "admin"} {
		t.Run(who, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, sqliteStore(t))
			svc := f.service(subscriptions.Options{})
			ctx := context.Background()
			svc.Renew(ctx)
			r, err := svc.Cancel(ctx, f.sub(ctx).ID, who)
			if err != nil || r.Status != store.RecurringCancelled || !r.TokenCancelled {
				t.Fatalf("cancel: %+v %v", r, err)
			}
			if _, err := svc.Cancel(ctx, r.ID, who); !errors.Is(err, subscriptions.ErrState) {
				t.Errorf("cancel twice: %v", err)
			}
			details, _, err := f.client.GetCustomerToken(ctx, f.token)
			if err != nil || details.Status != klarna.TokenCancelled {
				t.Errorf("token at Klarna: %+v %v", details, err)
			}
			f.renewOnce(svc, 2*month)
			if n := f.sim.Count("create_token_order"); n != 0 {
				t.Errorf("charged after cancel: %d", n)
			}
			_, events, _ := svc.History(ctx, r.ID)
			found := false
			for _, e := range events {
				if e.Who == who && e.What == "cancelled; no further charges" {
					found = true
				}
			}
			if !found {
				t.Errorf("history does not say who cancelled: %+v", events)
			}
		})
	}
}

// TestCancelWhileKlarnaIsDown: the subscription stops at once; the token is
// cancelled at Klarna by the job once Klarna answers.
func TestCancelWhileKlarnaIsDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteStore(t))
	svc := f.service(subscriptions.Options{})
	ctx := context.Background()
	svc.Renew(ctx)
	f.sim.InjectFault(simulator.Fault{Operation: "cancel_customer_token", Kind: simulator.FaultStatus, Status: 503, Times: 1})
	r, err := svc.Cancel(ctx, f.sub(ctx).ID, "shopper")
	if err != nil || r.Status != store.RecurringCancelled || r.TokenCancelled {
		t.Fatalf("cancel: %+v %v", r, err)
	}
	svc.Renew(ctx)
	if r := f.sub(ctx); !r.TokenCancelled {
		t.Error("the token was not cancelled once Klarna answered")
	}
}

// TestRenewalWhileKlarnaIsDown: an outage is not a decline. The charge is
// tried again later with the same key; when Klarna had made the order and
// only its answer was lost, the retry gets that same order.
func TestRenewalWhileKlarnaIsDown(t *testing.T) {
	t.Parallel()
	for _, fault := range []simulator.Fault{
		{Operation: "create_token_order", Kind: simulator.FaultStatus, Status: 503, Times: 2},
		{Operation: "create_token_order", Kind: simulator.FaultAnswerLost, Times: 1},
		{Operation: "create_token_order", Kind: simulator.FaultDrop, Times: 1},
	} {
		t.Run(fault.String(), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, sqliteStore(t))
			svc := f.service(subscriptions.Options{})
			ctx := context.Background()
			svc.Renew(ctx)
			f.sim.InjectFault(fault)
			if res := f.renewOnce(svc, month); res.Deferred != 1 {
				t.Fatalf("first run: %+v", res)
			}
			for range 3 {
				f.renewOnce(svc, 6*time.Minute)
			}
			r := f.sub(ctx)
			p, _ := f.st.Period(ctx, r.ID, 1)
			if r.Period != 2 || p.Status != store.PeriodCharged || p.Attempt != 1 || len(f.renewals()) != 1 {
				t.Errorf("after Klarna came back: period %d %s attempt %d, orders %d", r.Period, p.Status, p.Attempt, len(f.renewals()))
			}
			f.reconciled()
		})
	}
}

// TestPauseResume: a paused subscription is not charged; resuming charges
// the overdue period at once.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteStore(t))
	svc := f.service(subscriptions.Options{})
	ctx := context.Background()
	svc.Renew(ctx)
	id := f.sub(ctx).ID
	if _, err := svc.Pause(ctx, id, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Pause(ctx, id, "admin"); !errors.Is(err, subscriptions.ErrState) {
		t.Errorf("pause twice: %v", err)
	}
	f.renewOnce(svc, month)
	if len(f.renewals()) != 0 {
		t.Fatal("charged while paused")
	}
	if _, err := svc.Resume(ctx, id, "admin"); err != nil {
		t.Fatal(err)
	}
	if res := f.renewOnce(svc, time.Second); res.Charged != 1 {
		t.Errorf("resume: %+v", res)
	}
	next, ok := svc.Next(f.sub(ctx))
	if !ok || next.Period != 2 || next.Amount <= 0 {
		t.Errorf("next: %+v %v", next, ok)
	}
}
