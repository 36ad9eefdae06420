// Package subscriptions charges subscriptions every period with the Klarna
// customer token given at sign-up, exactly once per period, and lets the
// shopper and the operator pause, resume, cancel or charge now.
//
// A subscription's life:
//
//	active --period due--> charged ---------------> active (next period)
//	       --soft decline--> retried after 1, 3, 7 days, then paused
//	       --hard decline (token unusable)--> paused, flagged for an operator
//	       --Klarna unreachable--> retried with the same key, no decline counted
//	active|paused --shopper or operator cancels--> cancelled (token cancelled at Klarna)
//	active <--resume-- paused --pause-- active
//
// "Exactly once per period" rests on three things: one database row per
// period that is claimed by compare-and-set with a lease (a crashed
// process's claim runs out and is taken over; a live one is never taken); a
// Klarna idempotency key derived from the subscription, the period and the
// attempt, so that a retry after a lost answer or a crash gets Klarna's
// first answer instead of a second charge; and recording the order, the
// period and the subscription's next date in one transaction.
package subscriptions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/vault"
)

// URLs are the shop's addresses a renewal gives Klarna; the web layer
// builds them (handlers.URLs).
type URLs interface {
	// Confirmation is the shopper's page of the order ref.
	Confirmation(ref string) string
	checkout.ProductLinks
}

// Klarna is the part of the Klarna client subscriptions need.
type Klarna interface {
	CreateTokenOrder(ctx context.Context, customerToken, idempotencyKey string, req *klarna.TokenOrderRequest) (*klarna.Order, *klarna.Response, error)
	CancelCustomerToken(ctx context.Context, customerToken string) (*klarna.Response, error)
	// GetOrder reads an order (Order Management), to check the one an
	// operator says Klarna made for a period whose outcome was unknown.
	GetOrder(ctx context.Context, orderID string) (*klarna.ManagedOrder, *klarna.Response, error)
}

// Store is the persistence subscriptions need (store.SQL has it).
type Store interface {
	Checkout(ctx context.Context, id string) (*store.Checkout, error)
	SubscriptionsIn(ctx context.Context, st store.SubscriptionStatus, limit int) ([]*store.Checkout, error)
	CreateRecurring(ctx context.Context, r *store.Recurring) error
	Recurring(ctx context.Context, id string) (*store.Recurring, error)
	RecurringByCheckout(ctx context.Context, checkoutID string) (*store.Recurring, error)
	ListRecurring(ctx context.Context, limit int) ([]*store.Recurring, error)
	DueRecurring(ctx context.Context, now time.Time, limit int) ([]*store.Recurring, error)
	TokensToCancel(ctx context.Context, limit int) ([]*store.Recurring, error)
	UpdateRecurring(ctx context.Context, id string, version int64, ch store.RecurringChanges) (bool, error)
	Period(ctx context.Context, subscriptionID string, period int) (*store.Period, error)
	Periods(ctx context.Context, subscriptionID string) ([]*store.Period, error)
	EnsurePeriod(ctx context.Context, p *store.Period) (*store.Period, error)
	ClaimPeriod(ctx context.Context, subscriptionID string, period int, owner string, now, until time.Time) (*store.Period, bool, error)
	UpdatePeriod(ctx context.Context, subscriptionID string, period int, owner string, ch store.PeriodChanges) (bool, error)
	ReopenPeriod(ctx context.Context, subscriptionID string, period int, at time.Time) error
	UnsettledPeriods(ctx context.Context, now time.Time, limit int) ([]*store.Period, error)
	SettleUnknownPeriod(ctx context.Context, subscriptionID string, period int, at time.Time) (bool, error)
	RecordRenewal(ctx context.Context, p *store.Period, order *store.Checkout, next store.RecurringChanges) error
	AddRecurringEvent(ctx context.Context, e store.RecurringEvent) error
	RecurringEvents(ctx context.Context, subscriptionID string, limit int) ([]store.RecurringEvent, error)
}

