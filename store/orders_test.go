package store_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/fikaandform/storefront/store"
)

// placedOrder stores a placed order with a Klarna order id and returns it.
func placedOrder(t *testing.T, s Store, id string) *Checkout {
	t.Helper()
	ctx := t.Context()
	if err := s.CreateCheckout(ctx, newCheckout(id)); err != nil {
		t.Fatal(err)
	}
	tok, oid, now := "tok-"+id, "order-"+id, time.Now()
	if ok, err := s.Transition(ctx, id, []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &tok}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := s.Transition(ctx, id, []State{StatePlacing}, StatePlaced, Changes{KlarnaOrderID: &oid, PlacedAt: &now}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	c, err := s.Checkout(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newAction(c *Checkout, id string) *Action {
	now := time.Now()
	until := now.Add(time.Minute)
	return &Action{ID: id, CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, Kind: "capture", Actor: "admin", Summary: "Capture everything",
		Amount: 1800, Request: `{"captured_amount":1800}`, IdempotencyKey: "key-" + id, AtVersion: c.Version, Status: ActionPending,
		Attempts: 1, ClaimedUntil: &until, CreatedAt: now, UpdatedAt: now}
}

func TestActionsAreCompareAndSet(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			c := placedOrder(t, s, "KS-A1")
			a := newAction(c, "KS-A1-ONE")
			if err := s.BeginAction(ctx, a); err != nil {
				t.Fatal(err)
			}
			// The same confirmation posted twice.
			if err := s.BeginAction(ctx, a); !errors.Is(err, ErrDuplicate) {
				t.Errorf("second submit: %v, want ErrDuplicate", err)
			}
			// Another operator who saw the order before the action.
			if err := s.BeginAction(ctx, newAction(c, "KS-A1-TWO")); !errors.Is(err, ErrStale) {
				t.Errorf("stale version: %v, want ErrStale", err)
			}
			// One who saw it after, while the first is still pending.
			fresh, _ := s.Checkout(ctx, c.ID)
			if fresh.Version != c.Version+1 {
				t.Fatalf("version %d after beginning an action, want %d", fresh.Version, c.Version+1)
			}
			if err := s.BeginAction(ctx, newAction(fresh, "KS-A1-THREE")); !errors.Is(err, ErrBusy) {
				t.Errorf("while pending: %v, want ErrBusy", err)
			}
			if err := s.BeginAction(ctx, newAction(&Checkout{ID: "KS-nope", Version: 1}, "KS-nope-A")); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown order: %v", err)
			}

			// A lost answer: the attempt is noted, the claim released, and
			// recovery finds it due.
			next := time.Now().Add(-time.Second)
			if ok, _ := s.ClaimAction(ctx, a.ID, time.Now(), time.Now().Add(time.Minute)); ok {
				t.Error("claimed an action another attempt holds")
			}
			if err := s.DeferAction(ctx, a.ID, Attempt{Error: "no answer", CorrelationID: "corr-1", NextAttemptAt: &next}); err != nil {
				t.Fatal(err)
			}
			due, err := s.DueActions(ctx, time.Now(), 10)
			if err != nil || len(due) != 1 || due[0].ID != a.ID || due[0].IdempotencyKey != a.IdempotencyKey || due[0].Error != "no answer" {
				t.Fatalf("due: %+v %v", due, err)
			}
			if ok, err := s.ClaimAction(ctx, a.ID, time.Now(), time.Now().Add(time.Minute)); !ok || err != nil {
				t.Fatalf("claim after release: %v %v", ok, err)
			}
			if due, _ := s.DueActions(ctx, time.Now(), 10); len(due) != 0 {
				t.Errorf("claimed action still due: %+v", due)
			}

			capture := &Capture{ID: "cap-1", CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, ActionID: a.ID, Amount: 1800,
				Lines: `[{"name":"Mug"}]`, ShippingCompany: "DHL UK", TrackingNumber: "JD0001", CapturedAt: time.Now()}
			out := Outcome{Status: ActionSucceeded, CorrelationID: "corr-2", ResultID: "cap-1", Capture: capture}
			if ok, err := s.FinishAction(ctx, a.ID, out); !ok || err != nil {
				t.Fatalf("finish: %v %v", ok, err)
			}
			if ok, err := s.FinishAction(ctx, a.ID, Outcome{Status: ActionFailed}); ok || err != nil {
				t.Errorf("finished twice: %v %v", ok, err)
			}
			got, err := s.Action(ctx, a.ID)
			if err != nil || got.Status != ActionSucceeded || got.ResultID != "cap-1" || got.FinishedAt == nil || got.Attempts != 2 || got.ClaimedUntil != nil {
				t.Errorf("finished action: %+v %v", got, err)
			}
			caps, err := s.Captures(ctx, c.ID)
			if err != nil || len(caps) != 1 || caps[0].TrackingNumber != "JD0001" || caps[0].ActionID != a.ID {
				t.Errorf("captures: %+v %v", caps, err)
			}
			after, _ := s.Checkout(ctx, c.ID)
			if after.Version != fresh.Version+1 {
				t.Errorf("version %d after finishing, want %d", after.Version, fresh.Version+1)
			}
			// Now the order is free for the next action.
			r := newAction(after, "KS-A1-FOUR")
			r.Kind, r.Amount = "refund", 500
			if err := s.BeginAction(ctx, r); err != nil {
				t.Fatal(err)
			}
			out = Outcome{Status: ActionSucceeded, ResultID: "ref-1", Refund: &Refund{ID: "ref-1", CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID,
				ActionID: r.ID, Amount: 500, Reason: "Dented", RefundedAt: time.Now()}}
			if ok, err := s.FinishAction(ctx, r.ID, out); !ok || err != nil {
				t.Fatal(ok, err)
			}
			refunds, err := s.Refunds(ctx, c.ID)
			if err != nil || len(refunds) != 1 || refunds[0].Reason != "Dented" {
				t.Errorf("refunds: %+v %v", refunds, err)
			}
			list, err := s.Actions(ctx, c.ID)
			if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != r.ID {
				t.Errorf("history: %+v %v", list, err)
			}
			money, err := s.MoneyTotals(ctx)
			if err != nil || money[c.ID] != (Money{Captured: 1800, Refunded: 500}) {
				t.Errorf("money: %+v %v", money, err)
			}
		})
	}
}

