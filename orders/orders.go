// Package orders is order management after placement: capturing what ships,
// refunding what comes back, cancelling what never ships, releasing and
// extending authorizations, through Klarna's Order Management API.
//
// Every action follows one path (see Confirm): the operator's request is
// planned and shown for confirmation; on confirmation the action is
// recorded as pending, with a fresh Klarna-Idempotency-Key and the order
// version the operator saw, by compare-and-set; only then is Klarna called
// with that key; the outcome is recorded and the order read back from
// Klarna, whose amounts the shop's own records are compared with. An
// action whose answer was lost stays pending and is tried again with the
// same key, by the operator or by recovery, so Klarna runs it at most once.
//
// The shop's own rules (policy.go) are checked before Klarna is asked, and
// Klarna's refusals are put in plain words (explain.go).
package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
)

// Klarna is the part of the Klarna client order management needs.
type Klarna interface {
	GetOrder(ctx context.Context, orderID string) (*klarna.ManagedOrder, *klarna.Response, error)
	Capture(ctx context.Context, orderID, idempotencyKey string, req *klarna.CaptureRequest) (*klarna.CaptureCreated, *klarna.Response, error)
	Refund(ctx context.Context, orderID, idempotencyKey string, req *klarna.RefundRequest) (*klarna.RefundCreated, *klarna.Response, error)
	CancelOrder(ctx context.Context, orderID, idempotencyKey string) (*klarna.Response, error)
	ReleaseRemainingAuthorization(ctx context.Context, orderID, idempotencyKey string) (*klarna.Response, error)
	ExtendAuthorizationTime(ctx context.Context, orderID, idempotencyKey string) (*klarna.Response, error)
}

// Store is what order management keeps: the orders (checkouts) and their
// actions, captures, refunds and Klarna reads.
type Store interface {
	Checkout(ctx context.Context, id string) (*store.Checkout, error)
	store.OrderStore
}

// Errors an operator is shown in words.
var (
	// ErrNotFound: no order with that reference.
	ErrNotFound = errors.New("orders: no such order")
	// ErrAlreadyTaken: this confirmation was submitted before (a double
	// click); the action it started is returned with it.
	ErrAlreadyTaken = errors.New("orders: this action was already confirmed")
	// ErrChanged: the order changed since the operator looked at it
	// (another operator acted, or Klarna's answer arrived); look again.
	ErrChanged = errors.New("orders: the order changed since it was shown")
	// ErrBusy: another action on the order is still waiting for Klarna.
	ErrBusy = errors.New("orders: another action on this order is still in progress")
	// ErrUnknownOutcome: Klarna's answer did not arrive. The action stays
	// pending and is tried again with the same idempotency key.
	ErrUnknownOutcome = errors.New("orders: Klarna's answer did not arrive")
	// ErrRefused: Klarna refused the action; the action's Error says why in
	// plain words, and the *klarna.Error is wrapped.
	ErrRefused = errors.New("orders: Klarna refused the action")
	// ErrUnavailable: Klarna could not be asked (a read failed).
	ErrUnavailable = errors.New("orders: Klarna is not reachable right now")
)

// NotAllowedError is the shop refusing an action by its own rules, before
// Klarna is asked. Reason is in plain words.
type NotAllowedError struct{ Reason string }

func (e *NotAllowedError) Error() string { return "orders: not allowed: " + e.Reason }

func notAllowed(format string, args ...any) error {
	return &NotAllowedError{Reason: fmt.Sprintf(format, args...)}
}

// Service manages placed orders. Create it with New.
type Service struct {
	// clients picks the Klarna client of an order's market: Order
	// Management lives on the Klarna region that made the order.
	clients ClientFor
	store   Store
	policy  Policy
	log     *slog.Logger
	now     func() time.Time
	// lease is how long an attempt owns an action; after it, recovery may
	// try again (with the same key).
	lease time.Duration
	// retryWaits are the waits before recovery tries a pending action
	// again (Klarna's escalation policy: 5 s, 5 min, 5 h), then an operator
	// must.
	retryWaits []time.Duration
	// keyWindow is how long Klarna honours an idempotency key (24 h, less a
	// margin); a pending action older than that is settled by reading the
	// order instead.
	keyWindow time.Duration
}

// Options tune a Service; the zero value is sensible.
type Options struct {
	Logger     *slog.Logger
	Now        func() time.Time
	Lease      time.Duration
	RetryWaits []time.Duration
	KeyWindow  time.Duration
}

