package handlers_test

import (
	"net/url"
	"testing"
)

// TestKeptLayoutFollowsTheShopper: the cart and checkout pages' kept layout
// is each shopper's own in what it shows of them: the cart count, the
// market in the switcher, the market suggestion their browser's language
// calls for.
func TestKeptLayoutFollowsTheShopper(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	one, two := e.shopper(t), e.shopper(t)
	one.session()
	two.session()
	one.post("/cart/add", url.Values{"product": {"oak-board"}, "quantity": {"1"}})
	two.post("/cart/add", url.Values{"product": {"oak-board"}, "quantity": {"2"}})
	one.get("/cart")
	two.get("/cart")
	for _, p := range []string{"/cart", "/checkout"} {
		_, d1 := one.get(p) // seeds the layout
		_, d2 := two.get(p)
		if c1, c2 := text(d1, "cart-count"), text(d2, "cart-count"); c1 != "1" || c2 != "2" {
			t.Errorf("%s: cart counts %q and %q, want 1 and 2", p, c1, c2)
		}
	}
	us := e.shopper(t)
	us.post("/market", url.Values{"market": {"US"}, "return": {"/"}})
	us.get("/")
	us.post("/cart/add", url.Values{"product": {"oak-board"}, "quantity": {"1"}})
	us.get("/cart")
	one.get("/cart")
	if _, d := us.get("/cart"); d.Find(`#market-select option[selected]`).AttrOr("value", "") != "US" {
		t.Errorf("the US shopper's switcher shows %q", d.Find(`#market-select option[selected]`).AttrOr("value", ""))
	}
	sv, en := e.shopper(t), e.shopper(t)
	for _, s := range []*shopper{sv, en} {
		s.post("/cart/add", url.Values{"product": {"oak-board"}, "quantity": {"1"}})
		s.get("/cart")
	}
	if _, d := sv.getLang("/cart", "sv-SE"); d.Find(`[data-testid=market-suggestion]`).Length() != 1 {
		t.Fatal("no market suggestion for a Swedish browser")
	}
	if _, d := en.getLang("/cart", "en-GB"); d.Find(`[data-testid=market-suggestion]`).Length() != 0 {
		t.Error("a British browser gets the Swedish browser's suggestion")
	}
}
