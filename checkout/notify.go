package checkout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/store"
)

// ErrStale: a notification that does not match the order, or arrives while
// Klarna is still reviewing; it changes nothing.
var ErrStale = errors.New("checkout: notification does not apply")

// Fraud notification events Klarna sends to merchant_urls.notification.
const (
	EventAccepted = "FRAUD_RISK_ACCEPTED"
	EventRejected = "FRAUD_RISK_REJECTED"
	EventStopped  = "FRAUD_RISK_STOPPED"
)

// Notify acts on Klarna's fraud notification for an order, whatever state
// the order is in. It trusts the notification only to say "look again": the
// decision is re-read from Klarna and applied by compare-and-set, so
// duplicate, late and out-of-order notifications are harmless. A STOPPED
// event puts the order on hold ("do not ship") in every state.
func (s *Service) Notify(ctx context.Context, ref, orderID, eventType string) (*store.Checkout, error) {
	c, err := s.Checkout(ctx, ref)
	if err != nil {
		return nil, err
	}
	k, err := s.client(c.Market)
	if err != nil {
		return nil, s.fail(ctx, s.log.With("checkout", ref), klarnaGetOrder, c.Market, nil, err, nil)
	}
	if c.KlarnaOrderID == "" && c.State.IsOrder() && orderID != "" {
		// Recorded without Klarna's id (its answer was lost): the
		// notification names it. Klarna's own record of the order, its
		// reference, says whether it is this checkout's.
		if c, err = s.adoptOrderID(ctx, k, c, orderID, eventType); err != nil {
			return c, err
		}
	}
	if c.KlarnaOrderID == "" || c.KlarnaOrderID != orderID {
		return c, ErrStale
	}
	st, resp, err := k.GetOrderStatus(ctx, orderID)
	if err != nil {
		s.notice(ctx, klarnaGetOrder, c.Market, resp, err)
		s.log.WarnContext(ctx, "re-reading order after notification failed", "checkout", ref, "error", err, "correlation_id", klarna.CorrelationID(resp, err))
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return s.decide(ctx, c, st.FraudStatus, eventType, resp.CorrelationID)
}

// holdStopped is the hold a FRAUD_RISK_STOPPED notification puts on an
// order.
const holdStopped = "Klarna stopped this order (FRAUD_RISK_STOPPED): do not ship"

// decide applies Klarna's fraud status (and the event that announced it, if
// any) to an order: ACCEPTED settles a pending review as placed, REJECTED
// rejects a pending or placed order, STOPPED holds it. Concurrent deciders
// are settled by compare-and-set on the version; the loser looks again.
func (s *Service) decide(ctx context.Context, c *store.Checkout, fraud klarna.FraudStatus, event, corr string) (*store.Checkout, error) {
	log := s.log.With("checkout", c.ID, "klarna_order_id", c.KlarnaOrderID, "event", event)
	for range 3 {
		to := c.State
		hold := c.Hold
		if event == EventStopped {
			hold = holdStopped
		}
		reason := c.LastError
		switch fraud {
		case klarna.FraudAccepted:
			switch c.State {
			case store.StatePendingReview:
				to = store.StatePlaced
			case store.StateRejected:
				log.ErrorContext(ctx, "Klarna reports a rejected order as accepted; left rejected for an operator", "correlation_id", corr)
			}
		case klarna.FraudRejected:
			if c.State == store.StatePendingReview || c.State == store.StatePlaced {
				to = store.StateRejected
				reason = "Klarna rejected the order after review"
				if event != "" {
					reason += " (" + event + ")"
				}
			}
		default:
			if hold == c.Hold {
				log.InfoContext(ctx, "Klarna is still reviewing the order")
				return c, ErrStale
			}
		}
		if to == c.State && hold == c.Hold && string(fraud) == c.FraudStatus {
			return c, nil // already recorded: a duplicate or late notification
		}
		f := string(fraud)
		ch := store.Changes{AtVersion: c.Version, FraudStatus: &f, Hold: &hold, LastError: &reason, CorrelationID: &corr}
		if c.State == store.StatePendingReview && to != store.StatePendingReview {
			// The review is over: no more review checks. An order
			// created with auto_capture is read at once instead, so that
			// what Klarna captured on accepting it (or did not) is
			// settled by the orders' recovery (orders.Service.Recover).
			var next *time.Time
			if to == store.StatePlaced && klarna.AutoCaptureOf(c.OrderPayload) {
				now := s.now()
				next = &now
			}
			ch.NextCheckAt = &next
		}
		won, err := s.store.Transition(ctx, c.ID, []store.State{c.State}, to, ch)
		if err != nil {
			return nil, fmt.Errorf("checkout: recording Klarna's decision on %s: %w", c.ID, err)
		}
		fresh, err := s.store.Checkout(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("checkout: reading checkout %s: %w", c.ID, err)
		}
		if won {
			log.InfoContext(ctx, "fraud decision recorded", "state", string(to), "fraud_status", f, "hold", hold != "", "correlation_id", corr)
			return fresh, nil
		}
		c = fresh
	}
	return c, fmt.Errorf("checkout: %s kept changing while recording Klarna's decision", c.ID)
}

// CheckReviews asks Klarna about orders still pending fraud review whose
// next check is due, so that no order waits forever when a notification is
// lost (the shop was down during Klarna's retries). Each check is claimed by
// moving the next check on (compare-and-set), so instances share the work
// and a restart resumes the schedule. It returns how many were decided.
func (s *Service) CheckReviews(ctx context.Context) (int, error) {
	due, err := s.store.DueChecks(ctx, s.now(), 50)
	if err != nil {
		return 0, fmt.Errorf("checkout: listing pending reviews: %w", err)
	}
	var errs []error
	decided := 0
	for _, c := range due {
		n := c.Checks + 1
		next := s.now().Add(s.reviewChecks[min(n, len(s.reviewChecks)-1)])
		ch := store.Changes{AtVersion: c.Version, NextCheckAt: &[]*time.Time{&next}[0], Checks: &n}
		if c.PlacedAt != nil && s.now().Sub(*c.PlacedAt) > 48*time.Hour {
			note := "Still pending review at Klarna after 48 hours: ask Klarna's merchant support before shipping"
			ch.LastError = &note
		}
		won, err := s.store.Transition(ctx, c.ID, []store.State{store.StatePendingReview}, store.StatePendingReview, ch)
		if err != nil {
			errs = append(errs, fmt.Errorf("checkout: scheduling review check of %s: %w", c.ID, err))
			continue
		}
		if !won || c.KlarnaOrderID == "" {
			continue
		}
		c.Version++
		k, err := s.client(c.Market)
		if err != nil {
			s.notice(ctx, klarnaGetOrder, c.Market, nil, err)
			s.log.WarnContext(ctx, "cannot ask Klarna about a pending review: no account for the market's region", "checkout", c.ID, "error", err)
			continue
		}
		st, resp, err := k.GetOrderStatus(ctx, c.KlarnaOrderID)
		if err != nil {
			s.notice(ctx, klarnaGetOrder, c.Market, resp, err)
			s.log.WarnContext(ctx, "asking Klarna about a pending review failed; asking again later", "checkout", c.ID, "error", err, "correlation_id", klarna.CorrelationID(resp, err))
			continue
		}
		got, err := s.decide(ctx, c, st.FraudStatus, "", resp.CorrelationID)
		switch {
		case errors.Is(err, ErrStale):
		case err != nil:
			errs = append(errs, err)
		case got.State != store.StatePendingReview:
			decided++
		}
	}
	return decided, errors.Join(errs...)
}

// adoptOrderID fills in the Klarna order id of an order recorded without
// it, once Klarna confirms the order carries this checkout's reference.
func (s *Service) adoptOrderID(ctx context.Context, k Klarna, c *store.Checkout, orderID, event string) (*store.Checkout, error) {
	o, resp, err := k.GetOrder(ctx, orderID)
	if err != nil {
		s.notice(ctx, klarnaGetOrder, c.Market, resp, err)
		if klarna.IsNotFound(err) {
			return c, ErrStale
		}
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if o.MerchantReference1 != c.ID {
		s.log.WarnContext(ctx, "security: a notification named an order of another checkout; ignored", "checkout", c.ID, "correlation_id", resp.CorrelationID)
		return c, ErrStale
	}
	// As when Klarna's answer arrives late (record): the id is known now,
	// so the hold that asked an operator to find it goes, and Klarna's
	// fraud status says what the order is. A pending review is followed
	// by the review checks; decide then applies the notification itself.
	id, fraud, empty := o.OrderID, string(o.FraudStatus), ""
	to := c.State
	ch := store.Changes{AtVersion: c.Version, KlarnaOrderID: &id, CorrelationID: &resp.CorrelationID, FraudStatus: &fraud}
	if strings.HasPrefix(c.Hold, holdIDUnknown) {
		ch.Hold, ch.LastError = &empty, &empty
	}
	if event == EventStopped {
		// The order is held in the same write that makes it capturable:
		// never free to ship between the two, should the read of its
		// status below fail.
		stop := holdStopped
		ch.Hold = &stop
	}
	if o.FraudStatus == klarna.FraudPending && c.State == store.StatePlaced {
		next := s.now().Add(s.reviewChecks[0])
		to, ch.NextCheckAt = store.StatePendingReview, &[]*time.Time{&next}[0]
	} else if to == store.StatePlaced && (o.CapturedAmount > 0 || klarna.AutoCaptureOf(c.OrderPayload)) {
		// Captured at creation, or asked to be (an order Klarna accepted
		// after a review, which the orders' recovery captures): the read
		// that settles it is due now, kept in this write should the one
		// started below fail.
		now := s.now()
		ch.NextCheckAt = &[]*time.Time{&now}[0]
	}
	won, err := s.store.Transition(ctx, c.ID, []store.State{c.State}, to, ch)
	if err != nil {
		return nil, fmt.Errorf("checkout: recording the Klarna order id of %s: %w", c.ID, err)
	}
	if !won {
		// Changed meanwhile. If another caller filled the id in, go on
		// from there; if not, Klarna must send the notification again.
		fresh, err := s.Checkout(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		if fresh.KlarnaOrderID != id {
			return nil, fmt.Errorf("%w: the order changed while its Klarna id was recorded; try again", ErrUnavailable)
		}
		return fresh, nil
	}
	s.log.InfoContext(ctx, "filled in the Klarna order id of an order recorded without it, from a notification", "checkout", c.ID, "state", string(to), "correlation_id", resp.CorrelationID)
	if o.CapturedAmount > 0 {
		// Captured at creation (auto_capture): recorded now that the
		// shop can read the order, as when the id came with the answer.
		s.recordAutoCapture(ctx, c.ID, s.log.With("checkout", c.ID))
	}
	return s.Checkout(ctx, c.ID)
}
