package checkout

import (
	"context"
	"errors"
	"fmt"

	"storefront/klarna"
	"storefront/store"
)

// ErrStale: a notification that does not match the order, or arrives after
// the decision was recorded; it changes nothing.
var ErrStale = errors.New("checkout: notification does not apply")

// Notify acts on Klarna's fraud notification for a pending order. It trusts
// the notification only to say "look again": the decision is re-read from
// Klarna, and the checkout moves from pending_review to placed or rejected by
// compare-and-set, so duplicates, late and out-of-order notifications change
// nothing. A final state is never left.
func (s *Service) Notify(ctx context.Context, ref, orderID, eventType string) (*store.Checkout, error) {
	c, err := s.Checkout(ctx, ref)
	if err != nil {
		return nil, err
	}
	if c.KlarnaOrderID == "" || c.KlarnaOrderID != orderID {
		return c, ErrStale
	}
	if c.State != store.StatePendingReview {
		return c, nil // already decided: a duplicate or a late notification
	}
	st, resp, err := s.klarna.GetOrderStatus(ctx, orderID)
	if err != nil {
		s.log.WarnContext(ctx, "re-reading order after notification failed", "checkout", ref, "error", err, "correlation_id", correlation(resp, err))
		return nil, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	var to store.State
	switch st.FraudStatus {
	case klarna.FraudAccepted:
		to = store.StatePlaced
	case klarna.FraudRejected:
		to = store.StateRejected
	default:
		s.log.InfoContext(ctx, "notification while Klarna still reviews; ignored", "checkout", ref, "event", eventType)
		return c, ErrStale
	}
	fraud, reason := string(st.FraudStatus), ""
	if to == store.StateRejected {
		reason = "Klarna rejected the order after review (" + eventType + ")"
	}
	corr := resp.CorrelationID
	if _, err := s.store.Transition(ctx, c.ID, []store.State{store.StatePendingReview}, to, store.Changes{FraudStatus: &fraud, LastError: &reason, CorrelationID: &corr}); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "fraud review decided", "checkout", ref, "state", string(to), "event", eventType, "correlation_id", corr)
	return s.store.Checkout(ctx, c.ID)
}