// TestOneActionWinsARace races operators who all confirmed at the same
// version: exactly one action is recorded.
func TestOneActionWinsARace(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := placedOrder(t, s, "KS-RACE")
			var wins, stale, busy atomic.Int32
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.BeginAction(t.Context(), newAction(c, fmt.Sprintf("KS-RACE-%d", i)))
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, ErrStale):
						stale.Add(1)
					case errors.Is(err, ErrBusy):
						busy.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 || stale.Load()+busy.Load() != 19 {
				t.Errorf("wins %d, stale %d, busy %d", wins.Load(), stale.Load(), busy.Load())
			}
		})
	}
}

func TestKlarnaReadsAndAttention(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			now := time.Now()
			soon, later := now.Add(3*24*time.Hour), now.Add(20*24*time.Hour)
			expiring := placedOrder(t, s, "KS-EXP")
			fine := placedOrder(t, s, "KS-FINE")
			unread := placedOrder(t, s, "KS-UNREAD")
			read := func(c *Checkout, expires time.Time, mismatch string) {
				t.Helper()
				err := s.RecordRead(ctx, &KlarnaRead{CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, Status: "AUTHORIZED", FraudStatus: "ACCEPTED",
					OrderAmount: 1800, Remaining: 1800, ExpiresAt: &expires, ReadAt: now, CorrelationID: "corr", Mismatch: mismatch},
					[]*Capture{{ID: "outside-" + c.ID, CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, Amount: 100, CapturedAt: now}}, nil)
				if err != nil {
					t.Fatal(err)
				}
			}
			read(expiring, soon, "")
			read(fine, later, "")
			read(fine, later, "shop captured 0, Klarna 100") // a second read replaces the first
			got, err := s.KlarnaRead(ctx, fine.ID)
			if err != nil || got.Mismatch == "" || got.ExpiresAt == nil || got.ExpiresAt.Sub(later).Abs() > time.Millisecond {
				t.Errorf("read back: %+v %v", got, err)
			}
			if caps, _ := s.Captures(ctx, fine.ID); len(caps) != 1 {
				t.Errorf("a capture imported twice: %+v", caps)
			}
			if _, err := s.KlarnaRead(ctx, unread.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("never read: %v", err)
			}
			if l, err := s.Unread(ctx, now.Add(time.Hour), 10); err != nil || len(l) != 1 || l[0].ID != unread.ID {
				t.Errorf("unread: %+v %v", l, err)
			}

			held := placedOrder(t, s, "KS-HELD")
			hold := "Klarna stopped this order"
			if ok, _ := s.Transition(ctx, held.ID, []State{StatePlaced}, StatePlaced, Changes{Hold: &hold}); !ok {
				t.Fatal("hold refused")
			}
			failed := placedOrder(t, s, "KS-FAILED")
			a := newAction(failed, "KS-FAILED-A")
			if err := s.BeginAction(ctx, a); err != nil {
				t.Fatal(err)
			}
			if ok, _ := s.FinishAction(ctx, a.ID, Outcome{Status: ActionFailed, Error: "Klarna will not capture an expired order."}); !ok {
				t.Fatal("not finished")
			}
			pending := placedOrder(t, s, "KS-PENDING")
			if err := s.BeginAction(ctx, newAction(pending, "KS-PENDING-A")); err != nil {
				t.Fatal(err)
			}

			list, err := s.Attention(ctx, AttentionQuery{ExpiresBefore: now.Add(7 * 24 * time.Hour), PlacedBefore: now.Add(time.Hour),
				PendingBefore: now.Add(time.Hour), FailedSince: now.Add(-time.Hour), Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]AttentionReason{}
			for _, a := range list {
				found[a.CheckoutID+" "+string(a.Reason)] = a.Reason
				if a.CheckoutID == expiring.ID && (a.At == nil || a.Estimated) {
					t.Errorf("expiring order without its read expiry: %+v", a)
				}
			}
			for _, want := range []string{"KS-EXP expiring", "KS-UNREAD expiring", "KS-HELD hold", "KS-FAILED failed", "KS-PENDING pending", "KS-FINE mismatch"} {
				if _, ok := found[want]; !ok {
					t.Errorf("attention lacks %q: %v", want, found)
				}
			}
			if _, ok := found["KS-FINE expiring"]; ok {
				t.Error("an order far from expiry listed as expiring")
			}
		})
	}
}

