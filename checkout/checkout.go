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

	"storefront/klarna"
	"storefront/shop"
	"storefront/store"
	"storefront/vault"
)

// Klarna is the part of the Klarna client the checkout needs.
type Klarna interface {
	CreateSession(ctx context.Context, req *klarna.SessionRequest) (*klarna.MerchantSession, *klarna.Response, error)
	UpdateSession(ctx context.Context, sessionID string, req *klarna.SessionUpdate) (*klarna.Response, error)
	CreateOrder(ctx context.Context, token string, req *klarna.OrderRequest) (*klarna.Order, *klarna.Response, error)
	CancelAuthorization(ctx context.Context, token string) (*klarna.Response, error)
	GenerateCustomerToken(ctx context.Context, token string, req *klarna.CustomerTokenRequest) (*klarna.CustomerToken, *klarna.Response, error)
	// GetSession tells whether a session became an order when create
	// order's answer was lost; GetOrderStatus re-reads a fraud decision.
	GetSession(ctx context.Context, sessionID string) (*klarna.Session, *klarna.Response, error)
	GetOrderStatus(ctx context.Context, orderID string) (*klarna.OrderStatus, *klarna.Response, error)
}

// Errors the shopper's page turns into a message and a way forward.
var (
	// ErrCartChanged: the cart is not what the shopper authorized.
	ErrCartChanged = errors.New("checkout: the cart changed after you approved the payment")
	// ErrReauthorize: Klarna no longer accepts this authorization (expired,
	// or not matching); the shopper must approve again.
	ErrReauthorize = errors.New("checkout: the payment approval can no longer be used")
	// ErrInProgress: the order is being confirmed by another request, or
	// Klarna's answer is late; the outcome will follow.
	ErrInProgress = errors.New("checkout: the order is still being confirmed")
	// ErrRefused: Klarna refused the order; the shopper may start again.
	ErrRefused = errors.New("checkout: Klarna could not place the order")
	// ErrUnavailable: Klarna could not be reached; nothing was changed.
	ErrUnavailable = errors.New("checkout: Klarna is not reachable right now")
	// ErrNotFound: no checkout for that session or reference.
	ErrNotFound = errors.New("checkout: unknown checkout")
)

// Service runs checkouts. Create it with New.
type Service struct {
	klarna  Klarna
	store   store.Store
	catalog *shop.Catalog
	baseURL string
	log     *slog.Logger
	now     func() time.Time
	// wait bounds how long a caller waits for another caller's placement.
	wait time.Duration
	// retryWaits are the pauses before asking Klarna again when a
	// create-order answer was lost.
	retryWaits []time.Duration
	// crash is called at each step of a placement; crash tests kill the
	// process there.
	crash func(step string)
	// sessions paces CreateSession calls under the merchant's Klarna quota.
	sessions *rate.Limiter
	// vault encrypts customer tokens before they are stored.
	vault *vault.Vault
	// started is when this process began: placements left before it belong
	// to a process that has gone.
	started time.Time

	bg sync.WaitGroup
}

// Options tune a Service; the zero value is sensible.
type Options struct {
	Logger     *slog.Logger
	Now        func() time.Time
	Wait       time.Duration
	RetryWaits []time.Duration
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
}

// New builds a Service. baseURL is the shop's public URL, used for the
// merchant URLs Klarna calls and redirects to.
func New(k Klarna, st store.Store, cat *shop.Catalog, baseURL string, o Options) *Service {
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
	if o.Crash == nil {
		o.Crash = func(string) {}
	}
	svc := &Service{klarna: k, store: st, catalog: cat, baseURL: strings.TrimRight(baseURL, "/"), log: o.Logger,
		now: o.Now, wait: o.Wait, retryWaits: o.RetryWaits, crash: o.Crash, vault: o.Vault, started: o.Now()}
	if o.SessionsPerSecond > 0 {
		svc.sessions = rate.NewLimiter(rate.Limit(o.SessionsPerSecond), max(1, int(o.SessionsPerSecond)))
	}
	return svc
}

// sessionMargin: a session this close to Klarna's 48-hour expiry is replaced
// rather than reused, so it cannot expire while the shopper pays.
const sessionMargin = 30 * time.Minute

