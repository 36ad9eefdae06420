package handlers

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/shop"
)

// TestKeptCookieIsWhatDecodingGives: the values kept for a cookie the shop
// sets read, key by key, as decoding that cookie gives them (empty values
// are left out by the serializer; a flash is kept as set).
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
		for _, k := range []string{"cart", "market", "lang", "checkout", "csrf", "orders", "flash", "review", "bid", "since", "other"} {
			a, _ := kept[k].(string)
			b, _ := decoded[k].(string)
			if a != b {
				t.Errorf("%s: kept %q, decoded %q", k, a, b)
			}
		}
	}
	v1 := run("", func(s *shopper) { s.setFlash("hello & bye=1%;"); s.Lang = "sv"; s.rememberOrder("a,b") })
	check(v1)
	v2 := run(v1, func(s *shopper) { s.takeFlash() })
	check(v2)
	if v2 == v1 {
		t.Fatal("taking the flash did not set a new cookie")
	}
}
