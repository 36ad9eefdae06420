// Package checkout runs a Klarna Payments checkout: it opens or refreshes
// the Klarna session for a priced cart, and places the order through one
// guarded path shared by the shopper's browser and Klarna's authorization
// callback.
package checkout

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/vault"
)

// URLs are the shop's addresses that Klarna is given for a checkout: the
// page it sends the shopper to, the callbacks it makes, and the links of
// the order lines. The web layer, which owns the routes, builds them
// (handlers.URLs); the checkout knows no route.
type URLs interface {
	// Confirmation is the shopper's page of the order ref.
	Confirmation(ref string) string
	// AuthorizationCallback and NotificationCallback are where Klarna
	// posts a checkout's authorization and its fraud decision; the secret
	// authenticates the call.
	AuthorizationCallback(ref, secret string) string
	NotificationCallback(ref, secret string) string
	ProductLinks
}

// Klarna is the part of the Klarna client the checkout needs.
type Klarna interface {
	CreateSession(ctx context.Context, req *klarna.SessionRequest) (*klarna.MerchantSession, *klarna.Response, error)
	UpdateSession(ctx context.Context, sessionID string, req *klarna.SessionUpdate) (*klarna.Response, error)
	CreateOrder(ctx context.Context, token string, req *klarna.OrderRequest) (*klarna.Order, *klarna.Response, error)
	CancelAuthorization(ctx context.Context, token string) (*klarna.Response, error)
	GenerateCustomerToken(ctx context.Context, token string, req *klarna.CustomerTokenRequest) (*klarna.CustomerToken, *klarna.Response, error)
	// GetSessionAuthorization verifies an authorization token against
	// its session, and tells whether a session became an order when
	// create order's answer was lost; GetOrderStatus re-reads a fraud
	// decision; GetOrder reads an order's reference, to recognize an order
	// recorded without its id.
	GetSessionAuthorization(ctx context.Context, sessionID string) (*klarna.SessionAuthorization, *klarna.Response, error)
	GetOrderStatus(ctx context.Context, orderID string) (*klarna.OrderStatus, *klarna.Response, error)
	GetOrder(ctx context.Context, orderID string) (*klarna.ManagedOrder, *klarna.Response, error)
}

// Errors the shopper's page turns into a message and a way forward.
var (
	// ErrCartChanged: the cart is not what the shopper authorized.
	ErrCartChanged = errors.New("checkout: the cart changed after you approved the payment")
	// ErrReauthorize: Klarna no longer accepts this authorization (expired,
	// or not matching); the shopper must approve again.
	ErrReauthorize = errors.New("checkout: the payment approval can no longer be used")
	// ErrInProgress: the order is being confirmed by another request, or
	// Klarna's answer is late, or it is being recorded; the outcome will
	// follow on the confirmation page.
	ErrInProgress = errors.New("checkout: the order is still being confirmed")
	// ErrAlreadyPlaced: this cart's checkout already became an order (by
	// Klarna's callback, recovery or another tab); show it, do not start a
	// second payment for the same cart.
	ErrAlreadyPlaced = errors.New("checkout: this cart was already ordered")
	// ErrRefused: Klarna refused the order; the shopper may start again.
	ErrRefused = errors.New("checkout: Klarna could not place the order")
	// ErrForeignToken: the authorization token is not the one Klarna holds
	// for this checkout's session. It is refused without touching it: it
	// may be another shopper's.
	ErrForeignToken = errors.New("checkout: the payment approval does not belong to this checkout")
	// ErrUnavailable: Klarna could not be reached, or was busy; nothing was
	// changed. Failures that waiting does not cure (refused credentials, a
	// market not enabled, a bad request) are a *Failure of another Class.
	ErrUnavailable = errors.New("checkout: Klarna is not reachable right now")
	// ErrNotFound: no checkout for that session or reference.
	ErrNotFound = errors.New("checkout: unknown checkout")
)

