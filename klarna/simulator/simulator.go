// Package simulator is an offline stand-in for Klarna: the Payments REST API
// v1 with Klarna's validation rules and lifecycles, a stand-in for the JS SDK
// (Klarna.Payments.*) with an authorize dialog, the server callbacks, Order
// Management v1 and the Customer Token API v1, fault injection and an
// inspector. It is an http.Handler, usable by any integration: mount it under
// a prefix of your own server, or run it alone with cmd/klarna-sim.
//
// Where Klarna's behaviour is not documented (docs/KLARNA.md, "Open
// questions") the simulator makes a choice, the stricter one by default, and says so in a
// comment starting "Choice:".
//
// # Regions
//
// Klarna's three regions have their own API hosts and their own
// credentials. The simulator serves each region's API under a prefix of its
// root: /eu/, /na/ and /oc/ stand for api, api-na and api-oc.klarna.com, each
// with its own credentials (Config.Regions); a regional host refuses
// another region's credentials (401) and another region's countries (400
// BAD_VALUE naming purchase_country), and does not know what another
// region's host made. The root serves every region with Config.Username and
// Password. RegionURL gives a regional host's base URL; regions.go explains
// the choices.
//
// # Test data
//
// A tag in the billing e-mail given to authorize chooses the outcome
// without the dialog: the simulator's own tags (anna+approve@example.com,
// +pending, +finalize, +invalid, +abort, +decline) and Klarna's playground
// test identities (customer@email.us, customer+us+denied@klarna.com,
// customer+pend-reject-05@email.us …; identities.go).
//
// # Order Management
//
// Every order, placed with an authorization or charged to a customer token,
// can be read, captured, refunded, cancelled, released and extended under
// /ordermanagement/v1/orders/{id} with Klarna's rules (ordermanagement.go):
// captures up to the remaining authorized amount, before expires_at (created
// + Config.OrderAuthorizationLifetime, 28 days by default), never while the
// fraud status is PENDING or REJECTED (403 CAPTURE_NOT_ALLOWED); refunds up
// to captured minus refunded (403 REFUND_NOT_ALLOWED); cancel only without
// captures (403 CANCEL_NOT_ALLOWED); release and extend refused with 403
// NOT_ALLOWED when the order's state does not allow them. Status and
// remaining_authorized_amount follow the simulator's clock (Advance, POST
// /_sim/clock): AUTHORIZED, PART_CAPTURED, CAPTURED, CANCELLED, EXPIRED and
// CLOSED (after a release).
//
// Writes honour Klarna-Idempotency-Key for 24 hours of simulated time: a
// repeat gets the first answer (status, headers, body) and does not run
// again, whatever its body. Writes without a key are accepted, as Klarna
// accepts them, and counted in State.UnkeyedWrites (the inspector shows
// them); Config.RequireIdempotencyKey refuses them.
//
// # Customer tokens
//
// Tokens made by generate_customer_token can be charged (POST
// /customer-token/v1/tokens/{token}/order), read and cancelled (PATCH
// …/status, 202). Renewals join the other orders, so Order Management works
// on them. Every line of a renewal must carry its subscription object. Test
// data chooses what charging a token does, in three equivalent ways: tags in
// the shopper's billing e-mail at authorization (for example
// ada+approve+token_soft_decline@example.com), the widget's dialog choices
// for tokenizing sessions ("approve+token_soft_decline" as an outcome), or,
// once the token exists, SetTokenBehaviour or POST /_sim/tokens/{token_id}
// with a JSON body:
//
//	tag / dialog choice  JSON body of POST /_sim/tokens/{id}       charging the token
//	token_soft_decline   {"soft_declines": 2}                      the next 2 charges: 403 PAYMENT_METHOD_FAILED, then success
//	token_hard_decline   {"decline": "UNAVAILABLE_PAYMENT_METHOD"}  every charge: 403 UNAVAILABLE_PAYMENT_METHOD
//	token_suspended      {"status": "SUSPENDED"}                   every charge: 403 TOKEN_SUSPENDED; a read shows SUSPENDED
//	token_pending        {"pending": true}                         renewal orders have fraud_status PENDING
//	-                    {"decline": "<code>"}                     every charge: 403 <code>: UNAVAILABLE_PAYMENT_METHOD,
//	                                                               PAYMENT_METHOD_CURRENCY_MISMATCH, TOKEN_FORBIDDEN or PAYMENT_METHOD_FAILED
//	-                    {"status": "ACTIVE"}                      a suspended token works again
//	-                    {"status": "CANCELLED"}                   as if cancelled: 403 TOKEN_CANCELLED
//
// Without test data a charge succeeds; an unknown token gives 404
// TOKEN_NOT_FOUND, a cancelled one 403 TOKEN_CANCELLED, another currency
// than the token's 403 PAYMENT_METHOD_CURRENCY_MISMATCH.
//
// # Control endpoints and faults
//
// Besides the inspector (GET /_sim/) and its JSON (GET /_sim/state, with
// every order's OrderRecord), tests drive the simulator with POST
// /_sim/reset, POST and DELETE /_sim/faults, POST /_sim/clock
// ({"advance":"61m"}), POST /_sim/orders/{id}/decide and POST
// /_sim/tokens/{id}, or with the matching Go methods. Faults (ParseFaults)
// apply per operation, one of the Op constants; "lost" runs the operation
// and drops its answer, which with an idempotency key makes a retry safe.
// Tokens and customer tokens are never shown whole: the inspector, the state
// and the recorded paths shorten them.
package simulator

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

