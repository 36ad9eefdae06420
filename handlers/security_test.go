package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/fikaandform/storefront/handlers"
)

func TestSecurityHeadersAndScripts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	resp, doc := s.get("/")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "object-src 'none'") {
		t.Fatalf("CSP = %q", csp)
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "nonce-") {
		t.Errorf("simulator mode needs no unsafe sources and no nonce: %q", csp)
	}
	scripts := doc.Find("script")
	if scripts.Length() == 0 {
		t.Fatal("no scripts")
	}
	scripts.Each(func(_ int, sc *goquery.Selection) {
		src, ok := sc.Attr("src")
		if !ok || !strings.HasPrefix(src, "/static/") {
			t.Errorf("script %q: every script is a file of the shop's own (none inline)", src)
		}
	})
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q", h, got)
		}
	}
	if resp.Header.Get("Permissions-Policy") == "" || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("Permissions-Policy missing, or HSTS on plain http")
	}
	k := handlers.KlarnaCSP(true)
	if !slices.Contains(k.Script, "https://x.klarnacdn.net") || !slices.Contains(k.Script, "https://js.playground.klarna.com") || slices.Contains(handlers.KlarnaCSP(false).Script, "https://js.playground.klarna.com") {
		t.Errorf("Klarna hosts: %+v", k)
	}
}

// TestSessionSecretRotation: a cookie signed with the old secret still works
// while the old secret is listed second; once it is dropped, the cart
// resets with a note instead of an error.
func TestSessionSecretRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := "old-secret-0123456789abcdef0123456789abcdef", "new-secret-0123456789abcdef0123456789abcdef"
	before := newEnv(t, options{secrets: []string{oldSecret}})
	s := before.shopper(t)
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"stoneware-mug"}, "quantity": {"3"}})
	u, _ := url.Parse(before.srv.URL)
	cookies := s.c.Jar.Cookies(u)

	move := func(e *env) *shopper {
		s2 := e.shopper(t)
		u2, _ := url.Parse(e.srv.URL)
		s2.c.Jar.SetCookies(u2, cookies)
		return s2
	}
	rotated := newEnv(t, options{secrets: []string{newSecret, oldSecret}})
	_, doc := move(rotated).get("/cart")
	if got := text(doc, "cart-count"); got != "3" {
		t.Errorf("after rotation the old cookie reads as %q items", got)
	}
	retired := newEnv(t, options{secrets: []string{newSecret}})
	resp, doc := move(retired).get("/cart")
	if resp.StatusCode != 200 || text(doc, "cart-count") != "0" || text(doc, "flash") == "" {
		t.Errorf("retired secret: %d count %q flash %q", resp.StatusCode, text(doc, "cart-count"), text(doc, "flash"))
	}
}

func TestBadInputNeverFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	s.get("/")
	// An oversized cookie.
	req, _ := http.NewRequest("GET", e.srv.URL+"/cart", nil)
	req.AddCookie(&http.Cookie{Name: "fika", Value: strings.Repeat("A", 6000)})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("oversized cookie: %d", resp.StatusCode)
	}
	// Header injection through the return path.
	resp, _ = s.post("/market", url.Values{"market": {"DE"}, "return": {"/cart\r\nSet-Cookie: evil=1"}})
	if loc := resp.Header.Get("Location"); loc != "/" || resp.Header.Get("Set-Cookie") == "evil=1" {
		t.Errorf("header injection: Location %q", loc)
	}
	// Script in every text field is never echoed unescaped.
	xss := `"><script>alert(1)</script>`
	for path, form := range map[string]url.Values{
		"/cart/add":      {"product": {xss}, "quantity": {xss}},
		"/cart/update":   {"product": {xss}, "quantity": {"1"}},
		"/cart/remove":   {"product": {xss}},
		"/cart/discount": {"code": {xss}},
		"/market":        {"market": {xss}, "return": {xss}},
	} {
		resp, doc := s.post(path, form)
		html, _ := doc.Html()
		if resp.StatusCode >= 500 || strings.Contains(html, "<script>alert(1)</script>") {
			t.Errorf("%s: %d, script echoed: %v", path, resp.StatusCode, strings.Contains(html, "<script>alert(1)</script>"))
		}
	}
	// Oversized bodies are refused before any handler work.
	resp, err = http.Post(e.srv.URL+"/klarna/authorization?checkout=x&secret=y", "application/json", strings.NewReader(strings.Repeat("x", 300<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("300 KB callback body: %d", resp.StatusCode)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{limits: handlers.Limits{Checkout: 0.001, Place: 0.001, Callbacks: 0.001, Burst: 2}})
	s := e.shopper(t)
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"stoneware-mug"}})
	var last int
	for range 3 {
		resp, _ := s.get("/checkout")
		last = resp.StatusCode
	}
	resp, doc := s.get("/checkout")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(doc.Text(), "a little fast") {
		t.Errorf("4th checkout page in a burst of 2: %d (before: %d)", resp.StatusCode, last)
	}
	if n := len(e.sim.Snapshot().Sessions); n != 1 {
		t.Errorf("Klarna sessions: %d", n)
	}
}
