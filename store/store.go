// Package store keeps checkouts and orders. SQLite (pure Go) is the default;
// the Store interface lets other databases follow.
package store

import (
	"context"
	"errors"
	"time"
)

// State is where a checkout is in its life (docs/ARCHITECTURE.md, "Order
// states"):
//
//	open --place--> placing --> placed | pending_review | open (re-authorize) | failed
//	open --replaced by a new checkout--> failed
//	pending_review --> placed | rejected
//	placed --Klarna says rejected--> rejected
//
// rejected and failed are final; placed is left only when Klarna itself
// reports the order rejected.
type State string

// Checkout states.
const (
	StateOpen          State = "open"
	StatePlacing       State = "placing"
	StatePlaced        State = "placed"
	StatePendingReview State = "pending_review"
	StateRejected      State = "rejected"
	StateFailed        State = "failed"
)

// Final reports whether a state is never left.
func (s State) Final() bool { return s == StatePlaced || s == StateRejected || s == StateFailed }

// IsOrder reports whether a checkout in this state has become an order.
func (s State) IsOrder() bool {
	return s == StatePlaced || s == StatePendingReview || s == StateRejected
}

// Checkout is one Klarna payment session and, once placed, its order.
type Checkout struct {
	ID                 string // our order reference, shown to the shopper
	SessionID          string // Klarna's session id
	ClientToken        string
	Categories         string // JSON: the payment method categories Klarna offered
	Market             string
	Locale             string
	Currency           string
	Cart               string // the encoded cart that was priced
	CartHash           string
	Amount             int64
	TaxAmount          int64
	SessionPayload     string // the JSON sent to Klarna (no personal data)
	CallbackSecret     string // authenticates Klarna's callbacks for this checkout
	State              State
	AuthorizationToken string
	KlarnaOrderID      string
	FraudStatus        string
	PaymentMethod      string
	RedirectURL        string
	OrderPayload       string
	LastError          string
	CorrelationID      string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	SessionExpiresAt   time.Time
	PlacedAt           *time.Time
	Subscription       Subscription
	// Version increments with every change to the row: a compare-and-set on
	// it proves that nothing changed since the row was read.
	Version int64
	// ClaimedBy and ClaimedUntil are the lease of the process placing the
	// order; another process takes the placement over only after it ends.
	ClaimedBy    string
	ClaimedUntil *time.Time
	// Hold says why the order must not ship (Klarna stopped it); empty when
	// it may.
	Hold string
	// NextCheckAt is when to ask Klarna again about a pending review, or,
	// for a placed order, when to read it (DueReads); Checks
	// counts how often it was asked.
	NextCheckAt *time.Time
	Checks      int
	// Kind is KindCheckout for an order a shopper placed, KindRenewal for
	// one a subscription's customer token paid; SubscriptionID links a
	// renewal to its subscription.
	Kind           string
	SubscriptionID string
	// BrowserID is the browser the checkout was opened for (a random id
	// in its cookie session); empty for renewals.
	BrowserID string
	// CallbackToken is the authorization token Klarna's callback brought
	// while the checkout was open, kept until it is placed (see
	// NoteCallback); CallbackAt is when it came or was last tried.
	CallbackToken string
	CallbackAt    *time.Time
}

// Kinds of order.
const (
	KindCheckout = "checkout"
	KindRenewal  = "renewal"
)

// SubscriptionStatus is where a subscription stands.
type SubscriptionStatus string

// Subscription states. Pending: the order is placed, the customer token not
// yet made. NeedsAttention: Klarna refused the token; the order stands and an
// operator must follow up.
const (
	SubscriptionNone           SubscriptionStatus = ""
	SubscriptionPending        SubscriptionStatus = "pending"
	SubscriptionActive         SubscriptionStatus = "active"
	SubscriptionNeedsAttention SubscriptionStatus = "needs_attention"
)

// Subscription is the recurring part of an order.
type Subscription struct {
	Status SubscriptionStatus
	Plan   string // "MONTH:1:Fika & Form monthly coffee"
	Next   *time.Time
	// CustomerToken is the Klarna customer token, encrypted by package
	// vault. It never leaves the store in clear.
	CustomerToken string
}

