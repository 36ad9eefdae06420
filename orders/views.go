package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/store"
)

// Link gives an order placed without a known Klarna order id (Klarna made
// the order but would not repeat its answer; the order is on hold) the id
// an operator looked up in Klarna's portal by our reference. The id is
// verified first by reading the order from Klarna: its merchant_reference1
// must be this order's reference and its amount and currency this order's.
func (s *Service) Link(ctx context.Context, ref string, version int64, klarnaOrderID, who string) (*store.Action, error) {
	c, err := s.checkout(ctx, ref)
	if err != nil {
		return nil, err
	}
	klarnaOrderID = strings.TrimSpace(klarnaOrderID)
	switch {
	case c.KlarnaOrderID != "":
		return nil, notAllowed("This order is already linked to Klarna order %s.", c.KlarnaOrderID)
	case klarnaOrderID == "" || len(klarnaOrderID) > 100 || strings.ContainsAny(klarnaOrderID, " /?#%"):
		return nil, notAllowed("Paste the order id from Klarna's portal (such as 0b1d9815-165e-42e2-8867-35bc03789e00).")
	case c.Version != version:
		return nil, ErrChanged
	}
	k, err := s.client(c.Market)
	if err != nil {
		return nil, err
	}
	ko, resp, err := k.GetOrder(ctx, klarnaOrderID)
	if klarna.IsNotFound(err) {
		return nil, notAllowed("Klarna has no order %s: check the id in Klarna's portal.", klarnaOrderID)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	money := func(n int64, cur string) string {
		o := &Order{Checkout: &store.Checkout{Currency: cur, Locale: c.Locale}}
		return o.Money(n)
	}
	switch {
	case ko.MerchantReference1 != c.ID:
		return nil, notAllowed("Klarna order %s belongs to merchant reference %q, not to %s: it is another order.", klarnaOrderID, ko.MerchantReference1, c.ID)
	case !strings.EqualFold(ko.PurchaseCurrency, c.Currency) || ko.OriginalOrderAmount != c.Amount:
		return nil, notAllowed("Klarna order %s is for %s, but this order is %s: it is not the same order.", klarnaOrderID,
			money(ko.OriginalOrderAmount, strings.ToUpper(ko.PurchaseCurrency)), money(c.Amount, c.Currency))
	}
	now := s.now()
	a := &store.Action{ID: newActionID(ref), CheckoutID: ref, KlarnaOrderID: ko.OrderID, Kind: opLink, Actor: who,
		Summary: "Linked Klarna order " + ko.OrderID + ", verified with Klarna: merchant reference " + ko.MerchantReference1 + " and " +
			money(ko.OriginalOrderAmount, c.Currency),
		AtVersion: version, Status: store.ActionSucceeded, CorrelationID: resp.CorrelationID, CreatedAt: now, UpdatedAt: now, FinishedAt: &now}
	switch err := s.store.LinkKlarnaOrder(ctx, a, ko.OrderID, string(ko.FraudStatus)); {
	case errors.Is(err, store.ErrStale):
		return nil, ErrChanged
	case errors.Is(err, store.ErrDuplicate):
		return nil, notAllowed("Another order of this shop already has Klarna order %s.", ko.OrderID)
	case err != nil:
		return nil, fmt.Errorf("orders: %w", err)
	}
	s.log.InfoContext(ctx, "Klarna order id linked", "order", ref, "klarna_order_id", ko.OrderID, "who", who)
	if linked, err := s.checkout(ctx, ref); err == nil {
		if err := s.refresh(ctx, linked); err != nil {
			s.log.WarnContext(ctx, "reading the linked order failed", "order", ref, "error", err)
		}
	}
	return a, nil
}

// Shipment is one capture as the shopper sees it.
type Shipment struct {
	At                                   time.Time
	Amount                               int64
	Carrier, TrackingNumber, TrackingURI string
	// Digital: everything in it is delivered digitally.
	Digital bool
}

// Fulfilment is what happened to an order after it was placed, for the
// shopper's confirmation page.
type Fulfilment struct {
	Shipments []Shipment
	Captured  int64
	Refunded  int64
	Cancelled bool
	// Released: the rest of the authorization was released after a
	// partial shipment (the shopper is not charged for it).
	Released bool
}

// ForShopper says what happened to an order after it was placed, from
// what the shop recorded (it does not call Klarna).
func (s *Service) ForShopper(ctx context.Context, ref string) (*Fulfilment, error) {
	caps, err := s.store.Captures(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	refunds, err := s.store.Refunds(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	f := &Fulfilment{}
	for _, c := range caps {
		sh := Shipment{At: c.CapturedAt, Amount: c.Amount, Carrier: c.ShippingCompany, TrackingNumber: c.TrackingNumber, TrackingURI: c.TrackingURI}
		var ls []klarna.OrderLine
		if json.Unmarshal([]byte(c.Lines), &ls) == nil && len(ls) > 0 {
			sh.Digital = true
			for _, l := range ls {
				sh.Digital = sh.Digital && (l.Type == klarna.LineDigital || l.Type == klarna.LineDiscount)
			}
		}
		f.Shipments = append(f.Shipments, sh)
		f.Captured += c.Amount
	}
	for _, r := range refunds {
		f.Refunded += r.Amount
	}
	read, err := s.store.KlarnaRead(ctx, ref)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("orders: %w", err)
	}
	if read != nil {
		f.Cancelled = read.Status == klarnaCancelled
		f.Released = read.Status == klarnaClosed
	}
	return f, nil
}

// Attention is one order that needs an operator, with every reason why.
type Attention struct {
	Ref      string
	Checkout *store.Checkout
	Reasons  []store.AttentionReason
	Why      []string
	// ExpiresAt is the authorization's expiry when it is the reason.
	ExpiresAt *time.Time
}

// Attention lists the orders that need an operator: close to expiry and
// not fully captured, pending Klarna's review, stopped ("do not ship"),
// with an action whose outcome is unknown or that failed, or whose amounts
// differ from Klarna's. Most urgent first: expiry first, soonest first.
func (s *Service) Attention(ctx context.Context, limit int) ([]*Attention, error) {
	now := s.now()
	rows, err := s.store.Attention(ctx, store.AttentionQuery{
		ExpiresBefore: now.Add(s.policy.ExpiryWarning),
		PlacedBefore:  now.Add(s.policy.ExpiryWarning - s.policy.AuthorizationLifetime),
		PendingBefore: now.Add(-time.Minute),
		FailedSince:   now.Add(-14 * 24 * time.Hour),
		Limit:         limit,
	})
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	byRef := map[string]*Attention{}
	var out []*Attention
	for _, r := range rows {
		a := byRef[r.CheckoutID]
		if a == nil {
			c, err := s.store.Checkout(ctx, r.CheckoutID)
			if err != nil {
				return nil, fmt.Errorf("orders: %w", err)
			}
			a = &Attention{Ref: r.CheckoutID, Checkout: c}
			byRef[r.CheckoutID] = a
			out = append(out, a)
		}
		a.Reasons = append(a.Reasons, r.Reason)
		a.Why = append(a.Why, s.why(r, now))
		if r.Reason == store.AttentionExpiring && r.At != nil {
			t := *r.At
			if r.Estimated {
				t = t.Add(s.policy.AuthorizationLifetime)
			}
			a.ExpiresAt = &t
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ei, ej := out[i].ExpiresAt, out[j].ExpiresAt
		switch {
		case ei != nil && ej != nil:
			return ei.Before(*ej)
		case ei != nil || ej != nil:
			return ei != nil
		}
		return false
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *Service) why(r store.Attention, now time.Time) string {
	switch r.Reason {
	case store.AttentionExpiring:
		if r.At == nil {
			return "Authorization expires soon: capture what ships, or extend it."
		}
		if r.Estimated {
			return "Authorization expires around " + day(r.At.Add(s.policy.AuthorizationLifetime)) + " (estimated; Klarna not asked yet): capture what ships, or extend it."
		}
		if r.At.Before(now) {
			return "Authorization expired on " + day(*r.At) + " before everything was captured."
		}
		return "Authorization expires on " + day(*r.At) + " (in " + until(now, *r.At) + ") and is not fully captured: capture what ships, or extend it."
	case store.AttentionReview:
		return "Klarna is still reviewing it (fraud status " + r.Detail + "): do not ship yet."
	case store.AttentionHold:
		return "Stopped: " + r.Detail + "."
	case store.AttentionPending:
		return "Waiting for Klarna's answer: " + r.Detail + " (sent again with the same idempotency key)."
	case store.AttentionFailed:
		return "Last action failed: " + r.Detail
	case store.AttentionMismatch:
		return "The shop's amounts differ from Klarna's: " + r.Detail + "."
	}
	return string(r.Reason)
}

func until(now, t time.Time) string {
	d := t.Sub(now)
	switch days := int(d.Round(24*time.Hour).Hours() / 24); {
	case days >= 2:
		return fmt.Sprintf("%d days", days)
	case d >= time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return "less than an hour"
}
