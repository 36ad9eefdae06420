package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/store"
)

// Recover settles what a crash, a lost answer or a refused write left
// unfinished, on whichever instance runs it:
//   - placements whose lease has run out are taken over (a compare-and-set
//     on the lease, so one instance at a time) and Klarna is asked again with
//     the stored authorization;
//   - Klarna's authorization callbacks kept for checkouts still open that
//     no instance finished placing (see PlaceInBackground);
//   - subscriptions whose order is placed but whose token was not made;
//   - orders pending fraud review whose next check is due (see CheckReviews).
//
// It returns how many placements it settled, and every error it met.
func (s *Service) Recover(ctx context.Context) (int, error) {
	var errs []error
	settled := 0
	stuck, err := s.store.Unclaimed(ctx, store.StatePlacing, s.now(), 100)
	if err != nil {
		errs = append(errs, fmt.Errorf("checkout: listing placements to recover: %w", err))
	}
	for _, c := range stuck {
		if c.AuthorizationToken == "" || s.recording(c.ID) {
			continue
		}
		log := s.log.With("checkout", c.ID, "source", string(FromRecovery))
		won, err := s.holdPlacement(ctx, c, s.now().Add(s.lease))
		if err != nil {
			errs = append(errs, fmt.Errorf("checkout: claiming placement %s: %w", c.ID, err))
			continue
		}
		if !won {
			continue // another instance took it
		}
		log.InfoContext(ctx, "taking over a placement left unfinished")
		if _, err := s.createOrder(ctx, c, c.AuthorizationToken, log, true); !errors.Is(err, ErrInProgress) {
			settled++
			s.obs.Recovered("placement")
		}
	}
	// Klarna's callbacks kept for checkouts still open, whose placement
	// the instance that took them did not finish.
	pending, err := s.store.PendingCallbacks(ctx, s.now().Add(-s.lease), 100)
	if err != nil {
		errs = append(errs, fmt.Errorf("checkout: listing callbacks to place: %w", err))
	}
	for _, c := range pending {
		if s.recording(c.ID) {
			continue
		}
		log := s.log.With("checkout", c.ID, "source", string(FromRecovery))
		log.InfoContext(ctx, "placing from a callback an instance did not finish")
		_, err := s.PlaceCheckout(ctx, c, c.CallbackToken, FromCallback, "")
		if retryCallback(err) {
			// Try again later, not at every run.
			if nerr := s.store.NoteCallback(ctx, c.ID, c.CallbackToken, s.now()); nerr != nil {
				errs = append(errs, nerr)
			}
			continue
		}
		s.settleCallback(ctx, c.ID, err, log)
		if err == nil {
			settled++
			s.obs.Recovered("callback")
		}
	}
	waiting, err := s.store.SubscriptionsIn(ctx, store.SubscriptionPending, 100)
	if err != nil {
		errs = append(errs, fmt.Errorf("checkout: listing subscriptions to set up: %w", err))
	}
	for _, c := range waiting {
		if plan := subscriptionPlan(c.SessionPayload); plan != nil && c.State.IsOrder() {
			s.tokenize(ctx, c, plan, s.log.With("checkout", c.ID, "source", string(FromRecovery)))
		}
	}
	decided, err := s.CheckReviews(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for range decided {
		s.obs.Recovered("review_decided")
	}
	return settled, errors.Join(errs...)
}

// Nudge asks the recovery loop to run soon, for a shopper waiting on the
// confirmation page. It never blocks and never calls Klarna itself.
func (s *Service) Nudge() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// RunRecovery runs Recover now, then every interval and whenever nudged
// (at most once a second), until ctx ends.
func (s *Service) RunRecovery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Recover(ctx); err != nil {
			s.log.ErrorContext(ctx, "recovery met errors; it runs again", "error", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "recovered placements", "count", n)
		}
		select {
		case <-t.C:
		case <-s.nudge:
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// orderExists asks Klarna whether the checkout's session already became an
// order (its status is complete), when create order's answer was lost. known
// is false when Klarna could not be asked: then nobody may assume either.
func (s *Service) orderExists(ctx context.Context, c *store.Checkout, log *slog.Logger) (exists, known bool) {
	k, err := s.client(c.Market)
	if err != nil {
		log.WarnContext(ctx, "no account for the market's region to resolve a lost order answer", "error", err)
		return false, false
	}
	sess, resp, err := k.GetSessionAuthorization(ctx, c.SessionID)
	if err != nil {
		log.WarnContext(ctx, "reading session to resolve a lost order answer failed", "error", err, "correlation_id", klarna.CorrelationID(resp, err))
		return false, false
	}
	return sess.Status == klarna.SessionComplete, true
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("checkout: encoding %T: %w", v, err)
	}
	return string(b), nil
}
