package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/internal/logging"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
	"github.com/fikaandform/storefront/orders"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/static"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/subscriptions"
	"github.com/fikaandform/storefront/vault"
)

type env struct {
	srv  *httptest.Server
	sim  *simulator.Simulator
	db   store.Store
	om   *orders.Service
	subs *subscriptions.Service
}

type options struct {
	adminPassword string
	secrets       []string
	limits        handlers.Limits
	trustProxy    bool // clients named by X-Forwarded-For
	// wrap, when set, wraps the store the shop uses (fault injection).
	wrap func(store.Store) store.Store
	// logs receives the shop's logs (JSON lines) when set.
	logs io.Writer
	// subsNow is the renewal job's clock (default time.Now).
	subsNow func() time.Time
	// osm is the on-site messaging library; none when zero.
	osm handlers.OSM
}

func newEnv(t testing.TB, o options) *env {
	t.Helper()
	sim, simURL := simtest.Start(t, simulator.Config{Username: "u", Password: "p", DisableCallbacks: true})
	client, err := klarna.NewClient(klarna.WithBaseURL(simURL), klarna.WithCredentials("u", "p"), klarna.WithMaxRetries(0), klarna.WithAttemptTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	sqlite, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlite.Close() })
	var db store.Store = sqlite
	if o.wrap != nil {
		db = o.wrap(db)
	}
	cat := shop.DefaultCatalog()
	e := echo.New()
	srv := httptest.NewUnstartedServer(e)
	srv.Start()
	t.Cleanup(srv.Close)
	log := slog.New(slog.DiscardHandler)
	if o.logs != nil {
		log = slog.New(logging.Handler{Handler: slog.NewJSONHandler(o.logs, nil)})
	}
	v, err := vault.New([]string{"handlers-test-vault-key-0123456789abcdef01"})
	if err != nil {
		t.Fatal(err)
	}
	om := orders.New(client, db, orders.Policy{}, orders.Options{Logger: log})
	svc := checkout.New(client, db, cat, handlers.NewURLs(srv.URL), checkout.Options{Logger: log, Vault: v, AutoCapture: om.Policy().AutoCapture, AutoCaptured: om.Refresh})
	subs := subscriptions.New(client, sqlite, cat, v, subscriptions.Options{Logger: log, URLs: handlers.NewURLs(srv.URL), Now: o.subsNow})
	h := handlers.New(handlers.Config{
		BaseURL: srv.URL, Mode: "Klarna simulator", ModeDetail: "test", Simulator: true, WidgetScript: simURL + "/kp/lib/v1/api.js",
		AdminPassword: o.adminPassword, SessionKeys: handlers.SessionKeys(secretsOr(o.secrets)), Limits: o.limits, TrustProxy: o.trustProxy,
		OSM: o.osm,
	}, svc, db, cat, log, handlers.WithOrders(om), handlers.WithSubscriptions(subs))
	h.Routes(e, static.Handler(), nil)
	t.Cleanup(svc.Wait)
	return &env{srv: srv, sim: sim, db: db, om: om, subs: subs}
}

