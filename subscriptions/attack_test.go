package subscriptions_test

import (
	"context"
	"testing"
	"time"

	"storefront/klarna/simulator"
	"storefront/store"
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
	for _, stop := range []string{"cancel", "pause"} {
		t.Run(stop, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, sqliteStore(t))
			ctx := context.Background()
			manage := f.service(subscriptions.Options{})
			if _, err := manage.Renew(ctx); err != nil { // adopts the sign-up
				t.Fatal(err)
			}
			id := f.sub(ctx).ID
			st := &listedThen{SQL: f.st}
			st.after = func() {
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
			job := subscriptions.New(f.client, st, f.cat, f.vault, subscriptions.Options{Now: f.clock.now, BaseURL: "http://shop.test"})
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