// Service runs checkouts. Create it with New.
type Service struct {
	// clients picks the Klarna client of a checkout's market.
	clients ClientFor
	store   store.Store
	catalog *shop.Catalog
	urls    URLs
	log     *slog.Logger
	now     func() time.Time
	// instance names this process in placement leases.
	instance string
	// lease is how long a placement is this process's alone; recovery
	// anywhere takes it over only after that.
	lease time.Duration
	// wait bounds how long a caller waits for another caller's placement.
	wait time.Duration
	// retryWaits are the pauses before asking Klarna again when a
	// create-order answer was lost.
	retryWaits []time.Duration
	// reviewChecks are the waits between asking Klarna about an order
	// still pending review; the last repeats.
	reviewChecks []time.Duration
	// crash is called at each step of a placement; crash tests kill the
	// process there.
	crash func(step string)
	// sessions paces CreateSession calls under the merchant's Klarna quota.
	sessions *rate.Limiter
	// fresh paces sessions for carts made a moment ago, at half the
	// quota, so that a flood of new carts (a few clients minting cookies)
	// leaves the other half to shoppers whose cart is older.
	fresh *rate.Limiter
	// vault encrypts customer tokens before they are stored.
	vault *vault.Vault
	obs   Observer
	// autoCapture and autoCaptured: see Options.
	autoCapture  func(lines []klarna.OrderLine) bool
	autoCaptured func(ctx context.Context, ref string) error

	// unrecorded holds orders Klarna made that the database refused to
	// record; a goroutine per order writes them as soon as it can.
	mu         sync.Mutex
	unrecorded map[string]bool
	// placed are the orders this process recorded lately (PlacedHere).
	placed *placedHere
	// problems are recent failures that need the operator (Problems).
	problems problemLog
	nudge    chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	bg       sync.WaitGroup
}

// Options tune a Service; the zero value is sensible.
type Options struct {
	Logger     *slog.Logger
	Now        func() time.Time
	Wait       time.Duration
	RetryWaits []time.Duration
	// Lease is how long a placement belongs to the process that started it
	// (default 60 s: longer than the client's 30 s per Klarna call). After
	// it, recovery on any instance takes the placement over.
	Lease time.Duration
	// ReviewChecks are the waits before asking Klarna again about an order
	// pending fraud review, in case its notification never arrives
	// (default 15 min, 30 min, 1 h, 2 h, 4 h, then every 8 h).
	ReviewChecks []time.Duration
	// Crash, for crash tests only, is called at each step of a placement:
	// "received", "placing" (state set, Klarna not yet called), "ordered"
	// (Klarna answered, nothing recorded) and "recorded".
	Crash func(step string)
	// SessionsPerSecond caps Klarna session creations for the whole shop,
	// under the merchant's quota (playground 5/s, production 40/s). Zero
	// means no cap.
	SessionsPerSecond float64
	// Vault encrypts customer tokens at rest; subscriptions need it.
	Vault *vault.Vault
	// Observer is told what checkouts do (metrics); optional.
	Observer Observer
	// AutoCapture decides from an order's lines whether Klarna captures it
	// when it creates it (auto_capture): the order management policy's
	// AutoCapture. Nil never does.
	AutoCapture func(lines []klarna.OrderLine) bool
	// AutoCaptured is told, in the background, of each order created with
	// auto_capture, so that the capture Klarna made is recorded at once
	// (the orders' Refresh, which also settles the order's scheduled read
	// once the capture is recorded).
	AutoCaptured func(ctx context.Context, ref string) error
}

// Observer is told what checkouts and placements do, for metrics. Its
// methods must be quick and safe for concurrent use.
type Observer interface {
	// Begun: a Klarna session opened for a new checkout in a market.
	Begun(market string)
	// Placed: an order was recorded, in this state.
	Placed(state string)
	// Failed: a placement made no order, for this reason.
	Failed(reason string)
	// InFlight: placements waiting on Klarna went up or down by delta.
	InFlight(delta int)
	// Recovered: recovery did something (placement, review_decided,
	// subscription_token).
	Recovered(action string)
}

type noObserver struct{}

func (noObserver) Begun(string)     {}
func (noObserver) Placed(string)    {}
func (noObserver) Failed(string)    {}
func (noObserver) InFlight(int)     {}
func (noObserver) Recovered(string) {}

