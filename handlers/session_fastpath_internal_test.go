package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/shop"
)

// TestSessionFastPathAgreesWithFullParse: whatever Cookie header a request
// sends, the session it gets is the one r.Cookie and securecookie give,
// whether or not the cookie it names was decoded before. Found by an
// independent review: a first cookie named "fika " or "fika" without a
// value, or thousands of cookies, made the fast path pick a later cookie
// the full parse would not.
func TestSessionFastPathAgreesWithFullParse(t *testing.T) {
	h := newHandler(shop.DefaultCatalog())
	e := echo.New()
	// mk makes a session as the shop sets it (and keeps it decoded).
	mk := func(csrf string) string {
		req := httptest.NewRequest(http.MethodGet, "/cart", nil)
		rec := httptest.NewRecorder()
		if err := h.withShopper(func(c echo.Context) error {
			s := shopperOf(c)
			s.CSRF, s.dirty = csrf, true
			return c.String(http.StatusOK, "ok")
		})(e.NewContext(req, rec)); err != nil {
			t.Fatal(err)
		}
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == sessionName {
				return ck.Value
			}
		}
		t.Fatal("no cookie set")
		return ""
	}
	full := func(r *http.Request) string {
		ck, err := r.Cookie(sessionName)
		if err != nil {
			return ""
		}
		values := map[any]any{}
		if err := securecookie.DecodeMulti(sessionName, ck.Value, &values, h.sessions.Codecs...); err != nil {
			return "ERR"
		}
		return h.parseSession(values).csrf
	}
	victim, other := mk("VICTIM"), mk("OTHER")
	for _, line := range []string{
		"fika=" + victim,
		"a=1; fika=" + victim,
		"fika; fika=" + victim,
		"fika=; fika=" + victim,
		"fika =" + other + "; fika=" + victim,
		"fika\t=" + other + "; fika=" + victim,
		` fika="` + victim + `"`,
		"fika=" + victim + "x; fika=" + other,
		strings.Repeat("a=1; ", 3000) + "fika=" + victim,
	} {
		r := httptest.NewRequest(http.MethodGet, "/cart", nil)
		r.Header["Cookie"] = []string{line}
		want := full(r)
		kept, err := h.session(r)
		got := kept.csrf
		if err != nil {
			got = "ERR"
		}
		if got != want {
			short := line
			if len(short) > 60 {
				short = short[:25] + "…"
			}
			t.Errorf("Cookie: %q: the fast path gives session %q, the full parse %q", short, got, want)
		}
	}
}