// shopper is a browser: a cookie jar that does not follow redirects.
type shopper struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func (e *env) shopper(t testing.TB) *shopper {
	jar, _ := cookiejar.New(nil)
	return &shopper{t: t, base: e.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// session starts the shopper's session (a visitor who only looks has
// none) and picks up its CSRF token: it switches the market away and back.
func (s *shopper) session() {
	s.t.Helper()
	s.post("/market", url.Values{"market": {"SE"}, "return": {"/"}})
	s.get("/")
	s.post("/market", url.Values{"market": {"GB"}, "return": {"/"}})
	s.get("/")
	if s.csrf == "" {
		s.t.Fatal("no CSRF token after starting a session")
	}
}

func (s *shopper) get(path string) (*http.Response, *goquery.Document) {
	s.t.Helper()
	resp, err := s.c.Get(s.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if v, ok := doc.Find(`input[name=csrf]`).First().Attr("value"); ok {
		s.csrf = v
	}
	return resp, doc
}

func (s *shopper) post(path string, form url.Values) (*http.Response, *goquery.Document) {
	s.t.Helper()
	if form.Get("csrf") == "" && s.csrf != "" {
		form.Set("csrf", s.csrf)
	}
	resp, err := s.c.PostForm(s.base+path, form)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	return resp, doc
}

func (s *shopper) postJSON(path string, body any) (*http.Response, map[string]string) {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", s.csrf)
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

func text(doc *goquery.Document, testid string) string {
	return strings.TrimSpace(doc.Find(`[data-testid="` + testid + `"]`).First().Text())
}

func TestBrowsing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	resp, doc := s.get("/")
	if resp.StatusCode != 200 || doc.Find(`[data-testid=product-grid] li`).Length() < 8 {
		t.Fatalf("catalog: %d, %d products", resp.StatusCode, doc.Find(`[data-testid=product-grid] li`).Length())
	}
	if got := text(doc, "product-stoneware-mug"); !strings.Contains(got, "£18.00") {
		t.Errorf("mug card: %q", got)
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("security headers missing")
	}
	for _, c := range resp.Cookies() {
		if c.Name == "fika" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode) {
			t.Errorf("session cookie flags: %+v", c)
		}
	}
	_, doc = s.get("/?category=Coffee")
	if n := doc.Find(`[data-testid=product-grid] li`).Length(); n != 4 {
		t.Errorf("coffee category: %d products", n)
	}
	resp, doc = s.get("/products/brass-pen")
	if resp.StatusCode != 200 || text(doc, "product-name") != "Brass pen" {
		t.Errorf("product page: %d %q", resp.StatusCode, text(doc, "product-name"))
	}
	for _, p := range []string{"/products/nope", "/nowhere", "/?category=Weapons", "/confirmation/KS-NOTYOURS"} {
		resp, doc = s.get(p)
		if resp.StatusCode != 404 || doc.Find(`[data-testid=error-page]`).Length() != 1 {
			t.Errorf("%s: %d, friendly page %v", p, resp.StatusCode, doc.Find(`[data-testid=error-page]`).Length())
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/static/css/app.css", "/static/art/mug.svg"} {
		resp, _ := s.get(p)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

func TestCartForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	s.session()
	// No CSRF token: refused with an explanation, nothing changes.
	resp, doc := s.post("/cart/add", url.Values{"product": {"stoneware-mug"}, "csrf": {"forged"}})
	if resp.StatusCode != 403 || !strings.Contains(doc.Text(), "session has expired") {
		t.Errorf("forged CSRF: %d", resp.StatusCode)
	}
	resp, _ = s.post("/cart/add", url.Values{"product": {"stoneware-mug"}, "quantity": {"2"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cart" {
		t.Fatalf("add: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc = s.get("/cart")
	if text(doc, "cart-count") != "2" || !strings.Contains(text(doc, "flash"), "Added 2") {
		t.Errorf("after add: count %q flash %q", text(doc, "cart-count"), text(doc, "flash"))
	}
	for _, bad := range []url.Values{
		{"product": {"stoneware-mug"}, "quantity": {"0"}},
		{"product": {"stoneware-mug"}, "quantity": {"100"}},
		{"product": {"stoneware-mug"}, "quantity": {"-3"}},
		{"product": {"stoneware-mug"}, "quantity": {"lots"}},
		{"product": {"stoneware-mug"}, "quantity": {"99"}}, // 2 + 99 > 99
		{"product": {"<script>alert(1)</script>"}, "quantity": {"1"}},
	} {
		resp, doc := s.post("/cart/add", bad)
		if resp.StatusCode != 400 || text(doc, "errors") == "" {
			t.Errorf("add %v: %d %q", bad, resp.StatusCode, text(doc, "errors"))
		}
		if strings.Contains(doc.Find("body").Text(), "<script>") {
			// goquery's Text shows escaped script as text; the raw HTML must not
			// contain a live tag.
			html, _ := doc.Html()
			if strings.Contains(html, "<script>alert(1)</script>") {
				t.Error("unescaped script in page")
			}
		}
	}
	_, doc = s.get("/cart")
	if text(doc, "cart-count") != "2" {
		t.Errorf("bad input changed the cart: %q", text(doc, "cart-count"))
	}
	s.post("/cart/update", url.Values{"product": {"stoneware-mug"}, "quantity": {"5"}})
	_, doc = s.get("/cart")
	if got := text(doc, "line-total"); got != "£90.00" {
		t.Errorf("line total after update: %q", got)
	}
	resp, doc = s.post("/cart/discount", url.Values{"code": {"NOPE"}})
	if resp.StatusCode != 400 || !strings.Contains(text(doc, "errors"), "not valid") {
		t.Errorf("bad code: %d", resp.StatusCode)
	}
	s.post("/cart/discount", url.Values{"code": {" fika10 "}})
	_, doc = s.get("/cart")
	if text(doc, "discount") != "−£9.00" || text(doc, "shipping") != "Free" || text(doc, "total") != "£81.00" {
		t.Errorf("discount: %q shipping %q total %q", text(doc, "discount"), text(doc, "shipping"), text(doc, "total"))
	}
	// Switching market reprices the cart.
	s.post("/market", url.Values{"market": {"SE"}, "return": {"/cart"}})
	_, doc = s.get("/cart")
	if got := text(doc, "line-total"); !strings.Contains(got, "kr") {
		t.Errorf("SEK line total: %q", got)
	}
	resp, _ = s.post("/market", url.Values{"market": {"XX"}})
	if resp.StatusCode != 400 {
		t.Errorf("unknown market: %d", resp.StatusCode)
	}
	resp, _ = s.post("/market", url.Values{"market": {"US"}, "return": {"//evil.example/"}})
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("open redirect: %q", loc)
	}
	s.post("/cart/remove", url.Values{"product": {"stoneware-mug"}})
	_, doc = s.get("/cart")
	if doc.Find(`[data-testid=empty-cart]`).Length() != 1 {
		t.Error("cart not empty after remove")
	}
}

// spoilCookie alters the end of the shopper's session cookie, as a
// tampered cookie or one signed with a retired secret looks to the shop.
func (s *shopper) spoilCookie() {
	u, _ := url.Parse(s.base)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "fika" {
			c.Value = c.Value[:len(c.Value)-6] + "AAAAAA"
			s.c.Jar.SetCookies(u, []*http.Cookie{c})
		}
	}
}

func TestTamperedCookieStartsANewCart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"stoneware-mug"}})
	s.spoilCookie()
	resp, doc := s.get("/cart")
	if resp.StatusCode != 200 || !strings.Contains(text(doc, "flash"), "could not read your saved cart") || text(doc, "cart-count") != "0" {
		t.Errorf("tampered cookie: %d flash %q count %q", resp.StatusCode, text(doc, "flash"), text(doc, "cart-count"))
	}
}

// TestTheNewSessionsPageCanBeUsed: the page that tells a shopper their
// cookie could not be read (tampered, or signed with a retired secret)
// starts a new session, and its forms carry that session's token: what the
// shopper does next from it is not refused. A form posted from a page of
// the lost session still goes through, checked for its origin as a first
// POST is.
func TestTheNewSessionsPageCanBeUsed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"stoneware-mug"}})
	for _, p := range []string{"/", "/products/oak-board", "/cart"} {
		s.spoilCookie()
		_, doc := s.get(p)
		token, _ := doc.Find(`form[action="/market"] input[name=csrf]`).First().Attr("value")
		if !strings.Contains(text(doc, "flash"), "could not read your saved cart") || token == "" {
			t.Errorf("%s: flash %q, the market form's token %q", p, text(doc, "flash"), token)
			continue
		}
		if resp, _ := s.post("/market", url.Values{"market": {"SE"}, "return": {"/"}, "csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: the market form of the page that started the new session is refused: %d", p, resp.StatusCode)
		}
	}
	s.spoilCookie()
	resp, _ := s.post("/cart/add", url.Values{"product": {"linen-notebook"}, "csrf": {"the-lost-sessions-token"}})
	_, doc := s.get("/cart")
	if resp.StatusCode != http.StatusSeeOther || text(doc, "cart-count") != "1" {
		t.Errorf("adding from a page of the lost session: %d, then the cart holds %q", resp.StatusCode, text(doc, "cart-count"))
	}
}