// New builds a Service whose every market uses the Klarna client k (see
// NewForMarkets for a client per market's region). urls are the shop's
// addresses Klarna calls and sends the shopper to.
func New(k Klarna, st store.Store, cat *shop.Catalog, urls URLs, o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Wait == 0 {
		o.Wait = 10 * time.Second
	}
	if o.RetryWaits == nil {
		o.RetryWaits = []time.Duration{200 * time.Millisecond, time.Second}
	}
	if o.Lease == 0 {
		o.Lease = time.Minute
	}
	if len(o.ReviewChecks) == 0 {
		o.ReviewChecks = []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}
	}
	if o.Crash == nil {
		o.Crash = func(string) {}
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	svc := &Service{clients: OneClient(k), store: st, catalog: cat, urls: urls, log: o.Logger,
		now: o.Now, instance: randomHex(8), lease: o.Lease, wait: o.Wait, retryWaits: o.RetryWaits, reviewChecks: o.ReviewChecks,
		crash: o.Crash, vault: o.Vault, obs: o.Observer, autoCapture: o.AutoCapture, autoCaptured: o.AutoCaptured,
		unrecorded: map[string]bool{}, placed: newPlacedHere(placedHereSize), nudge: make(chan struct{}, 1), stop: make(chan struct{})}
	if o.SessionsPerSecond > 0 {
		svc.sessions = rate.NewLimiter(rate.Limit(o.SessionsPerSecond), max(1, int(o.SessionsPerSecond)))
		svc.fresh = rate.NewLimiter(rate.Limit(o.SessionsPerSecond/2), max(1, int(o.SessionsPerSecond/2)))
	}
	return svc
}

// sessionMargin: a session this close to Klarna's 48-hour expiry is replaced
// rather than reused, so it cannot expire while the shopper pays.
const sessionMargin = 30 * time.Minute

// errStale: the checkout changed while this request worked on it; read it
// again.
var errStale = errors.New("checkout: changed by another request")

// errSessionGone: Klarna no longer has the session (expired, or complete).
var errSessionGone = errors.New("checkout: Klarna no longer has this session")

// Shopper is who is checking out, as the web layer knows them.
type Shopper struct {
	// CheckoutID is the checkout the browser is on, if it knows one.
	CheckoutID string
	// BrowserID identifies the browser (a random id in its cookie
	// session): a browser whose cookie lost or never had the checkout's
	// reference (an older cookie sent again) finds its open checkout by it,
	// instead of opening a Klarna session on every visit.
	BrowserID string
	// Established says the cart was made more than a moment ago: such a
	// shopper may use the half of Klarna's session quota that new carts
	// cannot take.
	Established bool
	// CartSince is when the cart was started (zero: unknown). A browser
	// without the checkout's reference whose cart is older than its newest
	// checkout being placed or ordered is shown that checkout: see BeginFor.
	CartSince time.Time
}

// Begin is BeginFor a shopper known only by the checkout they are on.
func (s *Service) Begin(ctx context.Context, existingID string, cart shop.Cart, m shop.Market, locale string) (*store.Checkout, *shop.Priced, error) {
	return s.BeginFor(ctx, Shopper{CheckoutID: existingID, Established: true}, cart, m, locale)
}

