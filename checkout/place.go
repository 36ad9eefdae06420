package checkout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/store"
)

// Source says who asked to place an order, for the logs.
type Source string

// Sources of a placement.
const (
	FromBrowser  Source = "browser"
	FromCallback Source = "callback"
	FromRecovery Source = "recovery"
)

// Place turns an authorization into an order. The shopper's browser and
// Klarna's authorization callback both call it, in any order and any number
// of times; exactly one order comes of one checkout:
//
//  1. The token must be this checkout's: the authorization_token Klarna
//     holds for the checkout's session (see verify). A token that is not
//     this checkout's is refused and left alone: it may be another
//     shopper's.
//  2. cartHash, when not empty, is the cart as the shopper's session prices
//     it now: a difference means the cart changed after the approval.
//  3. The move from open to placing is a compare-and-set on the version of
//     the row that was read, so the order is built from exactly the priced
//     cart that was checked; a session update in between makes it fail.
//     The database also refuses a token or Klarna order id on two
//     checkouts.
//
// Every caller after the first gets the same order back. Errors after
// Klarna may have made the order are ErrInProgress, never a bare error: the
// shopper is then shown the confirmation page, which follows the outcome.
func (s *Service) Place(ctx context.Context, sessionID, token string, src Source, cartHash string) (*store.Checkout, error) {
	c, err := s.store.CheckoutBySession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("checkout: finding checkout for session: %w", err)
	}
	return s.PlaceCheckout(ctx, c, token, src, cartHash)
}

// PlaceCheckout is Place for a checkout the caller has just read (the
// browser's, found by its reference; the callback's, found to check its
// secret), which saves reading it again.
func (s *Service) PlaceCheckout(ctx context.Context, c *store.Checkout, token string, src Source, cartHash string) (*store.Checkout, error) {
	c, err := s.place(ctx, c, token, src, cartHash)
	if err != nil {
		s.obs.Failed(failure(err))
	}
	return c, err
}

// failure names a placement's error for the metrics.
func failure(err error) string {
	for _, f := range []struct {
		err  error
		name string
	}{{ErrInProgress, "in_progress"}, {ErrCartChanged, "cart_changed"}, {ErrReauthorize, "reauthorize"}, {ErrRefused, "refused"},
		{ErrForeignToken, "foreign_token"}, {ErrUnavailable, "klarna_unavailable"}, {ErrNotFound, "unknown_checkout"}} {
		if errors.Is(err, f.err) {
			return f.name
		}
	}
	return "error"
}

