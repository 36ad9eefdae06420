package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Order management after placement (package orders): the actions operators
// take on an order, the captures and refunds Klarna made, and Klarna's last
// read of the order. Everything is keyed by the checkout's id, our order
// reference, and carries Klarna's order id.

// ActionStatus is where an operator action stands.
type ActionStatus string

// Action states. Pending: recorded, and Klarna called or about to be; its
// outcome is not known yet (a lost answer keeps it pending until a retry
// with the same idempotency key settles it). Succeeded and failed are final.
const (
	ActionPending   ActionStatus = "pending"
	ActionSucceeded ActionStatus = "succeeded"
	ActionFailed    ActionStatus = "failed"
)

// Action is one operator action on an order: a capture, refund, cancel,
// release, extension or the linking of a Klarna order id.
type Action struct {
	ID            string // the one-time id of the confirmation page
	CheckoutID    string
	KlarnaOrderID string
	Kind          string
	Actor         string // who confirmed it
	Summary       string // what was asked, in words
	Amount        int64
	Request       string // the body sent to Klarna (JSON), without personal data
	// IdempotencyKey is sent as Klarna-Idempotency-Key with every attempt.
	IdempotencyKey string
	// AtVersion is the order version the operator confirmed: the action is
	// recorded only if the order is still at it.
	AtVersion     int64
	Status        ActionStatus
	Attempts      int
	NextAttemptAt *time.Time
	ClaimedUntil  *time.Time
	CorrelationID string
	ErrorCode     string
	Error         string
	ResultID      string // Klarna's capture or refund id
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FinishedAt    *time.Time
}

// Capture is one capture Klarna made. ActionID is empty for a capture made
// outside the shop (auto_capture at order creation, Klarna's portal).
type Capture struct {
	ID              string // Klarna's capture id
	CheckoutID      string
	KlarnaOrderID   string
	ActionID        string
	Amount          int64
	Lines           string // JSON: the order lines captured, in Klarna's shape
	ShippingCompany string
	TrackingNumber  string
	TrackingURI     string
	KlarnaReference string
	CapturedAt      time.Time
	RecordedAt      time.Time
}

// Refund is one refund Klarna made.
type Refund struct {
	ID            string // Klarna's refund id
	CheckoutID    string
	KlarnaOrderID string
	ActionID      string
	Amount        int64
	Lines         string // JSON
	Reason        string
	RefundedAt    time.Time
	RecordedAt    time.Time
}

// KlarnaRead is Klarna's view of an order at ReadAt, and Mismatch says how
// the shop's own captures and refunds differ from it (empty when they
// agree).
type KlarnaRead struct {
	CheckoutID      string
	KlarnaOrderID   string
	Status          string
	FraudStatus     string
	OrderAmount     int64
	Captured        int64
	Refunded        int64
	Remaining       int64
	ExpiresAt       *time.Time
	KlarnaCreatedAt *time.Time
	ReadAt          time.Time
	CorrelationID   string
	Mismatch        string
}

// Outcome is how an action ended, with the capture or refund it made.
type Outcome struct {
	Status        ActionStatus // succeeded or failed
	CorrelationID string
	ErrorCode     string
	Error         string
	ResultID      string
	Capture       *Capture
	Refund        *Refund
}

// Attempt notes an attempt whose outcome is unknown: the action stays
// pending, and recovery tries again at NextAttemptAt (never when nil).
type Attempt struct {
	Error         string
	CorrelationID string
	NextAttemptAt *time.Time
}

// Money is what the shop recorded as captured and refunded on one order.
type Money struct{ Captured, Refunded int64 }

// AttentionReason says why an order needs an operator.
type AttentionReason string

// Reasons an order is listed under "Needs attention".
const (
	AttentionExpiring AttentionReason = "expiring" // not fully captured and close to its expiry
	AttentionReview   AttentionReason = "review"   // Klarna is still reviewing it
	AttentionHold     AttentionReason = "hold"     // stopped: do not ship
	AttentionFailed   AttentionReason = "failed"   // its last action failed
	AttentionPending  AttentionReason = "pending"  // an action's outcome is still unknown
	AttentionMismatch AttentionReason = "mismatch" // the shop's amounts differ from Klarna's
)

// Attention is one reason one order needs an operator. At is the expiry
// for AttentionExpiring (Estimated when no Klarna read gave it), otherwise
// when it happened.
type Attention struct {
	CheckoutID string
	Reason     AttentionReason
	Detail     string
	At         *time.Time
	Estimated  bool
}