//go:embed assets
var assets embed.FS

// DefaultMaxSessions is how many sessions, with their authorizations and
// orders, the simulator keeps in memory unless Config.MaxSessions says.
const DefaultMaxSessions = 10000

// Lifetimes Klarna documents.
const (
	SessionLifetime       = 48 * time.Hour
	AuthorizationLifetime = 60 * time.Minute
	// DefaultOrderAuthorizationLifetime is an order's default time to
	// capture (Config.OrderAuthorizationLifetime).
	DefaultOrderAuthorizationLifetime = 28 * 24 * time.Hour
	// ExtensionWindow is how long after an order's creation its
	// authorization time can still be extended.
	ExtensionWindow = 180 * 24 * time.Hour
	// IdempotencyWindow is how long Klarna remembers an idempotency key.
	IdempotencyWindow = 24 * time.Hour
)

// Config configures a Simulator. Only BaseURL is required.
type Config struct {
	// BaseURL is where browsers and the merchant's server reach the
	// simulator's root, for example "http://127.0.0.1:8080/klarna-sim". It
	// goes into client tokens, asset URLs and redirect URLs.
	BaseURL string
	// Username and Password are the API credentials the REST API accepts
	// (HTTP Basic) at the root, and at each regional host without its own
	// in Regions. With an empty Username any credentials are accepted.
	Username, Password string
	// Regions are the credentials of the regional hosts, keyed by region
	// ("eu", "na", "oc"), served under /eu/, /na/ and /oc/ like Klarna's
	// api, api-na and api-oc hosts (see regions.go).
	Regions map[string]Credentials
	// CallbackDelay is how long after an approval the authorization callback
	// is sent (default 0: at once). CallbackAttempts bounds its delivery
	// (default 4), with waits doubling from CallbackBackoff (default 1s).
	CallbackDelay    time.Duration
	CallbackAttempts int
	CallbackBackoff  time.Duration
	// DisableCallbacks turns off authorization callbacks and notifications.
	DisableCallbacks bool
	// PendingDecisionDelay decides PENDING orders automatically after this
	// long with PendingDecision ("accept", "reject" or "stop"; default
	// accept). Zero leaves the decision to the inspector or the control API.
	PendingDecisionDelay time.Duration
	PendingDecision      string
	// ReplayOrders makes a repeated create order with a token that already
	// made an order return that order again. Klarna does not document what
	// it does (docs/KLARNA.md, open question 1), so by default the simulator takes the
	// stricter answer and refuses the repeat with 404, as for a spent token;
	// integrations must survive both.
	ReplayOrders bool
	// OrderAuthorizationLifetime is how long after its creation (or its last
	// extension) an order can be captured: its expires_at (default 28 days,
	// Klarna's default; some merchant accounts get up to 180 days).
	OrderAuthorizationLifetime time.Duration
	// RequireIdempotencyKey refuses Order Management and Customer Token
	// writes sent without Klarna-Idempotency-Key (400 BAD_REQUEST). Klarna
	// accepts them; by default the simulator does too and counts them
	// (State.UnkeyedWrites), so a test can assert there were none.
	RequireIdempotencyKey bool
	// MaxSessions bounds the state kept in memory (DefaultMaxSessions); the
	// oldest sessions, with their authorizations and orders, are evicted.
	MaxSessions int
	// Faults are injected faults in the syntax of ParseFaults.
	Faults string
	// AllowedOrigins are where the simulator may send callbacks and
	// redirect shoppers: origins such as "https://shop.example" or
	// "http://127.0.0.1:8080", "http://localhost:*" for any port, or "*"
	// for anywhere (tests only). A session or order whose merchant_urls
	// point elsewhere is refused with 400 BAD_VALUE. Empty means this
	// machine only: http(s) on localhost, 127.0.0.1 and [::1], any port.
	AllowedOrigins []string
	// HTTPClient sends callbacks (default: 5s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now); the control API can move it on.
	Now    func() time.Time
	Logger *slog.Logger
}