func (s *Service) place(ctx context.Context, c *store.Checkout, token string, src Source, cartHash string) (*store.Checkout, error) {
	log := s.log.With("checkout", c.ID, "source", string(src))
	s.crash("received")
	switch {
	case c.State.IsOrder():
		return c, nil
	case c.State == store.StatePlacing:
		return s.awaitOther(ctx, c.ID, src)
	}
	if err := s.verify(ctx, c, token, src, log); err != nil {
		return c, err
	}
	if c.State == store.StateFailed {
		// Retired or refused: this approval will not become an order.
		s.cancel(ctx, c, token)
		return c, ErrRefused
	}
	if cartHash != "" && cartHash != c.CartHash {
		// c may be older than this request (the browser's is read before
		// the cart is priced): Klarna's callback may have placed the
		// approved cart since, or be placing it. Release the approval only
		// while the checkout is still open as read, and move its version
		// on so that no placement starts from that row meanwhile.
		still, err := s.store.Transition(ctx, c.ID, []store.State{store.StateOpen}, store.StateOpen, store.Changes{AtVersion: c.Version})
		if err != nil {
			// Nothing was sent to Klarna: the approval stands.
			return nil, fmt.Errorf("checkout: releasing the approval of %s: %w", c.ID, err)
		}
		if !still {
			now, err := s.store.Checkout(ctx, c.ID)
			if err != nil {
				return nil, fmt.Errorf("checkout: reading checkout %s: %w", c.ID, err)
			}
			switch {
			case now.State.IsOrder():
				return now, nil
			case now.State == store.StatePlacing:
				return s.awaitOther(ctx, c.ID, src)
			}
			c = now
		}
		log.InfoContext(ctx, "cart changed after authorization; releasing it")
		s.cancel(ctx, c, token)
		if c.State == store.StateFailed {
			return c, ErrRefused
		}
		return c, ErrCartChanged
	}
	until := s.now().Add(s.lease)
	won, err := s.store.Transition(ctx, c.ID, []store.State{store.StateOpen}, store.StatePlacing, store.Changes{
		AtVersion: c.Version, AuthorizationToken: &token, ClaimedBy: &s.instance, ClaimedUntil: &[]*time.Time{&until}[0],
	})
	if errors.Is(err, store.ErrDuplicate) {
		log.WarnContext(ctx, "security: authorization token already belongs to another checkout; refused")
		return c, ErrForeignToken
	}
	if err != nil {
		// Nothing was sent to Klarna: no order exists.
		return nil, fmt.Errorf("checkout: starting placement of %s: %w", c.ID, err)
	}
	if !won {
		now, err := s.store.Checkout(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("checkout: reading checkout %s: %w", c.ID, err)
		}
		if now.State == store.StateOpen {
			// The cart was repriced between our read and the move: the
			// approval was for the cart before.
			log.InfoContext(ctx, "cart changed while placing; releasing the authorization")
			s.cancel(ctx, c, token)
			return now, ErrCartChanged
		}
		return s.awaitOther(ctx, c.ID, src)
	}
	c.State, c.AuthorizationToken, c.Version = store.StatePlacing, token, c.Version+1
	log.InfoContext(ctx, "placing order", "amount", c.Amount, "currency", c.Currency)
	s.crash("placing")
	return s.createOrder(ctx, c, token, log, false)
}

// verify checks that token is this checkout's authorization: it must be the
// authorization_token Klarna holds for the checkout's session. The token
// already recorded on the checkout (a retry) needs no second look. Should
// Klarna's session read ever come without the token, a callback's token is
// still accepted, because the callback proved itself with the checkout's
// secret; a browser's is not, and Klarna's callback places the order.
func (s *Service) verify(ctx context.Context, c *store.Checkout, token string, src Source, log *slog.Logger) error {
	if c.AuthorizationToken != "" && constantTimeEqual(c.AuthorizationToken, token) {
		return nil
	}
	k, err := s.client(c.Market)
	if err != nil {
		return s.fail(ctx, log, klarnaGetSession, c.Market, nil, err, nil)
	}
	sess, resp, err := k.GetSessionAuthorization(ctx, c.SessionID)
	if err != nil {
		if klarna.IsNotFound(err) {
			log.WarnContext(ctx, "reading the session to verify an authorization failed", "error", err, "correlation_id", klarna.CorrelationID(resp, err))
			// Klarna has forgotten the session: nothing can be placed from
			// it any more.
			if _, rerr := s.retire(ctx, c, "Klarna no longer has its session"); rerr != nil {
				return rerr
			}
			return ErrRefused
		}
		return s.fail(ctx, log, klarnaGetSession, c.Market, resp, err, nil)
	}
	switch {
	case sess.AuthorizationToken == "" && src == FromCallback:
		log.WarnContext(ctx, "Klarna's session read shows no authorization token; trusting the authenticated callback", "correlation_id", resp.CorrelationID)
		return nil
	case sess.AuthorizationToken == "" || !constantTimeEqual(sess.AuthorizationToken, token):
		log.WarnContext(ctx, "security: authorization token is not this checkout's; refused", "correlation_id", resp.CorrelationID)
		return ErrForeignToken
	}
	return nil
}

// holdPlacement takes, or keeps, the lease on a checkout that is placing
// until the given time: a compare-and-set on the version c was read at,
// which c then follows. false: another caller moved it first.
func (s *Service) holdPlacement(ctx context.Context, c *store.Checkout, until time.Time) (bool, error) {
	won, err := s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StatePlacing, store.Changes{
		AtVersion: c.Version, ClaimedBy: &s.instance, ClaimedUntil: &[]*time.Time{&until}[0],
	})
	if won {
		c.Version++
	}
	return won, err
}

