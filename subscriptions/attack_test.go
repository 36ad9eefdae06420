package subscriptions_test

import (
	"context"
	"testing"
	"time"

	"storefront/klarna/simulator"
	"storefront/store"
	"storefront/store/storetest"
	"storefront/subscriptions"
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
			job := subscriptions.New(f.client, wrapped, f.cat, f.vault, subscriptions.Options{Now: f.clock.now, BaseURL: "http://shop.test"})
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
// same key in 5 minutes). Before the retry the shopper cancels, or pauses
// and resumes days later. The order Klarna made must end up recorded, once:
// never lost, and never charged a second time because the idempotency key
// has expired at Klarna (24 hours) by the time the period is retried.
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
				f.renewOnce(svc, 3*24*time.Hour)
				if _, err := svc.Resume(ctx, id, "shopper"); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				f.renewOnce(svc, 6*time.Minute)
			}
			r := f.sub(ctx)
			p, _ := f.st.Period(ctx, id, 1)
			t.Logf("subscription %s period %d; period 1 %s attempt %d; Klarna renewal orders %d", r.Status, r.Period, p.Status, p.Attempt, len(f.renewals()))
			if n := len(f.renewals()); n != 1 {
				t.Errorf("Klarna made %d renewal orders for one period", n)
			}
			f.reconciled()
		})
	}
}