// Simulator is the fake Klarna. Create it with New, serve it, Close it.
type Simulator struct {
	cfg  Config
	base *url.URL // cfg.BaseURL
	key  []byte   // signs client tokens (jwt.go)
	kid  string
	mux  *http.ServeMux
	http *http.Client
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	origins     origins
	crossOrigin *http.CrossOriginProtection

	mu       sync.Mutex
	offset   time.Duration
	sessions map[string]*session
	order    []string // session ids, oldest first, for eviction
	auths    map[string]*authorization
	orders   map[string]*order
	tokens   map[string]*customerToken
	calls    []*CallbackRecord
	requests []*requestRecord
	counts   map[string]int
	faults   map[string][]*Fault
	keys     map[string]*keyEntry // idempotency keys (idempotency.go)
	keyOrder []keyRef             // keys, oldest first, for eviction
	unkeyed  map[string]int       // writes without an idempotency key, per operation
}

type session struct {
	ID string
	// Region is the regional host that made the session; "" is the root.
	Region      string
	Data        wireSession
	ClientToken string
	Categories  []category
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Status      string // incomplete | complete
	// LastToken is the newest authorization token (session read shows it).
	LastToken string
	// Finalize holds an authorization that awaits Klarna.Payments.finalize.
	Finalize *pendingFinalize
	// What belongs to the session, so that evicting it is cheap.
	tokens, orderIDs, customerTokens []string
}

type pendingFinalize struct {
	Category  string
	Pending   bool
	Plan      *pendingPlan
	TokenTags []string
}

type authorization struct {
	Token     string
	SessionID string
	Snapshot  wireSession
	Category  string
	Pending   bool // the order will be PENDING fraud review
	// Plan, from a playground test identity, decides the pending order.
	Plan      *pendingPlan
	CreatedAt time.Time
	State     string // active | used | cancelled | failed
	Failure   *apiError
	OrderID   string
	TokenID   string
	Callback  string // merchant_urls.authorization at the time of approval
	// TokenTags is token test data chosen in the authorize dialog
	// ("approve+token_soft_decline"), for the customer token made from it.
	TokenTags []string
}

type order struct {
	ID          string
	SessionID   string
	Token       string
	Amount      int64
	Currency    string
	FraudStatus string
	// DecideAt and DecideWith are a decision test data planned (simulated
	// time; see decideDue).
	DecideAt     *time.Time
	DecideWith   string
	Category     string
	Confirmation string
	Notification string
	Reference1   string
	CreatedAt    time.Time
	DecidedAt    *time.Time
	Response     json.RawMessage
	om           managed // Order Management state (ordermanagement.go)
}

type customerToken struct {
	ID          string
	Token       string
	SessionID   string
	Description string
	CreatedAt   time.Time
	Response    json.RawMessage
	ct          tokenState // Customer Token API state (tokens.go)
}

