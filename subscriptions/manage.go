package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
)

// Upcoming is what the next charge will be, priced now with the checkout's
// pricing code.
type Upcoming struct {
	At     time.Time
	Amount int64
	Period int
}

// Next says when the subscription charges next and how much; ok is false
// when it will not charge (paused or cancelled).
func (s *Service) Next(r *store.Recurring) (Upcoming, bool) {
	if r.Status != store.RecurringActive || r.NextChargeAt == nil {
		return Upcoming{}, false
	}
	plan, err := ParsePlan(r.Plan)
	if err != nil {
		return Upcoming{}, false
	}
	priced, _, err := s.price(r, plan, &store.Period{Period: r.Period})
	if err != nil {
		return Upcoming{}, false
	}
	return Upcoming{At: *r.NextChargeAt, Amount: priced.Total, Period: r.Period}, true
}

// ForCheckout is the subscription a sign-up checkout started, adopting it
// if the renewal job has not yet.
func (s *Service) ForCheckout(ctx context.Context, c *store.Checkout) (*store.Recurring, error) {
	r, err := s.store.RecurringByCheckout(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return s.Adopt(ctx, c)
	}
	return r, err
}

// Cancel ends a subscription: no period starts after it (a charge already
// under way finishes and is shown), and the customer token is cancelled at
// Klarna, now or, if Klarna cannot be reached, by the renewal job. who is
// "shopper" or the operator's name.
func (s *Service) Cancel(ctx context.Context, id, who string) (*store.Recurring, error) {
	now := s.now()
	err := s.update(ctx, id, func(cur *store.Recurring) (store.RecurringChanges, error) {
		if cur.Status == store.RecurringCancelled {
			return store.RecurringChanges{}, ErrState
		}
		st := store.RecurringCancelled
		var none *time.Time
		at := &now
		return store.RecurringChanges{Status: &st, NextChargeAt: &none, CancelledAt: &at}, nil
	})
	if err != nil {
		return nil, err
	}
	s.event(ctx, id, who, "cancelled; no further charges"+s.inFlight(ctx, id), 0, "")
	r, err := s.store.Recurring(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.cancelToken(ctx, r); err != nil {
		s.log.ErrorContext(ctx, "cancelling the customer token failed", "subscription", id, "error", err)
	}
	return s.store.Recurring(ctx, id)
}

// Pause stops charging until Resume.
func (s *Service) Pause(ctx context.Context, id, who string) (*store.Recurring, error) {
	err := s.update(ctx, id, func(cur *store.Recurring) (store.RecurringChanges, error) {
		if cur.Status != store.RecurringActive {
			return store.RecurringChanges{}, ErrState
		}
		st := store.RecurringPaused
		var none *time.Time
		return store.RecurringChanges{Status: &st, NextChargeAt: &none}, nil
	})
	if err != nil {
		return nil, err
	}
	s.event(ctx, id, who, "paused"+s.inFlight(ctx, id), 0, "")
	return s.store.Recurring(ctx, id)
}

// Resume restarts charging: the current period is due on its date, or at
// once if that has passed; a period given up on is tried again with a new
// attempt. It clears the attention note.
func (s *Service) Resume(ctx context.Context, id, who string) (*store.Recurring, error) {
	return s.reschedule(ctx, id, who, "resumed", false)
}

// ChargeNow makes the current period due at once, also for a paused
// subscription (which it resumes).
func (s *Service) ChargeNow(ctx context.Context, id, who string) (*store.Recurring, error) {
	return s.reschedule(ctx, id, who, "charge requested now", true)
}

func (s *Service) reschedule(ctx context.Context, id, who, what string, now bool) (*store.Recurring, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Status == store.RecurringCancelled || (!now && cur.Status == store.RecurringActive) {
		return nil, ErrState
	}
	plan, err := ParsePlan(cur.Plan)
	if err != nil {
		return nil, err
	}
	at := plan.DueAt(cur.AnchorAt, cur.Period)
	if now || at.Before(s.now()) {
		at = s.now()
	}
	p, err := s.store.Period(ctx, id, cur.Period)
	if err == nil && p.Status == store.PeriodUnknown {
		return nil, ErrUnsettled
	}
	if err == nil && (p.Status == store.PeriodDeclined || p.Status == store.PeriodFailed) {
		if err := s.store.ReopenPeriod(ctx, id, cur.Period, at); err != nil {
			return nil, err
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	err = s.update(ctx, id, func(c *store.Recurring) (store.RecurringChanges, error) {
		if c.Status == store.RecurringCancelled {
			return store.RecurringChanges{}, ErrState
		}
		st, empty := store.RecurringActive, ""
		return store.RecurringChanges{Status: &st, Attention: &empty, NextChargeAt: &[]*time.Time{&at}[0]}, nil
	})
	if err != nil {
		return nil, err
	}
	s.event(ctx, id, who, what+"; next charge "+at.Format("2 Jan 2006 15:04"), cur.Period, "")
	return s.store.Recurring(ctx, id)
}

// Amount formats an amount in the subscription's currency and locale.
func Amount(r *store.Recurring, minor int64) string {
	return shop.FormatMoney(minor, r.Currency, r.Locale)
}

// inFlight notes a charge already sent to Klarna for the current period,
// which a cancel or a pause does not undo: the renewal job finishes it.
func (s *Service) inFlight(ctx context.Context, id string) string {
	r, err := s.store.Recurring(ctx, id)
	if err != nil {
		return ""
	}
	p, err := s.store.Period(ctx, id, r.Period)
	if err != nil || p.Status != store.PeriodClaimed {
		return ""
	}
	return fmt.Sprintf(" (the charge for period %d was already sent to Klarna; it is confirmed and shown here)", p.Period)
}

// SettleCharged is an operator's answer for a period whose outcome was
// unknown: Klarna made the order klarnaOrderID. The order is read from
// Klarna and must carry the period's order reference and amount; it is
// then recorded as the period's renewal, exactly as if Klarna had
// answered. The subscription stays paused until resumed.
func (s *Service) SettleCharged(ctx context.Context, id, klarnaOrderID, who string) (*store.Recurring, error) {
	r, p, err := s.unknownPeriod(ctx, id)
	if err != nil {
		return nil, err
	}
	plan, err := ParsePlan(r.Plan)
	if err != nil {
		return nil, err
	}
	k, err := s.clients(r.Market)
	if err != nil {
		return nil, err
	}
	o, resp, err := k.GetOrder(ctx, strings.TrimSpace(klarnaOrderID))
	if err != nil {
		return nil, fmt.Errorf("subscriptions: reading Klarna order %q: %w", klarnaOrderID, err)
	}
	priced, req, err := s.price(r, plan, p)
	if err != nil {
		return nil, err
	}
	if o.MerchantReference1 != p.OrderRef || o.OriginalOrderAmount != priced.Total {
		return nil, fmt.Errorf("%w: Klarna order %s has reference %q and amount %d; period %d is %q for %d",
			ErrMismatch, o.OrderID, o.MerchantReference1, o.OriginalOrderAmount, p.Period, p.OrderRef, priced.Total)
	}
	order := &klarna.Order{OrderID: o.OrderID, FraudStatus: o.FraudStatus}
	if err := s.record(ctx, r, plan, p, priced, req, order, klarna.CorrelationID(resp, nil)); err != nil {
		return nil, err
	}
	s.event(ctx, id, who, fmt.Sprintf("settled period %d: Klarna charged it (order %s)", p.Period, o.OrderID), p.Period, klarna.CorrelationID(resp, nil))
	return s.store.Recurring(ctx, id)
}

// SettleNotCharged is an operator's answer for a period whose outcome was
// unknown: Klarna has no order for it. The period is charged again at
// once, as a new attempt with a new key, and the subscription resumes.
func (s *Service) SettleNotCharged(ctx context.Context, id, who string) (*store.Recurring, error) {
	r, p, err := s.unknownPeriod(ctx, id)
	if err != nil {
		return nil, err
	}
	ok, err := s.store.SettleUnknownPeriod(ctx, id, p.Period, s.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBusy
	}
	s.event(ctx, id, who, fmt.Sprintf("settled period %d: Klarna did not charge it; charging again", p.Period), p.Period, "")
	if r.Status == store.RecurringCancelled {
		return s.store.Recurring(ctx, id)
	}
	return s.reschedule(ctx, id, who, "resumed", true)
}

// unknownPeriod is a subscription whose current period awaits settling.
func (s *Service) unknownPeriod(ctx context.Context, id string) (*store.Recurring, *store.Period, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.store.Period(ctx, id, r.Period)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrState
	}
	if err != nil {
		return nil, nil, err
	}
	if p.Status != store.PeriodUnknown {
		return nil, nil, ErrState
	}
	return r, p, nil
}