// Begin prepares the Klarna session for the shopper's cart. It reuses the
// checkout named by existingID when its session is still valid for this
// market, updating it if the priced cart changed; otherwise it creates a new
// session and checkout. No personal data is sent.
func (s *Service) Begin(ctx context.Context, existingID string, cart shop.Cart, m shop.Market, locale string) (*store.Checkout, *shop.Priced, error) {
	priced, err := shop.Price(cart, m, locale, s.catalog, s.baseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("checkout: pricing cart: %w", err)
	}
	if existingID != "" {
		c, err := s.store.Checkout(ctx, existingID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, nil, err
		case c.State == store.StatePlacing:
			return c, priced, ErrInProgress
		case c.State == store.StateOpen && c.Market == m.Code && c.Locale == priced.Locale && s.now().Add(sessionMargin).Before(c.SessionExpiresAt):
			if c.CartHash == priced.Hash() {
				return c, priced, nil
			}
			updated, err := s.update(ctx, c, cart, priced)
			if err == nil {
				return updated, priced, nil
			}
			if !klarna.IsNotFound(err) {
				return nil, nil, err
			}
			// Klarna forgot the session (expired early): start a new one.
		}
	}
	c, err := s.create(ctx, cart, priced)
	return c, priced, err
}

func (s *Service) sessionRequest(p *shop.Priced, ref, secret string) *klarna.SessionRequest {
	intent := klarna.IntentBuy
	if p.Plan != nil {
		// A subscription needs a customer token as well as the order.
		intent = klarna.IntentBuyAndTokenize
	}
	return &klarna.SessionRequest{
		PurchaseCountry: p.Market.Code, PurchaseCurrency: p.Market.Currency, Locale: p.Locale,
		OrderAmount: p.Total, OrderTaxAmount: p.Tax, OrderLines: p.OrderLines,
		Intent: intent, MerchantReference1: ref,
		MerchantURLs: &klarna.MerchantURLs{
			Confirmation:  s.baseURL + "/confirmation/" + ref,
			Authorization: s.baseURL + "/klarna/authorization?checkout=" + ref + "&secret=" + secret,
			Notification:  s.baseURL + "/klarna/notification?checkout=" + ref + "&secret=" + secret,
		},
		Options: &klarna.Options{ColorBorderSelected: "#17120F", ColorDetails: "#17120F", RadiusBorder: "10px"},
	}
}

