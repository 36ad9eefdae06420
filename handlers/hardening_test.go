package handlers_test

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fikaandform/storefront/handlers"
)

// do sends a request to the test shop and returns the status and body.
func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestHostHeaderChecked: a request naming another host (DNS rebinding) is
// refused with 421; the shop's own names, and health checks, pass.
func TestHostHeaderChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	port := strings.TrimPrefix(e.srv.URL[strings.LastIndex(e.srv.URL, ":"):], ":")
	for host, want := range map[string]int{
		"evil.example": 421, "evil.example:" + port: 421, "127.0.0.1:1": 421,
		"127.0.0.1:" + port: 200, "localhost:" + port: 200, "LOCALHOST:" + port: 200, "[::1]:" + port: 200,
	} {
		for _, path := range []string{"/", "/cart", "/admin", "/klarna/authorization?checkout=x&secret=y"} {
			method := http.MethodGet
			if strings.HasPrefix(path, "/klarna/") {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader("{}"))
			req.Host = host
			resp, _ := do(t, req)
			if got := resp.StatusCode; (want == 421) != (got == 421) {
				t.Errorf("%s %s with Host %q: %d", method, path, host, got)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.Host = "10.0.0.7:8080"
		if resp, _ := do(t, req); resp.StatusCode != 200 {
			t.Errorf("%s probed by address: %d", path, resp.StatusCode)
		}
	}
}

// syncBuffer is a log a test reads while the shop writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestAdminLoginLimited: wrong passwords for the orders area are slowed
// down, then refused with 429 and Retry-After, per client (an IPv6 client
// by its /64); each failure is logged as a security event without the
// password tried; another client still gets in.
func TestAdminLoginLimited(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	const password = "tram-violet-oxide-ninth"
	e := newEnv(t, options{adminPassword: password, trustProxy: true, logs: &logs})
	login := func(client, pw string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/admin", nil)
		req.Header.Set("X-Forwarded-For", client)
		req.SetBasicAuth("admin", pw)
		resp, _ := do(t, req)
		return resp
	}
	start := time.Now()
	var codes []int
	for i := range 8 {
		// One attacker rotating through addresses of its /64.
		codes = append(codes, login(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprintf("guess-%d", i)).StatusCode)
	}
	if codes[0] != 401 || codes[len(codes)-1] != 429 {
		t.Fatalf("8 wrong passwords from one /64: %v", codes)
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Errorf("failures are not slowed down: 8 attempts in %v", time.Since(start))
	}
	resp := login("2001:db8:1:2::ffff", password)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("the right password from the throttled /64: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := login("2001:db8:9::1", password); resp.StatusCode != 200 {
		t.Errorf("another client with the right password: %d", resp.StatusCode)
	}
	if resp := login("198.51.100.7", "wrong"); resp.StatusCode != 401 {
		t.Errorf("another client with a wrong password: %d", resp.StatusCode)
	}
	out := logs.String()
	if strings.Count(out, "security event") < 5 || !strings.Contains(out, "admin_login_failed") {
		t.Errorf("failed logins not logged as security events:\n%s", out)
	}
	if strings.Contains(out, "guess-") || strings.Contains(out, password) {
		t.Error("the log shows a password")
	}
}

// TestRateLimitsKeyIPv6OnThe64: the checkout's per-client limit counts an
// IPv6 client by its /64, so rotating addresses inside it does not help;
// IPv4 clients keep one allowance per address.
func TestRateLimitsKeyIPv6OnThe64(t *testing.T) {
	t.Parallel()
	// Callbacks get four times the burst: 4 requests, then 429.
	e := newEnv(t, options{trustProxy: true, limits: handlers.Limits{Checkout: 0.001, Place: 0.001, Callbacks: 0.001, Burst: 1}})
	status := func(client string) int {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/klarna/authorization?checkout=x&secret=y", strings.NewReader("{}"))
		req.Header.Set("X-Forwarded-For", client)
		resp, _ := do(t, req)
		return resp.StatusCode
	}
	var got []int
	for i := range 6 {
		got = append(got, status(fmt.Sprintf("2001:db8:aa:bb:%x::1", i)))
	}
	if got[0] == 429 || got[5] != 429 {
		t.Errorf("addresses of one /64: %v", got)
	}
	if s := status("2001:db8:aa:bc::1"); s == 429 {
		t.Error("the next /64 is limited too")
	}
	for i := range 3 {
		if s := status(fmt.Sprintf("192.0.2.%d", i+1)); s == 429 {
			t.Errorf("IPv4 client %d limited", i)
		}
	}
}

// TestRequestIDSanitized: a client's X-Request-Id is kept only when it is
// a short id of safe characters; otherwise the shop makes its own, so a
// client cannot fill the log (one 200 KB header added 200 KB a line) or
// write into it.
func TestRequestIDSanitized(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newEnv(t, options{logs: &logs})
	for id, keep := range map[string]bool{
		"trace-0123.ABC_x":           true,
		strings.Repeat("a", 64):      true,
		strings.Repeat("a", 65):      false,
		strings.Repeat("x", 200<<10): false,
		"abc def":                    false,
		"abc\" level=ERROR msg=x":    false,
		"<script>":                   false,
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/healthz?x=1", nil)
		req.Header.Set("X-Request-Id", id)
		resp, _ := do(t, req)
		got := resp.Header.Get("X-Request-Id")
		if keep != (got == id) || len(got) == 0 || len(got) > 64 {
			t.Errorf("X-Request-Id %.40q: answered %.70q", id, got)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/cart", nil)
	req.Header.Set("X-Request-Id", strings.Repeat("y", 200<<10))
	do(t, req)
	if n := len(logs.String()); n > 4<<10 {
		t.Errorf("the log grew by %d bytes", n)
	}
}

// TestReturnPathNormalised: the market switch's return path is read as a
// browser reads it (tabs and newlines dropped, ends trimmed) and must then
// be a path on this site.
func TestReturnPathNormalised(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	s.session()
	for ret, want := range map[string]string{
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"\t//evil.example":      "/",
		" //evil.example":       "/",
		"/\\evil.example":       "/",
		"/\t\\evil.example":     "/",
		"\x00/\x01/evil":        "/",
		"https://evil.example/": "/",
		"/products/oak-board":   "/products/oak-board",
		"/?category=kitchen":    "/?category=kitchen",
		"\t/cart ":              "/cart",
	} {
		resp, _ := s.post("/market", url.Values{"market": {"SE"}, "return": {ret}})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("return %q: Location %q, want %q", ret, got, want)
		}
	}
}

// TestPrivatePagesNotCached: pages with a cart, a checkout (its client
// token), an order or the orders area are never stored by a browser or
// proxy; the catalog may be.
func TestPrivatePagesNotCached(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{adminPassword: "tram-violet-oxide-ninth"})
	s := e.shopper(t)
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"oak-board"}})
	for _, path := range []string{"/cart", "/checkout", "/admin", "/confirmation/KS-NOPE", "/checkout/review"} {
		resp, _ := s.get(path)
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s (%d): Cache-Control %q", path, resp.StatusCode, cc)
		}
	}
	for _, path := range []string{"/", "/products/oak-board"} {
		resp, _ := s.get(path)
		if cc := resp.Header.Get("Cache-Control"); strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
	}
}

