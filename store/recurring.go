package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Recurring is a subscription that charges its Klarna customer token once
// per period. It is born from a placed checkout (CheckoutID) whose customer
// token Klarna gave at sign-up; the sign-up order paid period 0.
type Recurring struct {
	ID         string
	CheckoutID string
	Status     RecurringStatus
	// Attention says what an operator must look at (a hard decline, dunning
	// given up, a token Klarna would not cancel); empty when nothing.
	Attention string
	Market    string
	Locale    string
	Currency  string
	// Cart holds the subscription's lines, encoded like a cart: each period
	// is priced from it by the same code as a checkout.
	Cart string
	Plan string // "MONTH:1:Fika & Form monthly coffee"
	// CustomerToken is Klarna's customer token, encrypted by package vault
	// and bound to the subscription id.
	CustomerToken string
	// TokenCancelled is true once Klarna accepted the token's cancellation.
	TokenCancelled bool
	// AnchorAt is the sign-up time; period n is due AnchorAt + n intervals.
	AnchorAt time.Time
	// Period is the next period to charge (1 is the first renewal).
	Period int
	// NextChargeAt is when the renewal job looks at it next; nil unless
	// active.
	NextChargeAt *time.Time
	Version      int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	CancelledAt  *time.Time
}

// RecurringStatus is where a subscription stands.
type RecurringStatus string

// Subscription states.
const (
	RecurringActive    RecurringStatus = "active"
	RecurringPaused    RecurringStatus = "paused"
	RecurringCancelled RecurringStatus = "cancelled"
)

// Period is one period of a subscription: at most one charge, claimed by
// one process at a time.
type Period struct {
	SubscriptionID string
	Period         int
	DueAt          time.Time
	// OrderRef is the reference of the period's renewal order, fixed when
	// the period row is made, so every attempt and retry uses the same one.
	OrderRef string
	// Attempt counts charges tried after definite refusals: 1 is the first
	// charge, 2-4 the dunning retries. The Klarna idempotency key derives
	// from it, so a retry after a lost answer reuses the key.
	Attempt int
	// SentAt is when the current attempt was first sent to Klarna (set
	// when it is claimed, kept when a crashed or unanswered attempt is
	// claimed again).
	SentAt        *time.Time
	Status        PeriodStatus
	RetryAt       *time.Time
	ClaimedBy     string
	ClaimedUntil  *time.Time
	Amount        int64
	TaxAmount     int64
	KlarnaOrderID string
	Error         string
	CorrelationID string
	UpdatedAt     time.Time
}

// PeriodStatus is where a period's charge stands.
type PeriodStatus string

// Period states.
const (
	PeriodOpen     PeriodStatus = "open"     // not yet claimed
	PeriodClaimed  PeriodStatus = "claimed"  // a process is charging it
	PeriodCharged  PeriodStatus = "charged"  // Klarna made the order; final
	PeriodDeclined PeriodStatus = "declined" // refused; retried at RetryAt
	PeriodFailed   PeriodStatus = "failed"   // given up; the subscription is paused
	// PeriodUnknown: Klarna did not say, within the life of the attempt's
	// idempotency key, whether it charged. Sending the charge again could
	// charge twice, so it waits for an operator, who looks the order
	// reference up at Klarna and settles the period either way.
	PeriodUnknown PeriodStatus = "unknown"
)

// RecurringEvent is one line of a subscription's history.
type RecurringEvent struct {
	ID             string
	SubscriptionID string
	At             time.Time
	Who            string // "renewal job", "shopper", "admin"
	What           string
	Period         int
	CorrelationID  string
}

// RecurringChanges are the fields an UpdateRecurring sets; nil leaves a
// field as it is.
type RecurringChanges struct {
	Status         *RecurringStatus
	Attention      *string
	TokenCancelled *bool
	Period         *int
	// NextChargeAt and CancelledAt set the column; a pointer to nil clears it.
	NextChargeAt **time.Time
	CancelledAt  **time.Time
}