// BeginFor prepares the Klarna session for the shopper's cart. It reuses
// the checkout the shopper is on (by reference, else the browser's open
// one) when its session is still valid for this market, updating it if the
// priced cart changed; otherwise it creates a new session and checkout. No
// personal data is sent.
//
// A checkout that is being placed, or that already became an order for this
// very cart, is returned with ErrInProgress or ErrAlreadyPlaced: the shopper
// is shown that order instead of paying for the same cart twice.
func (s *Service) BeginFor(ctx context.Context, sh Shopper, cart shop.Cart, m shop.Market, locale string) (*store.Checkout, *shop.Priced, error) {
	priced, err := shop.Price(cart, m, locale, s.catalog)
	if err != nil {
		return nil, nil, fmt.Errorf("checkout: pricing cart: %w", err)
	}
	existingID := sh.CheckoutID
	// olderCookie: the browser came without its checkout's reference, with
	// a cart started before its newest checkout that is being placed or is
	// an order. Such a cookie is older than that checkout (two requests
	// raced to save the session, or a cookie was restored): a current one
	// carries the reference from the checkout page on, until the
	// confirmation empties the cart. The checkout was made from this cart
	// or from one it became (an item added, a code applied, after the
	// cookie was saved): it is shown as below, instead of a second
	// payment. A cart started after it is a new purchase.
	olderCookie := false
	if existingID == "" && sh.BrowserID != "" {
		switch paid, err := s.store.PaidCheckoutFor(ctx, sh.BrowserID); {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, nil, fmt.Errorf("checkout: finding the browser's placed checkout: %w", err)
		case !sh.CartSince.IsZero() && sh.CartSince.Unix() <= paid.CreatedAt.Unix():
			existingID, olderCookie = paid.ID, true
		}
		if !olderCookie {
			switch open, err := s.store.OpenCheckoutFor(ctx, sh.BrowserID); {
			case err == nil:
				existingID = open.ID
			case !errors.Is(err, store.ErrNotFound):
				return nil, nil, fmt.Errorf("checkout: finding the browser's checkout: %w", err)
			}
		}
	}
	// A few rounds at most: each one follows a change another request
	// made to the same checkout.
	for range 4 {
		if existingID == "" {
			break
		}
		c, err := s.store.Checkout(ctx, existingID)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("checkout: reading checkout %s: %w", existingID, err)
		}
		switch {
		case c.State == store.StatePlacing:
			return c, priced, ErrInProgress
		case c.State.IsOrder() && (c.CartHash == priced.Hash() || olderCookie):
			return c, priced, ErrAlreadyPlaced
		case c.State != store.StateOpen:
			// An order for another cart, or a failed checkout: a new purchase.
			existingID = ""
			continue
		}
		if c.Market != m.Code || c.Locale != priced.Locale || !s.now().Add(sessionMargin).Before(c.SessionExpiresAt) {
			// Retire it, so that a late authorization of the old session
			// cannot place an order beside the new checkout.
			retired, err := s.retire(ctx, c, "replaced by a new checkout (market, language or session expiry)")
			if err != nil {
				return nil, nil, err
			}
			if retired {
				existingID = ""
			}
			continue
		}
		if c.CartHash == priced.Hash() {
			return c, priced, nil
		}
		updated, err := s.update(ctx, c, cart, priced)
		switch {
		case err == nil:
			return updated, priced, nil
		case errors.Is(err, errStale):
			continue
		case errors.Is(err, errSessionGone):
			// Klarna expired the session early, or it completed because an
			// order is being made from it: look again before replacing it.
			if fresh, rerr := s.store.Checkout(ctx, c.ID); rerr == nil && fresh.Version == c.Version {
				if _, err := s.retire(ctx, c, "Klarna no longer has its session"); err != nil {
					return nil, nil, err
				}
			}
			continue
		default:
			return nil, nil, err
		}
	}
	c, err := s.create(ctx, sh, cart, priced)
	return c, priced, err
}

// retire closes an open checkout that will not be paid, by compare-and-set
// on the version read: false means it changed meanwhile (it may be an order
// now) and must be looked at again.
func (s *Service) retire(ctx context.Context, c *store.Checkout, why string) (bool, error) {
	ok, err := s.store.Transition(ctx, c.ID, []store.State{store.StateOpen}, store.StateFailed, store.Changes{AtVersion: c.Version, LastError: &why})
	if err != nil {
		return false, fmt.Errorf("checkout: retiring checkout %s: %w", c.ID, err)
	}
	return ok, nil
}

// merchantURLs are the addresses Klarna calls and sends the shopper to for
// one checkout. The secret authenticates Klarna's callbacks.
func (s *Service) merchantURLs(ref, secret string) *klarna.MerchantURLs {
	return &klarna.MerchantURLs{
		Confirmation:  s.urls.Confirmation(ref),
		Authorization: s.urls.AuthorizationCallback(ref, secret),
		Notification:  s.urls.NotificationCallback(ref, secret),
	}
}

func (s *Service) sessionRequest(p *shop.Priced, ref, secret string) *klarna.SessionRequest {
	intent := klarna.IntentBuy
	if p.Plan != nil {
		// A subscription needs a customer token as well as the order.
		intent = klarna.IntentBuyAndTokenize
	}
	return &klarna.SessionRequest{
		PurchaseCountry: p.Market.Code, PurchaseCurrency: p.Market.Currency, Locale: p.Locale,
		OrderAmount: p.Total, OrderTaxAmount: p.Tax, OrderLines: OrderLines(p, s.urls),
		Intent: intent, MerchantReference1: ref,
		MerchantURLs: s.merchantURLs(ref, secret),
		Options:      &klarna.Options{ColorBorderSelected: "#17120F", ColorDetails: "#17120F", RadiusBorder: "10px"},
	}
}

