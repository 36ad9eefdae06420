package checkout_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/vault"
)

// regionalCredentials are a merchant's three accounts, one per region.
var regionalCredentials = map[string]simulator.Credentials{
	"eu": {Username: "PK_eu", Password: "eu-secret"}, "na": {Username: "PK_na", Password: "na-secret"}, "oc": {Username: "PK_oc", Password: "oc-secret"},
}

// regional runs the checkout against a simulator whose regional hosts each
// take only their own region's credentials and countries, with a client per
// region for the given regions.
func regional(t *testing.T, regions ...klarna.Region) (*checkout.Service, *simulator.Simulator, store.Store) {
	t.Helper()
	sim, _ := simtest.Start(t, simulator.Config{Username: "root", Password: "root-secret", Regions: regionalCredentials, DisableCallbacks: true})
	var accounts []klarna.Account
	for _, r := range regions {
		c := regionalCredentials[string(r)]
		accounts = append(accounts, klarna.Account{Region: r, Username: c.Username, Password: c.Password, BaseURL: sim.RegionURL(string(r))})
	}
	cs, err := klarna.NewClients(accounts, klarna.WithMaxRetries(0), klarna.WithAttemptTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New([]string{testVaultKey})
	if err != nil {
		t.Fatal(err)
	}
	st := sqlite(t)
	svc := checkout.NewForMarkets(checkout.ByRegion(cs), st, shopCatalog(), handlers.NewURLs("http://shop.test"), checkout.Options{
		RetryWaits: []time.Duration{time.Millisecond}, Vault: v, ReviewChecks: []time.Duration{time.Millisecond},
	})
	return svc, sim, st
}

// TestEachMarketUsesItsRegion: every Klarna call of a checkout, from the
// shopper's page, the placement, a lost answer, a cancelled approval, the
// customer token, the fraud notification and the review check, goes to its
// market's regional host with that region's credentials. A misrouted call
// would meet 401 (another region's credentials) or 400 (another region's
// country), or not find the session.
func TestEachMarketUsesItsRegion(t *testing.T) {
	t.Parallel()
	svc, sim, _ := regional(t, klarna.RegionEU, klarna.RegionNA, klarna.RegionOC)
	ctx := t.Context()
	cat := shopCatalog()
	for _, code := range []string{"GB", "SE", "DE", "NL", "US", "AU"} {
		m := market(code)
		c, _, err := svc.Begin(ctx, "", cart(t, cat, "stoneware-mug:1"), m, m.Locale())
		if err != nil {
			t.Fatalf("%s: begin: %v", code, err)
		}
		c, _, err = svc.Begin(ctx, c.ID, cart(t, cat, "stoneware-mug:2"), m, m.Locale()) // update
		if err != nil {
			t.Fatalf("%s: update: %v", code, err)
		}
		// An approval for a cart that changed afterwards is cancelled.
		stale, _ := sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
		if _, err := svc.Place(ctx, c.SessionID, stale.AuthorizationToken, checkout.FromBrowser, "another cart"); !errors.Is(err, checkout.ErrCartChanged) {
			t.Fatalf("%s: stale approval: %v", code, err)
		}
		a, _ := sim.Authorize(c.SessionID, "pay_later", simulator.OutcomePending)
		o, err := svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
		if err != nil || o.State != store.StatePendingReview {
			t.Fatalf("%s: place: %v", code, err)
		}
		sim.Decide(o.KlarnaOrderID, "accept")
		time.Sleep(2 * time.Millisecond)
		if _, err := svc.CheckReviews(ctx); err != nil {
			t.Fatalf("%s: review check: %v", code, err)
		}
		if got, err := svc.Notify(ctx, o.ID, o.KlarnaOrderID, checkout.EventAccepted); err != nil || got.State != store.StatePlaced {
			t.Fatalf("%s: notification: %v", code, err)
		}
	}
	// A subscription (customer token) and a lost create-order answer,
	// settled by reading the session, in North America.
	us := market("US")
	for _, tc := range []struct {
		cart string
		lost bool
	}{{"coffee-subscription:1", false}, {"wool-throw:1", true}} {
		c, _, err := svc.Begin(ctx, "", cart(t, cat, tc.cart), us, us.Locale())
		if err != nil {
			t.Fatal(err)
		}
		if tc.lost {
			sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultAnswerLost, Times: 1})
		}
		a, _ := sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
		o, err := svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
		if err != nil || o.State != store.StatePlaced || (!tc.lost && o.Subscription.Status != store.SubscriptionActive) {
			t.Fatalf("%s: %+v %v", tc.cart, o, err)
		}
	}

	count := map[string]int{}
	for _, r := range sim.Snapshot().Requests {
		count[r.Region]++
		if r.Region == "" || r.Status == http.StatusUnauthorized || r.Status == http.StatusBadRequest {
			t.Errorf("misrouted: %s %s on host %q answered %d", r.Method, r.Operation, r.Region, r.Status)
		}
	}
	if count["eu"] == 0 || count["na"] == 0 || count["oc"] == 0 {
		t.Errorf("requests per regional host: %v", count)
	}
	for _, op := range []string{simulator.OpCreateSession, simulator.OpUpdateSession, simulator.OpGetSession, simulator.OpCreateOrder,
		simulator.OpCancelAuthorization, simulator.OpCustomerToken, simulator.OpGetOrder} {
		if sim.Count(op) == 0 {
			t.Errorf("%s never called: the test does not cover it", op)
		}
	}
}