// AttentionQuery bounds the attention list.
type AttentionQuery struct {
	// ExpiresBefore lists orders whose Klarna read says they expire before
	// it; PlacedBefore lists orders never read that were placed before it
	// (their expiry estimated).
	ExpiresBefore, PlacedBefore time.Time
	// PendingBefore lists actions still pending that started before it.
	PendingBefore time.Time
	// FailedSince lists orders whose last action failed since it.
	FailedSince time.Time
	Limit       int
}

// Errors of the order management store, reachable with errors.Is.
var (
	// ErrStale: the order's version moved since the operator saw it.
	ErrStale = errors.New("store: the order changed since it was shown")
	// ErrBusy: another action on the order is still pending.
	ErrBusy = errors.New("store: another action on this order is still pending")
)

// OrderStore persists order management. Every change to an order's money
// happens by compare-and-set: an action is recorded only at the version the
// operator confirmed, one at a time per order, and finished only once.
type OrderStore interface {
	// BeginAction records a pending action and moves the order's version
	// on, atomically, if the order is still at a.AtVersion (ErrStale) and
	// has no other pending action (ErrBusy); an action id used before is
	// ErrDuplicate. The action is claimed by its caller until a.ClaimedUntil.
	BeginAction(ctx context.Context, a *Action) error
	// ClaimAction takes a pending action for one attempt, until until; false
	// if it is finished or another attempt holds it.
	ClaimAction(ctx context.Context, id string, now, until time.Time) (bool, error)
	// DeferAction notes an attempt whose outcome is unknown and releases the
	// claim.
	DeferAction(ctx context.Context, id string, at Attempt) error
	// FinishAction records a pending action's outcome, with the capture or
	// refund it made, and moves the order's version on; false if it was
	// already finished.
	FinishAction(ctx context.Context, id string, out Outcome) (bool, error)
	// LinkKlarnaOrder gives an order placed without a known Klarna order id
	// its id and fraud status, lifts the hold that said so, and records a as
	// done, if the order is still at a.AtVersion (ErrStale). ErrDuplicate if
	// another order has that id.
	LinkKlarnaOrder(ctx context.Context, a *Action, klarnaOrderID, fraudStatus string) error
	Action(ctx context.Context, id string) (*Action, error)
	// Actions lists an order's actions, oldest first.
	Actions(ctx context.Context, checkoutID string) ([]*Action, error)
	// DueActions lists pending actions due for another attempt at now.
	DueActions(ctx context.Context, now time.Time, limit int) ([]*Action, error)
	// RecordRead stores Klarna's read of an order, and the captures and
	// refunds it showed that the shop did not know yet.
	RecordRead(ctx context.Context, r *KlarnaRead, captures []*Capture, refunds []*Refund) error
	// KlarnaRead returns the last read of an order (ErrNotFound if none).
	KlarnaRead(ctx context.Context, checkoutID string) (*KlarnaRead, error)
	Captures(ctx context.Context, checkoutID string) ([]*Capture, error)
	Refunds(ctx context.Context, checkoutID string) ([]*Refund, error)
	// Attention lists the orders an operator should look at.
	Attention(ctx context.Context, q AttentionQuery) ([]Attention, error)
	// Unread lists orders with a Klarna order id that were placed before t
	// and never read through Order Management, oldest first.
	Unread(ctx context.Context, before time.Time, limit int) ([]*Checkout, error)
	// DueReads lists placed orders whose read is due at now (NextCheckAt):
	// orders Klarna may have captured at creation, read until the shop has
	// recorded what Klarna holds.
	DueReads(ctx context.Context, now time.Time, limit int) ([]*Checkout, error)
	// ClaimRead moves a placed order's due read (due at now) on to until,
	// reporting false when it is not due (another instance claimed it).
	// Like SettleRead, it leaves the order's version alone: the schedule
	// is bookkeeping, not a change an operator's open page must see.
	ClaimRead(ctx context.Context, id string, now, until time.Time) (bool, error)
	// SettleRead ends a placed order's scheduled reads.
	SettleRead(ctx context.Context, id string) error
	// MoneyTotals sums what the shop recorded as captured and refunded, per
	// order, for reconciliation.
	MoneyTotals(ctx context.Context) (map[string]Money, error)
}

const actionColumns = `id, checkout_id, klarna_order_id, kind, actor, summary, amount, request, idempotency_key, at_version, status, attempts,
 next_attempt_at, claimed_until, correlation_id, error_code, error, result_id, created_at, updated_at, finished_at`