// TestHeadOptionsAndMethodNotAllowed: every GET page answers HEAD, OPTIONS
// lists a path's methods, a wrong method on a known path is 405 with
// Allow, and an unknown path stays 404.
func TestHeadOptionsAndMethodNotAllowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	send := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, e.srv.URL+path, nil)
		return do(t, req)
	}
	for _, path := range []string{"/healthz", "/readyz", "/", "/products/oak-board", "/cart", "/robots.txt", "/static/css/app.css"} {
		get, _ := send(http.MethodGet, path)
		head, body := send(http.MethodHead, path)
		if head.StatusCode != get.StatusCode || head.StatusCode != 200 || body != "" || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q (GET: %d)", path, head.StatusCode, head.Header.Get("Content-Type"), get.StatusCode)
		}
	}
	for path, want := range map[string][]string{"/cart": {"GET", "HEAD"}, "/cart/add": {"POST"}, "/checkout/review": {"GET", "HEAD", "POST"}, "/healthz": {"GET", "HEAD"}} {
		resp, _ := send(http.MethodOptions, path)
		allow := resp.Header.Get("Allow")
		for _, m := range want {
			if !strings.Contains(allow, m) {
				t.Errorf("OPTIONS %s: %d, Allow %q lacks %s", path, resp.StatusCode, allow, m)
			}
		}
		if resp.StatusCode != http.StatusNoContent || strings.Contains(allow, "DELETE") {
			t.Errorf("OPTIONS %s: %d, Allow %q", path, resp.StatusCode, allow)
		}
	}
	for _, tt := range []struct{ method, path, allow string }{
		{"DELETE", "/cart", "GET"}, {"PUT", "/", "GET"}, {"GET", "/cart/add", "POST"}, {"GET", "/klarna/authorization", "POST"}, {"POST", "/healthz", "GET"},
	} {
		resp, _ := send(tt.method, tt.path)
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), tt.allow) {
			t.Errorf("%s %s: %d, Allow %q", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	for _, m := range []string{"GET", "POST", "HEAD", "OPTIONS"} {
		if resp, _ := send(m, "/no-such-page"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s /no-such-page: %d", m, resp.StatusCode)
		}
	}
}

// TestCSRFTokenNotFromQuery: the token counts only in the form body or the
// X-CSRF-Token header, never in the URL (which ends up in logs, history
// and Referer headers).
func TestCSRFTokenNotFromQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	s.session()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/cart/add?csrf="+s.csrf, strings.NewReader("product=oak-board"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("token in the query string: %d", resp.StatusCode)
	}
	if resp, _ := s.post("/cart/add", url.Values{"product": {"oak-board"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("token in the form: %d", resp.StatusCode)
	}
}

// TestStaticHasNoDirectoryListing: /static/ serves files, never a list.
func TestStaticHasNoDirectoryListing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, path := range []string{"/static/", "/static/art/", "/static/art", "/static/js/"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		if resp, body := do(t, req); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "mug.svg") || strings.Contains(body, "app.js") {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/static/art/mug.svg", nil)
	if resp, _ := do(t, req); resp.StatusCode != 200 {
		t.Errorf("a file: %d", resp.StatusCode)
	}
}

// TestEarlyAnswersCarrySecurityHeaders: what middleware answers by itself
// (421 for a foreign host, 413 for a body too large) carries the same
// security headers as every page, and is not stored.
func TestEarlyAnswersCarrySecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	big, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/cart/add",
		strings.NewReader("product=oak-board&pad="+strings.Repeat("a", 300<<10)))
	big.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	foreign, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
	foreign.Host = "evil.example"
	for name, req := range map[string]*http.Request{"body too large": big, "foreign host": foreign} {
		resp, _ := do(t, req)
		if resp.StatusCode != map[string]int{"body too large": 413, "foreign host": 421}[name] {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
		for _, h := range []string{"X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s (%d): no %s", name, resp.StatusCode, h)
			}
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q", name, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}

// TestHeadChangesNothing: HEAD is safe (RFC 9110 9.2.1). A probe of the
// checkout opens no Klarna session, and a HEAD of any page neither starts
// a session nor uses up the shopper's message; it still answers as GET
// would.
func TestHeadChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	s.session()
	s.post("/cart/add", url.Values{"product": {"oak-board"}})
	s.get("/cart")
	before := len(e.sim.Snapshot().Sessions)
	head := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodHead, e.srv.URL+path, nil)
		resp, err := s.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := head("/checkout"); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=UTF-8" ||
		resp.Header.Get("Set-Cookie") != "" || len(e.sim.Snapshot().Sessions) != before {
		t.Errorf("HEAD /checkout: %d %q, Set-Cookie %v, %d Klarna sessions opened", resp.StatusCode, resp.Header.Get("Content-Type"),
			resp.Header.Get("Set-Cookie") != "", len(e.sim.Snapshot().Sessions)-before)
	}
	s.post("/market", url.Values{"market": {"SE"}, "return": {"/"}}) // leaves a message
	if resp := head("/"); resp.StatusCode != http.StatusOK || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("HEAD / with a message waiting: %d, Set-Cookie %v", resp.StatusCode, resp.Header.Get("Set-Cookie") != "")
	}
	if _, doc := s.get("/"); text(doc, "flash") == "" {
		t.Error("a HEAD request used up the shopper's message")
	}
	visitor := e.shopper(t)
	req, _ := http.NewRequest(http.MethodHead, e.srv.URL+"/checkout/status", nil)
	if resp, _ := visitor.c.Do(req); resp.StatusCode != http.StatusOK || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("HEAD /checkout/status without a session: %d, Set-Cookie %v", resp.StatusCode, resp.Header.Get("Set-Cookie") != "")
	}
}