func (s *Service) create(ctx context.Context, cart shop.Cart, p *shop.Priced) (*store.Checkout, error) {
	if s.sessions != nil {
		// Wait briefly for quota rather than collect 429s from Klarna.
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.sessions.Wait(wctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w (session quota busy)", ErrUnavailable)
		}
	}
	ref, secret := NewReference(), randomHex(32)
	req := s.sessionRequest(p, ref, secret)
	ms, resp, err := s.klarna.CreateSession(ctx, req)
	if err != nil {
		s.log.ErrorContext(ctx, "creating klarna session failed", "checkout", ref, "error", err, "correlation_id", correlation(resp, err))
		return nil, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	payload, _ := json.Marshal(req)
	cats, _ := json.Marshal(ms.PaymentMethodCategories)
	now := s.now()
	c := &store.Checkout{
		ID: ref, SessionID: ms.SessionID, ClientToken: ms.ClientToken, Categories: string(cats), Market: p.Market.Code, Locale: p.Locale, Currency: p.Market.Currency,
		Cart: cart.Encode(), CartHash: p.Hash(), Amount: p.Total, TaxAmount: p.Tax, SessionPayload: redactSecret(string(payload), secret),
		CallbackSecret: secret, State: store.StateOpen, CorrelationID: resp.CorrelationID,
		CreatedAt: now, UpdatedAt: now, SessionExpiresAt: now.Add(48 * time.Hour),
	}
	if err := s.store.CreateCheckout(ctx, c); err != nil {
		// The Klarna session is left to expire on its own: it has no
		// authorization and nothing refers to it.
		return nil, fmt.Errorf("checkout: saving checkout %s: %w", ref, err)
	}
	s.log.InfoContext(ctx, "checkout started", "checkout", ref, "market", p.Market.Code, "amount", p.Total, "currency", p.Market.Currency, "correlation_id", resp.CorrelationID)
	return c, nil
}

func (s *Service) update(ctx context.Context, c *store.Checkout, cart shop.Cart, p *shop.Priced) (*store.Checkout, error) {
	req := s.sessionRequest(p, c.ID, c.CallbackSecret)
	resp, err := s.klarna.UpdateSession(ctx, c.SessionID, &klarna.SessionUpdate{
		OrderAmount: klarna.Int64(p.Total), OrderTaxAmount: klarna.Int64(p.Tax), OrderLines: p.OrderLines, Locale: p.Locale, Intent: req.Intent,
	})
	if err != nil {
		s.log.WarnContext(ctx, "updating klarna session failed", "checkout", c.ID, "error", err, "correlation_id", correlation(resp, err))
		if klarna.IsNotFound(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%w (%v)", ErrUnavailable, err)
	}
	payload, _ := json.Marshal(req)
	r := store.Repricing{Cart: cart.Encode(), CartHash: p.Hash(), SessionPayload: redactSecret(string(payload), c.CallbackSecret),
		Amount: p.Total, TaxAmount: p.Tax, SessionExpiresAt: s.now().Add(48 * time.Hour)}
	ok, err := s.store.Reprice(ctx, c.ID, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInProgress
	}
	s.log.InfoContext(ctx, "checkout repriced", "checkout", c.ID, "amount", p.Total, "correlation_id", resp.CorrelationID)
	return s.store.Checkout(ctx, c.ID)
}

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
// of times: the first moves the checkout from open to placing (a
// compare-and-set in the store) and calls Klarna; every other caller gets
// that same order back. cartHash, when not empty, is the hash of the cart as
// the shopper's session prices it now: a difference means the cart changed
// after authorization (another tab), which is caught before calling Klarna.
func (s *Service) Place(ctx context.Context, sessionID, token string, src Source, cartHash string) (*store.Checkout, error) {
	c, err := s.store.CheckoutBySession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	log := s.log.With("checkout", c.ID, "source", string(src))
	s.crash("received")
	switch {
	case c.State.IsOrder():
		return c, nil
	case c.State == store.StateFailed:
		return c, ErrRefused
	case c.State == store.StatePlacing:
		return s.awaitOther(ctx, c.ID)
	}
	if cartHash != "" && cartHash != c.CartHash {
		log.InfoContext(ctx, "cart changed after authorization; releasing it")
		s.cancel(ctx, c.ID, token)
		return c, ErrCartChanged
	}
	won, err := s.store.Transition(ctx, c.ID, []store.State{store.StateOpen}, store.StatePlacing, store.Changes{AuthorizationToken: &token})
	if err != nil {
		return nil, err
	}
	if !won {
		return s.awaitOther(ctx, c.ID)
	}
	log.InfoContext(ctx, "placing order")
	s.crash("placing")
	return s.createOrder(ctx, c, token, log, false)
}

// createOrder calls Klarna for a checkout this caller moved to placing, and
// settles the state from the answer. uncertain says an earlier attempt may
// already have created the order (a lost answer, a crash, recovery).
func (s *Service) createOrder(ctx context.Context, c *store.Checkout, token string, log *slog.Logger, uncertain bool) (*store.Checkout, error) {
	req, err := orderRequest(c.SessionPayload)
	if err != nil {
		return nil, err
	}
	var (
		order *klarna.Order
		resp  *klarna.Response
	)
	for attempt := 0; ; attempt++ {
		order, resp, err = s.klarna.CreateOrder(ctx, token, req)
		if err == nil || !unknownOutcome(err) || attempt >= len(s.retryWaits) {
			break
		}
		// The order may or may not exist at Klarna. Asking again with the
		// same token is safe: Klarna ties the order to the authorization,
		// so a repeat cannot create a second one.
		uncertain = true
		log.WarnContext(ctx, "create order outcome unknown; asking again", "error", err, "correlation_id", correlation(resp, err))
		select {
		case <-time.After(s.retryWaits[attempt]):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	corr := correlation(resp, err)
	switch {
	case err == nil:
		s.crash("ordered")
		return s.finish(ctx, c.ID, order, req, corr, log)
	case unknownOutcome(err):
		// Leave it placing with the token stored: Recover settles it.
		msg := "Klarna's answer did not arrive: " + err.Error()
		s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StatePlacing, store.Changes{LastError: &msg, CorrelationID: &corr})
		log.ErrorContext(ctx, "create order outcome unknown; will resolve later", "error", err, "correlation_id", corr)
		return nil, ErrInProgress
	case uncertain && s.orderExists(ctx, c, log):
		// An earlier attempt created the order and Klarna will not repeat
		// its answer. The order is real: record it as placed, and tell the
		// operator to find its Klarna id by our reference.
		msg := "Klarna has this order but did not repeat its id: look it up by merchant reference " + c.ID
		now, fraud := s.now(), "UNKNOWN"
		s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StatePlaced, store.Changes{LastError: &msg, CorrelationID: &corr, FraudStatus: &fraud, PlacedAt: &now})
		log.ErrorContext(ctx, "order exists at Klarna without a known id; needs an operator", "correlation_id", corr)
		return s.store.Checkout(ctx, c.ID)
	case klarna.IsNotMatching(err) || klarna.IsNotFound(err):
		msg := err.Error()
		s.cancel(ctx, c.ID, token)
		s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StateOpen, store.Changes{LastError: &msg, CorrelationID: &corr})
		log.WarnContext(ctx, "authorization not usable; shopper must approve again", "error", err, "correlation_id", corr)
		return nil, ErrReauthorize
	default:
		msg := err.Error()
		s.cancel(ctx, c.ID, token)
		s.store.Transition(ctx, c.ID, []store.State{store.StatePlacing}, store.StateFailed, store.Changes{LastError: &msg, CorrelationID: &corr})
		log.ErrorContext(ctx, "klarna refused the order", "error", err, "correlation_id", corr)
		return nil, ErrRefused
	}
}

func (s *Service) finish(ctx context.Context, id string, o *klarna.Order, req *klarna.OrderRequest, corr string, log *slog.Logger) (*store.Checkout, error) {
	to := store.StatePlaced
	switch o.FraudStatus {
	case klarna.FraudPending:
		to = store.StatePendingReview
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
	payload, _ := json.Marshal(req)
	now := s.now()
	fraud, empty := string(o.FraudStatus), ""
	ok, err := s.store.Transition(ctx, id, []store.State{store.StatePlacing}, to, store.Changes{
		KlarnaOrderID: &o.OrderID, FraudStatus: &fraud, PaymentMethod: &method, RedirectURL: &o.RedirectURL,
		OrderPayload: p(string(payload)), LastError: &empty, CorrelationID: &corr, PlacedAt: &now,
	})
	if err != nil {
		// Klarna has the order; the next Recover run records it.
		return nil, fmt.Errorf("checkout: recording order %s: %w", id, err)
	}
	if !ok {
		log.WarnContext(ctx, "order settled by another caller", "klarna_order_id", o.OrderID)
	}
	s.crash("recorded")
	log.InfoContext(ctx, "order placed", "state", string(to), "klarna_order_id", o.OrderID, "fraud_status", fraud, "correlation_id", corr)
	c, err := s.store.Checkout(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok && c.Subscription.Status == store.SubscriptionNone {
		if plan := subscriptionPlan(c.SessionPayload); plan != nil {
			// The order stands whatever happens to the token.
			s.tokenize(ctx, c, plan, log)
			return s.store.Checkout(ctx, id)
		}
	}
	return c, nil
}

func p(v string) *string { return &v }

// awaitOther waits for the caller that is placing the order to finish.
func (s *Service) awaitOther(ctx context.Context, id string) (*store.Checkout, error) {
	deadline := s.now().Add(s.wait)
	for {
		c, err := s.store.Checkout(ctx, id)
		if err != nil {
			return nil, err
		}
		switch {
		case c.State.IsOrder():
			return c, nil
		case c.State == store.StateFailed:
			return c, ErrRefused
		case c.State == store.StateOpen:
			return c, ErrReauthorize
		}
		if s.now().After(deadline) {
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
// which must be answered quickly. Wait waits for these at shutdown.
func (s *Service) PlaceInBackground(sessionID, token string) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.Place(ctx, sessionID, token, FromCallback, ""); err != nil && !errors.Is(err, ErrInProgress) {
			s.log.Warn("callback placement did not place an order", "error", err)
		}
	}()
}

// Wait blocks until background placements have finished.
func (s *Service) Wait() { s.bg.Wait() }

// Checkout returns a checkout by reference.
func (s *Service) Checkout(ctx context.Context, ref string) (*store.Checkout, error) {
	c, err := s.store.Checkout(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return c, err
}

// Orders lists recent orders for the orders area.
func (s *Service) Orders(ctx context.Context, limit int) ([]*store.Checkout, error) {
	return s.store.Orders(ctx, limit)
}

// cancel releases an authorization that will not become an order. A
// failure is logged, not returned: the authorization then lapses on its own
// after 60 minutes.
func (s *Service) cancel(ctx context.Context, ref, token string) {
	resp, err := s.klarna.CancelAuthorization(ctx, token)
	if err != nil && !klarna.IsNotFound(err) {
		s.log.WarnContext(ctx, "cancelling authorization failed", "checkout", ref, "error", err, "correlation_id", correlation(resp, err))
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

func correlation(resp *klarna.Response, err error) string {
	var ke *klarna.Error
	if errors.As(err, &ke) {
		return ke.CorrelationID
	}
	if resp != nil {
		return resp.CorrelationID
	}
	return ""
}

// orderRequest rebuilds the order from the session payload that the shopper
// authorized, so the two cannot differ.
func orderRequest(sessionPayload string) (*klarna.OrderRequest, error) {
	var sr klarna.SessionRequest
	if err := json.Unmarshal([]byte(sessionPayload), &sr); err != nil {
		return nil, fmt.Errorf("checkout: reading stored session payload: %w", err)
	}
	return &klarna.OrderRequest{
		PurchaseCountry: sr.PurchaseCountry, PurchaseCurrency: sr.PurchaseCurrency, Locale: sr.Locale,
		OrderAmount: sr.OrderAmount, OrderTaxAmount: sr.OrderTaxAmount, OrderLines: sr.OrderLines,
		MerchantReference1: sr.MerchantReference1,
		MerchantURLs:       &klarna.MerchantURLs{Confirmation: sr.MerchantURLs.Confirmation},
		AutoCapture:        klarna.Bool(false),
	}, nil
}

// redactSecret keeps the callback secret out of the payload copy that the
// orders area shows.
func redactSecret(payload, secret string) string {
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
