package checkout

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"storefront/klarna"
	"storefront/store"
)

// recoverAfter is how long a placement must have been left before Recover
// takes it over: longer than a request's own attempts at Klarna (30 s
// overall), so that recovery never races a placement that is still running.
// Placements left by an earlier process are taken over at once.
const recoverAfter = 45 * time.Second

// Recover settles checkouts left in placing, for example by a crash or a
// lost answer: it asks Klarna again with the stored authorization.
func (s *Service) Recover(ctx context.Context) (int, error) {
	stuck, err := s.store.InState(ctx, store.StatePlacing, 100)
	if err != nil {
		return 0, err
	}
	// Subscriptions whose order is placed but whose token was not made.
	if waiting, err := s.store.SubscriptionsIn(ctx, store.SubscriptionPending, 100); err == nil {
		for _, c := range waiting {
			if plan := subscriptionPlan(c.SessionPayload); plan != nil && c.State.IsOrder() {
				s.tokenize(ctx, c, plan, s.log.With("checkout", c.ID, "source", string(FromRecovery)))
			}
		}
	}
	settled := 0
	for _, c := range stuck {
		if c.AuthorizationToken == "" || (!c.UpdatedAt.Before(s.started) && s.now().Sub(c.UpdatedAt) < recoverAfter) {
			continue
		}
		log := s.log.With("checkout", c.ID, "source", string(FromRecovery))
		if _, err := s.createOrder(ctx, c, c.AuthorizationToken, log, true); !errors.Is(err, ErrInProgress) {
			settled++
		}
	}
	return settled, nil
}

// Resolve settles one checkout left placing, when its shopper is waiting on
// the "confirming your order" page. A placement still running in another
// request is given a few seconds first; asking Klarna again is safe either
// way.
func (s *Service) Resolve(ctx context.Context, ref string) (*store.Checkout, error) {
	c, err := s.Checkout(ctx, ref)
	if err != nil || c.State != store.StatePlacing || c.AuthorizationToken == "" || s.now().Sub(c.UpdatedAt) < 3*time.Second {
		return c, err
	}
	log := s.log.With("checkout", c.ID, "source", string(FromRecovery))
	if _, err := s.createOrder(ctx, c, c.AuthorizationToken, log, true); err != nil && !errors.Is(err, ErrInProgress) && !errors.Is(err, ErrReauthorize) && !errors.Is(err, ErrRefused) {
		return nil, err
	}
	return s.store.Checkout(ctx, ref)
}

// orderExists asks Klarna whether the checkout's session already became an
// order (its status is complete), when create order's answer was lost.
func (s *Service) orderExists(ctx context.Context, c *store.Checkout, log *slog.Logger) bool {
	sess, resp, err := s.klarna.GetSession(ctx, c.SessionID)
	if err != nil {
		log.WarnContext(ctx, "reading session to resolve a lost order answer failed", "error", err, "correlation_id", correlation(resp, err))
		return false
	}
	return sess.Status == klarna.SessionComplete
}