func scanAction(r scanner) (*Action, error) {
	var a Action
	var status string
	var next, claimed, finished sql.NullTime
	err := r.Scan(&a.ID, &a.CheckoutID, &a.KlarnaOrderID, &a.Kind, &a.Actor, &a.Summary, &a.Amount, &a.Request, &a.IdempotencyKey, &a.AtVersion,
		&status, &a.Attempts, &next, &claimed, &a.CorrelationID, &a.ErrorCode, &a.Error, &a.ResultID, &a.CreatedAt, &a.UpdatedAt, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	a.Status = ActionStatus(status)
	a.NextAttemptAt, a.ClaimedUntil, a.FinishedAt = timePtr(next), timePtr(claimed), timePtr(finished)
	return &a, nil
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *SQL) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	done, err := s.writing(ctx)
	if err != nil {
		return err
	}
	defer done()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *SQL) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// bumpVersion is the compare-and-set on the order: it moves the version on
// if the order is still at version (any version when 0).
func (s *SQL) bumpVersion(ctx context.Context, tx *sql.Tx, id string, version int64, now time.Time) (bool, error) {
	q, args := `UPDATE checkouts SET version = version + 1, updated_at = ? WHERE id = ?`, []any{now, id}
	if version != 0 {
		q += ` AND version = ?`
		args = append(args, version)
	}
	n, err := s.txExec(ctx, tx, q, args...)
	return n == 1, err
}

func (s *SQL) insertAction(ctx context.Context, tx *sql.Tx, a *Action) error {
	_, err := s.txExec(ctx, tx, `INSERT INTO order_actions (`+actionColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		a.ID, a.CheckoutID, a.KlarnaOrderID, a.Kind, a.Actor, a.Summary, a.Amount, a.Request, a.IdempotencyKey, a.AtVersion,
		string(a.Status), a.Attempts, utcPtr(a.NextAttemptAt), utcPtr(a.ClaimedUntil), a.CorrelationID, a.ErrorCode, a.Error, a.ResultID,
		a.CreatedAt.UTC(), a.UpdatedAt.UTC(), utcPtr(a.FinishedAt))
	return err
}

// versionMoved says why a compare-and-set on an order failed: it does not
// exist, or it moved on.
func (s *SQL) versionMoved(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM checkouts WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return ErrStale
}

// BeginAction records a pending action by compare-and-set on the order's
// version.
func (s *SQL) BeginAction(ctx context.Context, a *Action) error {
	if a.AtVersion == 0 {
		return errors.New("store: an action needs the order version it was confirmed at")
	}
	now := time.Now().UTC()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM order_actions WHERE id = ?`), a.ID).Scan(&one)
		if err == nil {
			return ErrDuplicate
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ok, err := s.bumpVersion(ctx, tx, a.CheckoutID, a.AtVersion, now)
		if err != nil {
			return err
		}
		if !ok {
			return s.versionMoved(ctx, tx, a.CheckoutID)
		}
		// The row lock taken by the update serializes this check with any
		// other action on the order; the partial unique index backs it.
		err = tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM order_actions WHERE checkout_id = ? AND status = ?`), a.CheckoutID, string(ActionPending)).Scan(&one)
		if err == nil {
			return ErrBusy
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return s.insertAction(ctx, tx, a)
	})
	switch {
	case errors.Is(err, ErrStale), errors.Is(err, ErrBusy), errors.Is(err, ErrNotFound):
		return fmt.Errorf("store: recording action %s on %s: %w", a.ID, a.CheckoutID, err)
	case errors.Is(err, ErrDuplicate), duplicate(err):
		// A second submit of the same action, or another pending action
		// that slipped past the check (the unique index refused it).
		if !errors.Is(err, ErrDuplicate) {
			if taken, _ := s.Action(ctx, a.ID); taken == nil {
				return fmt.Errorf("store: recording action %s on %s: %w (%w)", a.ID, a.CheckoutID, ErrBusy, err)
			}
		}
		return fmt.Errorf("store: recording action %s on %s: %w", a.ID, a.CheckoutID, ErrDuplicate)
	case err != nil:
		return fmt.Errorf("store: recording action %s on %s: %w", a.ID, a.CheckoutID, err)
	}
	return nil
}