func (s *Service) create(ctx context.Context, sh Shopper, cart shop.Cart, p *shop.Priced) (*store.Checkout, error) {
	if s.sessions != nil {
		// Wait briefly for quota rather than collect 429s from Klarna. A
		// new cart waits for the new carts' half first.
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var err error
		if !sh.Established {
			err = s.fresh.Wait(wctx)
		}
		if err == nil {
			err = s.sessions.Wait(wctx)
		}
		cancel()
		if err != nil {
			return nil, s.fail(ctx, s.log, klarnaCreateSession, p.Market.Code, nil, errPacing, nil)
		}
	}
	ref, secret := NewReference(), randomHex(32)
	log := s.log.With("checkout", ref)
	k, err := s.client(p.Market.Code)
	if err != nil {
		return nil, s.fail(ctx, log, klarnaCreateSession, p.Market.Code, nil, err, nil)
	}
	req := s.sessionRequest(p, ref, secret)
	ms, resp, err := k.CreateSession(ctx, req)
	if err != nil {
		return nil, s.fail(ctx, log, klarnaCreateSession, p.Market.Code, resp, err, req)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("checkout: encoding session payload: %w", err)
	}
	cats, err := encodeCategories(ms.PaymentMethodCategories)
	if err != nil {
		return nil, fmt.Errorf("checkout: encoding payment categories: %w", err)
	}
	now := s.now()
	c := &store.Checkout{
		ID: ref, SessionID: ms.SessionID, ClientToken: ms.ClientToken, Categories: cats, Market: p.Market.Code, Locale: p.Locale, Currency: p.Market.Currency,
		Cart: cart.Encode(), CartHash: p.Hash(), Amount: p.Total, TaxAmount: p.Tax, SessionPayload: RedactSecret(string(payload), secret),
		CallbackSecret: secret, State: store.StateOpen, CorrelationID: resp.CorrelationID, BrowserID: sh.BrowserID,
		CreatedAt: now, UpdatedAt: now, SessionExpiresAt: now.Add(48 * time.Hour), Version: 1,
	}
	if err := s.store.CreateCheckout(ctx, c); err != nil {
		// The Klarna session is left to expire on its own: it has no
		// authorization and nothing refers to it.
		return nil, fmt.Errorf("checkout: saving checkout %s: %w", ref, err)
	}
	s.obs.Begun(p.Market.Code)
	s.log.InfoContext(ctx, "checkout started", "checkout", ref, "market", p.Market.Code, "amount", p.Total, "currency", p.Market.Currency, "correlation_id", resp.CorrelationID)
	return c, nil
}

// update sends a changed cart to Klarna and then records it, by
// compare-and-set on the version read: a checkout that started placing
// meanwhile is never changed.
func (s *Service) update(ctx context.Context, c *store.Checkout, cart shop.Cart, p *shop.Priced) (*store.Checkout, error) {
	log := s.log.With("checkout", c.ID)
	k, err := s.client(c.Market)
	if err != nil {
		return nil, s.fail(ctx, log, klarnaUpdateSession, c.Market, nil, err, nil)
	}
	req := s.sessionRequest(p, c.ID, c.CallbackSecret)
	update := &klarna.SessionUpdate{
		OrderAmount: klarna.Int64(p.Total), OrderTaxAmount: klarna.Int64(p.Tax), OrderLines: req.OrderLines, Locale: p.Locale, Intent: req.Intent,
	}
	resp, err := k.UpdateSession(ctx, c.SessionID, update)
	if err != nil {
		if klarna.IsNotFound(err) {
			log.WarnContext(ctx, "Klarna no longer has the session to update", "error", err, "correlation_id", klarna.CorrelationID(resp, err))
			return nil, fmt.Errorf("%w: %w", errSessionGone, err)
		}
		return nil, s.fail(ctx, log, klarnaUpdateSession, c.Market, resp, err, update)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("checkout: encoding session payload: %w", err)
	}
	r := store.Repricing{Cart: cart.Encode(), CartHash: p.Hash(), SessionPayload: RedactSecret(string(payload), c.CallbackSecret),
		Amount: p.Total, TaxAmount: p.Tax, SessionExpiresAt: s.now().Add(48 * time.Hour)}
	ok, err := s.store.Reprice(ctx, c.ID, c.Version, r)
	if err != nil {
		return nil, fmt.Errorf("checkout: repricing %s: %w", c.ID, err)
	}
	if !ok {
		return nil, errStale
	}
	s.log.InfoContext(ctx, "checkout repriced", "checkout", c.ID, "amount", p.Total, "correlation_id", resp.CorrelationID)
	updated, err := s.store.Checkout(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("checkout: reading checkout %s: %w", c.ID, err)
	}
	return updated, nil
}

// Checkout returns a checkout by reference.
func (s *Service) Checkout(ctx context.Context, ref string) (*store.Checkout, error) {
	c, err := s.store.Checkout(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("checkout: reading %s: %w", ref, err)
	}
	return c, nil
}