// ClientFor picks the Klarna client for an order's purchase country (its
// Klarna region's); an error means no account serves it.
type ClientFor func(country string) (Klarna, error)

// ByRegion picks each market's client from cs, one per Klarna region.
func ByRegion(cs *klarna.Clients) ClientFor {
	return func(country string) (Klarna, error) {
		c, err := cs.For(country)
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return c, nil
	}
}

// NewForMarkets builds a Service that calls Klarna through the client of
// each order's market. New is NewForMarkets with one client for all.
func NewForMarkets(clients ClientFor, st Store, p Policy, o Options) *Service {
	s := New(nil, st, p, o)
	s.clients = clients
	return s
}

// client is the Klarna client of an order's market.
func (s *Service) client(market string) (Klarna, error) {
	k, err := s.clients(market)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return k, nil
}

// New builds a Service whose every market uses the Klarna client k.
func New(k Klarna, st Store, p Policy, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lease == 0 {
		o.Lease = 2 * time.Minute
	}
	if o.RetryWaits == nil {
		o.RetryWaits = []time.Duration{5 * time.Second, 5 * time.Minute, 5 * time.Hour}
	}
	if o.KeyWindow == 0 {
		o.KeyWindow = 23 * time.Hour
	}
	return &Service{clients: func(string) (Klarna, error) { return k, nil }, store: st, policy: p.withDefaults(), log: o.Logger, now: o.Now, lease: o.Lease,
		retryWaits: o.RetryWaits, keyWindow: o.KeyWindow}
}

// Policy returns the service's policy.
func (s *Service) Policy() Policy { return s.policy }

// Line is one of the order's lines with what was captured and refunded of
// it, in quantities and amounts.
type Line struct {
	klarna.OrderLine
	Captured, Refunded             int64 // quantities
	CapturedAmount, RefundedAmount int64
	capturedTax, refundedTax       int64
}

// Capturable is the quantity still to capture.
func (l Line) Capturable() int64 { return max(l.Quantity-l.Captured, 0) }

// Refundable is the quantity captured and not yet refunded.
func (l Line) Refundable() int64 { return max(l.Captured-l.Refunded, 0) }

// Order is a placed order with everything order management knows of it.
type Order struct {
	Checkout *store.Checkout
	Lines    []Line
	// Read is Klarna's last read of the order; nil if it was never read.
	Read     *store.KlarnaRead
	Captures []*store.Capture
	Refunds  []*store.Refund
	Actions  []*store.Action
	// Pending is the action whose outcome is not known yet, if any.
	Pending *store.Action
	// Amounts in minor units: Authorized is Klarna's order amount, Captured
	// and Refunded the shop's records, Remaining what can still be
	// captured, Refundable what can still be refunded.
	Authorized, Captured, Refunded, Remaining, Refundable int64
	// ExpiresAt is when the authorization expires: Klarna's, or estimated
	// from the placement when Klarna was never asked (ExpiryEstimated).
	ExpiresAt       *time.Time
	ExpiryEstimated bool
	// ExpiresSoon: not fully captured and within the policy's warning.
	ExpiresSoon bool
	// Allowed says, for each kind of action, why it cannot be taken now
	// ("" when it can).
	Allowed map[Kind]string
}

// Money formats minor units in the order's currency.
func (o *Order) Money(minor int64) string {
	return shop.FormatMoney(minor, o.Checkout.Currency, o.Checkout.Locale)
}

// Status is Klarna's status of the order as last read ("" when never read).
func (o *Order) Status() string {
	if o.Read == nil {
		return ""
	}
	return o.Read.Status
}

// Order loads an order with its captures, refunds, history and Klarna's
// last read. An order never read from Klarna is read now (once), so that
// its expiry and Klarna's amounts are known; if Klarna cannot be reached the
// order is returned with what the shop knows.
func (s *Service) Order(ctx context.Context, ref string) (*Order, error) {
	c, err := s.checkout(ctx, ref)
	if err != nil {
		return nil, err
	}
	if c.KlarnaOrderID != "" {
		if _, err := s.store.KlarnaRead(ctx, ref); errors.Is(err, store.ErrNotFound) {
			if err := s.refresh(ctx, c); err != nil {
				s.log.WarnContext(ctx, "reading the order from Klarna failed; showing what the shop knows", "order", ref, "error", err)
			} else if c, err = s.checkout(ctx, ref); err != nil {
				// The read moved the order's version on.
				return nil, err
			}
		}
	}
	return s.load(ctx, c)
}