// checkoutFor fills a cart and opens the checkout, returning the Klarna
// session id the page was given.
func checkoutFor(t *testing.T, e *env, s *shopper, product string) (sessionID string, doc *goquery.Document) {
	t.Helper()
	s.get("/")
	s.post("/cart/add", url.Values{"product": {product}})
	resp, doc := s.get("/checkout")
	if resp.StatusCode != 200 {
		t.Fatalf("checkout: %d", resp.StatusCode)
	}
	if tok, _ := doc.Find(`[data-testid=klarna-checkout]`).Attr("data-client-token"); strings.Count(tok, ".") != 2 {
		t.Fatalf("client token %q", tok)
	}
	st := e.sim.Snapshot()
	return st.Sessions[0].ID, doc
}

func TestCheckoutPlacesOneOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	sid, doc := checkoutFor(t, e, s, "oak-board")
	if doc.Find(`[data-testid=category-pay_later]`).Length() != 1 {
		t.Error("payment categories not shown")
	}
	// Reloading the checkout reuses the session.
	s.get("/checkout")
	if n := e.sim.Count(simulator.OpCreateSession); n != 1 {
		t.Errorf("sessions created: %d", n)
	}
	a, err := e.sim.Authorize(sid, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	resp, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken})
	if resp.StatusCode != 200 || out["status"] != "placed" || !strings.Contains(out["redirect_url"], "/redirect/") {
		t.Fatalf("place: %d %v", resp.StatusCode, out)
	}
	// A repeated post (double click) returns the same order.
	_, again := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken})
	if again["redirect_url"] != out["redirect_url"] || e.sim.Count(simulator.OpCreateOrder) != 1 {
		t.Errorf("second post: %v, create order count %d", again, e.sim.Count(simulator.OpCreateOrder))
	}
	// Klarna's redirect leads to the confirmation page.
	r, err := s.c.Get(out["redirect_url"])
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, e.srv.URL+"/confirmation/KS-") {
		t.Fatalf("redirect to %q", loc)
	}
	path := strings.TrimPrefix(loc, e.srv.URL)
	resp, doc = s.get(path)
	if resp.StatusCode != 200 || text(doc, "state-label") != "Thank you! Your order is confirmed." || text(doc, "klarna-order-id") == "" {
		t.Errorf("confirmation: %d %q", resp.StatusCode, text(doc, "state-label"))
	}
	if text(doc, "cart-count") != "0" {
		t.Errorf("cart not emptied: %q", text(doc, "cart-count"))
	}
	if resp, _ := s.get(path); resp.StatusCode != 200 {
		t.Errorf("reload: %d", resp.StatusCode)
	}
	// Another shopper cannot read it.
	other := e.shopper(t)
	if resp, _ := other.get(path); resp.StatusCode != 404 {
		t.Errorf("other shopper: %d", resp.StatusCode)
	}
}

func TestPlaceErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	sid, _ := checkoutFor(t, e, s, "brass-pen")
	a, _ := e.sim.Authorize(sid, "pay_later", simulator.OutcomeApprove)
	// The cart changes in another tab after authorization.
	s.post("/cart/add", url.Values{"product": {"linen-notebook"}})
	resp, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken})
	if resp.StatusCode != 200 || out["status"] != "cart_changed" || e.sim.Count(simulator.OpCreateOrder) != 0 {
		t.Errorf("cart changed: %d %v", resp.StatusCode, out)
	}
	for _, body := range []any{map[string]string{}, map[string]string{"authorization_token": strings.Repeat("x", 300)}, "not an object"} {
		resp, _ := s.postJSON("/checkout/place", body)
		if resp.StatusCode != 400 {
			t.Errorf("bad body %v: %d", body, resp.StatusCode)
		}
	}
	s.csrf = "wrong"
	if resp, _ := s.postJSON("/checkout/place", map[string]string{"authorization_token": "x"}); resp.StatusCode != 403 {
		t.Errorf("no CSRF: %d", resp.StatusCode)
	}
}

func TestKlarnaUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	e.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateSession, Kind: simulator.FaultStatus, Status: 503, Times: 1})
	s := e.shopper(t)
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"stoneware-mug"}})
	resp, doc := s.get("/checkout")
	if resp.StatusCode != 503 || !strings.Contains(text(doc, "klarna-unavailable"), "could not reach Klarna") {
		t.Fatalf("unavailable: %d %q", resp.StatusCode, text(doc, "klarna-unavailable"))
	}
	if resp, _ := s.get("/checkout"); resp.StatusCode != 200 {
		t.Errorf("retry: %d", resp.StatusCode)
	}
}