// PeriodChanges are the fields an UpdatePeriod sets.
type PeriodChanges struct {
	Status        *PeriodStatus
	RetryAt       **time.Time
	ClaimedUntil  **time.Time
	Amount        *int64
	TaxAmount     *int64
	KlarnaOrderID *string
	Error         *string
	CorrelationID *string
}

const recurringColumns = `id, checkout_id, status, attention, market, locale, currency, cart, plan, customer_token, token_cancelled,
 anchor_at, period, next_charge_at, version, created_at, updated_at, cancelled_at`

const periodColumns = `subscription_id, period, due_at, order_ref, attempt, status, retry_at, claimed_by, claimed_until,
 amount, tax_amount, klarna_order_id, error, correlation_id, updated_at, sent_at`

// CreateRecurring stores a new subscription; ErrDuplicate if its checkout
// already has one.
func (s *SQL) CreateRecurring(ctx context.Context, r *Recurring) error {
	if r.Version == 0 {
		r.Version = 1
	}
	_, err := s.exec(ctx, `INSERT INTO subscriptions (`+recurringColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.CheckoutID, string(r.Status), r.Attention, r.Market, r.Locale, r.Currency, r.Cart, r.Plan, r.CustomerToken, r.TokenCancelled,
		r.AnchorAt.UTC(), r.Period, utcPtr(r.NextChargeAt), r.Version, r.CreatedAt.UTC(), r.UpdatedAt.UTC(), utcPtr(r.CancelledAt))
	if duplicate(err) {
		return fmt.Errorf("store: creating subscription %s: %w (%w)", r.ID, ErrDuplicate, err)
	}
	if err != nil {
		return fmt.Errorf("store: creating subscription %s: %w", r.ID, err)
	}
	return nil
}