// createOrder calls Klarna for a checkout this caller moved to placing, and
// settles the state from the answer. uncertain says an earlier attempt may
// already have created the order (a lost answer, a crash, recovery).
func (s *Service) createOrder(ctx context.Context, c *store.Checkout, token string, log *slog.Logger, uncertain bool) (*store.Checkout, error) {
	s.obs.InFlight(1)
	defer s.obs.InFlight(-1)
	req, err := s.orderRequest(c)
	if err != nil {
		// Klarna was not called; leave the lease to run out, so that an
		// operator sees the checkout stuck rather than a lost order.
		return nil, err
	}
	k, err := s.client(c.Market)
	if err != nil {
		// Only recovery gets here (Place reads the session with the same
		// client first): the account of the market's region is gone from
		// the settings. Leave it placing for when it is back.
		s.notice(ctx, klarnaCreateOrder, c.Market, nil, err)
		log.ErrorContext(ctx, "cannot ask Klarna about this placement: no account for the market's region", "market", c.Market, "error", err)
		return c, ErrInProgress
	}
	var (
		order *klarna.Order
		resp  *klarna.Response
	)
	for attempt := 0; ; attempt++ {
		order, resp, err = k.CreateOrder(ctx, token, req)
		if err == nil || !unknownOutcome(err) || attempt >= len(s.retryWaits) {
			break
		}
		// The order may or may not exist at Klarna. Asking again with the
		// same token cannot create a second one: Klarna ties the order to
		// the authorization.
		uncertain = true
		log.WarnContext(ctx, "create order outcome unknown; asking again", "error", err, "correlation_id", klarna.CorrelationID(resp, err))
		// Keep the placement this caller's while it waits and asks again:
		// the lease is shorter than every attempt together, and recovery
		// elsewhere must not take over a placement that is still going.
		kept, lerr := s.holdPlacement(ctx, c, s.now().Add(s.retryWaits[attempt]+s.lease))
		if lerr != nil || !kept {
			// Taken over, or the database refuses writes: the lease runs
			// out and whoever holds the placement then settles it.
			log.WarnContext(ctx, "stopped asking Klarna again: could not keep the placement", "error", lerr, "kept", kept)
			return c, ErrInProgress
		}
		select {
		case <-time.After(s.retryWaits[attempt]):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	corr := klarna.CorrelationID(resp, err)
	exists, known := false, true
	if err != nil && uncertain && !unknownOutcome(err) {
		exists, known = s.orderExists(ctx, c, log)
	}
	switch {
	case err == nil:
		s.crash("ordered")
		return s.finish(ctx, c, order, req, corr, uncertain, log)
	case unknownOutcome(err) || !known:
		// Leave it placing with the token stored: recovery settles it once
		// the lease runs out.
		msg := "Klarna's answer did not arrive: " + err.Error()
		if _, werr := s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StatePlacing, store.Changes{LastError: &msg, CorrelationID: &corr}); werr != nil {
			log.ErrorContext(ctx, "noting the unknown outcome failed; recovery still settles it", "error", werr)
		}
		log.ErrorContext(ctx, "create order outcome unknown; will resolve later", "error", err, "correlation_id", corr)
		return c, ErrInProgress
	case exists:
		// An earlier attempt created the order and Klarna will not repeat
		// its answer. The order is real: record it as placed, on hold until
		// an operator finds its Klarna id by our reference.
		msg := "Klarna has this order but did not repeat its id: look it up by merchant reference " + c.ID
		hold := holdIDUnknown + ": find it in Klarna's portal by merchant reference " + c.ID + " before shipping"
		now, fraud := s.now(), "UNKNOWN"
		ch := store.Changes{LastError: &msg, Hold: &hold, CorrelationID: &corr, FraudStatus: &fraud, PlacedAt: &now}
		// The copy of the request says what was asked (auto_capture), for
		// when the id arrives.
		if payload, perr := requestCopy(c, req); perr == nil {
			ch.OrderPayload = &payload
		} else {
			log.ErrorContext(ctx, "recording the order without its request copy", "error", perr)
		}
		if _, werr := s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StatePlaced, ch); werr != nil {
			log.ErrorContext(ctx, "recording an order whose id Klarna did not repeat failed; recovery retries", "error", werr)
			return c, ErrInProgress
		}
		log.ErrorContext(ctx, "order exists at Klarna without a known id; needs an operator", "correlation_id", corr)
		return s.reread(ctx, c)
	case klarna.IsNotMatching(err) || klarna.IsNotFound(err):
		msg := err.Error()
		s.cancel(ctx, c, token)
		if _, werr := s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StateOpen, store.Changes{LastError: &msg, CorrelationID: &corr}); werr != nil {
			log.ErrorContext(ctx, "reopening the checkout failed; recovery retries it", "error", werr)
			return c, ErrInProgress
		}
		log.WarnContext(ctx, "authorization not usable; shopper must approve again", "error", err, "correlation_id", corr)
		return c, ErrReauthorize
	case Classify(err) == ClassCredentials:
		// Klarna refused the shop itself, before looking at the order: no
		// order exists. The checkout stays payable once the operator has
		// fixed the account.
		f := s.fail(ctx, log, klarnaCreateOrder, c.Market, resp, err, nil)
		msg := err.Error()
		s.cancel(ctx, c, token)
		if _, werr := s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StateOpen, store.Changes{LastError: &msg, CorrelationID: &corr}); werr != nil {
			log.ErrorContext(ctx, "reopening the checkout failed; recovery retries it", "error", werr)
			return c, ErrInProgress
		}
		return c, fmt.Errorf("%w: %w", ErrReauthorize, f)
	default:
		msg := err.Error()
		s.cancel(ctx, c, token)
		if _, werr := s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StateFailed, store.Changes{LastError: &msg, CorrelationID: &corr}); werr != nil {
			log.ErrorContext(ctx, "recording the refusal failed; recovery retries it", "error", werr)
			return c, ErrInProgress
		}
		f := s.fail(ctx, log, klarnaCreateOrder, c.Market, resp, err, req)
		return c, fmt.Errorf("%w: %w", ErrRefused, f)
	}
}