// postAuthorization posts Klarna's authorization callback with query and
// body, and returns the shop's status.
func (e *env) postAuthorization(t *testing.T, query, body string) int {
	t.Helper()
	resp, err := http.Post(e.srv.URL+"/klarna/authorization?"+query, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestAuthorizationCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	sid, doc := checkoutFor(t, e, s, "wool-throw")
	ref := strings.TrimSpace(doc.Find(".cart-side h2 small").Text())
	st := e.sim.Snapshot()
	var payload map[string]any
	json.Unmarshal(st.Sessions[0].Data, &payload)
	authURL := payload["merchant_urls"].(map[string]any)["authorization"].(string)
	secret := authURL[strings.Index(authURL, "secret=")+7:]
	a, _ := e.sim.Authorize(sid, "pay_later", simulator.OutcomeApprove)
	post := func(query, body string) int { return e.postAuthorization(t, query, body) }
	good := `{"authorization_token":"` + a.AuthorizationToken + `","session_id":"` + sid + `"}`
	for _, tt := range []struct {
		query, body string
		want        int
	}{
		{"checkout=KS-UNKNOWN&secret=" + secret, good, 404},
		{"checkout=" + ref + "&secret=wrong", good, 403},
		{"checkout=" + ref, good, 403},
		{"checkout=" + ref + "&secret=" + secret, `{"authorization_token":`, 400},
		{"checkout=" + ref + "&secret=" + secret, `{"authorization_token":"x","session_id":"other"}`, 400},
	} {
		if got := post(tt.query, tt.body); got != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.query, tt.body, got, tt.want)
		}
	}
	if e.sim.Count(simulator.OpCreateOrder) != 0 {
		t.Fatal("a refused callback placed an order")
	}
	if got := post("checkout="+ref+"&secret="+secret, good); got != 200 {
		t.Fatalf("good callback: %d", got)
	}
	// The callback places in the background; the browser's post finds it.
	deadline := time.Now().Add(5 * time.Second)
	for e.sim.Count(simulator.OpCreateOrder) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	_, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken})
	if out["status"] != "placed" || e.sim.Count(simulator.OpCreateOrder) != 1 {
		t.Errorf("after callback: %v, orders %d", out, e.sim.Count(simulator.OpCreateOrder))
	}
	if got := post("checkout="+ref+"&secret="+secret, good); got != 200 || e.sim.Count(simulator.OpCreateOrder) != 1 {
		t.Errorf("repeated callback: %d, orders %d", got, e.sim.Count(simulator.OpCreateOrder))
	}
}