// CallbackRecord is one attempt to deliver a callback or notification.
type CallbackRecord struct {
	Kind      string    `json:"kind"` // authorization | notification
	URL       string    `json:"url"`
	Body      string    `json:"body"`
	Attempt   int       `json:"attempt"`
	Status    int       `json:"status"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
	SessionID string    `json:"session_id,omitempty"`
	OrderID   string    `json:"order_id,omitempty"`
}

type requestRecord struct {
	At        time.Time `json:"at"`
	Operation string    `json:"operation"`
	// Region is the regional host the request came to; empty for the root.
	Region        string `json:"region,omitempty"`
	Method        string `json:"method"`
	Path          string `json:"path"`
	Status        int    `json:"status"`
	CorrelationID string `json:"correlation_id"`
	Body          string `json:"body,omitempty"`
	Fault         string `json:"fault,omitempty"`
	// Replay: the answer was the stored one for a repeated idempotency key.
	Replay bool `json:"idempotent_replay,omitempty"`
	// NoKey: an Order Management or Customer Token write without a key.
	NoKey bool `json:"without_idempotency_key,omitempty"`
}

const maxRecords = 2000

// New builds a simulator. Call Close to stop its background deliveries.
func New(cfg Config) (*Simulator, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("simulator: BaseURL is required")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("simulator: BaseURL %q is not an absolute URL", cfg.BaseURL)
	}
	for r := range cfg.Regions {
		if regionNames[r] == "" {
			return nil, fmt.Errorf("simulator: unknown region %q in Regions (want eu, na or oc)", r)
		}
	}
	if cfg.CallbackAttempts <= 0 {
		cfg.CallbackAttempts = 4
	}
	if cfg.CallbackBackoff <= 0 {
		cfg.CallbackBackoff = time.Second
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.OrderAuthorizationLifetime <= 0 {
		cfg.OrderAuthorizationLifetime = DefaultOrderAuthorizationLifetime
	}
	if cfg.PendingDecision == "" {
		cfg.PendingDecision = "accept"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		// Callbacks go to one shop, hundreds a second under load: keep
		// their connections (Go's default keeps two per host, and opening
		// a connection per callback cost both sides more than the call).
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		hc = &http.Client{Timeout: 5 * time.Second, Transport: t}
	}
	faults, err := ParseFaults(cfg.Faults)
	if err != nil {
		return nil, err
	}
	allowed, err := parseOrigins(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	// Choice: client tokens are signed with HS256 under a random key rather
	// than with Klarna's RS256: only the simulator itself checks them (no
	// integration may; only Klarna's own JS does), and an HMAC is about a
	// hundred times cheaper, so that the simulator is not what limits a
	// load test.
	key := make([]byte, 32)
	if _, err := cryptorand.Read(key); err != nil {
		return nil, fmt.Errorf("simulator: generating signing key: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Simulator{
		cfg: cfg, base: base, key: key, kid: uuid.NewString(), http: hc, log: cfg.Logger,
		ctx: ctx, cancel: cancel, origins: allowed, crossOrigin: http.NewCrossOriginProtection(),
	}
	s.resetLocked()
	for _, f := range faults {
		s.faults[f.Operation] = append(s.faults[f.Operation], f)
	}
	s.routes()
	return s, nil
}

// Close stops pending callbacks and notifications and waits for them.
func (s *Simulator) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// ServeHTTP implements http.Handler. Paths under /eu/, /na/ and /oc/ are
// the regional hosts' APIs (regions.go).
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if region, _, ok := splitRegion(r.URL.Path); ok {
		r = r.WithContext(context.WithValue(r.Context(), regionKey{}, region))
		http.StripPrefix("/"+region, s.mux).ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// RegionURL is the base URL of a regional host ("eu", "na" or "oc"), the
// counterpart of Klarna's https://api-na.klarna.com/ for "na".
func (s *Simulator) RegionURL(region string) string { return s.cfg.BaseURL + "/" + region }

// BaseURL is the simulator's public root URL.
func (s *Simulator) BaseURL() string { return s.cfg.BaseURL }

// ScriptURL is the URL of the JS SDK stand-in, the counterpart of
// https://x.klarnacdn.net/kp/lib/v1/api.js.
func (s *Simulator) ScriptURL() string { return s.cfg.BaseURL + "/kp/lib/v1/api.js" }

// MessagingScriptURL is the on-site messaging stand-in, in place of
// https://js.klarna.com/web-sdk/v1/klarna.js.
func (s *Simulator) MessagingScriptURL() string { return s.cfg.BaseURL + "/web-sdk/v1/klarna.js" }

// Reset forgets all state and faults, for tests.
func (s *Simulator) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Simulator) resetLocked() {
	s.offset = 0
	s.sessions = map[string]*session{}
	s.order = nil
	s.auths = map[string]*authorization{}
	s.orders = map[string]*order{}
	s.tokens = map[string]*customerToken{}
	s.calls = nil
	s.requests = nil
	s.counts = map[string]int{}
	s.faults = map[string][]*Fault{}
	s.keys = map[string]*keyEntry{}
	s.keyOrder = nil
	s.unkeyed = map[string]int{}
}

// Advance moves the simulator's clock on, to expire sessions and
// authorizations in tests.
func (s *Simulator) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
	s.decideDue()
}

func (s *Simulator) now() time.Time { return s.cfg.Now().Add(s.offset) }

// Count returns how many times an operation was executed (not counting
// requests refused by an injected fault before they ran).
func (s *Simulator) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

func (s *Simulator) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /payments/v1/sessions", s.api(OpCreateSession, s.createSession))
	m.HandleFunc("GET /payments/v1/sessions/{id}", s.api(OpGetSession, s.getSession))
	m.HandleFunc("POST /payments/v1/sessions/{id}", s.api(OpUpdateSession, s.updateSession))
	m.HandleFunc("DELETE /payments/v1/authorizations/{token}", s.api(OpCancelAuthorization, s.cancelAuthorization))
	m.HandleFunc("POST /payments/v1/authorizations/{token}/order", s.api(OpCreateOrder, s.createOrder))
	m.HandleFunc("POST /payments/v1/authorizations/{token}/customer-token", s.api(OpCustomerToken, s.createCustomerToken))
	s.orderManagementRoutes(m)
	s.customerTokenRoutes(m)

	m.HandleFunc("GET /kp/lib/v1/api.js", s.asset("assets/api.js", "text/javascript; charset=utf-8"))
	m.HandleFunc("GET /kp/lib/v1/sim.css", s.asset("assets/sim.css", "text/css; charset=utf-8"))
	// On-site messaging: a stand-in for Klarna's web SDK (js.klarna.com/web-sdk/v1/klarna.js).
	m.HandleFunc("GET /web-sdk/v1/klarna.js", s.asset("assets/osm.js", "text/javascript; charset=utf-8"))
	m.HandleFunc("GET /web-sdk/v1/osm.css", s.asset("assets/osm.css", "text/css; charset=utf-8"))
	m.HandleFunc("GET /assets/badges/{name}", s.badge)
	m.HandleFunc("POST /browser/load", s.browser(s.browserLoad))
	m.HandleFunc("POST /browser/authorize", s.browser(s.browserAuthorize))
	m.HandleFunc("POST /browser/finalize", s.browser(s.browserFinalize))
	m.HandleFunc("OPTIONS /browser/", s.browserPreflight)
	m.HandleFunc("GET /redirect/{order}", s.checkRedirect(s.redirect))

	m.HandleFunc("GET /_sim/{$}", s.inspector)
	m.HandleFunc("GET /_sim/inspector.js", s.asset("assets/inspector.js", "text/javascript; charset=utf-8"))
	m.HandleFunc("GET /_sim/state", s.stateJSON)
	m.HandleFunc("POST /_sim/reset", s.control(func(w http.ResponseWriter, r *http.Request) { s.Reset(); w.WriteHeader(http.StatusNoContent) }))
	m.HandleFunc("POST /_sim/faults", s.control(s.setFaults))
	m.HandleFunc("DELETE /_sim/faults", s.control(func(w http.ResponseWriter, r *http.Request) { s.ClearFaults(); w.WriteHeader(http.StatusNoContent) }))
	m.HandleFunc("POST /_sim/clock", s.control(s.moveClock))
	m.HandleFunc("POST /_sim/orders/{id}/decide", s.control(s.decideHandler))
	m.HandleFunc("POST /_sim/tokens/{id}", s.control(s.tokenControl))
	s.mux = m
}

// apiError is Klarna's error body.
type apiError struct {
	Status        int      `json:"-"`
	CorrelationID string   `json:"correlation_id"`
	ErrorCode     string   `json:"error_code"`
	ErrorMessages []string `json:"error_messages"`
}

func errorResult(status int, code string, msgs ...string) result {
	return result{status: status, err: &apiError{Status: status, ErrorCode: code, ErrorMessages: msgs}}
}

// result is what an operation produced, written by api() so that faults such
// as "answer lost" can act after the operation ran.
type result struct {
	status int
	body   any
	err    *apiError
	// header holds response headers such as Capture-Id and Location.
	header map[string]string
	// replay is set when the answer is a stored one, repeated for an
	// idempotency key: corr is the first answer's correlation id, and the
	// operation did not run again.
	replay bool
	corr   string
	// noKey marks a write that came without an idempotency key.
	noKey bool
}

func (s *Simulator) asset(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-cache")
		// Like Klarna's CDN: a merchant page on another origin may read the
		// widget's files (accessibility checkers fetch stylesheets to
		// inspect them).
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(b)
	}
}

// badgeLabels are the badges' words beyond English.
var badgeLabels = map[string]map[string]string{
	"pay_later":     {"sv": "Betala senare", "de": "Später zahlen", "nl": "Later betalen"},
	"pay_over_time": {"sv": "Dela upp", "de": "In 3 Raten", "nl": "In 3 delen"},
	"pay_now":       {"sv": "Betala nu", "de": "Sofort zahlen", "nl": "Nu betalen"},
}

// badge serves our own SVG badge for a payment method category.
func (s *Simulator) badge(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(r.PathValue("name"), ".svg")
	label := map[string]string{"pay_later": "Pay later", "pay_over_time": "Pay in 3", "pay_now": "Pay now"}[name]
	if label == "" {
		http.NotFound(w, r)
		return
	}
	if l, ok := badgeLabels[name][r.URL.Query().Get("lang")]; ok {
		label = l
	}
	size := 12
	if len([]rune(label)) > 10 {
		size = 10 // "Betala senare (sim)" in 120 pixels
	}
	label = html.EscapeString(label)
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="28" viewBox="0 0 120 28" role="img" aria-label="%s"><rect width="120" height="28" rx="6" fill="#ffb3c7"/><text x="60" y="18" font-family="sans-serif" font-size="%d" font-weight="700" text-anchor="middle" fill="#17120f">%s (sim)</text></svg>`, label, size, label)
}

