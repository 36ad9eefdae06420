package handlers

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/shop"
)

// TestKeptCookieIsWhatDecodingGives: the session kept for a cookie the shop
// sets is, field by field, what decoding and parsing that cookie gives
// (empty values are left out by the serializer; a flash is kept as set).
func TestKeptCookieIsWhatDecodingGives(t *testing.T) {
	h := New(Config{BaseURL: "http://shop.test", SessionKeys: SessionKeys([]string{"new-secret-0123456789", "old-secret-0123456789"})},
		nil, nil, shop.DefaultCatalog(), slog.New(slog.DiscardHandler))
	e := echo.New()
	run := func(cookie string, f func(s *shopper)) string {
		req := httptest.NewRequest(http.MethodGet, "/cart", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: sessionName, Value: cookie})
		}
		rec := httptest.NewRecorder()
		c := e.NewContext(req, rec)
		err := h.withShopper(func(c echo.Context) error {
			f(shopperOf(c))
			return c.String(http.StatusOK, "ok")
		})(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == sessionName {
				return ck.Value
			}
		}
		return ""
	}
	check := func(value string) {
		t.Helper()
		kept, ok := h.decoded.get(value, time.Now())
		if !ok {
			t.Fatal("the cookie set was not kept")
		}
		decoded := map[any]any{}
		if err := securecookie.DecodeMulti(sessionName, value, &decoded, h.sessions.Codecs...); err != nil {
			t.Fatal(err)
		}
		if want := h.parseSession(decoded); !reflect.DeepEqual(kept, want) {
			t.Errorf("kept %+v, the cookie decodes to %+v", kept, want)
		}
	}
	v1 := run("", func(s *shopper) {
		s.setFlash("hello & bye=1%;")
		s.Lang = "sv"
		s.rememberOrder("a,b")
		if err := s.Cart.Add(h.catalog, "pour-over-kettle", 2); err != nil {
			t.Fatal(err)
		}
		s.dirty = true
	})
	check(v1)
	v2 := run(v1, func(s *shopper) { s.takeFlash() })
	check(v2)
	if v2 == v1 {
		t.Fatal("taking the flash did not set a new cookie")
	}
	// A request changes its shopper's cart and orders in place and fails
	// before saving: the session kept for the cookie, which the next
	// request with it gets, is untouched.
	if v := run(v2, func(s *shopper) {
		s.Cart.Items[0].Quantity = 7
		s.Cart.Discount = "X"
		s.Orders[0] = "someone-else"
	}); v != "" {
		t.Fatalf("an unsaved change set a cookie: %q", v)
	}
	check(v2)
	run(v2, func(s *shopper) {
		if len(s.Cart.Items) != 1 || s.Cart.Items[0].Quantity != 2 || s.Cart.Discount != "" || s.Orders[0] != "a" {
			t.Errorf("the next request with the cookie got cart %+v, orders %q", s.Cart, s.Orders)
		}
	})
}