// holdIDUnknown begins the hold of an order recorded without Klarna's id;
// whoever fills the id in lifts it.
const holdIDUnknown = "Klarna order id unknown"

// reread returns the checkout as stored; if the read fails the order is
// still safe, so the caller is told it is in progress.
func (s *Service) reread(ctx context.Context, c *store.Checkout) (*store.Checkout, error) {
	got, err := s.store.Checkout(ctx, c.ID)
	if err != nil {
		s.log.ErrorContext(ctx, "reading the placed checkout failed", "checkout", c.ID, "error", err)
		return c, ErrInProgress
	}
	return got, nil
}

// outcome is what finish records for an order Klarna made.
type outcome struct {
	to      store.State
	changes store.Changes
	// autoCaptured says the order was created with auto_capture: Klarna
	// captured it then, and the capture is recorded once the id is.
	autoCaptured bool
}

// outcomeOf is what Klarna's answer o to req makes of checkout c. Its error
// is about the copy of the request only: the outcome is whole without it.
func (s *Service) outcomeOf(c *store.Checkout, o *klarna.Order, req *klarna.OrderRequest, corr string) (outcome, error) {
	to := store.StatePlaced
	var nextCheck *time.Time
	switch o.FraudStatus {
	case klarna.FraudPending:
		to = store.StatePendingReview
		t := s.now().Add(s.reviewChecks[0])
		nextCheck = &t
	case klarna.FraudRejected:
		to = store.StateRejected
	}
	method := ""
	if pm := o.AuthorizedPaymentMethod; pm != nil {
		method = string(pm.Type)
		if pm.NumberOfDays > 0 {
			method += fmt.Sprintf(" (%d days)", pm.NumberOfDays)
		}
		if pm.NumberOfInstallments > 0 {
			method += fmt.Sprintf(" (%d instalments)", pm.NumberOfInstallments)
		}
	}
	now := s.now()
	fraud, empty := string(o.FraudStatus), ""
	out := outcome{to: to, changes: store.Changes{
		KlarnaOrderID: &o.OrderID, FraudStatus: &fraud, PaymentMethod: &method, RedirectURL: &o.RedirectURL,
		LastError: &empty, CorrelationID: &corr, PlacedAt: &now, NextCheckAt: &nextCheck,
	}, autoCaptured: req.AutoCapture != nil && *req.AutoCapture}
	// Klarna's answer alone decides the state. Without the copy of the
	// request the order is still recorded as what it is (a pending review
	// stays one): the orders area reads the lines from the session then.
	payload, err := requestCopy(c, req)
	if err != nil {
		return out, err
	}
	out.changes.OrderPayload = &payload
	return out, nil
}

