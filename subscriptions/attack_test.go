package subscriptions_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/store/storetest"
	"github.com/fikaandform/storefront/subscriptions"
)

// listedThen is the shop's store, with a hook that runs right after the
// renewal job has listed the due subscriptions: what a shopper or operator
// does while the job works through its list.
type listedThen struct {
	*store.SQL
	after func()
}

func (l *listedThen) DueRecurring(ctx context.Context, now time.Time, limit int) ([]*store.Recurring, error) {
	rs, err := l.SQL.DueRecurring(ctx, now, limit)
	if l.after != nil {
		l.after()
		l.after = nil
	}
	return rs, err
}

// TestAttackStopAfterTheJobListedDue: the renewal job lists up to 100 due
// subscriptions and then charges them one after the other, each with a
// Klarna call. A shopper who cancels (Klarna briefly refusing the token
// cancellation) or pauses after the list was read, and before the job
// reaches their subscription, must not be charged: the cancel or pause
// came before the period's charge started.
func TestAttackStopAfterTheJobListedDue(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ stop, db string }{{"cancel", "sqlite"}, {"pause", "sqlite"}, {"cancel", "postgres"}} {
		stop := c.stop
		t.Run(c.stop+"/"+c.db, func(t *testing.T) {
			t.Parallel()
			st := sqliteStore(t)
			if c.db == "postgres" {
				if st = storetest.PostgresForTest(t); st == nil {
					t.Skip("no PostgreSQL")
				}
			}
			f := newFixture(t, st)
			ctx := context.Background()
			manage := f.service(subscriptions.Options{})
			if _, err := manage.Renew(ctx); err != nil { // adopts the sign-up
				t.Fatal(err)
			}
			id := f.sub(ctx).ID
			wrapped := &listedThen{SQL: f.st}
			wrapped.after = func() {
				var err error
				switch stop {
				case "cancel":
					f.sim.InjectFault(simulator.Fault{Operation: "cancel_customer_token", Kind: simulator.FaultStatus, Status: 503, Times: 1})
					_, err = manage.Cancel(ctx, id, "shopper")
				case "pause":
					_, err = manage.Pause(ctx, id, "shopper")
				}
				if err != nil {
					t.Errorf("%s: %v", stop, err)
				}
			}
			job := subscriptions.New(f.client, wrapped, f.cat, f.vault, subscriptions.Options{Now: f.clock.now, URLs: handlers.NewURLs("http://shop.test")})
			f.clock.advance(month)
			res, err := job.Renew(ctx)
			t.Logf("renew: %+v %v", res, err)
			r := f.sub(ctx)
			if n := len(f.renewals()); n != 0 {
				t.Errorf("the subscription was %sed before its charge started, yet Klarna made %d renewal order(s); subscription now %s, period %d", stop, n, r.Status, r.Period)
			}
			f.reconciled()
		})
	}
}

// TestAttackStopAfterALostRenewalAnswer: Klarna made the renewal order but
// its answer was lost (the period stays claimed, to be asked again with the
// same key in 5 minutes). Then the shopper cancels, or pauses and resumes
// days later. The order Klarna made must end up recorded, once: never lost,
// and never charged a second time.
func TestAttackStopAfterALostRenewalAnswer(t *testing.T) {
	t.Parallel()
	for _, stop := range []string{"cancel", "pause-resume"} {
		t.Run(stop, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, sqliteStore(t))
			ctx := context.Background()
			svc := f.service(subscriptions.Options{})
			svc.Renew(ctx)
			id := f.sub(ctx).ID
			f.sim.InjectFault(simulator.Fault{Operation: "create_token_order", Kind: simulator.FaultAnswerLost, Times: 1})
			if res := f.renewOnce(svc, month); res.Deferred != 1 {
				t.Fatalf("first run: %+v", res)
			}
			switch stop {
			case "cancel":
				if _, err := svc.Cancel(ctx, id, "shopper"); err != nil {
					t.Fatal(err)
				}
			case "pause-resume":
				if _, err := svc.Pause(ctx, id, "shopper"); err != nil {
					t.Fatal(err)
				}
			}
			// The job runs on while the subscription is stopped.
			for range 3 {
				f.renewOnce(svc, 6*time.Minute)
			}
			if stop == "pause-resume" {
				f.renewOnce(svc, 3*24*time.Hour)
				if _, err := svc.Resume(ctx, id, "shopper"); err != nil {
					t.Fatal(err)
				}
				for range 3 {
					f.renewOnce(svc, 6*time.Minute)
				}
			}
			r := f.sub(ctx)
			p, _ := f.st.Period(ctx, id, 1)
			t.Logf("subscription %s period %d; period 1 %s attempt %d; Klarna renewal orders %d", r.Status, r.Period, p.Status, p.Attempt, len(f.renewals()))
			if n := len(f.renewals()); n != 1 {
				t.Errorf("Klarna made %d renewal orders for one period", n)
			}
			if p.Status != store.PeriodCharged || r.Period != 2 {
				t.Errorf("period 1 %s, subscription at period %d; want charged, 2", p.Status, r.Period)
			}
			if stop == "cancel" && (r.Status != store.RecurringCancelled || r.NextChargeAt != nil) {
				t.Errorf("cancelled subscription: %s, next %v", r.Status, r.NextChargeAt)
			}
			f.reconciled()
		})
	}
}

