package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/store"
)

// subscriptionPlan finds the subscription the shopper authorized, if any.
func subscriptionPlan(sessionPayload string) *klarna.Subscription {
	// The payload is our own encoding/json output, which writes the intent
	// as plain text: most orders are not subscriptions, and need not be
	// decoded a second time to find that out.
	if !strings.Contains(sessionPayload, `"`+string(klarna.IntentBuyAndTokenize)+`"`) {
		return nil
	}
	var sr klarna.SessionRequest
	if json.Unmarshal([]byte(sessionPayload), &sr) != nil || sr.Intent != klarna.IntentBuyAndTokenize {
		return nil
	}
	for _, l := range sr.OrderLines {
		if l.Subscription != nil {
			return l.Subscription
		}
	}
	return nil
}

func encodePlan(p *klarna.Subscription) string {
	return fmt.Sprintf("%s:%d:%s", p.Interval, p.IntervalCount, p.Name)
}

// nextCharge is when a subscription charges next.
func nextCharge(from time.Time, p *klarna.Subscription) time.Time {
	n := p.IntervalCount
	switch p.Interval {
	case klarna.IntervalDay:
		return from.AddDate(0, 0, n)
	case klarna.IntervalWeek:
		return from.AddDate(0, 0, 7*n)
	case klarna.IntervalYear:
		return from.AddDate(n, 0, 0)
	}
	return from.AddDate(0, n, 0)
}

// tokenize asks Klarna for the customer token of a placed subscription order
// and stores it encrypted. The subscription moves none -> pending -> active,
// or to needs_attention if Klarna refuses: the order is never undone, and the
// operator sees what to follow up. A write that fails leaves the
// subscription pending, and recovery asks again while the authorization
// lives (Klarna repeats the token for the same authorization).
func (s *Service) tokenize(ctx context.Context, c *store.Checkout, plan *klarna.Subscription, log *slog.Logger) {
	pending := store.Subscription{Status: store.SubscriptionPending, Plan: encodePlan(plan)}
	won, err := s.store.SetSubscription(ctx, c.ID, []store.SubscriptionStatus{store.SubscriptionNone, store.SubscriptionPending}, pending)
	if err != nil {
		log.ErrorContext(ctx, "marking the subscription pending failed; recovery retries", "error", err)
		return
	}
	if !won {
		return
	}
	var sr klarna.SessionRequest
	if err := json.Unmarshal([]byte(c.SessionPayload), &sr); err != nil {
		log.ErrorContext(ctx, "reading the stored session payload failed", "error", err)
		return
	}
	attention := func(msg string) {
		pending.Status = store.SubscriptionNeedsAttention
		if _, err := s.store.SetSubscription(ctx, c.ID, []store.SubscriptionStatus{store.SubscriptionPending}, pending); err != nil {
			log.ErrorContext(ctx, "recording that the subscription needs attention failed; recovery retries", "error", err, "reason", msg)
			return
		}
		note := "Subscription needs attention: " + msg
		if _, err := s.store.Transition(ctx, c.ID, []store.State{c.State}, c.State, store.Changes{LastError: &note}); err != nil {
			log.ErrorContext(ctx, "noting the subscription problem on the order failed", "error", err)
		}
		log.ErrorContext(ctx, "subscription needs attention", "reason", msg)
	}
	if s.vault == nil {
		attention("no encryption key is configured for customer tokens")
		return
	}
	k, err := s.client(c.Market)
	if err != nil {
		attention("no Klarna account for the market's region (" + err.Error() + ")")
		return
	}
	tok, resp, err := k.GenerateCustomerToken(ctx, c.AuthorizationToken, &klarna.CustomerTokenRequest{
		Description: plan.Name, IntendedUse: klarna.IntendedUseSubscription,
		Locale: sr.Locale, PurchaseCountry: sr.PurchaseCountry, PurchaseCurrency: sr.PurchaseCurrency,
	})
	if err != nil {
		if unknownOutcome(err) {
			// Leave it pending: Recover asks again while the authorization lives.
			log.WarnContext(ctx, "customer token outcome unknown; will ask again", "error", err, "correlation_id", klarna.CorrelationID(resp, err))
			return
		}
		s.notice(ctx, klarnaCustomerToken, c.Market, resp, err)
		attention("Klarna refused the customer token (" + err.Error() + ")")
		return
	}
	enc, err := s.vault.Encrypt(tok.TokenID, c.ID)
	if err != nil {
		attention("could not encrypt the customer token")
		return
	}
	placed := s.now()
	if c.PlacedAt != nil {
		placed = *c.PlacedAt
	}
	next := nextCharge(placed, plan)
	active := store.Subscription{Status: store.SubscriptionActive, Plan: pending.Plan, Next: &next, CustomerToken: enc}
	if _, err := s.store.SetSubscription(ctx, c.ID, []store.SubscriptionStatus{store.SubscriptionPending}, active); err != nil {
		log.ErrorContext(ctx, "recording the customer token failed; recovery asks Klarna again", "error", err)
		return
	}
	log.InfoContext(ctx, "subscription active", "plan", pending.Plan, "correlation_id", resp.CorrelationID)
}