// ClaimAction takes a pending action for one attempt.
func (s *SQL) ClaimAction(ctx context.Context, id string, now, until time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE order_actions SET claimed_until = ?, attempts = attempts + 1, updated_at = ?
		WHERE id = ? AND status = ? AND (claimed_until IS NULL OR claimed_until < ?)`,
		until.UTC(), time.Now().UTC(), id, string(ActionPending), now.UTC())
	if err != nil {
		return false, fmt.Errorf("store: claiming action %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claiming action %s: %w", id, err)
	}
	return n == 1, nil
}

// DeferAction notes an attempt with an unknown outcome.
func (s *SQL) DeferAction(ctx context.Context, id string, at Attempt) error {
	_, err := s.exec(ctx, `UPDATE order_actions SET error = ?, correlation_id = ?, next_attempt_at = ?, claimed_until = NULL, updated_at = ?
		WHERE id = ? AND status = ?`, at.Error, at.CorrelationID, utcPtr(at.NextAttemptAt), time.Now().UTC(), id, string(ActionPending))
	if err != nil {
		return fmt.Errorf("store: noting an attempt of action %s: %w", id, err)
	}
	return nil
}

// FinishAction records a pending action's outcome.
func (s *SQL) FinishAction(ctx context.Context, id string, out Outcome) (bool, error) {
	if out.Status != ActionSucceeded && out.Status != ActionFailed {
		return false, fmt.Errorf("store: finishing action %s as %q", id, out.Status)
	}
	now := time.Now().UTC()
	finished := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var checkoutID string
		err := tx.QueryRowContext(ctx, s.q(`SELECT checkout_id FROM order_actions WHERE id = ? AND status = ?`), id, string(ActionPending)).Scan(&checkoutID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		n, err := s.txExec(ctx, tx, `UPDATE order_actions SET status = ?, correlation_id = ?, error_code = ?, error = ?, result_id = ?,
			next_attempt_at = NULL, claimed_until = NULL, updated_at = ?, finished_at = ? WHERE id = ? AND status = ?`,
			string(out.Status), out.CorrelationID, out.ErrorCode, out.Error, out.ResultID, now, now, id, string(ActionPending))
		if err != nil || n != 1 {
			return err
		}
		if c := out.Capture; c != nil {
			if err := s.upsertCapture(ctx, tx, c); err != nil {
				return err
			}
		}
		if r := out.Refund; r != nil {
			if err := s.upsertRefund(ctx, tx, r); err != nil {
				return err
			}
		}
		if _, err := s.bumpVersion(ctx, tx, checkoutID, 0, now); err != nil {
			return err
		}
		finished = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: finishing action %s: %w", id, err)
	}
	return finished, nil
}

// upsertCapture records a capture the action made; if a read already
// brought it in, the action's details complete it.
func (s *SQL) upsertCapture(ctx context.Context, tx *sql.Tx, c *Capture) error {
	_, err := s.txExec(ctx, tx, `INSERT INTO order_captures (capture_id, checkout_id, klarna_order_id, action_id, amount, lines, shipping_company,
		tracking_number, tracking_uri, klarna_reference, captured_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (capture_id) DO UPDATE SET action_id = excluded.action_id, lines = excluded.lines,
		shipping_company = excluded.shipping_company, tracking_number = excluded.tracking_number, tracking_uri = excluded.tracking_uri`,
		c.ID, c.CheckoutID, c.KlarnaOrderID, c.ActionID, c.Amount, orEmptyJSON(c.Lines), c.ShippingCompany, c.TrackingNumber, c.TrackingURI,
		c.KlarnaReference, c.CapturedAt.UTC(), time.Now().UTC())
	return err
}

func (s *SQL) upsertRefund(ctx context.Context, tx *sql.Tx, r *Refund) error {
	_, err := s.txExec(ctx, tx, `INSERT INTO order_refunds (refund_id, checkout_id, klarna_order_id, action_id, amount, lines, reason,
		refunded_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)
		ON CONFLICT (refund_id) DO UPDATE SET action_id = excluded.action_id, lines = excluded.lines, reason = excluded.reason`,
		r.ID, r.CheckoutID, r.KlarnaOrderID, r.ActionID, r.Amount, orEmptyJSON(r.Lines), r.Reason, r.RefundedAt.UTC(), time.Now().UTC())
	return err
}

func orEmptyJSON(s string) string {
	if s == "" {
		return "[]"
	}
	return s
}

// LinkKlarnaOrder records the Klarna order id an operator looked up.
func (s *SQL) LinkKlarnaOrder(ctx context.Context, a *Action, klarnaOrderID, fraudStatus string) error {
	now := time.Now().UTC()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := s.txExec(ctx, tx, `UPDATE checkouts SET klarna_order_id = ?, fraud_status = ?, hold = '', last_error = '', version = version + 1,
			updated_at = ? WHERE id = ? AND version = ? AND klarna_order_id = ''`, klarnaOrderID, fraudStatus, now, a.CheckoutID, a.AtVersion)
		if err != nil {
			return err
		}
		if n != 1 {
			return s.versionMoved(ctx, tx, a.CheckoutID)
		}
		return s.insertAction(ctx, tx, a)
	})
	switch {
	case errors.Is(err, ErrStale), errors.Is(err, ErrNotFound):
		return fmt.Errorf("store: linking %s to Klarna order %s: %w", a.CheckoutID, klarnaOrderID, err)
	case duplicate(err):
		return fmt.Errorf("store: linking %s to Klarna order %s: %w (%w)", a.CheckoutID, klarnaOrderID, ErrDuplicate, err)
	case err != nil:
		return fmt.Errorf("store: linking %s to Klarna order %s: %w", a.CheckoutID, klarnaOrderID, err)
	}
	return nil
}

// Action reads one action.
func (s *SQL) Action(ctx context.Context, id string) (*Action, error) {
	a, err := scanAction(s.db.QueryRowContext(ctx, s.q(`SELECT `+actionColumns+` FROM order_actions WHERE id = ?`), id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: reading action %s: %w", id, err)
	}
	return a, err
}

func (s *SQL) listActions(ctx context.Context, q string, args ...any) ([]*Action, error) {
	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing actions: %w", err)
	}
	defer rows.Close()
	var out []*Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing actions: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Actions lists an order's actions, oldest first.
func (s *SQL) Actions(ctx context.Context, checkoutID string) ([]*Action, error) {
	return s.listActions(ctx, `SELECT `+actionColumns+` FROM order_actions WHERE checkout_id = ? ORDER BY created_at, id`, checkoutID)
}

// DueActions lists pending actions due for another attempt.
func (s *SQL) DueActions(ctx context.Context, now time.Time, limit int) ([]*Action, error) {
	return s.listActions(ctx, `SELECT `+actionColumns+` FROM order_actions WHERE status = ? AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?
		AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_attempt_at LIMIT ?`, string(ActionPending), now.UTC(), now.UTC(), limit)
}

// RecordRead stores Klarna's read of an order and what it showed that the
// shop did not know. A read that changes what the shop knows of the order
// (its status, amounts or expiry, or a capture or refund it lacked) moves
// the order's version on: an action confirmed on the page shown before is
// then refused as stale, since its amounts may no longer hold.
func (s *SQL) RecordRead(ctx context.Context, r *KlarnaRead, captures []*Capture, refunds []*Refund) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var prev KlarnaRead
		var expires sql.NullTime
		err := tx.QueryRowContext(ctx, s.q(`SELECT status, captured_amount, refunded_amount, remaining_amount, order_amount, expires_at
			FROM order_reads WHERE checkout_id = ?`), r.CheckoutID).Scan(&prev.Status, &prev.Captured, &prev.Refunded, &prev.Remaining, &prev.OrderAmount, &expires)
		first := errors.Is(err, sql.ErrNoRows)
		if err != nil && !first {
			return err
		}
		changed := first || prev.Status != r.Status || prev.Captured != r.Captured || prev.Refunded != r.Refunded ||
			prev.Remaining != r.Remaining || prev.OrderAmount != r.OrderAmount || !sameTime(timePtr(expires), r.ExpiresAt)
		// Reads overlap (a page view, an action's read back, recovery) and
		// arrive in any order, from instances whose clocks differ: a read
		// is kept unless it is behind the one kept by what only moves
		// forward at Klarna. Captured and refunded amounts only grow, and
		// a cancelled, expired or closed order stays so, and a fraud
		// decision is not undone (PENDING only turns into ACCEPTED or
		// REJECTED). What a read found that the shop lacked is recorded
		// below either way. (The expiry is not compared: nothing says
		// Klarna never moves it back, and a read kept out by it would
		// keep out its status and amounts too.)
		n, err := s.txExec(ctx, tx, `INSERT INTO order_reads (checkout_id, klarna_order_id, status, fraud_status, order_amount, captured_amount,
			refunded_amount, remaining_amount, expires_at, klarna_created_at, read_at, correlation_id, mismatch) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (checkout_id) DO UPDATE SET klarna_order_id = excluded.klarna_order_id, status = excluded.status,
			fraud_status = excluded.fraud_status, order_amount = excluded.order_amount, captured_amount = excluded.captured_amount,
			refunded_amount = excluded.refunded_amount, remaining_amount = excluded.remaining_amount, expires_at = excluded.expires_at,
			klarna_created_at = excluded.klarna_created_at, read_at = excluded.read_at, correlation_id = excluded.correlation_id,
			mismatch = excluded.mismatch
			WHERE excluded.captured_amount >= order_reads.captured_amount AND excluded.refunded_amount >= order_reads.refunded_amount
			AND (order_reads.status NOT IN ('CANCELLED', 'EXPIRED', 'CLOSED') OR excluded.status IN ('CANCELLED', 'EXPIRED', 'CLOSED'))
			AND NOT (excluded.fraud_status = 'PENDING' AND order_reads.fraud_status IN ('ACCEPTED', 'REJECTED'))`,
			r.CheckoutID, r.KlarnaOrderID, r.Status, r.FraudStatus, r.OrderAmount, r.Captured, r.Refunded, r.Remaining,
			utcPtr(r.ExpiresAt), utcPtr(r.KlarnaCreatedAt), r.ReadAt.UTC(), r.CorrelationID, r.Mismatch)
		if err != nil {
			return err
		}
		changed = changed && n > 0
		for _, c := range captures {
			n, err := s.txExec(ctx, tx, `INSERT INTO order_captures (capture_id, checkout_id, klarna_order_id, action_id, amount, lines,
				shipping_company, tracking_number, tracking_uri, klarna_reference, captured_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
				ON CONFLICT (capture_id) DO NOTHING`,
				c.ID, c.CheckoutID, c.KlarnaOrderID, c.ActionID, c.Amount, orEmptyJSON(c.Lines), c.ShippingCompany, c.TrackingNumber,
				c.TrackingURI, c.KlarnaReference, c.CapturedAt.UTC(), time.Now().UTC())
			if err != nil {
				return err
			}
			changed = changed || n > 0
		}
		for _, rf := range refunds {
			n, err := s.txExec(ctx, tx, `INSERT INTO order_refunds (refund_id, checkout_id, klarna_order_id, action_id, amount, lines, reason,
				refunded_at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (refund_id) DO NOTHING`,
				rf.ID, rf.CheckoutID, rf.KlarnaOrderID, rf.ActionID, rf.Amount, orEmptyJSON(rf.Lines), rf.Reason, rf.RefundedAt.UTC(), time.Now().UTC())
			if err != nil {
				return err
			}
			changed = changed || n > 0
		}
		// The order leaves checkouts_never_read with its first read: in
		// the row write that moves its version on, or alone when the read
		// changed nothing. An order an instance older than migration 12
		// read is still in the index, and leaves it here too.
		if changed {
			_, err := s.txExec(ctx, tx, `UPDATE checkouts SET version = version + 1, updated_at = ?, first_read_at = COALESCE(first_read_at, ?)
				WHERE id = ?`, time.Now().UTC(), r.ReadAt.UTC(), r.CheckoutID)
			return err
		}
		_, err = s.txExec(ctx, tx, `UPDATE checkouts SET first_read_at = ? WHERE id = ? AND first_read_at IS NULL`, r.ReadAt.UTC(), r.CheckoutID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: recording Klarna's read of %s: %w", r.CheckoutID, err)
	}
	return nil
}

// sameTime compares two instants as the databases keep them (to the
// microsecond).
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// KlarnaRead returns the last read of an order.
func (s *SQL) KlarnaRead(ctx context.Context, checkoutID string) (*KlarnaRead, error) {
	var r KlarnaRead
	var expires, created sql.NullTime
	err := s.db.QueryRowContext(ctx, s.q(`SELECT checkout_id, klarna_order_id, status, fraud_status, order_amount, captured_amount, refunded_amount,
		remaining_amount, expires_at, klarna_created_at, read_at, correlation_id, mismatch FROM order_reads WHERE checkout_id = ?`), checkoutID).Scan(
		&r.CheckoutID, &r.KlarnaOrderID, &r.Status, &r.FraudStatus, &r.OrderAmount, &r.Captured, &r.Refunded, &r.Remaining,
		&expires, &created, &r.ReadAt, &r.CorrelationID, &r.Mismatch)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading Klarna's read of %s: %w", checkoutID, err)
	}
	r.ExpiresAt, r.KlarnaCreatedAt = timePtr(expires), timePtr(created)
	return &r, nil
}

// Captures lists an order's captures, oldest first.
func (s *SQL) Captures(ctx context.Context, checkoutID string) ([]*Capture, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT capture_id, checkout_id, klarna_order_id, action_id, amount, lines, shipping_company,
		tracking_number, tracking_uri, klarna_reference, captured_at, recorded_at FROM order_captures WHERE checkout_id = ? ORDER BY captured_at, capture_id`), checkoutID)
	if err != nil {
		return nil, fmt.Errorf("store: listing captures of %s: %w", checkoutID, err)
	}
	defer rows.Close()
	var out []*Capture
	for rows.Next() {
		var c Capture
		if err := rows.Scan(&c.ID, &c.CheckoutID, &c.KlarnaOrderID, &c.ActionID, &c.Amount, &c.Lines, &c.ShippingCompany, &c.TrackingNumber,
			&c.TrackingURI, &c.KlarnaReference, &c.CapturedAt, &c.RecordedAt); err != nil {
			return nil, fmt.Errorf("store: listing captures of %s: %w", checkoutID, err)
		}
		out = append(out, &c)
	}
	return out, rows.Err()
}

// Refunds lists an order's refunds, oldest first.
func (s *SQL) Refunds(ctx context.Context, checkoutID string) ([]*Refund, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT refund_id, checkout_id, klarna_order_id, action_id, amount, lines, reason, refunded_at, recorded_at
		FROM order_refunds WHERE checkout_id = ? ORDER BY refunded_at, refund_id`), checkoutID)
	if err != nil {
		return nil, fmt.Errorf("store: listing refunds of %s: %w", checkoutID, err)
	}
	defer rows.Close()
	var out []*Refund
	for rows.Next() {
		var r Refund
		if err := rows.Scan(&r.ID, &r.CheckoutID, &r.KlarnaOrderID, &r.ActionID, &r.Amount, &r.Lines, &r.Reason, &r.RefundedAt, &r.RecordedAt); err != nil {
			return nil, fmt.Errorf("store: listing refunds of %s: %w", checkoutID, err)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// The orders area's lists look for a few orders among all ever placed. The
// state is compared as an expression (joined to the empty string) so that
// no database takes the state index, which holds every placed order, for
// them: each is served by the index named beside it, whose condition it
// repeats word for word so that SQLite and PostgreSQL's generic plans both
// see it applies (migration 00011; TestOrdersAreaUsesItsIndexes).
const (
	// order_reads_open_expiry: orders Klarna says are not fully captured,
	// soonest expiry first.
	attentionExpiringQuery = `SELECT c.id, r.status, r.expires_at FROM order_reads r JOIN checkouts c ON c.id = r.checkout_id
		WHERE (c.state || '') = ? AND r.status IN ('AUTHORIZED', 'PART_CAPTURED') AND r.remaining_amount > 0 AND r.expires_at < ?
		ORDER BY r.expires_at LIMIT ?`
	// neverReadCondition is checkouts_never_read's condition, word for word
	// (see neverReadIndex): what lets each database use the index.
	neverReadCondition = `first_read_at IS NULL AND placed_at IS NOT NULL AND klarna_order_id <> '' AND (state || '') IN ('placed', 'pending_review')`
	// checkouts_never_read: orders never read, placed long enough ago that
	// their authorization may be close to expiry, oldest first. The NOT
	// EXISTS keeps out an order whose read an instance older than
	// migration 12 recorded without marking it (a rolling deploy).
	attentionUnreadQuery = `SELECT id, '', placed_at FROM checkouts c WHERE ` + neverReadCondition + `
		AND (state || '') = ? AND placed_at < ?
		AND NOT EXISTS (SELECT 1 FROM order_reads r WHERE r.checkout_id = c.id) ORDER BY placed_at LIMIT ?`
	// checkouts_state: orders pending Klarna's review, few at any time.
	attentionReviewQuery = `SELECT id, fraud_status, placed_at FROM checkouts WHERE state = ? ORDER BY placed_at LIMIT ?`
	// checkouts_hold: orders Klarna stopped (few), newest first.
	attentionHoldQuery = `SELECT c.id, c.hold, c.updated_at FROM checkouts c WHERE c.hold <> '' AND (c.state || '') IN (?, ?)
		AND NOT EXISTS (SELECT 1 FROM order_reads r WHERE r.checkout_id = c.id AND r.status IN ('CANCELLED', 'EXPIRED', 'CLOSED'))
		ORDER BY c.updated_at DESC LIMIT ?`
	// order_reads_mismatch: orders whose amounts differ from Klarna's (few).
	attentionMismatchQuery = `SELECT checkout_id, mismatch, read_at FROM order_reads WHERE mismatch <> '' ORDER BY read_at DESC LIMIT ?`
	// checkouts_never_read: the job that reads orders never read, oldest
	// first (the NOT EXISTS as above).
	unreadQuery = `SELECT ` + columns + ` FROM checkouts WHERE ` + neverReadCondition + `
		AND (state || '') IN (?, ?) AND placed_at < ?
		AND NOT EXISTS (SELECT 1 FROM order_reads r WHERE r.checkout_id = checkouts.id) ORDER BY placed_at LIMIT ?`
)

// Attention lists what needs an operator, one query per reason.
func (s *SQL) Attention(ctx context.Context, q AttentionQuery) ([]Attention, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var out []Attention
	add := func(reason AttentionReason, estimated bool, query string, args ...any) error {
		rows, err := s.db.QueryContext(ctx, s.q(query), append(args, q.Limit)...)
		if err != nil {
			return fmt.Errorf("store: listing orders that need attention (%s): %w", reason, err)
		}
		defer rows.Close()
		for rows.Next() {
			a := Attention{Reason: reason, Estimated: estimated}
			var at sql.NullTime
			if err := rows.Scan(&a.CheckoutID, &a.Detail, &at); err != nil {
				return fmt.Errorf("store: listing orders that need attention (%s): %w", reason, err)
			}
			a.At = timePtr(at)
			out = append(out, a)
		}
		return rows.Err()
	}
	placed, review := string(StatePlaced), string(StatePendingReview)
	steps := []func() error{
		func() error {
			return add(AttentionExpiring, false, attentionExpiringQuery, placed, q.ExpiresBefore.UTC())
		},
		func() error { return add(AttentionExpiring, true, attentionUnreadQuery, placed, q.PlacedBefore.UTC()) },
		func() error { return add(AttentionReview, false, attentionReviewQuery, review) },
		func() error { return add(AttentionHold, false, attentionHoldQuery, placed, review) },
		func() error {
			return add(AttentionPending, false, `SELECT checkout_id, summary, created_at FROM order_actions WHERE status = ? AND created_at < ?
				ORDER BY created_at LIMIT ?`, string(ActionPending), q.PendingBefore.UTC())
		},
		func() error {
			return add(AttentionFailed, false, `SELECT a.checkout_id, a.error, a.updated_at FROM order_actions a WHERE a.status = ? AND a.updated_at >= ?
				AND NOT EXISTS (SELECT 1 FROM order_actions b WHERE b.checkout_id = a.checkout_id AND b.created_at > a.created_at)
				ORDER BY a.updated_at DESC LIMIT ?`, string(ActionFailed), q.FailedSince.UTC())
		},
		func() error { return add(AttentionMismatch, false, attentionMismatchQuery) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Unread lists orders never read through Order Management.
func (s *SQL) Unread(ctx context.Context, before time.Time, limit int) ([]*Checkout, error) {
	return s.list(ctx, unreadQuery, string(StatePlaced), string(StatePendingReview), before.UTC(), limit)
}

// DueReads implements OrderStore.
func (s *SQL) DueReads(ctx context.Context, now time.Time, limit int) ([]*Checkout, error) {
	return s.list(ctx, dueReadsQuery, string(StatePlaced), now.UTC(), limit)
}

// ClaimRead implements OrderStore.
func (s *SQL) ClaimRead(ctx context.Context, id string, now, until time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE checkouts SET next_check_at = ? WHERE id = ? AND state = ? AND next_check_at IS NOT NULL AND next_check_at <= ?`,
		until.UTC(), id, string(StatePlaced), now.UTC())
	if err != nil {
		return false, fmt.Errorf("store: claiming the read of %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claiming the read of %s: %w", id, err)
	}
	return n == 1, nil
}

// SettleRead implements OrderStore.
func (s *SQL) SettleRead(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, `UPDATE checkouts SET next_check_at = NULL WHERE id = ? AND state = ?`, id, string(StatePlaced)); err != nil {
		return fmt.Errorf("store: settling the read of %s: %w", id, err)
	}
	return nil
}

// MoneyTotals sums the shop's captures and refunds per order.
func (s *SQL) MoneyTotals(ctx context.Context) (map[string]Money, error) {
	out := map[string]Money{}
	for _, table := range []string{"order_captures", "order_refunds"} {
		rows, err := s.db.QueryContext(ctx, `SELECT checkout_id, SUM(amount) FROM `+table+` GROUP BY checkout_id`)
		if err != nil {
			return nil, fmt.Errorf("store: summing %s: %w", table, err)
		}
		for rows.Next() {
			var id string
			var sum int64
			if err := rows.Scan(&id, &sum); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: summing %s: %w", table, err)
			}
			m := out[id]
			if table == "order_captures" {
				m.Captured = sum
			} else {
				m.Refunded = sum
			}
			out[id] = m
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: summing %s: %w", table, err)
		}
	}
	return out, nil
}