// TestUnknownOutcomeWaitsForAnOperator: Klarna's answer to a renewal is
// lost and the shop cannot ask again for more than a day (down, or Klarna
// unreachable), by when Klarna has forgotten the idempotency key. The
// period is not sent again (that could charge twice): it is marked
// unknown, the subscription paused with a note, and resuming is refused
// until an operator settles it: "charged" with Klarna's order id (checked
// against the period's reference and amount), or "not charged", which
// charges again with a new key.
func TestUnknownOutcomeWaitsForAnOperator(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault simulator.FaultKind // lost: Klarna made the order; drop: it did not
	}{{"charged", simulator.FaultAnswerLost}, {"not charged", simulator.FaultDrop}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, sqliteStore(t))
			ctx := context.Background()
			svc := f.service(subscriptions.Options{})
			svc.Renew(ctx)
			id := f.sub(ctx).ID
			f.sim.InjectFault(simulator.Fault{Operation: "create_token_order", Kind: tc.fault, Times: 1})
			if res := f.renewOnce(svc, month); res.Deferred != 1 {
				t.Fatalf("first run: %+v", res)
			}
			calls := f.sim.Count("create_token_order")
			f.renewOnce(svc, 25*time.Hour)
			if n := f.sim.Count("create_token_order"); n != calls {
				t.Errorf("the charge was sent again after its key expired (%d calls, was %d)", n, calls)
			}
			r := f.sub(ctx)
			p, _ := f.st.Period(ctx, id, 1)
			if p.Status != store.PeriodUnknown || r.Status != store.RecurringPaused || !strings.Contains(r.Attention, p.OrderRef) {
				t.Fatalf("after a day without an answer: period %s, subscription %s, attention %q", p.Status, r.Status, r.Attention)
			}
			if _, err := svc.Resume(ctx, id, "admin"); !errors.Is(err, subscriptions.ErrUnsettled) {
				t.Errorf("resume before settling: %v", err)
			}
			if _, err := svc.ChargeNow(ctx, id, "admin"); !errors.Is(err, subscriptions.ErrUnsettled) {
				t.Errorf("charge now before settling: %v", err)
			}
			f.renewOnce(svc, 10*time.Minute)
			if n := f.sim.Count("create_token_order"); n != calls {
				t.Errorf("charged while unsettled: %d calls", n)
			}
			switch tc.name {
			case "charged":
				made := f.renewals()
				if len(made) != 1 {
					t.Fatalf("Klarna orders %d, want the one whose answer was lost", len(made))
				}
				if _, err := svc.SettleCharged(ctx, id, f.signup.KlarnaOrderID, "admin"); !errors.Is(err, subscriptions.ErrMismatch) {
					t.Errorf("settled with another order (the sign-up's): %v", err)
				}
				if _, err := svc.SettleCharged(ctx, id, made[0].ID, "admin"); err != nil {
					t.Fatal(err)
				}
				if _, err := svc.SettleCharged(ctx, id, made[0].ID, "admin"); !errors.Is(err, subscriptions.ErrState) {
					t.Errorf("settled twice: %v", err)
				}
				if r := f.sub(ctx); r.Status != store.RecurringPaused || r.Period != 2 {
					t.Errorf("after settling: %s at period %d, want paused at 2", r.Status, r.Period)
				}
			case "not charged":
				if len(f.renewals()) != 0 {
					t.Fatal("Klarna made an order although the request was dropped")
				}
				if _, err := svc.SettleNotCharged(ctx, id, "admin"); err != nil {
					t.Fatal(err)
				}
				f.renewOnce(svc, time.Minute)
				p, _ := f.st.Period(ctx, id, 1)
				if r := f.sub(ctx); r.Status != store.RecurringActive || r.Period != 2 || p.Status != store.PeriodCharged || p.Attempt != 2 {
					t.Errorf("after settling: %s at period %d; period 1 %s attempt %d", r.Status, r.Period, p.Status, p.Attempt)
				}
			}
			if n := len(f.renewals()); n != 1 {
				t.Errorf("Klarna renewal orders %d, want 1", n)
			}
			f.reconciled()
		})
	}
}