func TestLinkKlarnaOrder(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			placedOrder(t, s, "KS-OTHER")
			if err := s.CreateCheckout(ctx, newCheckout("KS-LOST")); err != nil {
				t.Fatal(err)
			}
			hold, now := "Klarna order id unknown", time.Now()
			if ok, _ := s.Transition(ctx, "KS-LOST", []State{StateOpen}, StatePlaced, Changes{Hold: &hold, PlacedAt: &now}); !ok {
				t.Fatal("not placed")
			}
			c, _ := s.Checkout(ctx, "KS-LOST")
			link := func(id, klarnaID string, version int64) error {
				return s.LinkKlarnaOrder(ctx, &Action{ID: id, CheckoutID: c.ID, KlarnaOrderID: klarnaID, Kind: "link", Actor: "admin",
					Summary: "Link", AtVersion: version, Status: ActionSucceeded, CreatedAt: now, UpdatedAt: now, FinishedAt: &now}, klarnaID, "ACCEPTED")
			}
			if err := link("KS-LOST-1", "order-KS-OTHER", c.Version); !errors.Is(err, ErrDuplicate) {
				t.Errorf("another order's id: %v", err)
			}
			if err := link("KS-LOST-2", "order-lost", c.Version+5); !errors.Is(err, ErrStale) {
				t.Errorf("stale: %v", err)
			}
			if err := link("KS-LOST-3", "order-lost", c.Version); err != nil {
				t.Fatal(err)
			}
			got, _ := s.Checkout(ctx, "KS-LOST")
			if got.KlarnaOrderID != "order-lost" || got.Hold != "" || got.FraudStatus != "ACCEPTED" || got.Version != c.Version+1 {
				t.Errorf("linked: %+v", got)
			}
			if h, _ := s.Actions(ctx, c.ID); len(h) != 1 || h[0].Kind != "link" {
				t.Errorf("history: %+v", h)
			}
		})
	}
}

// TestReadsMoveTheVersionOnlyOnNews: a read that changes what the shop
// knows invalidates confirmations made on the page before; the same read
// again does not.
func TestReadsMoveTheVersionOnlyOnNews(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			c := placedOrder(t, s, "KS-READS")
			expires := time.Now().Add(28 * 24 * time.Hour)
			read := func(captured int64, caps ...*Capture) int64 {
				t.Helper()
				r := &KlarnaRead{CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, Status: "AUTHORIZED", OrderAmount: 1800, Captured: captured,
					Remaining: 1800 - captured, ExpiresAt: &expires, ReadAt: time.Now()}
				if err := s.RecordRead(ctx, r, caps, nil); err != nil {
					t.Fatal(err)
				}
				got, _ := s.Checkout(ctx, c.ID)
				return got.Version
			}
			v1 := read(0)
			if v1 != c.Version+1 {
				t.Errorf("first read: version %d, want %d", v1, c.Version+1)
			}
			if v := read(0); v != v1 {
				t.Errorf("the same read moved the version to %d", v)
			}
			outside := &Capture{ID: "cap-outside", CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, Amount: 500, CapturedAt: time.Now()}
			if v := read(500, outside); v != v1+1 {
				t.Errorf("a read with a new capture: version %d, want %d", v, v1+1)
			}
		})
	}
}