// countingReads counts the checkouts read by reference.
type countingReads struct {
	store.Store
	reads atomic.Int64
}

func (c *countingReads) Checkout(ctx context.Context, id string) (*store.Checkout, error) {
	c.reads.Add(1)
	return c.Store.Checkout(ctx, id)
}

// Klarna's callback for an order the shopper's own request just placed is
// answered from what this instance recorded, without reading the checkout,
// and checked as strictly as one that is read.
func TestCallbackAfterTheShopperPlaced(t *testing.T) {
	t.Parallel()
	counted := &countingReads{}
	e := newEnv(t, options{wrap: func(s store.Store) store.Store { counted.Store = s; return counted }})
	s := e.shopper(t)
	sid, doc := checkoutFor(t, e, s, "wool-throw")
	ref := strings.TrimSpace(doc.Find(".cart-side h2 small").Text())
	secret := e.callbackSecret(t, sid)
	a, _ := e.sim.Authorize(sid, "pay_later", simulator.OutcomeApprove)
	if _, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken}); out["status"] != "placed" {
		t.Fatalf("place: %v", out)
	}
	post := func(query, body string) int { return e.postAuthorization(t, query, body) }
	good := `{"authorization_token":"` + a.AuthorizationToken + `","session_id":"` + sid + `"}`
	for _, tt := range []struct {
		query, body string
		want        int
		reads       int64
	}{
		{"checkout=" + ref + "&secret=" + secret, good, 200, 0},
		{"checkout=" + ref + "&secret=" + secret, good, 200, 0}, // Klarna's retry
		{"checkout=" + ref + "&secret=" + secret, `{"authorization_token":"x","session_id":"other"}`, 400, 0},
		{"checkout=" + ref + "&secret=" + secret, `{"authorization_token":`, 400, 0},
		{"checkout=" + ref + "&secret=wrong", good, 403, 1},
		{"checkout=" + ref, good, 403, 1},
	} {
		before := counted.reads.Load()
		if got := post(tt.query, tt.body); got != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.query, tt.body, got, tt.want)
		}
		if n := counted.reads.Load() - before; n != tt.reads {
			t.Errorf("%s %s: %d reads, want %d", tt.query, tt.body, n, tt.reads)
		}
	}
	if n := e.sim.Count(simulator.OpCreateOrder); n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
	// The orders area shows both payloads sent to Klarna, without the
	// secret that authenticates these callbacks.
	_, admin := s.get("/admin")
	payloads := admin.Find("pre").Text()
	if strings.Contains(admin.Text(), secret) || strings.Count(payloads, "secret=REDACTED") < 3 {
		t.Errorf("orders area: secret shown, or payloads without it redacted:\n%s", payloads)
	}
	// An instance from before migration 00010, still running during a
	// rolling deploy, records the copy with the secret: it is not shown.
	old := `{"merchant_urls":{"notification":"http://shop.test/klarna/notification?checkout=` + ref + `&secret=` + secret + `"}}`
	if ok, err := counted.Transition(context.Background(), ref, []store.State{store.StatePlaced}, store.StatePlaced, store.Changes{OrderPayload: &old}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, admin = s.get("/admin"); strings.Contains(admin.Text(), secret) || !strings.Contains(admin.Find("pre").Text(), "secret=REDACTED") {
		t.Errorf("orders area shows an older instance's copy with the secret:\n%s", admin.Find("pre").Text())
	}
}

func TestAdminArea(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{adminPassword: "correct horse battery"})
	s := e.shopper(t)
	if resp, _ := s.get("/admin"); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("no password: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/admin", nil)
	req.SetBasicAuth("admin", "correct horse battery")
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || doc.Find(`[data-testid=no-orders]`).Length() != 1 || doc.Find(`[data-testid=admin-open-warning]`).Length() != 0 {
		t.Errorf("with password: %d", resp.StatusCode)
	}
	open := newEnv(t, options{})
	_, doc = open.shopper(t).get("/admin")
	if doc.Find(`[data-testid=admin-open-warning]`).Length() != 1 {
		t.Error("open admin without warning")
	}
}