// TestHeadAnswersLikeGet: HEAD gets GET's status and Content-Type, error
// pages and JSON answers included.
func TestHeadAnswersLikeGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, p := range []string{"/checkout/status", "/no-such-page", "/products/nope"} {
		get, _ := http.NewRequest(http.MethodGet, e.srv.URL+p, nil)
		head, _ := http.NewRequest(http.MethodHead, e.srv.URL+p, nil)
		g, _ := do(t, get)
		h, body := do(t, head)
		if g.StatusCode != h.StatusCode || g.Header.Get("Content-Type") != h.Header.Get("Content-Type") || body != "" {
			t.Errorf("%s: GET %d %q, HEAD %d %q with %d bytes", p, g.StatusCode, g.Header.Get("Content-Type"), h.StatusCode, h.Header.Get("Content-Type"), len(body))
		}
	}
}

// TestIfNoneMatchStar: "If-None-Match: *" on a GET of a page or file that
// exists is false: 304 (RFC 9110 13.1.2).
func TestIfNoneMatchStar(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, p := range []string{"/", "/products/oak-board", "/static/css/app.css"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+p, nil)
		req.Header.Set("If-None-Match", "*")
		if resp, _ := do(t, req); resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: *: %d", p, resp.StatusCode)
		}
	}
}