func (s *Simulator) categoriesJSON(cats []category, locale string) []map[string]any {
	out := make([]map[string]any, len(cats))
	for i, c := range cats {
		u := s.cfg.BaseURL + "/assets/badges/" + c.Identifier + ".svg" + badgeQuery(locale)
		out[i] = map[string]any{"identifier": c.Identifier, "name": c.nameIn(locale), "asset_urls": map[string]string{"descriptive": u, "standard": u}}
	}
	return out
}

// badgeQuery asks for a badge in a locale's language, beyond English.
func badgeQuery(locale string) string {
	lang, _, _ := strings.Cut(locale, "-")
	if _, ok := categoryNames["pay_later"][lang]; ok {
		return "?lang=" + lang
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		json.NewEncoder(w).Encode(v)
	}
}

// readBody reads at most Klarna's 1 MB request limit; over it is 413.
// A declared length sizes the buffer (io.ReadAll would grow it from 512
// bytes, copying an order's body four times), but only as a hint: a
// handler mounted behind middleware may get a body that is not the length
// the request declared (decompressed, or built by a test), and a client
// may declare more than it sends.
func readBody(r *http.Request) ([]byte, bool) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= maxBodyBytes {
		buf.Grow(int(min(n, 64<<10)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || buf.Len() > maxBodyBytes {
		return nil, false
	}
	return buf.Bytes(), true
}

var randReader = cryptorand.Reader