func scanRecurring(row scanner) (*Recurring, error) {
	var r Recurring
	var status string
	var next, cancelled sql.NullTime
	err := row.Scan(&r.ID, &r.CheckoutID, &status, &r.Attention, &r.Market, &r.Locale, &r.Currency, &r.Cart, &r.Plan, &r.CustomerToken,
		&r.TokenCancelled, &r.AnchorAt, &r.Period, &next, &r.Version, &r.CreatedAt, &r.UpdatedAt, &cancelled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.Status = RecurringStatus(status)
	r.NextChargeAt, r.CancelledAt = timePtr(next), timePtr(cancelled)
	return &r, nil
}

// Recurring reads a subscription by id.
func (s *SQL) Recurring(ctx context.Context, id string) (*Recurring, error) {
	r, err := scanRecurring(s.queryRow(ctx, `SELECT `+recurringColumns+` FROM subscriptions WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: reading subscription %s: %w", id, err)
	}
	return r, err
}

// RecurringByCheckout reads the subscription a checkout started.
func (s *SQL) RecurringByCheckout(ctx context.Context, checkoutID string) (*Recurring, error) {
	r, err := scanRecurring(s.queryRow(ctx, `SELECT `+recurringColumns+` FROM subscriptions WHERE checkout_id = ?`, checkoutID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: reading subscription of %s: %w", checkoutID, err)
	}
	return r, err
}

func (s *SQL) listRecurring(ctx context.Context, q string, args ...any) ([]*Recurring, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing subscriptions: %w", err)
	}
	defer rows.Close()
	var out []*Recurring
	for rows.Next() {
		r, err := scanRecurring(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing subscriptions: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ListRecurring lists subscriptions, newest first.
func (s *SQL) ListRecurring(ctx context.Context, limit int) ([]*Recurring, error) {
	return s.listRecurring(ctx, `SELECT `+recurringColumns+` FROM subscriptions ORDER BY created_at DESC, id LIMIT ?`, limit)
}

// DueRecurring lists active subscriptions whose next charge is due at now,
// most overdue first.
func (s *SQL) DueRecurring(ctx context.Context, now time.Time, limit int) ([]*Recurring, error) {
	return s.listRecurring(ctx, `SELECT `+recurringColumns+` FROM subscriptions WHERE status = ? AND next_charge_at IS NOT NULL AND next_charge_at <= ?
		ORDER BY next_charge_at LIMIT ?`, string(RecurringActive), now.UTC(), limit)
}

// TokensToCancel lists cancelled subscriptions whose token Klarna has not
// yet accepted to cancel.
func (s *SQL) TokensToCancel(ctx context.Context, limit int) ([]*Recurring, error) {
	return s.listRecurring(ctx, `SELECT `+recurringColumns+` FROM subscriptions WHERE status = ? AND token_cancelled = ? ORDER BY updated_at LIMIT ?`,
		string(RecurringCancelled), false, limit)
}

// UpdateRecurring changes a subscription by compare-and-set on its version.
func (s *SQL) UpdateRecurring(ctx context.Context, id string, version int64, ch RecurringChanges) (bool, error) {
	set := []string{"updated_at = ?", "version = version + 1"}
	args := []any{time.Now().UTC()}
	if ch.Status != nil {
		set, args = append(set, "status = ?"), append(args, string(*ch.Status))
	}
	if ch.Attention != nil {
		set, args = append(set, "attention = ?"), append(args, *ch.Attention)
	}
	if ch.TokenCancelled != nil {
		set, args = append(set, "token_cancelled = ?"), append(args, *ch.TokenCancelled)
	}
	if ch.Period != nil {
		set, args = append(set, "period = ?"), append(args, *ch.Period)
	}
	if ch.NextChargeAt != nil {
		set, args = append(set, "next_charge_at = ?"), append(args, utcPtr(*ch.NextChargeAt))
	}
	if ch.CancelledAt != nil {
		set, args = append(set, "cancelled_at = ?"), append(args, utcPtr(*ch.CancelledAt))
	}
	args = append(args, id, version)
	res, err := s.exec(ctx, `UPDATE subscriptions SET `+strings.Join(set, ", ")+` WHERE id = ? AND version = ?`, args...)
	if err != nil {
		return false, fmt.Errorf("store: updating subscription %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: updating subscription %s: %w", id, err)
	}
	return n == 1, nil
}

func scanPeriod(row scanner) (*Period, error) {
	var p Period
	var status string
	var retry, claimed, sent sql.NullTime
	err := row.Scan(&p.SubscriptionID, &p.Period, &p.DueAt, &p.OrderRef, &p.Attempt, &status, &retry, &p.ClaimedBy, &claimed,
		&p.Amount, &p.TaxAmount, &p.KlarnaOrderID, &p.Error, &p.CorrelationID, &p.UpdatedAt, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p.Status = PeriodStatus(status)
	p.RetryAt, p.ClaimedUntil, p.SentAt = timePtr(retry), timePtr(claimed), timePtr(sent)
	return &p, nil
}

// Period reads one period of a subscription.
func (s *SQL) Period(ctx context.Context, subscriptionID string, period int) (*Period, error) {
	p, err := scanPeriod(s.queryRow(ctx, `SELECT `+periodColumns+` FROM subscription_periods WHERE subscription_id = ? AND period = ?`,
		subscriptionID, period))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: reading period %d of %s: %w", period, subscriptionID, err)
	}
	return p, err
}

// Periods lists a subscription's periods, newest first.
func (s *SQL) Periods(ctx context.Context, subscriptionID string) ([]*Period, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+periodColumns+` FROM subscription_periods WHERE subscription_id = ? ORDER BY period DESC`), subscriptionID)
	if err != nil {
		return nil, fmt.Errorf("store: listing periods of %s: %w", subscriptionID, err)
	}
	defer rows.Close()
	var out []*Period
	for rows.Next() {
		p, err := scanPeriod(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing periods of %s: %w", subscriptionID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// EnsurePeriod makes the period's row unless it exists, and returns the row
// as stored: the first caller's order reference and due date stand.
func (s *SQL) EnsurePeriod(ctx context.Context, p *Period) (*Period, error) {
	_, err := s.exec(ctx, `INSERT INTO subscription_periods (`+periodColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (subscription_id, period) DO NOTHING`,
		p.SubscriptionID, p.Period, p.DueAt.UTC(), p.OrderRef, p.Attempt, string(PeriodOpen), utcPtr(p.RetryAt), "", nil,
		int64(0), int64(0), "", "", "", time.Now().UTC(), nil)
	if err != nil {
		return nil, fmt.Errorf("store: making period %d of %s: %w", p.Period, p.SubscriptionID, err)
	}
	return s.Period(ctx, p.SubscriptionID, p.Period)
}

// ClaimPeriod takes a period for charging, by compare-and-set: an open
// period, a declined one whose retry is due (the attempt moves on), or one
// whose claim ran out (a crashed process, or Klarna's answer was lost; the
// attempt stays, so the retry uses the same idempotency key). A new attempt
// needs the subscription still active and at this period: the list of due
// subscriptions the caller read may be older than a cancel or a pause. An
// attempt already sent is claimed again whatever the subscription's status,
// because Klarna may have charged it and only asking again with its key
// tells. It reports false when another process holds it or it needs
// nothing.
func (s *SQL) ClaimPeriod(ctx context.Context, subscriptionID string, period int, owner string, now, until time.Time) (*Period, bool, error) {
	res, err := s.exec(ctx, `UPDATE subscription_periods SET
		attempt = CASE WHEN status = ? OR attempt = 0 THEN attempt + 1 ELSE attempt END,
		sent_at = CASE WHEN status = ? AND sent_at IS NOT NULL THEN sent_at ELSE ? END,
		status = ?, claimed_by = ?, claimed_until = ?, updated_at = ?
		WHERE subscription_id = ? AND period = ? AND (
			(status = ? AND (claimed_until IS NULL OR claimed_until < ?))
			OR ((status = ? OR (status = ? AND retry_at IS NOT NULL AND retry_at <= ?))
				AND EXISTS (SELECT 1 FROM subscriptions WHERE subscriptions.id = subscription_periods.subscription_id
					AND subscriptions.status = ? AND subscriptions.period = subscription_periods.period)))`,
		string(PeriodDeclined), string(PeriodClaimed), now.UTC(), string(PeriodClaimed), owner, until.UTC(), now.UTC(),
		subscriptionID, period, string(PeriodClaimed), now.UTC(), string(PeriodOpen), string(PeriodDeclined), now.UTC(), string(RecurringActive))
	if err != nil {
		return nil, false, fmt.Errorf("store: claiming period %d of %s: %w", period, subscriptionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, fmt.Errorf("store: claiming period %d of %s: %w", period, subscriptionID, err)
	}
	if n != 1 {
		return nil, false, nil
	}
	p, err := s.Period(ctx, subscriptionID, period)
	return p, err == nil, err
}

// UpdatePeriod changes a claimed period, only while owner holds the claim.
func (s *SQL) UpdatePeriod(ctx context.Context, subscriptionID string, period int, owner string, ch PeriodChanges) (bool, error) {
	set := []string{"updated_at = ?"}
	args := []any{time.Now().UTC()}
	if ch.Status != nil {
		set, args = append(set, "status = ?"), append(args, string(*ch.Status))
	}
	if ch.RetryAt != nil {
		set, args = append(set, "retry_at = ?"), append(args, utcPtr(*ch.RetryAt))
	}
	if ch.ClaimedUntil != nil {
		set, args = append(set, "claimed_until = ?"), append(args, utcPtr(*ch.ClaimedUntil))
	}
	if ch.Amount != nil {
		set, args = append(set, "amount = ?"), append(args, *ch.Amount)
	}
	if ch.TaxAmount != nil {
		set, args = append(set, "tax_amount = ?"), append(args, *ch.TaxAmount)
	}
	if ch.KlarnaOrderID != nil {
		set, args = append(set, "klarna_order_id = ?"), append(args, *ch.KlarnaOrderID)
	}
	if ch.Error != nil {
		set, args = append(set, "error = ?"), append(args, *ch.Error)
	}
	if ch.CorrelationID != nil {
		set, args = append(set, "correlation_id = ?"), append(args, *ch.CorrelationID)
	}
	args = append(args, subscriptionID, period, string(PeriodClaimed), owner)
	res, err := s.exec(ctx, `UPDATE subscription_periods SET `+strings.Join(set, ", ")+` WHERE subscription_id = ? AND period = ? AND status = ? AND claimed_by = ?`, args...)
	if err != nil {
		return false, fmt.Errorf("store: updating period %d of %s: %w", period, subscriptionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: updating period %d of %s: %w", period, subscriptionID, err)
	}
	return n == 1, nil
}

// UnsettledPeriods lists periods whose charge was sent and whose claim ran
// out without an answer, of subscriptions no longer active (the due list
// covers the active ones): a cancel or a pause does not undo a charge
// Klarna may already have made, so these are asked again.
func (s *SQL) UnsettledPeriods(ctx context.Context, now time.Time, limit int) ([]*Period, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+prefixed("p.", periodColumns)+` FROM subscription_periods p JOIN subscriptions r ON r.id = p.subscription_id
		WHERE p.status = ? AND p.claimed_until < ? AND r.status <> ? ORDER BY p.claimed_until LIMIT ?`),
		string(PeriodClaimed), now.UTC(), string(RecurringActive), limit)
	if err != nil {
		return nil, fmt.Errorf("store: listing unsettled periods: %w", err)
	}
	defer rows.Close()
	var out []*Period
	for rows.Next() {
		p, err := scanPeriod(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing unsettled periods: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// prefixed qualifies each of a comma-separated column list.
func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// SettleUnknownPeriod is the operator's answer that Klarna did not charge a
// period whose outcome was unknown: it becomes a declined period due at at,
// whose next claim is a new attempt with a new key.
func (s *SQL) SettleUnknownPeriod(ctx context.Context, subscriptionID string, period int, at time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE subscription_periods SET status = ?, retry_at = ?, claimed_by = '', claimed_until = NULL, updated_at = ?
		WHERE subscription_id = ? AND period = ? AND status = ?`,
		string(PeriodDeclined), at.UTC(), time.Now().UTC(), subscriptionID, period, string(PeriodUnknown))
	if err != nil {
		return false, fmt.Errorf("store: settling period %d of %s: %w", period, subscriptionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: settling period %d of %s: %w", period, subscriptionID, err)
	}
	return n == 1, nil
}

// ReopenPeriod makes a declined or failed period chargeable at once (an
// operator's "charge now" or resume); the next claim moves the attempt on.
func (s *SQL) ReopenPeriod(ctx context.Context, subscriptionID string, period int, at time.Time) error {
	_, err := s.exec(ctx, `UPDATE subscription_periods SET status = ?, retry_at = ?, updated_at = ? WHERE subscription_id = ? AND period = ? AND status IN (?, ?)`,
		string(PeriodDeclined), at.UTC(), time.Now().UTC(), subscriptionID, period, string(PeriodDeclined), string(PeriodFailed))
	if err != nil {
		return fmt.Errorf("store: reopening period %d of %s: %w", period, subscriptionID, err)
	}
	return nil
}

// RecordRenewal writes, in one transaction, what a successful charge made:
// the renewal order (a checkouts row), the period as charged, and the
// subscription moved on to its next period. It is safe to call twice for
// the same charge (two processes whose claims overlapped got the same order
// from Klarna thanks to the idempotency key): the second finds the period
// charged and changes nothing. next is applied only if the subscription is
// still at this period.
func (s *SQL) RecordRenewal(ctx context.Context, p *Period, order *Checkout, next RecurringChanges) error {
	done, err := s.writing(ctx)
	if err != nil {
		return fmt.Errorf("store: recording renewal %s: %w", order.ID, err)
	}
	defer done()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: recording renewal %s: %w", order.ID, err)
	}
	defer tx.Rollback()
	var status string
	if err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM subscription_periods WHERE subscription_id = ? AND period = ?`), p.SubscriptionID, p.Period).Scan(&status); err != nil {
		return fmt.Errorf("store: recording renewal %s: %w", order.ID, err)
	}
	if PeriodStatus(status) == PeriodCharged {
		return nil
	}
	order.Kind, order.Version = KindRenewal, 1
	_, err = tx.ExecContext(ctx, s.q(insertCheckout), checkoutArgs(order)...)
	if duplicate(err) {
		return fmt.Errorf("store: recording renewal %s: %w (%w)", order.ID, ErrDuplicate, err)
	}
	if err != nil {
		return fmt.Errorf("store: recording renewal %s: %w", order.ID, err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE subscription_periods SET status = ?, klarna_order_id = ?, amount = ?, tax_amount = ?, error = '', correlation_id = ?,
		updated_at = ? WHERE subscription_id = ? AND period = ?`),
		string(PeriodCharged), order.KlarnaOrderID, order.Amount, order.TaxAmount, order.CorrelationID, time.Now().UTC(), p.SubscriptionID, p.Period); err != nil {
		return fmt.Errorf("store: recording renewal %s: %w", order.ID, err)
	}
	set := []string{"period = ?", "updated_at = ?", "version = version + 1"}
	args := []any{p.Period + 1, time.Now().UTC()}
	if next.NextChargeAt != nil {
		// A paused or cancelled subscription (whose charge was already under
		// way) moves on to its next period but keeps no next date.
		set = append(set, "next_charge_at = CASE WHEN status = ? THEN ? ELSE next_charge_at END")
		args = append(args, string(RecurringActive), utcPtr(*next.NextChargeAt))
	}
	if next.Attention != nil {
		set, args = append(set, "attention = ?"), append(args, *next.Attention)
	}
	args = append(args, p.SubscriptionID, p.Period)
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE subscriptions SET `+strings.Join(set, ", ")+` WHERE id = ? AND period = ?`), args...); err != nil {
		return fmt.Errorf("store: recording renewal %s: %w", order.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: recording renewal %s: %w", order.ID, err)
	}
	return nil
}

// AddRecurringEvent appends a line to a subscription's history.
func (s *SQL) AddRecurringEvent(ctx context.Context, e RecurringEvent) error {
	_, err := s.exec(ctx, `INSERT INTO subscription_events (id, subscription_id, at, who, what, period, correlation_id) VALUES (?,?,?,?,?,?,?)`,
		e.ID, e.SubscriptionID, e.At.UTC(), e.Who, e.What, e.Period, e.CorrelationID)
	if err != nil {
		return fmt.Errorf("store: adding to the history of %s: %w", e.SubscriptionID, err)
	}
	return nil
}

// RecurringEvents lists a subscription's history, newest first.
func (s *SQL) RecurringEvents(ctx context.Context, subscriptionID string, limit int) ([]RecurringEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, subscription_id, at, who, what, period, correlation_id FROM subscription_events
		WHERE subscription_id = ? ORDER BY at DESC, id LIMIT ?`), subscriptionID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: reading the history of %s: %w", subscriptionID, err)
	}
	defer rows.Close()
	var out []RecurringEvent
	for rows.Next() {
		var e RecurringEvent
		if err := rows.Scan(&e.ID, &e.SubscriptionID, &e.At, &e.Who, &e.What, &e.Period, &e.CorrelationID); err != nil {
			return nil, fmt.Errorf("store: reading the history of %s: %w", subscriptionID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