// Refresh reads the order from Klarna again and records what it says.
func (s *Service) Refresh(ctx context.Context, ref string) error {
	c, err := s.checkout(ctx, ref)
	if err != nil {
		return err
	}
	if c.KlarnaOrderID == "" {
		return notAllowed("the shop does not know this order's Klarna order id yet; link it first")
	}
	if err := s.refresh(ctx, c); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if c.State == store.StatePlaced && c.NextCheckAt != nil {
		return s.settleReadIfCaptured(ctx, c)
	}
	return nil
}

// settleReadIfCaptured ends the scheduled read of an order (one Klarna may
// have captured at creation) once the captures recorded cover the whole
// order: the read has nothing left to do, and Klarna is asked once, not
// twice.
func (s *Service) settleReadIfCaptured(ctx context.Context, c *store.Checkout) error {
	caps, err := s.store.Captures(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	var captured int64
	for _, cp := range caps {
		captured += cp.Amount
	}
	if captured < c.Amount {
		return nil
	}
	return s.store.SettleRead(ctx, c.ID)
}

func (s *Service) checkout(ctx context.Context, ref string) (*store.Checkout, error) {
	c, err := s.store.Checkout(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("orders: reading order %s: %w", ref, err)
	}
	if !c.State.IsOrder() {
		return nil, ErrNotFound
	}
	return c, nil
}

// load assembles an Order from the store, without calling Klarna.
func (s *Service) load(ctx context.Context, c *store.Checkout) (*Order, error) {
	o := &Order{Checkout: c}
	var err error
	if o.Read, err = s.store.KlarnaRead(ctx, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("orders: %w", err)
	}
	if o.Captures, err = s.store.Captures(ctx, c.ID); err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	if o.Refunds, err = s.store.Refunds(ctx, c.ID); err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	if o.Actions, err = s.store.Actions(ctx, c.ID); err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	for _, a := range o.Actions {
		if a.Status == store.ActionPending {
			o.Pending = a
		}
	}
	lines, err := orderLines(c)
	if err != nil {
		return nil, err
	}
	o.Lines = tally(lines, o.Captures, o.Refunds)
	for _, cp := range o.Captures {
		o.Captured += cp.Amount
	}
	for _, r := range o.Refunds {
		o.Refunded += r.Amount
	}
	o.Authorized = c.Amount
	o.Remaining = max(c.Amount-o.Captured, 0)
	if r := o.Read; r != nil {
		o.Authorized = r.OrderAmount
		o.Remaining = max(min(r.Remaining, r.OrderAmount-o.Captured), 0)
		if r.Status != klarnaAuthorized && r.Status != klarnaPartCaptured {
			o.Remaining = 0
		}
	}
	o.Refundable = max(o.Captured-o.Refunded, 0)
	s.expiry(o)
	o.Allowed = s.policy.allowed(o, s.now())
	return o, nil
}

// expiry fills in when the authorization expires.
func (s *Service) expiry(o *Order) {
	switch {
	case o.Read != nil && o.Read.ExpiresAt != nil:
		o.ExpiresAt = o.Read.ExpiresAt
	case o.Checkout.PlacedAt != nil:
		t := o.Checkout.PlacedAt.Add(s.policy.AuthorizationLifetime)
		o.ExpiresAt, o.ExpiryEstimated = &t, true
	}
	o.ExpiresSoon = o.ExpiresAt != nil && o.Remaining > 0 && o.ExpiresAt.Before(s.now().Add(s.policy.ExpiryWarning))
}

// orderLines are the lines of the order the shop sent to Klarna.
func orderLines(c *store.Checkout) ([]klarna.OrderLine, error) {
	payload := c.OrderPayload
	if payload == "" {
		// An order recorded without its answer (Klarna did not repeat it)
		// was made from exactly the authorized session.
		payload = c.SessionPayload
	}
	var req struct {
		OrderLines []klarna.OrderLine `json:"order_lines"`
	}
	if err := json.Unmarshal([]byte(payload), &req); err != nil {
		return nil, fmt.Errorf("orders: reading the lines of %s: %w", c.ID, err)
	}
	return req.OrderLines, nil
}

// lineKey matches a captured or refunded line with the order's line.
func lineKey(l klarna.OrderLine) string {
	return string(l.Type) + "|" + l.Reference + "|" + l.Name
}

// tally counts, per order line, what the captures and refunds took of it.
func tally(lines []klarna.OrderLine, caps []*store.Capture, refunds []*store.Refund) []Line {
	out := make([]Line, len(lines))
	index := map[string]int{}
	for i, l := range lines {
		out[i] = Line{OrderLine: l}
		index[lineKey(l)] = i
	}
	add := func(raw string, refund bool) {
		var ls []klarna.OrderLine
		if json.Unmarshal([]byte(raw), &ls) != nil {
			return
		}
		for _, l := range ls {
			i, ok := index[lineKey(l)]
			if !ok {
				continue
			}
			if refund {
				out[i].Refunded += l.Quantity
				out[i].RefundedAmount += l.TotalAmount
				out[i].refundedTax += lineTax(l)
			} else {
				out[i].Captured += l.Quantity
				out[i].CapturedAmount += l.TotalAmount
				out[i].capturedTax += lineTax(l)
			}
		}
	}
	for _, c := range caps {
		add(c.Lines, false)
	}
	for _, r := range refunds {
		add(r.Lines, true)
	}
	return out
}

// Klarna's order statuses, as the read stores them.
const (
	klarnaAuthorized   = string(klarna.OrderAuthorized)
	klarnaPartCaptured = string(klarna.OrderPartCaptured)
	klarnaCaptured     = string(klarna.OrderCaptured)
	klarnaCancelled    = string(klarna.OrderCancelled)
	klarnaExpired      = string(klarna.OrderExpired)
	klarnaClosed       = string(klarna.OrderClosed)
)

// refresh reads the order from Klarna and records the read, with the
// captures and refunds Klarna has that the shop did not know (made by
// auto_capture, in Klarna's portal, or by an action whose answer was
// lost), and how the shop's own records compare with Klarna's amounts.
//
// Reads can overlap (a page view, an action's read back, recovery): the
// shop's records are taken before Klarna is asked, so that a capture an
// operator makes meanwhile is never taken for one Klarna lacks, and a read
// that is behind the one kept does not replace it (store.RecordRead).
func (s *Service) refresh(ctx context.Context, c *store.Checkout) error {
	k, err := s.client(c.Market)
	if err != nil {
		return fmt.Errorf("orders: reading %s: %w", c.ID, err)
	}
	readAt := s.now()
	caps, err := s.store.Captures(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	refunds, err := s.store.Refunds(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	ko, resp, err := k.GetOrder(ctx, c.KlarnaOrderID)
	if err != nil {
		return fmt.Errorf("orders: reading %s (Klarna order %s): %w", c.ID, c.KlarnaOrderID, err)
	}
	// Actions after Klarna's answer: one begun meanwhile is still ours.
	actions, err := s.store.Actions(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	ours := map[string]bool{} // action ids, which are the references of our captures and refunds
	for _, a := range actions {
		ours[a.ID] = true
	}
	attribute := func(reference string) string {
		if ours[reference] {
			return reference
		}
		return ""
	}
	knownCaps := map[string]*store.Capture{}
	for _, cp := range caps {
		knownCaps[cp.ID] = cp
	}
	var newCaps []*store.Capture
	for _, kc := range ko.Captures {
		if knownCaps[kc.CaptureID] != nil {
			continue
		}
		cp := &store.Capture{ID: kc.CaptureID, CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, ActionID: attribute(kc.Reference),
			Amount: kc.CapturedAmount, Lines: jsonLines(kc.OrderLines), KlarnaReference: kc.KlarnaReference, CapturedAt: timeOr(kc.CapturedAt, s.now())}
		if len(kc.ShippingInfo) > 0 {
			si := kc.ShippingInfo[0]
			cp.ShippingCompany, cp.TrackingNumber, cp.TrackingURI = si.ShippingCompany, si.TrackingNumber, si.TrackingURI
		}
		newCaps = append(newCaps, cp)
		s.log.InfoContext(ctx, "Klarna has a capture the shop had not recorded; recording it", "order", c.ID, "capture_id", kc.CaptureID,
			"action", cp.ActionID, "amount", kc.CapturedAmount)
	}
	knownRefunds := map[string]bool{}
	for _, r := range refunds {
		knownRefunds[r.ID] = true
	}
	var newRefunds []*store.Refund
	for _, kr := range ko.Refunds {
		if knownRefunds[kr.RefundID] {
			continue
		}
		newRefunds = append(newRefunds, &store.Refund{ID: kr.RefundID, CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, ActionID: attribute(kr.Reference),
			Amount: kr.RefundedAmount, Lines: jsonLines(kr.OrderLines), Reason: kr.Description, RefundedAt: timeOr(kr.RefundedAt, s.now())})
		s.log.InfoContext(ctx, "Klarna has a refund the shop had not recorded; recording it", "order", c.ID, "refund_id", kr.RefundID, "amount", kr.RefundedAmount)
	}
	read := &store.KlarnaRead{CheckoutID: c.ID, KlarnaOrderID: c.KlarnaOrderID, Status: string(ko.Status), FraudStatus: string(ko.FraudStatus),
		OrderAmount: ko.OrderAmount, Captured: ko.CapturedAmount, Refunded: ko.RefundedAmount, Remaining: ko.RemainingAuthorizedAmount,
		ExpiresAt: ko.ExpiresAt, KlarnaCreatedAt: ko.CreatedAt, ReadAt: readAt, CorrelationID: resp.CorrelationID}
	read.Mismatch = mismatch(c, ko, append(caps, newCaps...), append(refunds, newRefunds...))
	if read.Mismatch != "" {
		s.log.ErrorContext(ctx, "the shop's amounts differ from Klarna's", "order", c.ID, "mismatch", read.Mismatch, "correlation_id", resp.CorrelationID)
	}
	if err := s.store.RecordRead(ctx, read, newCaps, newRefunds); err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	return nil
}

// mismatch compares the shop's captures and refunds with Klarna's, one by
// one and in total; it says what differs, or "".
func mismatch(c *store.Checkout, ko *klarna.ManagedOrder, caps []*store.Capture, refunds []*store.Refund) string {
	money := func(n int64) string { return shop.FormatMoney(n, c.Currency, c.Locale) }
	var ourCaps, klarnaCaps, ourRefunds, klarnaRefunds []amountOf
	for _, cp := range caps {
		ourCaps = append(ourCaps, amountOf{cp.ID, cp.Amount})
	}
	for _, kc := range ko.Captures {
		klarnaCaps = append(klarnaCaps, amountOf{kc.CaptureID, kc.CapturedAmount})
	}
	for _, r := range refunds {
		ourRefunds = append(ourRefunds, amountOf{r.ID, r.Amount})
	}
	for _, kr := range ko.Refunds {
		klarnaRefunds = append(klarnaRefunds, amountOf{kr.RefundID, kr.RefundedAmount})
	}
	diffs := compareAmounts("capture", "captured", ourCaps, klarnaCaps, ko.CapturedAmount, money)
	diffs = append(diffs, compareAmounts("refund", "refunded", ourRefunds, klarnaRefunds, ko.RefundedAmount, money)...)
	if c.Amount != ko.OriginalOrderAmount && ko.OriginalOrderAmount != 0 {
		diffs = append(diffs, fmt.Sprintf("ordered %s here, %s at Klarna", money(c.Amount), money(ko.OriginalOrderAmount)))
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

// amountOf is one capture or refund: Klarna's id and its amount.
type amountOf struct {
	id     string
	amount int64
}

// compareAmounts compares the shop's captures (or refunds) with Klarna's,
// one by one and in total against Klarna's total.
func compareAmounts(noun, verb string, ours, klarnas []amountOf, klarnaTotal int64, money func(int64) string) []string {
	theirs := map[string]int64{}
	for _, k := range klarnas {
		theirs[k.id] = k.amount
	}
	var diffs []string
	var total int64
	for _, o := range ours {
		total += o.amount
		if k, ok := theirs[o.id]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s %s (%s) is not at Klarna", noun, o.id, money(o.amount)))
		} else if k != o.amount {
			diffs = append(diffs, fmt.Sprintf("%s %s is %s here, %s at Klarna", noun, o.id, money(o.amount), money(k)))
		}
	}
	if total != klarnaTotal {
		diffs = append(diffs, fmt.Sprintf("%s %s here, %s at Klarna", verb, money(total), money(klarnaTotal)))
	}
	return diffs
}

func jsonLines(ls []klarna.OrderLine) string {
	if len(ls) == 0 {
		return "[]"
	}
	b, err := json.Marshal(ls)
	if err != nil {
		return "[]"
	}
	return string(b)
}

func timeOr(t *time.Time, def time.Time) time.Time {
	if t == nil {
		return def
	}
	return *t
}
