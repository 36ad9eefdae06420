package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestLookingSetsNoCookie: a visitor who only looks gets no cookie, so the
// catalog and product pages are the same for everyone; the first thing
// that needs a session starts one.
func TestLookingSetsNoCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	for _, p := range []string{"/", "/products/oak-board", "/?category=Coffee", "/cart"} {
		resp, _ := s.get(p)
		if c := resp.Header.Get("Set-Cookie"); c != "" {
			t.Errorf("GET %s set a cookie: %s", p, c)
		}
	}
	// The first POST needs no token (there is nothing of the visitor's to
	// protect yet) and starts the session.
	resp, _ := s.post("/cart/add", url.Values{"product": {"oak-board"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Set-Cookie"), "fika=") {
		t.Fatalf("first add: %d, cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	_, doc := s.get("/cart")
	if s.csrf == "" || text(doc, "cart-count") != "1" {
		t.Fatalf("after the first add: token %q, count %q", s.csrf, text(doc, "cart-count"))
	}
	// From then on the token is required.
	if resp, _ := s.post("/cart/add", url.Values{"product": {"oak-board"}, "csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged token with a session: %d", resp.StatusCode)
	}
}

// TestCrossSitePostRefused: a POST from another site is refused, with or
// without a session, by the browser's own Sec-Fetch-Site or Origin.
func TestCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for name, header := range map[string][2]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site", "cross-site"},
		"foreign Origin":            {"Origin", "https://evil.example"},
	} {
		s := e.shopper(t)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/cart/add", strings.NewReader("product=oak-board"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(header[0], header[1])
		resp, err := s.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %d, cookie %q", name, resp.StatusCode, resp.Header.Get("Set-Cookie"))
		}
	}
	// The same request from the shop's own pages passes.
	s := e.shopper(t)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/cart/add", strings.NewReader("product=oak-board"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin first POST: %d", resp.StatusCode)
	}
}

// TestOrderFormsAlwaysNeedAToken: pages that act on orders, payments or
// subscriptions always run with a session, so their POSTs need its token
// even from a visitor who has no cookie yet (no first-POST exemption).
func TestOrderFormsAlwaysNeedAToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, p := range []string{"/admin/orders/KS-X/plan", "/checkout/place", "/checkout/review", "/subscription/SUB-X/cancel"} {
		s := e.shopper(t)
		resp, _ := s.post(p, url.Values{"kind": {"capture_all"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without a session: %d", p, resp.StatusCode)
		}
	}
}

// TestPublicPagesAreCacheable: the catalog and product pages of a visitor
// without a session are the same for everyone: a short public cache and a
// validator that answers 304. A shopper with a session gets private pages.
func TestPublicPagesAreCacheable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, p := range []string{"/", "/products/oak-board"} {
		resp, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if resp.Header.Get("Cache-Control") != "public, max-age=60" || etag == "" || !slices.Contains(resp.Header.Values("Vary"), "Cookie") {
			t.Fatalf("GET %s: %v", p, resp.Header)
		}
		again, _ := http.Get(e.srv.URL + p)
		again.Body.Close()
		if again.Header.Get("ETag") != etag {
			t.Errorf("GET %s: the same page got another ETag", p)
		}
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+p, nil)
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("revalidating %s: %d", p, resp.StatusCode)
		}
	}
	s := e.shopper(t)
	s.session()
	resp, _ := s.get("/")
	if resp.Header.Get("Cache-Control") != "private, no-cache" || resp.Header.Get("ETag") != "" {
		t.Errorf("a shopper's page: %v", resp.Header)
	}
}

// TestKeptShopperPagesAreTheirOwn: catalog and product pages are kept for
// every shopper with the same market, language and cart count, yet each
// shopper gets their own CSRF token in every form, their own cart count,
// market and flash message, and a private page.
func TestKeptShopperPagesAreTheirOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	a, b := e.shopper(t), e.shopper(t)
	for _, s := range []*shopper{a, b} {
		s.post("/cart/add", url.Values{"product": {"oak-board"}})
		s.get("/cart") // the "added" message is shown, and gone
	}
	if a.csrf == b.csrf {
		t.Fatal("two shoppers share a token")
	}
	for _, p := range []string{"/", "/products/oak-board", "/?category=Coffee"} {
		for range 2 { // the second view comes from the kept page
			for _, s := range []*shopper{a, b} {
				resp, doc := s.get(p)
				if resp.Header.Get("Cache-Control") != "private, no-cache" || resp.Header.Get("ETag") != "" {
					t.Errorf("GET %s: Cache-Control %q, ETag %q", p, resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"))
				}
				fields := doc.Find(`input[name="csrf"]`)
				if fields.Length() == 0 {
					t.Fatalf("GET %s: no form carries a token", p)
				}
				fields.Each(func(_ int, f *goquery.Selection) {
					if v, _ := f.Attr("value"); v != s.csrf {
						t.Errorf("GET %s: a form carries %q, not the shopper's token", p, v)
					}
				})
				if text(doc, "cart-count") != "1" {
					t.Errorf("GET %s: cart count %q", p, text(doc, "cart-count"))
				}
			}
		}
	}
	// A change the page shows: a new count, a flash, another market.
	b.post("/cart/add", url.Values{"product": {"oak-board"}})
	if _, doc := b.get("/"); text(doc, "cart-count") != "2" || text(doc, "flash") == "" {
		t.Errorf("after another add: count %q, flash %q", text(doc, "cart-count"), text(doc, "flash"))
	}
	if _, doc := b.get("/"); text(doc, "flash") != "" {
		t.Errorf("the flash is shown twice: %q", text(doc, "flash"))
	}
	if _, doc := a.get("/"); text(doc, "cart-count") != "1" || text(doc, "flash") != "" {
		t.Errorf("the other shopper sees count %q, flash %q", text(doc, "cart-count"), text(doc, "flash"))
	}
	b.post("/market", url.Values{"market": {"SE"}, "return": {"/"}})
	b.get("/")
	if _, doc := b.get("/products/oak-board"); !strings.Contains(doc.Find("html").AttrOr("lang", ""), "sv") || !strings.Contains(doc.Text(), "kr") {
		t.Errorf("after choosing Sweden: lang %q", doc.Find("html").AttrOr("lang", ""))
	}
	if _, doc := a.get("/products/oak-board"); doc.Find("html").AttrOr("lang", "") != "en" {
		t.Errorf("the other shopper's page changed language: %q", doc.Find("html").AttrOr("lang", ""))
	}
}

// TestErrorPagesAreNotStored: an error page carries the shopper's session
// (their token, cart count, a message), and a 404 may be cached by default:
// every error page says no-store, for visitors and shoppers alike.
func TestErrorPagesAreNotStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	for _, shopping := range []bool{false, true} {
		if shopping {
			s.post("/cart/add", url.Values{"product": {"stoneware-mug"}})
		}
		for _, p := range []string{"/products/nope", "/?category=nope", "/nowhere"} {
			resp, doc := s.get(p)
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("GET %s (shopping %v): %d, Cache-Control %q", p, shopping, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
			if shopping && text(doc, "cart-count") != "1" {
				t.Errorf("GET %s: the error page shows no cart (%q): the test no longer covers a shopper's page", p, text(doc, "cart-count"))
			}
		}
	}
}