// TestMarketWithoutAccount: a market whose region has no account fails
// before anything is sent, as "market not enabled", and the operator is
// told.
func TestMarketWithoutAccount(t *testing.T) {
	t.Parallel()
	svc, sim, _ := regional(t, klarna.RegionEU)
	us := market("US")
	_, _, err := svc.Begin(t.Context(), "", cart(t, shopCatalog(), "stoneware-mug:1"), us, us.Locale())
	var f *checkout.Failure
	if !errors.As(err, &f) || f.Class != checkout.ClassMarket || f.Market != "US" || !klarna.IsNoAccount(err) || errors.Is(err, checkout.ErrUnavailable) {
		t.Fatalf("US without a North America account: %v", err)
	}
	if n := len(sim.Snapshot().Requests); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	if p := svc.Problems(); len(p) != 1 || p[0].Class != checkout.ClassMarket || p[0].Market != "US" {
		t.Errorf("problems: %+v", p)
	}
}

// refusing is a Klarna client that answers one operation with an error.
type refusing struct {
	checkout.Klarna
	mu      sync.Mutex
	session error
	order   error
}

func (r *refusing) CreateSession(ctx context.Context, req *klarna.SessionRequest) (*klarna.MerchantSession, *klarna.Response, error) {
	r.mu.Lock()
	err := r.session
	r.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return r.Klarna.CreateSession(ctx, req)
}

func (r *refusing) CreateOrder(ctx context.Context, token string, req *klarna.OrderRequest) (*klarna.Order, *klarna.Response, error) {
	r.mu.Lock()
	err := r.order
	r.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return r.Klarna.CreateOrder(ctx, token, req)
}

func klarnaError(status int, code string, msgs ...string) *klarna.Error {
	return &klarna.Error{Operation: "test", StatusCode: status, ErrorCode: code, ErrorMessages: msgs, CorrelationID: "corr-" + code}
}

// TestSessionFailureClasses: every way creating a session can fail gets
// its class, a log line with the class, market and correlation id, a note
// for the operator when waiting will not help, and stays reachable as
// Klarna's error.
func TestSessionFailureClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		err       error
		class     checkout.Class
		transient bool
	}{
		{"credentials refused", klarnaError(401, "UNAUTHORIZED", "Unauthorized"), checkout.ClassCredentials, false},
		{"merchant inactive", klarnaError(403, "MERCHANT_INACTIVE", "Merchant is inactive"), checkout.ClassCredentials, false},
		{"currency not enabled", klarnaError(400, "BAD_VALUE", "Bad value: purchase_currency"), checkout.ClassMarket, false},
		{"country not enabled", klarnaError(400, "BAD_VALUE", "Bad value: purchase_country"), checkout.ClassMarket, false},
		{"bad request", klarnaError(400, "BAD_VALUE", "Bad value: order_lines[0].tax_rate"), checkout.ClassBadRequest, false},
		{"forbidden operation", klarnaError(403, "INVALID_OPERATION", "Invalid operation"), checkout.ClassBadRequest, false},
		{"rate limited", klarnaError(429, "RATE_LIMITED", "Too many requests"), checkout.ClassRateLimited, true},
		{"outage", klarnaError(503, "SERVICE_UNAVAILABLE", "Unavailable"), checkout.ClassOutage, true},
		{"no answer", &klarna.RequestError{Operation: "create_session", Method: "POST", URL: "https://api.klarna.com/…", Err: errors.New("connection refused")}, checkout.ClassOutage, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			var logs syncBuffer
			k := &refusing{Klarna: f.client, session: tc.err}
			svc := checkout.New(k, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			_, _, err := svc.Begin(t.Context(), "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
			var fail *checkout.Failure
			if !errors.As(err, &fail) || fail.Class != tc.class || fail.Market != "GB" || fail.Op != "create_session" || checkout.Classify(err) != tc.class {
				t.Fatalf("err = %v, want class %s", err, tc.class)
			}
			if errors.Is(err, checkout.ErrUnavailable) != tc.transient {
				t.Errorf("ErrUnavailable: %v, want %v", errors.Is(err, checkout.ErrUnavailable), tc.transient)
			}
			if !errors.Is(err, tc.err) {
				t.Error("Klarna's error is not reachable")
			}
			line := logs.String()
			if !strings.Contains(line, "class="+string(tc.class)) || !strings.Contains(line, "market=GB") {
				t.Errorf("log: %s", line)
			}
			if ke, ok := tc.err.(*klarna.Error); ok && !strings.Contains(line, "correlation_id="+ke.CorrelationID) {
				t.Errorf("log lacks the correlation id: %s", line)
			}
			if tc.class == checkout.ClassBadRequest {
				// The payload's shape, never its values.
				if !strings.Contains(line, "payload_shape=") || !strings.Contains(line, "order_lines:[") || strings.Contains(line, "Stoneware") || strings.Contains(line, "stoneware") {
					t.Errorf("bad request log: %s", line)
				}
			}
			problems := svc.Problems()
			if got := len(problems) == 1 && problems[0].Class == tc.class && problems[0].Market == "GB"; got != tc.class.NeedsOperator() {
				t.Errorf("problems for the operator: %+v", problems)
			}
		})
	}
}

