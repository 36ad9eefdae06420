package subscriptions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
)

// Adopt starts the subscription of a placed sign-up checkout whose customer
// token Klarna gave (the checkout service stores the token encrypted on the
// checkout). It is idempotent: the id derives from the checkout.
func (s *Service) Adopt(ctx context.Context, c *store.Checkout) (*store.Recurring, error) {
	if r, err := s.store.RecurringByCheckout(ctx, c.ID); err == nil {
		return r, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if c.Subscription.Status != store.SubscriptionActive || c.Subscription.CustomerToken == "" || !c.State.IsOrder() {
		return nil, ErrNotFound
	}
	plan, err := ParsePlan(c.Subscription.Plan)
	if err != nil {
		return nil, err
	}
	cart, err := shop.DecodeCart(c.Cart, s.catalog)
	if err != nil {
		return nil, fmt.Errorf("subscriptions: reading the cart of %s: %w", c.ID, err)
	}
	// Only the subscription's lines renew; a discount code was for the
	// first order.
	var sub shop.Cart
	for _, it := range cart.Items {
		if p, ok := s.catalog.Product(it.ProductID); ok && p.Plan != nil {
			sub.Items = append(sub.Items, it)
		}
	}
	anchor := s.now()
	if c.PlacedAt != nil {
		anchor = *c.PlacedAt
	}
	next := plan.DueAt(anchor, 1)
	now := s.now()
	r := &store.Recurring{ID: IDFor(c.ID), CheckoutID: c.ID, Status: store.RecurringActive, Market: c.Market, Locale: c.Locale, Currency: c.Currency,
		Cart: sub.Encode(), Plan: c.Subscription.Plan, CustomerToken: c.Subscription.CustomerToken, AnchorAt: anchor, Period: 1,
		NextChargeAt: &next, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateRecurring(ctx, r); err != nil && !errors.Is(err, store.ErrDuplicate) {
		return nil, err
	}
	s.event(ctx, r.ID, "shop", "subscription started with order "+c.ID+"; first renewal "+next.Format("2 Jan 2006"), 0, "")
	return s.store.RecurringByCheckout(ctx, c.ID)
}

// Result counts what one renewal run did.
type Result struct {
	Charged, Declined, Paused, Deferred int
}

// Renew runs the renewal job once: it adopts new sign-ups, charges every
// due period, and cancels at Klarna the tokens of cancelled subscriptions.
// Several instances may run it at once: each period is charged by one.
func (s *Service) Renew(ctx context.Context) (Result, error) {
	var res Result
	var errs []error
	signups, err := s.store.SubscriptionsIn(ctx, store.SubscriptionActive, 100)
	if err != nil {
		errs = append(errs, err)
	}
	for _, c := range signups {
		if _, err := s.Adopt(ctx, c); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	due, err := s.store.DueRecurring(ctx, s.now(), 100)
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range due {
		out, err := s.renew(ctx, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("subscriptions: renewing %s: %w", r.ID, err))
		}
		res.count(out, s.obs)
	}
	// Charges already sent for subscriptions since paused or cancelled:
	// Klarna may have made them, so they are finished, not dropped.
	unsettled, err := s.store.UnsettledPeriods(ctx, s.now(), 100)
	if err != nil {
		errs = append(errs, err)
	}
	for _, p := range unsettled {
		r, err := s.store.Recurring(ctx, p.SubscriptionID)
		if err == nil {
			var out outcome
			out, err = s.renew(ctx, r)
			res.count(out, s.obs)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("subscriptions: settling period %d of %s: %w", p.Period, p.SubscriptionID, err))
		}
	}
	if err := s.cancelTokens(ctx); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// RunRenewals runs Renew now and then every interval until ctx ends.
func (s *Service) RunRenewals(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if res, err := s.Renew(ctx); err != nil {
			s.log.ErrorContext(ctx, "renewal run met errors; it runs again", "error", err)
		} else if res != (Result{}) {
			s.log.InfoContext(ctx, "renewals", "charged", res.Charged, "declined", res.Declined, "paused", res.Paused, "deferred", res.Deferred)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// count adds one renewal's outcome.
func (res *Result) count(out outcome, obs Observer) {
	switch out {
	case charged:
		res.Charged++
		obs.Renewal("charged")
	case declined:
		res.Declined++
		obs.Renewal("declined")
	case paused:
		res.Paused++
		obs.Renewal("paused")
	case deferred:
		res.Deferred++
		obs.Renewal("deferred")
	}
}

type outcome int

const (
	nothing outcome = iota
	charged
	declined
	paused
	deferred
)

// renew charges the subscription's current period, if this process can
// claim it.
func (s *Service) renew(ctx context.Context, r *store.Recurring) (outcome, error) {
	plan, err := ParsePlan(r.Plan)
	if err != nil {
		return nothing, err
	}
	p, err := s.store.EnsurePeriod(ctx, &store.Period{SubscriptionID: r.ID, Period: r.Period, DueAt: plan.DueAt(r.AnchorAt, r.Period), OrderRef: checkout.NewReference()})
	if err != nil {
		return nothing, err
	}
	if p.Status == store.PeriodCharged || p.Status == store.PeriodFailed {
		// Recorded by another instance since r was read: nothing to do.
		return nothing, nil
	}
	now := s.now()
	p, ok, err := s.store.ClaimPeriod(ctx, r.ID, r.Period, s.instance, now, now.Add(s.lease))
	if err != nil || !ok {
		return nothing, err
	}
	log := s.log.With("subscription", r.ID, "period", p.Period, "attempt", p.Attempt)
	if p.SentAt != nil && now.Sub(*p.SentAt) > s.keyLife {
		// Klarna has not answered this attempt for nearly a day: it is
		// about to forget the key, and sending the charge again could
		// charge twice. Only a person looking at Klarna's records can say.
		return s.unknown(ctx, r, p, log)
	}
	s.crash("claimed")
	priced, req, err := s.price(r, plan, p)
	if err != nil {
		return s.giveUp(ctx, r, p, "the renewal could not be priced: "+err.Error(), "")
	}
	token, err := s.vault.Decrypt(r.CustomerToken, r.CheckoutID)
	if err != nil {
		return s.giveUp(ctx, r, p, "the customer token could not be decrypted (TOKEN_KEYS changed?)", "")
	}
	var (
		order *klarna.Order
		resp  *klarna.Response
	)
	k, err := s.clients(r.Market)
	if err == nil {
		order, resp, err = k.CreateTokenOrder(ctx, token, key(r.ID, p.Period, p.Attempt), req)
	}
	corr := klarna.CorrelationID(resp, err)
	if err == nil {
		s.crash("charged")
		if err := s.record(ctx, r, plan, p, priced, req, order, corr); err != nil {
			// Klarna made the order: leave the claim to run out; the retry
			// sends the same key, gets the same order, and records it.
			log.ErrorContext(ctx, "recording a renewal failed; the retry records it", "klarna_order_id", order.OrderID, "error", err)
			return deferred, err
		}
		s.crash("recorded")
		log.InfoContext(ctx, "subscription renewed", "klarna_order_id", order.OrderID, "amount", priced.Total, "correlation_id", corr)
		return charged, nil
	}
	msg := err.Error()
	switch {
	case klarna.IsTemporary(err), klarna.IsNoAccount(err):
		// Not a decline: Klarna may or may not have charged. Try again
		// later with the same key, which gets Klarna's first answer. (No
		// account for the market's region means the settings lost it:
		// nothing was sent; try again once it is back.)
		until := s.now().Add(s.retry)
		if _, uerr := s.store.UpdatePeriod(ctx, r.ID, p.Period, s.instance, store.PeriodChanges{ClaimedUntil: &[]*time.Time{&until}[0], Error: &msg, CorrelationID: &corr}); uerr != nil {
			log.ErrorContext(ctx, "noting Klarna's outage on the period failed", "error", uerr)
		}
		s.event(ctx, r.ID, "renewal job", "Klarna could not be reached; trying again at "+until.Format(time.DateTime)+" with the same request", p.Period, corr)
		log.WarnContext(ctx, "renewal deferred: Klarna unreachable", "error", err, "correlation_id", corr)
		return deferred, nil
	case klarna.IsSoftDecline(err) && p.Attempt < maxAttempts:
		retry := s.now().Add(s.dunning[min(p.Attempt, len(s.dunning))-1])
		st := store.PeriodDeclined
		if _, uerr := s.store.UpdatePeriod(ctx, r.ID, p.Period, s.instance, store.PeriodChanges{Status: &st, RetryAt: &[]*time.Time{&retry}[0], Error: &msg, CorrelationID: &corr}); uerr != nil {
			return nothing, uerr
		}
		if err := s.setNext(ctx, r.ID, retry); err != nil {
			return declined, err
		}
		s.event(ctx, r.ID, "renewal job", fmt.Sprintf("declined by Klarna (attempt %d of %d); retrying on %s", p.Attempt, maxAttempts, retry.Format("2 Jan 2006")), p.Period, corr)
		log.WarnContext(ctx, "renewal declined; dunning", "retry_at", retry, "correlation_id", corr)
		return declined, nil
	case klarna.IsSoftDecline(err):
		return s.giveUp(ctx, r, p, fmt.Sprintf("declined %d times; paused after the last retry", p.Attempt), corr)
	case klarna.IsHardDecline(err):
		return s.giveUp(ctx, r, p, "Klarna cannot charge this customer token ("+errorCode(err)+"): ask the customer to pay again", corr)
	default:
		// A refusal that is not about the token: most likely a bug in what
		// the shop sent. Stop and show it rather than retry blindly.
		return s.giveUp(ctx, r, p, "Klarna refused the renewal: "+msg, corr)
	}
}

// price prices the period with the checkout's own pricing code, in the
// subscription's market, and marks every line with the subscription as
// Klarna requires for a renewal.
func (s *Service) price(r *store.Recurring, plan Plan, p *store.Period) (*shop.Priced, *klarna.TokenOrderRequest, error) {
	cart, err := shop.DecodeCart(r.Cart, s.catalog)
	if err != nil {
		return nil, nil, err
	}
	m, ok := shop.LookupMarket(r.Market)
	if !ok {
		return nil, nil, fmt.Errorf("unknown market %q", r.Market)
	}
	priced, err := shop.Price(cart, m, r.Locale, s.catalog)
	if err != nil {
		return nil, nil, err
	}
	sub := &klarna.Subscription{Name: plan.Name, Interval: klarna.SubscriptionInterval(plan.Interval), IntervalCount: plan.IntervalCount}
	lines := checkout.OrderLines(priced, s.urls)
	for i := range lines {
		lines[i].Subscription = sub
	}
	req := &klarna.TokenOrderRequest{
		PurchaseCurrency: m.Currency, OrderAmount: priced.Total, OrderTaxAmount: priced.Tax, OrderLines: lines,
		AutoCapture: klarna.Bool(false), MerchantReference1: p.OrderRef, MerchantReference2: r.ID,
		MerchantURLs: &klarna.TokenOrderURLs{Confirmation: s.urls.Confirmation(p.OrderRef)},
	}
	return priced, req, nil
}

// record writes the renewal order, the charged period and the next date in
// one transaction.
func (s *Service) record(ctx context.Context, r *store.Recurring, plan Plan, p *store.Period, priced *shop.Priced, req *klarna.TokenOrderRequest, o *klarna.Order, corr string) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	cart, _ := shop.DecodeCart(r.Cart, s.catalog)
	state := store.StatePlaced
	var check *time.Time
	if o.FraudStatus == klarna.FraudPending {
		// Wait for Klarna's review like any pending order.
		state = store.StatePendingReview
		t := s.now().Add(15 * time.Minute)
		check = &t
	} else if o.FraudStatus == klarna.FraudRejected {
		state = store.StateRejected
	}
	now := s.now()
	method := ""
	if o.AuthorizedPaymentMethod != nil {
		method = string(o.AuthorizedPaymentMethod.Type)
	}
	order := &store.Checkout{
		ID: p.OrderRef, SessionID: "renewal:" + r.ID + ":" + fmt.Sprint(p.Period), Categories: "[]", Market: r.Market, Locale: r.Locale, Currency: r.Currency,
		Cart: cart.Encode(), CartHash: priced.Hash(), Amount: priced.Total, TaxAmount: priced.Tax, SessionPayload: string(payload), CallbackSecret: newID() + newID(),
		State: state, KlarnaOrderID: o.OrderID, FraudStatus: string(o.FraudStatus), PaymentMethod: method, OrderPayload: string(payload),
		CorrelationID: corr, CreatedAt: now, UpdatedAt: now, SessionExpiresAt: now, PlacedAt: &now, NextCheckAt: check, SubscriptionID: r.ID,
	}
	next := plan.DueAt(r.AnchorAt, p.Period+1)
	if err := s.store.RecordRenewal(ctx, p, order, store.RecurringChanges{NextChargeAt: &[]*time.Time{&next}[0]}); err != nil {
		return err
	}
	s.event(ctx, r.ID, "renewal job", fmt.Sprintf("charged %s for period %d (order %s)", shop.FormatMoney(priced.Total, r.Currency, r.Locale), p.Period, p.OrderRef), p.Period, corr)
	return nil
}

// giveUp ends a period's charging and pauses the subscription for an
// operator.
func (s *Service) giveUp(ctx context.Context, r *store.Recurring, p *store.Period, why, corr string) (outcome, error) {
	st := store.PeriodFailed
	if _, err := s.store.UpdatePeriod(ctx, r.ID, p.Period, s.instance, store.PeriodChanges{Status: &st, Error: &why, CorrelationID: &corr}); err != nil {
		return nothing, err
	}
	wasActive := false
	if err := s.update(ctx, r.ID, func(cur *store.Recurring) (store.RecurringChanges, error) {
		if cur.Status != store.RecurringActive {
			return store.RecurringChanges{}, errNoChange
		}
		wasActive = true
		ps := store.RecurringPaused
		var none *time.Time
		return store.RecurringChanges{Status: &ps, Attention: &why, NextChargeAt: &none}, nil
	}); err != nil && !errors.Is(err, errNoChange) {
		return paused, err
	}
	what := "paused: " + why
	if !wasActive {
		what = "period not charged: " + why
	}
	s.event(ctx, r.ID, "renewal job", what, p.Period, corr)
	s.log.ErrorContext(ctx, "subscription paused; needs an operator", "subscription", r.ID, "period", p.Period, "reason", why, "correlation_id", corr)
	return paused, nil
}

// unknown puts a period whose charge Klarna never confirmed before an
// operator, and pauses the subscription until it is settled.
func (s *Service) unknown(ctx context.Context, r *store.Recurring, p *store.Period, log *slog.Logger) (outcome, error) {
	st := store.PeriodUnknown
	why := fmt.Sprintf("Klarna did not confirm within a day whether it charged period %d (order reference %s, sent %s). Look the reference up in Klarna's merchant portal, then settle the period: charged (with Klarna's order id) or not charged.",
		p.Period, p.OrderRef, p.SentAt.Format(time.DateTime))
	if _, err := s.store.UpdatePeriod(ctx, r.ID, p.Period, s.instance, store.PeriodChanges{Status: &st, Error: &why}); err != nil {
		return nothing, err
	}
	if err := s.update(ctx, r.ID, func(cur *store.Recurring) (store.RecurringChanges, error) {
		ch := store.RecurringChanges{Attention: &why}
		if cur.Status == store.RecurringActive {
			ps := store.RecurringPaused
			var none *time.Time
			ch.Status, ch.NextChargeAt = &ps, &none
		}
		return ch, nil
	}); err != nil {
		return paused, err
	}
	s.event(ctx, r.ID, "renewal job", "charge outcome unknown; waiting for an operator: "+why, p.Period, "")
	log.ErrorContext(ctx, "renewal outcome unknown after a day; an operator must settle it", "order_ref", p.OrderRef)
	return paused, nil
}

// setNext moves the subscription's next look to at.
func (s *Service) setNext(ctx context.Context, id string, at time.Time) error {
	err := s.update(ctx, id, func(cur *store.Recurring) (store.RecurringChanges, error) {
		if cur.Status != store.RecurringActive {
			return store.RecurringChanges{}, errNoChange
		}
		return store.RecurringChanges{NextChargeAt: &[]*time.Time{&at}[0]}, nil
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	return err
}

var errNoChange = errors.New("subscriptions: nothing to change")

// update applies a change computed from the current row by compare-and-set
// on its version, reading again when someone else changed it first.
func (s *Service) update(ctx context.Context, id string, change func(*store.Recurring) (store.RecurringChanges, error)) error {
	for range 5 {
		cur, err := s.store.Recurring(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		ch, err := change(cur)
		if err != nil {
			return err
		}
		ok, err := s.store.UpdateRecurring(ctx, id, cur.Version, ch)
		if err != nil || ok {
			return err
		}
	}
	return ErrBusy
}

// cancelTokens asks Klarna to cancel the tokens of cancelled subscriptions
// until it accepts (a cancellation made while Klarna was down is finished
// here).
func (s *Service) cancelTokens(ctx context.Context) error {
	rs, err := s.store.TokensToCancel(ctx, 50)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rs {
		if err := s.cancelToken(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) cancelToken(ctx context.Context, r *store.Recurring) error {
	token, err := s.vault.Decrypt(r.CustomerToken, r.CheckoutID)
	if err != nil {
		return fmt.Errorf("subscriptions: decrypting the token of %s: %w", r.ID, err)
	}
	var resp *klarna.Response
	k, err := s.clients(r.Market)
	if err == nil {
		resp, err = k.CancelCustomerToken(ctx, token)
	}
	corr := klarna.CorrelationID(resp, err)
	switch {
	case err == nil, klarna.HasCode(err, klarna.CodeTokenCancelled), klarna.IsNotFound(err):
	case klarna.IsTemporary(err), klarna.IsNoAccount(err):
		s.log.WarnContext(ctx, "cancelling a customer token failed; trying again later", "subscription", r.ID, "error", err, "correlation_id", corr)
		return nil
	default:
		// Stop asking (it would fail again) and show it to an operator.
		why := "Klarna would not cancel the customer token: " + err.Error()
		if uerr := s.update(ctx, r.ID, func(*store.Recurring) (store.RecurringChanges, error) {
			return store.RecurringChanges{Attention: &why, TokenCancelled: klarna.Bool(true)}, nil
		}); uerr != nil {
			return fmt.Errorf("subscriptions: noting the refused token cancellation of %s: %w", r.ID, uerr)
		}
		s.event(ctx, r.ID, "renewal job", why, 0, corr)
		return fmt.Errorf("subscriptions: cancelling the token of %s: %w", r.ID, err)
	}
	if err := s.update(ctx, r.ID, func(*store.Recurring) (store.RecurringChanges, error) {
		return store.RecurringChanges{TokenCancelled: klarna.Bool(true)}, nil
	}); err != nil {
		return err
	}
	s.event(ctx, r.ID, "renewal job", "customer token cancelled at Klarna", 0, corr)
	return nil
}

func errorCode(err error) string {
	var ke *klarna.Error
	if errors.As(err, &ke) && ke.ErrorCode != "" {
		return ke.ErrorCode
	}
	return "refused"
}