// requestCopy is the copy of an order request the order keeps.
func requestCopy(c *store.Checkout, req *klarna.OrderRequest) (string, error) {
	payload, err := jsonString(req)
	if err != nil {
		return "", fmt.Errorf("checkout: keeping a copy of the order request: %w", err)
	}
	// The notification URL in it carries the callback secret.
	return RedactSecret(payload, c.CallbackSecret), nil
}

// finish records the order Klarna made. If the database refuses, the order
// is kept in memory and written as soon as it can be (the shopper is told it
// is being confirmed); it is never reported as failed.
func (s *Service) finish(ctx context.Context, c *store.Checkout, o *klarna.Order, req *klarna.OrderRequest, corr string, uncertain bool, log *slog.Logger) (*store.Checkout, error) {
	log = log.With("klarna_order_id", o.OrderID)
	out, err := s.outcomeOf(c, o, req, corr)
	if err != nil {
		log.ErrorContext(ctx, "recording the order without its request copy", "error", err)
	}
	if out.to == store.StatePlaced && (out.autoCaptured || uncertain) {
		// Klarna may hold a capture made at creation: this order's own
		// request asked for one, or an earlier attempt's may have (a
		// recovered placement rebuilds the request under today's
		// policy). The read that records it is kept in the order's own
		// write, a minute on, for the orders' recovery should the one
		// started at once fail or never run.
		next := s.now().Add(autoCaptureRead)
		out.changes.NextCheckAt = &[]*time.Time{&next}[0]
	}
	row, won, err := s.record(ctx, c.ID, out, log)
	if err != nil {
		log.ErrorContext(ctx, "recording the order failed; it is kept and written when the database accepts writes", "error", err)
		s.recordLater(ctx, c.ID, out, log)
		return c, ErrInProgress
	}
	s.crash("recorded")
	if won {
		s.obs.Placed(string(out.to))
		s.placed.add(row)
	}
	log.InfoContext(ctx, "order placed", "state", string(out.to), "fraud_status", o.FraudStatus, "correlation_id", corr)
	placed := row
	if placed == nil {
		// Another caller recorded it: read what it wrote.
		if placed, err = s.store.Checkout(ctx, c.ID); err != nil {
			log.ErrorContext(ctx, "reading the placed checkout failed", "error", err)
			return c, ErrInProgress
		}
	}
	if won && placed.Subscription.Status == store.SubscriptionNone {
		if plan := subscriptionPlan(placed.SessionPayload); plan != nil {
			// The order stands whatever happens to the token.
			s.tokenize(ctx, placed, plan, log)
			return s.reread(ctx, placed)
		}
	}
	return placed, nil
}