// TestAReadBehindTheKeptOneIsNotKept: reads arrive in any order; one that
// is behind the read kept by what only moves forward at Klarna (captured
// and refunded amounts, a cancelled, expired or closed order) does not
// replace it, while the capture it brings is still recorded. One that is
// level or ahead does.
func TestAReadBehindTheKeptOneIsNotKept(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			c := placedOrder(t, s, "KS-BEHIND")
			fraud := "ACCEPTED"
			record := func(status string, captured, refunded int64, caps ...*Capture) *KlarnaRead {
				t.Helper()
				r := &KlarnaRead{CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, Status: status, FraudStatus: fraud, OrderAmount: 1800, Captured: captured,
					Refunded: refunded, Remaining: 1800 - captured, ReadAt: time.Now()}
				if err := s.RecordRead(ctx, r, caps, nil); err != nil {
					t.Fatal(err)
				}
				kept, err := s.KlarnaRead(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				return kept
			}
			record("AUTHORIZED", 0, 0)
			if kept := record("CAPTURED", 1800, 0); kept.Status != "CAPTURED" {
				t.Errorf("a read ahead was not kept: %+v", kept)
			}
			late := &Capture{ID: "cap-late", CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, Amount: 1800, CapturedAt: time.Now()}
			if kept := record("AUTHORIZED", 0, 0, late); kept.Status != "CAPTURED" || kept.Captured != 1800 {
				t.Errorf("a read behind replaced the kept one: %+v", kept)
			}
			if caps, _ := s.Captures(ctx, c.ID); len(caps) != 1 {
				t.Errorf("the capture a read behind brought: %+v", caps)
			}
			if kept := record("CAPTURED", 1800, 300); kept.Refunded != 300 {
				t.Errorf("a refund read was not kept: %+v", kept)
			}
			if kept := record("CAPTURED", 1800, 0); kept.Refunded != 300 {
				t.Errorf("a read without the refund replaced the kept one: %+v", kept)
			}
			fraud = "PENDING"
			if kept := record("CAPTURED", 1800, 300); kept.FraudStatus != "ACCEPTED" {
				t.Errorf("a read from before Klarna's decision replaced it: %+v", kept)
			}
			fraud = "ACCEPTED"
			if kept := record("CLOSED", 1800, 300); kept.Status != "CLOSED" {
				t.Errorf("the close was not kept: %+v", kept)
			}
			if kept := record("CAPTURED", 1800, 300); kept.Status != "CLOSED" {
				t.Errorf("a read from before the close replaced it: %+v", kept)
			}
		})
	}
}

// TestDueReadsAreClaimedOnce: a placed order's due read is listed, claimed
// by one caller only (moved on, the order's version unchanged) and, once
// settled, listed no more.
func TestDueReadsAreClaimedOnce(t *testing.T) {
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			c := placedOrder(t, s, "KS-DUEREAD")
			now := time.Now()
			due := &[]*time.Time{&now}[0]
			if ok, err := s.Transition(ctx, c.ID, []State{StatePlaced}, StatePlaced, Changes{NextCheckAt: due}); err != nil || !ok {
				t.Fatal(ok, err)
			}
			before, _ := s.Checkout(ctx, c.ID)
			later := now.Add(time.Second)
			if list, err := s.DueReads(ctx, later, 10); err != nil || len(list) != 1 || list[0].ID != c.ID {
				t.Fatalf("due reads: %v %v", list, err)
			}
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if ok, err := s.ClaimRead(ctx, c.ID, later, later.Add(5*time.Minute)); err != nil {
						t.Error(err)
					} else if ok {
						wins.Add(1)
					}
				})
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Errorf("%d claims won", wins.Load())
			}
			if list, _ := s.DueReads(ctx, later, 10); len(list) != 0 {
				t.Errorf("listed while claimed: %d", len(list))
			}
			if err := s.SettleRead(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			after, _ := s.Checkout(ctx, c.ID)
			if after.NextCheckAt != nil || after.Version != before.Version {
				t.Errorf("settled: next %v, version %d → %d", after.NextCheckAt, before.Version, after.Version)
			}
			if list, _ := s.DueReads(ctx, later.Add(time.Hour), 10); len(list) != 0 {
				t.Errorf("listed after settling: %d", len(list))
			}
		})
	}
}
