package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/fikaandform/storefront/klarna/simulator"
)

// TestReplayedCartCookieReusesTheCheckout: one cart cookie sent again and
// again to /checkout (as an attacker would, to open Klarna sessions and
// database rows without end) finds the browser's open checkout each time.
func TestReplayedCartCookieReusesTheCheckout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{limits: noLimits})
	s := e.shopper(t)
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"oak-board"}})
	base, _ := url.Parse(e.srv.URL)
	var cookie *http.Cookie
	for _, c := range s.c.Jar.Cookies(base) {
		if c.Name == "fika" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie after adding to the cart")
	}
	for range 6 {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/checkout", nil)
		req.AddCookie(cookie) // always the cookie from before the checkout
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("checkout: %d", resp.StatusCode)
		}
	}
	if n := e.sim.Count(simulator.OpCreateSession); n != 1 {
		t.Errorf("Klarna sessions opened: %d, want 1", n)
	}
}