func secretsOr(s []string) []string {
	if len(s) == 0 {
		return []string{"test-secret-0123456789abcdef0123456789abcdef"}
	}
	return s
}

func TestNotificationCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	sid, doc := checkoutFor(t, e, s, "oak-board")
	ref := strings.TrimSpace(doc.Find(".cart-side h2 small").Text())
	var payload map[string]any
	json.Unmarshal(e.sim.Snapshot().Sessions[0].Data, &payload)
	notifyURL := payload["merchant_urls"].(map[string]any)["notification"].(string)
	secret := notifyURL[strings.Index(notifyURL, "secret=")+7:]
	a, _ := e.sim.Authorize(sid, "pay_later", simulator.OutcomePending)
	if _, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken}); out["status"] != "placed" {
		t.Fatalf("place: %v", out)
	}
	orderID := e.sim.Snapshot().Orders[0].ID
	post := func(query, body string) (int, string) {
		resp, err := http.Post(e.srv.URL+"/klarna/notification?"+query, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	accepted := `{"order_id":"` + orderID + `","event_type":"FRAUD_RISK_ACCEPTED"}`
	for _, tt := range []struct {
		query, body string
		want        int
	}{
		{"checkout=KS-NOPE&secret=" + secret, accepted, 404},
		{"checkout=" + ref + "&secret=nope", accepted, 403},
		{"checkout=" + ref + "&secret=" + secret, `{"order_id":`, 400},
		{"checkout=" + ref + "&secret=" + secret, `{"order_id":"x","event_type":"SOMETHING"}`, 400},
	} {
		if got, body := post(tt.query, tt.body); got != tt.want {
			t.Errorf("%s %s: %d %s, want %d", tt.query, tt.body, got, body, tt.want)
		}
	}
	good := "checkout=" + ref + "&secret=" + secret
	// Before Klarna decided, and for another order: ignored.
	if got, body := post(good, accepted); got != 200 || !strings.Contains(body, "ignored") {
		t.Errorf("early: %d %s", got, body)
	}
	if got, body := post(good, `{"order_id":"not-this-order","event_type":"FRAUD_RISK_REJECTED"}`); got != 200 || !strings.Contains(body, "ignored") {
		t.Errorf("other order: %d %s", got, body)
	}
	e.sim.Decide(orderID, "accept")
	for range 2 { // twice: the same answer, nothing more happens
		if got, body := post(good, accepted); got != 200 || !strings.Contains(body, "placed") {
			t.Errorf("decided: %d %s", got, body)
		}
	}
	_, doc = s.get("/confirmation/" + ref)
	if text(doc, "state-label") != "Thank you! Your order is confirmed." {
		t.Errorf("confirmation after the decision: %q", text(doc, "state-label"))
	}
}

// TestPagesAreSentWithTheirLength: a page goes out whole, with its length,
// not chunked (which cost a checkout page a third socket write): kept and
// rendered pages, with and without a session, the checkout page included.
func TestPagesAreSentWithTheirLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	check := func(path string) {
		t.Helper()
		resp, err := s.c.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || len(resp.TransferEncoding) != 0 || resp.ContentLength != int64(len(body)) || len(body) < 2048 {
			t.Errorf("%s: %d, transfer encoding %v, length %d for %d bytes", path, resp.StatusCode, resp.TransferEncoding, resp.ContentLength, len(body))
		}
	}
	check("/") // no session: kept for everyone
	check("/products/pour-over-kettle")
	s.post("/cart/add", url.Values{"product": {"wool-throw"}})
	check("/")     // a shopper's kept page with their token
	check("/cart") // rendered for them
	check("/checkout")
}