// Changes are the fields a transition sets besides the state; nil leaves a
// field as it is. AtVersion is a condition, not a change: when not zero the
// transition happens only if the row is still at that version.
type Changes struct {
	AtVersion          int64
	AuthorizationToken *string
	KlarnaOrderID      *string
	FraudStatus        *string
	PaymentMethod      *string
	RedirectURL        *string
	OrderPayload       *string
	LastError          *string
	CorrelationID      *string
	PlacedAt           *time.Time
	Hold               *string
	ClaimedBy          *string
	// ClaimedUntil and NextCheckAt set the column; a pointer to nil clears it.
	ClaimedUntil **time.Time
	NextCheckAt  **time.Time
	Checks       *int
}

// Repricing replaces an open checkout's cart after the Klarna session was
// updated.
type Repricing struct {
	Cart, CartHash, SessionPayload string
	Amount, TaxAmount              int64
	SessionExpiresAt               time.Time
}

// Errors a Store returns, reachable with errors.Is.
var (
	// ErrNotFound: no checkout with that id or session.
	ErrNotFound = errors.New("store: checkout not found")
	// ErrDuplicate: the change would give a second checkout a Klarna order
	// id or an authorization token that another checkout already has.
	ErrDuplicate = errors.New("store: another checkout already has this Klarna order or authorization")
)

// Store persists checkouts.
type Store interface {
	CreateCheckout(ctx context.Context, c *Checkout) error
	Checkout(ctx context.Context, id string) (*Checkout, error)
	CheckoutBySession(ctx context.Context, sessionID string) (*Checkout, error)
	// OpenCheckoutFor is the newest open checkout of a browser, or
	// ErrNotFound.
	OpenCheckoutFor(ctx context.Context, browserID string) (*Checkout, error)
	// PaidCheckoutFor is the newest checkout of a browser that is being
	// placed or is an order, or ErrNotFound.
	PaidCheckoutFor(ctx context.Context, browserID string) (*Checkout, error)
	// Transition moves a checkout from one of the given states to another,
	// atomically: it reports false, changing nothing, when the checkout is
	// in none of them. This compare-and-set is what keeps two concurrent
	// callers from both placing an order.
	Transition(ctx context.Context, id string, from []State, to State, ch Changes) (bool, error)
	// TransitionRow is Transition returning the checkout as the move left
	// it, read in the same statement; nil when it did not move.
	TransitionRow(ctx context.Context, id string, from []State, to State, ch Changes) (*Checkout, error)
	// Reprice changes an open checkout's cart; false if it is no longer open
	// at that version.
	Reprice(ctx context.Context, id string, version int64, r Repricing) (bool, error)
	// Orders lists checkouts that became orders, newest first.
	Orders(ctx context.Context, limit int) ([]*Checkout, error)
	// InState lists checkouts in a state, oldest first.
	InState(ctx context.Context, s State, limit int) ([]*Checkout, error)
	// Unclaimed lists checkouts in a state whose lease ended before now (or
	// that have none), oldest first: placements a process left behind.
	Unclaimed(ctx context.Context, s State, now time.Time, limit int) ([]*Checkout, error)
	// NoteCallback keeps the token of Klarna's authorization callback on a
	// checkout that is still open (token "" forgets it), without moving
	// its version: it is a hint for recovery, verified before any use.
	NoteCallback(ctx context.Context, id, token string, at time.Time) error
	// PendingCallbacks lists open checkouts with a callback token noted
	// before the given time, oldest first.
	PendingCallbacks(ctx context.Context, before time.Time, limit int) ([]*Checkout, error)
	// DueChecks lists pending reviews whose next check is due at now.
	DueChecks(ctx context.Context, now time.Time, limit int) ([]*Checkout, error)
	// SetSubscription records a subscription's state, moving it only from
	// one of the given states (compare-and-set, like Transition).
	SetSubscription(ctx context.Context, id string, from []SubscriptionStatus, sub Subscription) (bool, error)
	// SubscriptionsIn lists checkouts whose subscription is in a state;
	// SubscriptionNone lists nothing (no index holds checkouts without one).
	SubscriptionsIn(ctx context.Context, st SubscriptionStatus, limit int) ([]*Checkout, error)
	// CheckWrite proves the database accepts writes, for /readyz: a
	// database can answer reads and refuse every write (read-only file, full
	// disk, a lock held too long).
	CheckWrite(ctx context.Context) error
	Ping(ctx context.Context) error
	Close() error
	// OrderStore keeps order management after placement (orders.go).
	OrderStore
}
