package handlers

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/views"
)

// TestKeptLayoutIsTheWholePage: a page sent from a kept layout is, byte for
// byte, the page rendered whole, for the shopper who seeded the layout and
// for another with the same market, language and cart count but their own
// token and their own cart; one with a flash message gets the whole page.
func TestKeptLayoutIsTheWholePage(t *testing.T) {
	h := &Handler{}
	e := echo.New()
	gb, _ := shop.LookupMarket("GB")
	cat := shop.DefaultCatalog()
	page := func(token string, lines ...views.CartLine) (*shopper, views.CartPage) {
		cart, err := shop.DecodeCart("oak-board:1,brass-pen:2", cat)
		if err != nil {
			t.Fatal(err)
		}
		s := &shopper{Cart: cart, Market: gb, MarketChosen: true, Locale: "en-GB", CSRF: token}
		p := views.CartPage{
			Base: views.Base{Title: "Your cart", Lang: "en", Path: "/cart", Market: "GB", CartCount: cart.Count(), CSRF: token,
				Markets: []views.MarketOption{{Code: "GB", Label: "United Kingdom"}, {Code: "SE", Label: "Sverige"}}, Mode: "Klarna simulator"},
			Lines: lines, Summary: views.Summary{Total: "£1.00"}, MaxQuantity: shop.MaxQuantity,
		}
		return s, p
	}
	serve := func(s *shopper, p views.CartPage) []byte {
		t.Helper()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "http://shop.test/cart", nil), httptest.NewRecorder())
		if err := h.renderInKeptLayout(c, s, http.StatusOK, p.Base, views.CartMain(p), views.CartView(p)); err != nil {
			t.Fatal(err)
		}
		return c.Response().Writer.(*httptest.ResponseRecorder).Body.Bytes()
	}
	whole := func(p views.CartPage) []byte {
		t.Helper()
		var b bytes.Buffer
		if err := views.CartView(p).Render(t.Context(), &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a := strings.Repeat("a1", 32)
	b := strings.Repeat("b2", 32)
	for i, tc := range []struct {
		token string
		lines []views.CartLine
		flash string
	}{
		{a, []views.CartLine{{ID: "oak-board", Name: "Oak board", Quantity: 1, Unit: "£45.00", Total: "£45.00"}}, ""},
		{b, []views.CartLine{{ID: "brass-pen", Name: "Brass pen <&>", Quantity: 2, Unit: "£18.00", Total: "£36.00"}}, ""},
		{a, nil, ""},
		{b, []views.CartLine{{ID: "oak-board", Name: "Oak board", Quantity: 1}}, "Added to your cart"},
	} {
		s, p := page(tc.token, tc.lines...)
		s.flash, p.Base.Flash = tc.flash, tc.flash
		got, want := serve(s, p), whole(p)
		if !bytes.Equal(got, want) {
			t.Errorf("case %d: the page from the kept layout differs from the whole page:\n%s\n---\n%s", i, got, want)
		}
		if bytes.Contains(got, []byte(csrfPlaceholder)) || bytes.Contains(got, []byte(contentPlaceholder)) {
			t.Errorf("case %d: a placeholder was sent", i)
		}
	}
	if h.public.len() != 1 {
		t.Errorf("%d layouts kept, want the one all four cases share", h.public.len())
	}

	// The checkout page, with the widget's script, and without it (a
	// failure page): two layouts, each the whole page's.
	for i, scripts := range [][]string{{"/static/js/checkout.js"}, nil, {"/static/js/checkout.js"}} {
		token := []string{a, b, b}[i]
		s, cp := page(token)
		p := views.CheckoutPage{Base: cp.Base, Ref: "KS-" + strings.Repeat("A", 8), Lines: cp.Lines, Summary: cp.Summary, ClientToken: "token-" + token[:4]}
		p.Base.Title, p.Base.Scripts = "Checkout", scripts
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "http://shop.test/checkout", nil), httptest.NewRecorder())
		if err := h.renderInKeptLayout(c, s, http.StatusOK, p.Base, views.CheckoutMain(p), views.CheckoutView(p)); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := views.CheckoutView(p).Render(t.Context(), &want); err != nil {
			t.Fatal(err)
		}
		if got := c.Response().Writer.(*httptest.ResponseRecorder).Body.Bytes(); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("checkout %d: the page from the kept layout differs from the whole page:\n%s\n---\n%s", i, got, want.Bytes())
		}
	}
	if h.public.len() != 3 {
		t.Errorf("%d layouts kept, want the cart's and the checkout's two", h.public.len())
	}
}