// TestSessionFailuresFromKlarna: the two failures a real account meets on
// its first day, as the simulator gives them: credentials refused (401) and
// a market sent to another region's host (400 BAD_VALUE purchase_country).
func TestSessionFailuresFromKlarna(t *testing.T) {
	t.Parallel()
	sim, _ := simtest.Start(t, simulator.Config{Regions: regionalCredentials, DisableCallbacks: true})
	ctx := t.Context()
	for _, tc := range []struct {
		name, region, user, pass, market string
		class                            checkout.Class
	}{
		{"wrong password", "eu", "PK_eu", "typo", "GB", checkout.ClassCredentials},
		{"another region's credentials", "eu", "PK_na", "na-secret", "GB", checkout.ClassCredentials},
		{"market on another region's host", "eu", "PK_eu", "eu-secret", "US", checkout.ClassMarket},
	} {
		client, err := klarna.NewClient(klarna.WithBaseURL(sim.RegionURL(tc.region)), klarna.WithCredentials(tc.user, tc.pass), klarna.WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		svc := checkout.New(client, sqlite(t), shopCatalog(), handlers.NewURLs("http://shop.test"), checkout.Options{})
		m := market(tc.market)
		_, _, err = svc.Begin(ctx, "", cart(t, shopCatalog(), "stoneware-mug:1"), m, m.Locale())
		var f *checkout.Failure
		if !errors.As(err, &f) || f.Class != tc.class || f.CorrelationID == "" {
			t.Errorf("%s: %v, want %s with Klarna's correlation id", tc.name, err, tc.class)
		}
	}
}

// TestOrderFailureClasses: create order refused for the shop's credentials
// leaves the checkout payable (nothing was ordered) and says so; refused as
// a bad request fails it. Both are classified and noted for the operator.
func TestOrderFailureClasses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	k := &refusing{Klarna: f.client, order: klarnaError(401, "UNAUTHORIZED", "Unauthorized")}
	svc := checkout.New(k, f.store, f.cat, handlers.NewURLs("http://shop.test"), checkout.Options{RetryWaits: []time.Duration{time.Millisecond}})
	c, _, err := svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	_, err = svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	var fail *checkout.Failure
	if !errors.As(err, &fail) || fail.Class != checkout.ClassCredentials || fail.Op != "create_order" || !errors.Is(err, checkout.ErrReauthorize) {
		t.Fatalf("credentials refused at create order: %v", err)
	}
	if got, _ := svc.Checkout(ctx, c.ID); got.State != store.StateOpen || len(f.sim.Orders()) != 0 {
		t.Errorf("after refused credentials: state %s, Klarna orders %d", got.State, len(f.sim.Orders()))
	}
	// Once the operator has fixed the account, the shopper approves again.
	k.mu.Lock()
	k.order = nil
	k.mu.Unlock()
	a, _ = f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if o, err := svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, ""); err != nil || o.State != store.StatePlaced {
		t.Fatalf("after the fix: %v", err)
	}

	k.mu.Lock()
	k.order = klarnaError(400, "BAD_VALUE", "Bad value: order_lines[1].total_tax_amount")
	k.mu.Unlock()
	c, _, _ = svc.Begin(ctx, "", cart(t, f.cat, "oak-board:1"), market("GB"), "en-GB")
	a, _ = f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	_, err = svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if !errors.As(err, &fail) || fail.Class != checkout.ClassBadRequest || !errors.Is(err, checkout.ErrRefused) {
		t.Fatalf("bad request at create order: %v", err)
	}
	if got, _ := svc.Checkout(ctx, c.ID); got.State != store.StateFailed {
		t.Errorf("after a bad request: %s", got.State)
	}
	classes := map[checkout.Class]bool{}
	for _, p := range svc.Problems() {
		classes[p.Class] = p.Op == "create_order"
	}
	if !classes[checkout.ClassCredentials] || !classes[checkout.ClassBadRequest] {
		t.Errorf("problems: %+v", svc.Problems())
	}
}

func TestShape(t *testing.T) {
	t.Parallel()
	got := checkout.Shape(map[string]any{"b": []any{map[string]any{"name": "Anna", "n": 2}}, "a": true, "c": nil})
	if want := "{a:bool,b:[1]{n:number,name:string},c:null}"; got != want {
		t.Errorf("Shape = %s, want %s", got, want)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func shopCatalog() *shop.Catalog { return shop.DefaultCatalog() }