// record writes an order Klarna made: the move from placing, or, if another
// caller already recorded the order without Klarna's id (a lost answer that
// Klarna would not repeat), the id it lacked. won says this call moved it;
// row is then the checkout as it left it. Whichever write gives the order
// its id also has a capture Klarna made at creation recorded: only with
// the id can the shop read it.
func (s *Service) record(ctx context.Context, id string, out outcome, log *slog.Logger) (row *store.Checkout, won bool, err error) {
	row, err = s.store.TransitionRow(ctx, id, []store.State{store.StatePlacing}, out.to, out.changes)
	if err != nil || row != nil {
		if row != nil && out.autoCaptured {
			s.recordAutoCapture(ctx, id, log)
		}
		return row, row != nil, err
	}
	c, err := s.store.Checkout(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if c.State.IsOrder() && c.KlarnaOrderID == "" && out.changes.KlarnaOrderID != nil {
		empty := ""
		ch := out.changes
		ch.AtVersion, ch.LastError, ch.Hold, ch.PlacedAt = c.Version, &empty, &empty, nil
		// Klarna's answer says what the order is (a pending review, not
		// yet a confirmed order): it decides the state, as it would have.
		filled, err := s.store.Transition(ctx, id, []store.State{c.State}, out.to, ch)
		if err != nil {
			return nil, false, err
		}
		if filled {
			log.InfoContext(ctx, "filled in the Klarna order id of an order recorded without it", "state", string(out.to))
			if out.autoCaptured {
				s.recordAutoCapture(ctx, id, log)
			}
		}
		return nil, false, nil
	}
	if c.KlarnaOrderID != "" && out.changes.KlarnaOrderID != nil && c.KlarnaOrderID != *out.changes.KlarnaOrderID {
		log.ErrorContext(ctx, "two Klarna orders for one checkout: an operator must cancel one", "recorded", c.KlarnaOrderID)
	}
	return nil, false, nil
}

// recordLater writes an order Klarna made once the database takes writes
// again, retrying with backoff until it does or the service stops. Recovery
// leaves such checkouts alone meanwhile: only this process knows the id.
func (s *Service) recordLater(ctx context.Context, id string, out outcome, log *slog.Logger) {
	s.mu.Lock()
	if s.unrecorded[id] {
		s.mu.Unlock()
		return
	}
	s.unrecorded[id] = true
	s.mu.Unlock()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.unrecorded, id)
			s.mu.Unlock()
		}()
		ctx := context.WithoutCancel(ctx)
		wait := 100 * time.Millisecond
		for {
			select {
			case <-time.After(wait):
			case <-s.stop:
				log.ErrorContext(ctx, "shutting down with an order not yet recorded; recovery at the next start settles it")
				return
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, _, err := s.record(wctx, id, out, log)
			cancel()
			if err == nil {
				log.InfoContext(ctx, "order recorded after the database accepted writes again")
				return
			}
			wait = min(wait*2, 5*time.Second)
		}
	}()
}

// autoCaptureRead is how long after an order that Klarna may have captured
// at creation is recorded the orders' recovery reads it, unless the read
// made at once (AutoCaptured) recorded the whole order's capture by then.
const autoCaptureRead = time.Minute

// recordAutoCapture has the capture Klarna made at order creation recorded,
// in the background: the shopper does not wait for it. It is the quick way;
// the durable one is the read the order's write scheduled (NextCheckAt),
// which the orders' recovery makes if this one fails, or is cut short when
// the service stops.
func (s *Service) recordAutoCapture(ctx context.Context, ref string, log *slog.Logger) {
	if s.autoCaptured == nil {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-done:
			}
		}()
		if err := s.autoCaptured(ctx, ref); err != nil {
			log.WarnContext(ctx, "recording the capture Klarna made at order creation failed; the orders' recovery reads the order again", "error", err)
		}
	}()
}

// awaitOther waits for the caller that is placing the order to finish. A
// callback does not wait: Klarna has its answer already, and the caller
// placing the order finishes it.
func (s *Service) awaitOther(ctx context.Context, id string, src Source) (*store.Checkout, error) {
	if src == FromCallback {
		return nil, ErrInProgress
	}
	deadline := time.Now().Add(s.wait)
	for {
		c, err := s.store.Checkout(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("checkout: reading checkout %s: %w", id, err)
		}
		switch {
		case c.State.IsOrder():
			return c, nil
		case c.State == store.StateFailed:
			return c, ErrRefused
		case c.State == store.StateOpen:
			return c, ErrReauthorize
		}
		if time.Now().After(deadline) {
			return c, ErrInProgress
		}
		select {
		case <-time.After(25 * time.Millisecond):
		case <-ctx.Done():
			return c, ErrInProgress
		}
	}
}