// Errors callers turn into messages.
var (
	ErrNotFound = errors.New("subscriptions: unknown subscription")
	// ErrState: the action does not apply in the subscription's state
	// (resume an active one, cancel a cancelled one).
	ErrState = errors.New("subscriptions: not possible in the subscription's current state")
	// ErrBusy: the subscription changed while the action ran; look again.
	ErrBusy = errors.New("subscriptions: changed by someone else meanwhile")
	// ErrUnsettled: a period's charge has an unknown outcome; an operator
	// must settle it (SettleCharged or SettleNotCharged) before it charges
	// again.
	ErrUnsettled = errors.New("subscriptions: a charge's outcome is unknown; settle it first")
	// ErrMismatch: the Klarna order an operator named is not the period's
	// (another reference or amount).
	ErrMismatch = errors.New("subscriptions: that Klarna order is not this period's")
)

// maxAttempts is the first charge of a period and three dunning retries.
const maxAttempts = 4

// ClientFor picks the Klarna client for a subscription's market (its
// purchase country): the client of the Klarna region that serves it, whose
// credentials the customer token belongs to. An error means the shop has
// no account there (klarna.IsNoAccount).
type ClientFor func(country string) (Klarna, error)

// ByRegion picks each market's client from cs, one per Klarna region.
func ByRegion(cs *klarna.Clients) ClientFor {
	return func(country string) (Klarna, error) {
		c, err := cs.For(country)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// Service charges and manages subscriptions. Create it with New.
type Service struct {
	clients  ClientFor
	store    Store
	catalog  *shop.Catalog
	vault    *vault.Vault
	log      *slog.Logger
	now      func() time.Time
	instance string
	lease    time.Duration
	dunning  []time.Duration
	retry    time.Duration
	keyLife  time.Duration
	crash    func(step string)
	urls     URLs
	obs      Observer
}

// Observer is told the outcome of each renewal attempt (charged, declined,
// paused, deferred), for metrics.
type Observer interface {
	Renewal(outcome string)
}

type noObserver struct{}

func (noObserver) Renewal(string) {}

// Options tune a Service; the zero value is sensible.
type Options struct {
	Logger *slog.Logger
	// Now is the renewal job's clock (default time.Now): tests move it on
	// a month at a time.
	Now func() time.Time
	// Lease is how long a claimed period is this process's alone (default
	// 2 minutes, longer than a Klarna call with its retries).
	Lease time.Duration
	// Dunning is the wait before each retry after a soft decline (default
	// 1, 3 and 7 days); after the last the subscription is paused.
	Dunning []time.Duration
	// RetryUnreachable is the wait before trying again, with the same key,
	// when Klarna could not be reached (default 5 minutes).
	RetryUnreachable time.Duration
	// KeyLifetime is how long after an attempt was first sent it may be
	// sent again with the same idempotency key (default 23 hours: Klarna
	// keeps a key for 24). Past it the outcome is unknown and the period
	// waits for an operator instead of risking a second charge.
	KeyLifetime time.Duration
	// Crash, for crash tests only, is called after each step of a charge:
	// "claimed", "charged" (Klarna answered, nothing recorded), "recorded".
	Crash func(step string)
	// URLs are the addresses a renewal gives Klarna: the confirmation page
	// a token order requires, and the links of its lines. Required.
	URLs URLs
	// Observer is told each renewal's outcome; optional.
	Observer Observer
}

// NewForMarkets builds a Service that charges each subscription through
// its market's Klarna client (see ClientFor).
func NewForMarkets(clients ClientFor, st Store, cat *shop.Catalog, v *vault.Vault, o Options) *Service {
	s := New(nil, st, cat, v, o)
	s.clients = clients
	return s
}

// New builds a Service whose every market uses the Klarna client k. v
// decrypts the customer tokens.
func New(k Klarna, st Store, cat *shop.Catalog, v *vault.Vault, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lease == 0 {
		o.Lease = 2 * time.Minute
	}
	if len(o.Dunning) == 0 {
		o.Dunning = []time.Duration{24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour}
	}
	if o.RetryUnreachable == 0 {
		o.RetryUnreachable = 5 * time.Minute
	}
	if o.KeyLifetime == 0 {
		o.KeyLifetime = 23 * time.Hour
	}
	if o.Crash == nil {
		o.Crash = func(string) {}
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	b := make([]byte, 8)
	rand.Read(b)
	return &Service{clients: func(string) (Klarna, error) { return k, nil }, store: st, catalog: cat, vault: v, log: o.Logger, now: o.Now, instance: hex.EncodeToString(b),
		lease: o.Lease, dunning: o.Dunning, retry: o.RetryUnreachable, keyLife: o.KeyLifetime, crash: o.Crash, urls: o.URLs, obs: o.Observer}
}

// Plan is a subscription's rhythm and name, as stored ("MONTH:1:Name").
type Plan struct {
	Name          string
	Interval      string
	IntervalCount int
}

// ParsePlan reads a stored plan.
func ParsePlan(s string) (Plan, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return Plan{}, fmt.Errorf("subscriptions: malformed plan %q", s)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 {
		return Plan{}, fmt.Errorf("subscriptions: malformed plan %q", s)
	}
	return Plan{Name: parts[2], Interval: parts[0], IntervalCount: n}, nil
}

// DueAt is when period n (1 = the first renewal) is due: n intervals after
// the anchor, computed from the anchor each time so dates never drift.
func (p Plan) DueAt(anchor time.Time, n int) time.Time {
	c := p.IntervalCount * n
	switch p.Interval {
	case "DAY":
		return anchor.AddDate(0, 0, c)
	case "WEEK":
		return anchor.AddDate(0, 0, 7*c)
	case "YEAR":
		return anchor.AddDate(c, 0, 0)
	}
	return anchor.AddDate(0, c, 0)
}

// IDFor is the subscription id of a sign-up checkout: one checkout starts
// at most one subscription, and the id is the same however often it is
// asked for.
func IDFor(checkoutID string) string { return "SUB-" + strings.TrimPrefix(checkoutID, "KS-") }

// key is the Klarna idempotency key of one attempt at one period: a name-
// based UUID (v5), the same after a crash or a lost answer, different after
// a definite decline (Klarna answers a key with its first answer for 24
// hours, so a dunning retry needs a new one).
func key(subscriptionID string, period, attempt int) string {
	return uuid.NewSHA1(keySpace, []byte(subscriptionID+"/"+strconv.Itoa(period)+"/"+strconv.Itoa(attempt))).String()
}

// keySpace is the UUID namespace of renewal keys.
var keySpace = uuid.MustParse("6f8b7a52-4c1e-4f0e-9b7d-2d7f3c9a1e55")

func newID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// event appends to a subscription's history; a failure is logged, never
// allowed to undo what it describes.
func (s *Service) event(ctx context.Context, subID, who, what string, period int, corr string) {
	err := s.store.AddRecurringEvent(ctx, store.RecurringEvent{ID: newID(), SubscriptionID: subID, At: s.now(), Who: who, What: what, Period: period, CorrelationID: corr})
	if err != nil {
		s.log.ErrorContext(ctx, "recording a subscription event failed", "subscription", subID, "error", err)
	}
}

// Get reads a subscription.
func (s *Service) Get(ctx context.Context, id string) (*store.Recurring, error) {
	r, err := s.store.Recurring(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return r, err
}

// List lists subscriptions for the orders area.
func (s *Service) List(ctx context.Context, limit int) ([]*store.Recurring, error) {
	return s.store.ListRecurring(ctx, limit)
}

// History is a subscription's periods and events, newest first.
func (s *Service) History(ctx context.Context, id string) ([]*store.Period, []store.RecurringEvent, error) {
	ps, err := s.store.Periods(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	es, err := s.store.RecurringEvents(ctx, id, 200)
	return ps, es, err
}