// Orders lists recent orders for the orders area.
func (s *Service) Orders(ctx context.Context, limit int) ([]*store.Checkout, error) {
	return s.store.Orders(ctx, limit)
}

// cancel releases an authorization that will not become an order. Only call
// it for a token known to belong to this checkout. A failure is logged, not
// returned: the authorization then lapses on its own after 60 minutes.
func (s *Service) cancel(ctx context.Context, c *store.Checkout, token string) {
	k, err := s.client(c.Market)
	if err != nil {
		s.log.WarnContext(ctx, "cannot cancel the authorization; it lapses within 60 minutes", "checkout", c.ID, "error", err)
		return
	}
	resp, err := k.CancelAuthorization(ctx, token)
	if err != nil && !klarna.IsNotFound(err) {
		s.notice(ctx, klarnaCancelAuthorization, c.Market, resp, err)
		s.log.WarnContext(ctx, "cancelling authorization failed; it lapses within 60 minutes", "checkout", c.ID, "error", err, "correlation_id", klarna.CorrelationID(resp, err))
	}
}

// Klarna operations, as failures and logs name them.
const (
	klarnaCreateSession       = "create_session"
	klarnaUpdateSession       = "update_session"
	klarnaGetSession          = "get_session"
	klarnaCreateOrder         = "create_order"
	klarnaCancelAuthorization = "cancel_authorization"
	klarnaCustomerToken       = "generate_customer_token"
	klarnaGetOrder            = "get_order"
)

// notice records, for the operator, a failed background call that waiting
// will not cure: refused credentials or a market without an account. The
// caller logs the failure itself.
func (s *Service) notice(ctx context.Context, op, market string, resp *klarna.Response, err error) {
	if c := Classify(err); c == ClassCredentials || c == ClassMarket {
		s.problems.add(&Failure{Op: op, Class: c, Market: market, CorrelationID: klarna.CorrelationID(resp, err), Err: err}, s.now())
	}
}

// unknownOutcome reports an error after which an order may or may not exist.
func unknownOutcome(err error) bool {
	var re *klarna.RequestError
	if errors.As(err, &re) {
		return true
	}
	var ke *klarna.Error
	return errors.As(err, &ke) && (ke.StatusCode >= 500 || ke.StatusCode == 429)
}

// orderRequest rebuilds the order from the session payload of the checkout
// row that won the move to placing, so that the order is exactly what was
// priced and authorized. The merchant URLs carry the callback secret, which
// the stored payload does not.
func (s *Service) orderRequest(c *store.Checkout) (*klarna.OrderRequest, error) {
	var sr klarna.SessionRequest
	if err := json.Unmarshal([]byte(c.SessionPayload), &sr); err != nil {
		return nil, fmt.Errorf("checkout: reading stored session payload of %s: %w", c.ID, err)
	}
	urls := s.merchantURLs(c.ID, c.CallbackSecret)
	return &klarna.OrderRequest{
		PurchaseCountry: sr.PurchaseCountry, PurchaseCurrency: sr.PurchaseCurrency, Locale: sr.Locale,
		OrderAmount: sr.OrderAmount, OrderTaxAmount: sr.OrderTaxAmount, OrderLines: sr.OrderLines,
		MerchantReference1: sr.MerchantReference1,
		// Klarna sends fraud decisions to the notification URL given with
		// the order, not the session's.
		MerchantURLs: &klarna.MerchantURLs{Confirmation: urls.Confirmation, Notification: urls.Notification},
		// Goods are captured when they ship (package orders); only what is
		// delivered at once may be captured at creation, by policy.
		AutoCapture: klarna.Bool(s.autoCapture != nil && s.autoCapture(sr.OrderLines)),
	}, nil
}

// RedactSecret keeps the callback secret out of the payload copies that the
// orders area shows (the session's and the order request's). They are
// stored redacted; the orders area redacts them again as it shows them,
// for a row an older instance wrote during a rolling deploy.
func RedactSecret(payload, secret string) string {
	if secret == "" {
		return payload
	}
	return strings.ReplaceAll(payload, secret, "REDACTED")
}

// NewReference makes a short order reference a shopper can read out on the
// phone, such as "KS-7F3K9QXM".
func NewReference() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "KS-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// SecretMatches compares a callback's secret with the checkout's in
// constant time.
func SecretMatches(c *store.Checkout, secret string) bool {
	return constantTimeEqual(c.CallbackSecret, secret)
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