// PlaceInBackground places an order for Klarna's authorization callback,
// which must be answered quickly. It first keeps the token on the checkout,
// because Klarna does not send an answered callback again: should this
// process stop, or Klarna stay unreachable, before the order is placed,
// recovery on any instance finishes it. It returns an error only when the
// token could not be kept; the caller then answers Klarna with an error so
// that Klarna tries again. The placement keeps ctx's values (the request id
// for the logs) but not its cancellation. Close waits for it at shutdown.
func (s *Service) PlaceInBackground(ctx context.Context, c *store.Checkout, token string) error {
	if c.State.IsOrder() {
		return nil // the browser's request placed it already
	}
	if c.State == store.StateOpen {
		if err := s.store.NoteCallback(ctx, c.ID, token, s.now()); err != nil {
			return fmt.Errorf("checkout: keeping the callback of %s: %w", c.ID, err)
		}
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		var err error
	tries:
		for wait := time.Second; ; wait *= 2 {
			// A Klarna hiccup while verifying, or a database that refuses
			// to record the start of the placement, is waited out here, and
			// after that by recovery.
			if _, err = s.PlaceCheckout(ctx, c, token, FromCallback, ""); !retryCallback(err) {
				break
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				break tries
			case <-s.stop:
				break tries
			}
			// Read it again for the next try: it may have moved on.
			fresh, rerr := s.Checkout(ctx, c.ID)
			if rerr == nil && fresh.State.IsOrder() {
				err = nil
				break
			}
			if rerr == nil {
				c = fresh
			}
		}
		s.settleCallback(ctx, c.ID, err, s.log)
	}()
	return nil
}

// settleCallback logs how a callback's placement ended and forgets the
// kept token when it can never become this checkout's order.
func (s *Service) settleCallback(ctx context.Context, id string, err error, log *slog.Logger) {
	switch {
	case err == nil, errors.Is(err, ErrInProgress):
		return
	case retryCallback(err):
		log.WarnContext(ctx, "callback placement not finished yet; recovery tries again", "checkout", id, "error", err)
		return
	case errors.Is(err, ErrReauthorize), errors.Is(err, ErrRefused), errors.Is(err, ErrCartChanged), errors.Is(err, ErrForeignToken):
		log.InfoContext(ctx, "callback placement made no order", "checkout", id, "reason", err)
	default:
		log.ErrorContext(ctx, "callback placement failed", "checkout", id, "error", err)
	}
	if ferr := s.store.NoteCallback(ctx, id, "", s.now()); ferr != nil {
		log.WarnContext(ctx, "forgetting a callback token failed; recovery will find it refused again", "checkout", id, "error", ferr)
	}
}

// retryCallback reports a callback placement worth trying again: Klarna
// could not be reached, or the database failed before Klarna was asked for
// the order (Place reports every failure after that as ErrInProgress), so
// nothing was done.
func retryCallback(err error) bool {
	var f *Failure
	switch {
	case errors.Is(err, ErrUnavailable):
		return true
	case err == nil, errors.As(err, &f), errors.Is(err, ErrInProgress), errors.Is(err, ErrCartChanged), errors.Is(err, ErrReauthorize),
		errors.Is(err, ErrRefused), errors.Is(err, ErrForeignToken), errors.Is(err, ErrNotFound):
		return false
	}
	return true
}

// Close stops background work: it waits for placements in flight and lets
// orders still waiting for the database try until ctx ends, then gives them
// up to recovery at the next start.
func (s *Service) Close(ctx context.Context) {
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	s.stopOnce.Do(func() { close(s.stop) })
	<-done
}

// Wait blocks until background placements have finished.
func (s *Service) Wait() { s.bg.Wait() }

func (s *Service) recording(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unrecorded[id]
}
