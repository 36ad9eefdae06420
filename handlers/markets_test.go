package handlers_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/static"
	"github.com/fikaandform/storefront/store"
)

// regionalShop is a shop whose checkout uses clients and whose handlers get
// cfg (BaseURL and the session keys are filled in).
func regionalShop(t *testing.T, clients checkout.ClientFor, cfg handlers.Config) (*httptest.Server, *checkout.Service) {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cat := shop.DefaultCatalog()
	e := echo.New()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL
	}
	cfg.Mode, cfg.Simulator, cfg.SessionKeys = "Klarna simulator", true, handlers.SessionKeys(secretsOr(nil))
	svc := checkout.NewForMarkets(clients, db, cat, handlers.NewURLs(cfg.BaseURL), checkout.Options{})
	h := handlers.New(cfg, svc, db, cat, slog.New(slog.DiscardHandler))
	h.Routes(e, static.Handler(), nil)
	t.Cleanup(svc.Wait)
	return srv, svc
}

// TestMarketsWithoutCredentialsHidden: a market whose Klarna region has no
// account is not in the switcher, is refused from a crafted form, and a
// cookie that still names it falls back to a market that is offered.
func TestMarketsWithoutCredentialsHidden(t *testing.T) {
	t.Parallel()
	sim, simURL := simtest.Start(t, simulator.Config{DisableCallbacks: true})
	eu, err := klarna.NewClient(klarna.WithBaseURL(sim.RegionURL("eu")), klarna.WithCredentials("u", "p"), klarna.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	euOnly := checkout.ByRegion(klarna.ClientsOf(map[klarna.Region]*klarna.Client{klarna.RegionEU: eu}))
	note := "US: no Klarna credentials for region na (set KLARNA_NA_USERNAME and KLARNA_NA_PASSWORD)"
	srv, _ := regionalShop(t, euOnly, handlers.Config{Markets: []string{"DE", "GB", "NL", "SE"}, MarketNotes: []string{note}, WidgetScript: simURL + "/kp/lib/v1/api.js"})

	s := (&env{srv: srv}).shopper(t)
	_, doc := s.get("/")
	var offered []string
	doc.Find(`#market-select option`).Each(func(_ int, o *goquery.Selection) { offered = append(offered, o.AttrOr("value", "")) })
	slices.Sort(offered)
	if strings.Join(offered, ",") != "DE,GB,NL,SE" {
		t.Errorf("switcher offers %v, want the Europe markets only", offered)
	}
	for _, code := range []string{"US", "AU"} {
		if resp, _ := s.post("/market", url.Values{"market": {code}, "return": {"/"}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("crafted form for %s: %d, want 400", code, resp.StatusCode)
		}
	}
	if resp, _ := s.post("/market", url.Values{"market": {"SE"}, "return": {"/"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("an offered market: %d", resp.StatusCode)
	}

	// A cookie from a shop that offered the US (same secret) picks the US;
	// here it falls back to the default market, and the checkout is British.
	everywhere, _ := regionalShop(t, checkout.OneClient(eu), handlers.Config{WidgetScript: simURL + "/kp/lib/v1/api.js"})
	jar, _ := cookiejar.New(nil)
	old := &shopper{t: t, base: everywhere.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	old.get("/")
	old.post("/market", url.Values{"market": {"US"}, "return": {"/"}})
	old.get("/")
	old.post("/cart/add", url.Values{"product": {"stoneware-mug"}, "quantity": {"1"}})
	u, _ := url.Parse(everywhere.URL)
	v, _ := url.Parse(srv.URL)
	var cookies []*http.Cookie
	for _, c := range jar.Cookies(u) {
		cookies = append(cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	jar.SetCookies(v, cookies)
	old.base = srv.URL
	if _, doc := old.get("/checkout"); doc.Find(`#market-select option[selected]`).AttrOr("value", "") != "GB" {
		t.Errorf("a cookie naming the US: market %q", doc.Find(`#market-select option[selected]`).AttrOr("value", ""))
	}
	if ss := sim.Snapshot().Sessions; len(ss) != 1 || ss[0].Country != "GB" {
		t.Errorf("sessions made: %+v, want one for GB", ss)
	}

	if _, doc := s.get("/admin"); !strings.Contains(doc.Find(`[data-testid=markets-not-offered]`).Text(), note) {
		t.Errorf("the orders area does not say which markets are not offered")
	}
}

// failingClient is a Klarna client whose create session fails with err,
// settable while the shop runs.
type failingClient struct {
	checkout.Klarna
	mu  sync.Mutex
	err error
}

func (f *failingClient) set(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }

func (f *failingClient) CreateSession(ctx context.Context, req *klarna.SessionRequest) (*klarna.MerchantSession, *klarna.Response, error) {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return f.Klarna.CreateSession(ctx, req)
}

func (f *failingClient) CreateOrder(ctx context.Context, token string, req *klarna.OrderRequest) (*klarna.Order, *klarna.Response, error) {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return f.Klarna.CreateOrder(ctx, token, req)
}

// TestCheckoutFailureMessages: each kind of Klarna failure gets its own
// message on the checkout page, and the orders area lists those that need
// the operator, with what to do.
func TestCheckoutFailureMessages(t *testing.T) {
	t.Parallel()
	sim, simURL := simtest.Start(t, simulator.Config{Regions: map[string]simulator.Credentials{"eu": {Username: "PK_eu", Password: "right"}}, DisableCallbacks: true})
	wrongPassword, _ := klarna.NewClient(klarna.WithBaseURL(sim.RegionURL("eu")), klarna.WithCredentials("PK_eu", "wrong"), klarna.WithMaxRetries(0))
	eu, _ := klarna.NewClient(klarna.WithBaseURL(sim.RegionURL("eu")), klarna.WithCredentials("PK_eu", "right"), klarna.WithMaxRetries(0))
	fake := &failingClient{Klarna: eu}
	// GB goes through a client with a wrong password, US through the Europe
	// host (a misrouted market), the rest through fake.
	clients := func(country string) (checkout.Klarna, error) {
		switch country {
		case "GB":
			return wrongPassword, nil
		case "US":
			return eu, nil
		}
		return fake, nil
	}
	srv, _ := regionalShop(t, clients, handlers.Config{WidgetScript: simURL + "/kp/lib/v1/api.js"})
	for _, tc := range []struct {
		market, class string
		err           error
		status        int
		says, safe    string // in the market's language
		retry         bool
	}{
		{"GB", "credentials_refused", nil, 503, "problem on our side", "Nothing has been charged", false},
		{"US", "market_not_enabled", nil, 503, "not available for United States (USD)", "Nothing has been charged", false},
		{"DE", "bad_request", &klarna.Error{StatusCode: 400, ErrorCode: "BAD_VALUE", ErrorMessages: []string{"Bad value: order_lines[0].tax_rate"}}, 500, "Fehlers bei uns", "Es wurde nichts belastet", false},
		{"NL", "rate_limited", &klarna.Error{StatusCode: 429, ErrorCode: "RATE_LIMITED"}, 503, "erg druk bij Klarna", "Er is niets afgeschreven", true},
		{"SE", "outage", &klarna.Error{StatusCode: 503}, 503, "fick inte kontakt med Klarna", "Inget har debiterats", true},
	} {
		fake.set(tc.err)
		s := (&env{srv: srv}).shopper(t)
		s.get("/")
		s.post("/market", url.Values{"market": {tc.market}, "return": {"/"}})
		s.get("/") // as a browser follows the redirect: the page carries the new session's token
		s.post("/cart/add", url.Values{"product": {"stoneware-mug"}, "quantity": {"1"}})
		resp, doc := s.get("/checkout")
		box := doc.Find(`[data-testid=klarna-unavailable]`)
		if resp.StatusCode != tc.status || box.AttrOr("data-class", "") != tc.class || !strings.Contains(box.Text(), tc.says) || !strings.Contains(box.Text(), tc.safe) {
			t.Errorf("%s: %d %q %q", tc.market, resp.StatusCode, box.AttrOr("data-class", ""), strings.TrimSpace(box.Text()))
		}
		if got := box.Find(`a[href="/checkout"]`).Length() == 1; got != tc.retry {
			t.Errorf("%s: try again offered %v, want %v", tc.market, got, tc.retry)
		}
	}
	fake.set(nil)

	_, doc := (&env{srv: srv}).shopper(t).get("/admin")
	banner := doc.Find(`[data-testid=klarna-attention]`)
	for _, want := range []string{"attention-credentials_refused", "attention-market_not_enabled", "attention-bad_request"} {
		if banner.Find(`[data-testid=`+want+`]`).Length() != 1 {
			t.Errorf("the orders area lacks %s: %s", want, banner.Text())
		}
	}
	if banner.Find(`[data-testid=attention-outage], [data-testid=attention-rate_limited]`).Length() != 0 {
		t.Error("passing failures shown as needing the operator")
	}
	if text := banner.Text(); !strings.Contains(text, "KLARNA_EU_USERNAME") || !strings.Contains(text, "correlation id") {
		t.Errorf("no advice or correlation id: %s", text)
	}
}

// TestPlaceWhenKlarnaRefusesTheShop: when Klarna refuses the shop's
// credentials at create order, the shopper is told it is the shop's
// problem, not asked to approve again.
func TestPlaceWhenKlarnaRefusesTheShop(t *testing.T) {
	t.Parallel()
	sim, simURL := simtest.Start(t, simulator.Config{DisableCallbacks: true})
	base, _ := klarna.NewClient(klarna.WithBaseURL(simURL), klarna.WithCredentials("u", "p"), klarna.WithMaxRetries(0))
	fake := &failingClient{Klarna: base}
	srv, _ := regionalShop(t, checkout.OneClient(fake), handlers.Config{WidgetScript: simURL + "/kp/lib/v1/api.js"})
	s := (&env{srv: srv}).shopper(t)
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"stoneware-mug"}, "quantity": {"1"}})
	s.get("/checkout")
	sess := sim.Snapshot().Sessions[0].ID
	a, _ := sim.Authorize(sess, "pay_later", simulator.OutcomeApprove)
	fake.set(&klarna.Error{StatusCode: 401, ErrorCode: "UNAUTHORIZED"})
	_, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken})
	if out["status"] != "unavailable" || !strings.Contains(out["message"], "problem on our side") {
		t.Errorf("place with refused credentials: %v", out)
	}
}

// TestBuiltInSimulatorFollowsTheOrigin: whichever local name reached the
// shop, the widget script and the payment badges come from that origin, the
// policy admits no other, and after the order the browser stays on its own
// origin (where its cookie is).
func TestBuiltInSimulatorFollowsTheOrigin(t *testing.T) {
	t.Parallel()
	e := echo.New()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	base := "http://localhost:" + port
	sim, err := simulator.New(simulator.Config{BaseURL: base + "/klarna-sim", Regions: map[string]simulator.Credentials{"eu": {Username: "u", Password: "p"}}, DisableCallbacks: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	client, _ := klarna.NewClient(klarna.WithBaseURL(sim.RegionURL("eu")), klarna.WithCredentials("u", "p"), klarna.WithMaxRetries(0), klarna.WithAttemptTimeout(2*time.Second))
	db, _ := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	t.Cleanup(func() { db.Close() })
	cat := shop.DefaultCatalog()
	svc := checkout.New(client, db, cat, handlers.NewURLs(base), checkout.Options{})
	t.Cleanup(svc.Wait)
	h := handlers.New(handlers.Config{BaseURL: base, Mode: "Klarna simulator", Simulator: true, SimulatorBase: base + "/klarna-sim",
		WidgetScript: "/klarna-sim/kp/lib/v1/api.js", SessionKeys: handlers.SessionKeys(secretsOr(nil))}, svc, db, cat, slog.New(slog.DiscardHandler))
	h.Routes(e, static.Handler(), sim)

	for _, origin := range []string{"http://127.0.0.1:" + port, base} {
		s := (&env{srv: srv}).shopper(t)
		s.base = origin
		s.get("/")
		s.post("/cart/add", url.Values{"product": {"stoneware-mug"}, "quantity": {"1"}})
		resp, doc := s.get("/checkout")
		if src := doc.Find(`script[src*="api.js"]`).AttrOr("src", ""); src != "/klarna-sim/kp/lib/v1/api.js" {
			t.Errorf("%s: widget script %q", origin, src)
		}
		doc.Find(`.category img`).Each(func(_ int, img *goquery.Selection) {
			if src := img.AttrOr("src", ""); !strings.HasPrefix(src, "/klarna-sim/assets/badges/") {
				t.Errorf("%s: badge %q is not on the page's origin", origin, src)
			}
		})
		if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "localhost") || strings.Contains(csp, "127.0.0.1") {
			t.Errorf("%s: the policy names a host: %s", origin, csp)
		}
		// The widget's own calls, as the browser makes them on this origin.
		token := doc.Find(`#klarna-checkout`).AttrOr("data-client-token", "")
		req, _ := http.NewRequest(http.MethodPost, origin+"/klarna-sim/browser/load", strings.NewReader(`{"client_token":"`+token+`"}`))
		lresp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var load struct {
			Categories []struct {
				AssetURL string `json:"asset_url"`
			} `json:"categories"`
		}
		json.NewDecoder(lresp.Body).Decode(&load)
		lresp.Body.Close()
		if len(load.Categories) == 0 || !strings.HasPrefix(load.Categories[0].AssetURL, origin+"/klarna-sim/") {
			t.Errorf("%s: the widget's images: %+v", origin, load)
		}
	}
	// After the order: on BASE_URL's host the shopper follows Klarna's
	// redirect; on another name, straight to the confirmation.
	for _, tc := range []struct{ origin, want string }{{"http://127.0.0.1:" + port, "/confirmation/"}, {base, base + "/klarna-sim/redirect/"}} {
		s := (&env{srv: srv}).shopper(t)
		s.base = tc.origin
		s.get("/")
		s.post("/cart/add", url.Values{"product": {"oak-board"}, "quantity": {"1"}})
		s.get("/checkout")
		a, err := sim.Authorize(latestSession(sim), "pay_later", simulator.OutcomeApprove)
		if err != nil {
			t.Fatal(err)
		}
		_, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken})
		if out["status"] != "placed" || !strings.HasPrefix(out["redirect_url"], tc.want) {
			t.Errorf("%s: after the order %v, want a redirect to %s…", tc.origin, out, tc.want)
		}
	}
}

// TestStandaloneSimulatorPolicy: with a standalone simulator the policy
// admits exactly its origin for the widget's script, stylesheet, images
// and calls, and nothing for frames.
func TestStandaloneSimulatorPolicy(t *testing.T) {
	t.Parallel()
	k := handlers.SimulatorCSP("http://127.0.0.1:8090")
	for name, list := range map[string][]string{"script": k.Script, "style": k.Style, "img": k.Img, "connect": k.Connect} {
		if len(list) != 1 || list[0] != "http://127.0.0.1:8090" {
			t.Errorf("%s-src: %v", name, list)
		}
	}
	if len(k.Frame) != 0 || len(k.Font) != 0 {
		t.Errorf("frames or fonts admitted: %+v", k)
	}
}

// latestSession is the id of the session the simulator made last.
func latestSession(sim *simulator.Simulator) string {
	var latest simulator.SessionInfo
	for _, ss := range sim.Snapshot().Sessions {
		if latest.ID == "" || ss.CreatedAt.After(latest.CreatedAt) {
			latest = ss
		}
	}
	return latest.ID
}