// TestStaticMissIsNotStored: a 404 under /static may be cached by default;
// during a rolling deploy an older instance answers 404 for a newer
// build's fingerprinted names, which must not be kept.
func TestStaticMissIsNotStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, p := range []string{"/static/css/app.0123456789.css", "/static/nope.js"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+p, nil)
		if resp, _ := do(t, req); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: %d, Cache-Control %q", p, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}

// TestChunkedBodyOverTheLimit: a form body over the limit is refused as too
// large however it is framed; a chunked one, whose length is not declared,
// reaches the limit only as it is read.
func TestChunkedBodyOverTheLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	var multi strings.Builder
	mw := multipart.NewWriter(&multi)
	mw.WriteField("product", "oak-board")
	mw.WriteField("pad", strings.Repeat("a", 300<<10))
	mw.Close()
	for contentType, body := range map[string]string{
		"application/x-www-form-urlencoded": "product=oak-board&pad=" + strings.Repeat("a", 300<<10),
		mw.FormDataContentType():            multi.String(),
	} {
		// io.MultiReader hides the length: the request is sent chunked.
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/cart/add", io.MultiReader(strings.NewReader(body)))
		req.Header.Set("Content-Type", contentType)
		if resp, _ := do(t, req); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked %s form of 300 KB: %d", strings.Split(contentType, ";")[0], resp.StatusCode)
		}
	}
}

// TestFormsAsBefore: reading the form in the CSRF check changed nothing
// for forms the handlers took before: a multipart form carries its token,
// and a form with a part url.ParseQuery refuses is read as far as it goes.
func TestFormsAsBefore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	s.session()
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"product": "oak-board", "quantity": "1", "csrf": s.csrf} {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/cart/add", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if resp, err := s.c.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Errorf("multipart add to cart: %v %v", resp.StatusCode, err)
	}
	for _, tc := range []struct{ path, body string }{
		{"/cart/add?utm=a;b", "product=oak-board&quantity=1&csrf=" + s.csrf},
		{"/cart/add", "product=oak-board&quantity=1&csrf=" + s.csrf + "&x=100%"},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, err := s.c.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Errorf("POST %s %q: %v %v", tc.path, tc.body, resp.StatusCode, err)
		}
	}
	if _, doc := s.get("/cart"); text(doc, "cart-count") != "3" {
		t.Errorf("the cart holds %q, want 3", text(doc, "cart-count"))
	}
}
