package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/fikaandform/storefront/handlers"
)

// leftID finds a message id that reached a page untranslated.
var leftID = regexp.MustCompile(`\b(layout|title|market|suggest|category|tax|catalog|product|plan|summary|cart|flash|checkout|unavailable|place|js|review|confirmation|method|fulfilment|subscription|charges|error|date|language|mode)\.([a-z_0-9]+\b|[A-Z]{2}\b)`)

func (s *shopper) getLang(path, acceptLanguage string) (*http.Response, *goquery.Document) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	req.Header.Set("Accept-Language", acceptLanguage)
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, doc
}

// TestEachMarketSpeaksItsLanguage: switching the market switches the
// language; <html lang> matches; the shopper's pages (catalog, product,
// cart, checkout, an error) are in that language with no message id left
// over, and the Klarna session gets the same locale.
func TestEachMarketSpeaksItsLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, tc := range []struct{ market, lang, locale, cart, add, checkout string }{
		{"GB", "en", "en-GB", "Your cart", "Add to cart", "Pay with Klarna"},
		{"SE", "sv", "sv-SE", "Din varukorg", "Lägg i varukorgen", "Betala med Klarna"},
		{"DE", "de", "de-DE", "Dein Warenkorb", "In den Warenkorb", "Mit Klarna bezahlen"},
		{"NL", "nl", "nl-NL", "Je winkelwagen", "In winkelwagen", "Betalen met Klarna"},
	} {
		s := e.shopper(t)
		s.get("/")
		s.post("/market", url.Values{"market": {tc.market}, "return": {"/"}})
		_, doc := s.get("/")
		check := func(page string, doc *goquery.Document) {
			t.Helper()
			if got := doc.Find("html").AttrOr("lang", ""); got != tc.lang {
				t.Errorf("%s %s: lang=%q, want %q", tc.market, page, got, tc.lang)
			}
			if m := leftID.FindString(doc.Find("body").Text()); m != "" {
				t.Errorf("%s %s: untranslated %q", tc.market, page, m)
			}
		}
		check("/", doc)
		_, doc = s.get("/products/oak-board")
		check("product", doc)
		if got := strings.TrimSpace(doc.Find(`[data-testid=add-to-cart]`).Text()); got != tc.add {
			t.Errorf("%s: add button %q, want %q", tc.market, got, tc.add)
		}
		s.post("/cart/add", url.Values{"product": {"oak-board"}, "quantity": {"2"}})
		_, doc = s.get("/cart")
		check("cart", doc)
		if got := doc.Find("h1").Text(); got != tc.cart {
			t.Errorf("%s: cart heading %q, want %q", tc.market, got, tc.cart)
		}
		_, doc = s.get("/checkout")
		check("checkout", doc)
		if got := doc.Find("#pay-heading").Text(); got != tc.checkout {
			t.Errorf("%s: checkout heading %q, want %q", tc.market, got, tc.checkout)
		}
		// The checkout script's words are in the page's language too.
		var msgs map[string]string
		if err := json.Unmarshal([]byte(doc.Find("#checkout-messages").Text()), &msgs); err != nil || msgs["closed"] == "" || msgs["correct_fields"] == "" {
			t.Errorf("%s: checkout messages %v (%v)", tc.market, msgs, err)
		} else if !strings.Contains(msgs["correct_fields"], "{fields}") {
			t.Errorf("%s: correct_fields has no {fields}: %q", tc.market, msgs["correct_fields"])
		}
		_, doc = s.get("/products/no-such-thing")
		check("404", doc)
		if locale := sessionLocale(t, e, tc.market); locale != tc.locale {
			t.Errorf("%s: the Klarna session's locale is %q, want %q", tc.market, locale, tc.locale)
		}
	}
}

// sessionLocale is the locale of the newest Klarna session of a country.
func sessionLocale(t *testing.T, e *env, country string) string {
	t.Helper()
	locale, newest := "", time.Time{}
	for _, ss := range e.sim.Snapshot().Sessions {
		if ss.Country != country || ss.CreatedAt.Before(newest) {
			continue
		}
		newest = ss.CreatedAt
		var d struct {
			Locale string `json:"locale"`
		}
		json.Unmarshal(ss.Data, &d)
		locale = d.Locale
	}
	return locale
}

// TestLanguageSwitchKeepsTheCart: English is offered beside the market's
// language; switching keeps the cart and its prices and changes only the
// words and the locale Klarna gets. Markets of one language offer no
// switch.
func TestLanguageSwitchKeepsTheCart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	_, doc := s.get("/")
	if n := doc.Find(`[data-testid=language-form]`).Length(); n != 0 {
		t.Errorf("the United Kingdom offers a language switch")
	}
	s.post("/market", url.Values{"market": {"SE"}, "return": {"/"}})
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"wool-throw"}, "quantity": {"2"}})
	_, before := s.get("/cart")
	if got := before.Find(`#language-select option`).Length(); got != 2 {
		t.Fatalf("Sweden offers %d languages, want 2", got)
	}
	if got := before.Find(`#language-select option[value=en]`).AttrOr("lang", ""); got != "en" {
		t.Errorf("the English option has lang=%q", got)
	}
	s.get("/checkout")
	resp, _ := s.post("/language", url.Values{"lang": {"en"}, "return": {"/cart"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cart" {
		t.Fatalf("switch: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, after := s.get("/cart")
	if got := after.Find("html").AttrOr("lang", ""); got != "en" {
		t.Errorf("after the switch lang=%q", got)
	}
	if got := text(after, "flash"); got != "The shop is now in English." {
		t.Errorf("flash %q", got)
	}
	if text(after, "cart-count") != "2" || text(after, "total") != text(before, "total") || !strings.Contains(text(after, "total"), "kr") {
		t.Errorf("cart changed: count %q, total %q before %q", text(after, "cart-count"), text(after, "total"), text(before, "total"))
	}
	if got := after.Find(`[data-testid=line-wool-throw] .line-name`).Text(); got != "Wool throw" {
		t.Errorf("line name %q", got)
	}
	_, doc = s.get("/checkout")
	if got := doc.Find(`[data-testid=category-pay_later]`).Parent().Text(); !strings.Contains(got, "Pay later") {
		t.Errorf("Klarna's category name %q is not English", strings.TrimSpace(got))
	}
	if locale := sessionLocale(t, e, "SE"); locale != "en-SE" {
		t.Errorf("the Klarna session's locale is %q, want en-SE", locale)
	}
	// The choice holds in another market that speaks it, and a market
	// that does not is seen in its own language.
	s.post("/market", url.Values{"market": {"DE"}, "return": {"/"}})
	if _, doc := s.get("/"); doc.Find("html").AttrOr("lang", "") != "en" {
		t.Errorf("Germany after choosing English: lang=%q", doc.Find("html").AttrOr("lang", ""))
	}
	s.post("/language", url.Values{"lang": {"de"}, "return": {"/"}})
	if _, doc := s.get("/"); doc.Find("html").AttrOr("lang", "") != "de" {
		t.Errorf("after choosing German: lang=%q", doc.Find("html").AttrOr("lang", ""))
	}
	if resp, _ := s.post("/language", url.Values{"lang": {"sv"}, "return": {"/"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("Swedish in Germany: %d", resp.StatusCode)
	}
}

// TestMarketSuggestion: a first-time visitor whose browser speaks Swedish
// is offered Sweden, in Swedish, without a redirect or a cookie; the page
// varies by Accept-Language. Either answer is remembered.
func TestMarketSuggestion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	s := e.shopper(t)
	resp, doc := s.getLang("/", "sv-SE,sv;q=0.9,en;q=0.8")
	box := doc.Find(`[data-testid=market-suggestion]`)
	if resp.StatusCode != http.StatusOK || box.Length() != 1 {
		t.Fatalf("no suggestion: %d", resp.StatusCode)
	}
	if resp.Header.Get("Set-Cookie") != "" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Language") {
		t.Errorf("cookie %q, Vary %q", resp.Header.Get("Set-Cookie"), resp.Header.Get("Vary"))
	}
	if box.AttrOr("lang", "") != "sv" || !strings.Contains(box.Text(), "Handlar du från Sverige?") || !strings.Contains(box.Text(), "Visa priser i SEK") {
		t.Errorf("suggestion: lang %q, %q", box.AttrOr("lang", ""), box.Text())
	}
	if doc.Find("html").AttrOr("lang", "") != "en" {
		t.Errorf("the page itself changed language")
	}
	for header, offered := range map[string]bool{"en-GB,en;q=0.9": false, "en": false, "fr-FR": false, "de-DE,de;q=0.8": true, "en-US": true} {
		_, d := e.shopper(t).getLang("/", header)
		if got := d.Find(`[data-testid=market-suggestion]`).Length() == 1; got != offered {
			t.Errorf("Accept-Language %q: suggestion %v, want %v", header, got, offered)
		}
	}
	// Accepting switches to Sweden, in Swedish.
	s.post("/market", url.Values{"market": {"SE"}, "return": {"/"}})
	_, doc = s.getLang("/", "sv-SE")
	if doc.Find(`[data-testid=market-suggestion]`).Length() != 0 || doc.Find("html").AttrOr("lang", "") != "sv" {
		t.Errorf("after accepting: suggestion %d, lang %q", doc.Find(`[data-testid=market-suggestion]`).Length(), doc.Find("html").AttrOr("lang", ""))
	}
	// Refusing keeps the market and asks no more.
	r := e.shopper(t)
	r.getLang("/", "sv-SE")
	r.post("/market", url.Values{"market": {"GB"}, "return": {"/"}})
	_, doc = r.getLang("/", "sv-SE")
	if doc.Find(`[data-testid=market-suggestion]`).Length() != 0 || !strings.Contains(text(doc, "cart-count"), "0") {
		t.Errorf("after refusing: suggestion still shown")
	}
}

// TestOnSiteMessaging: the product page has Klarna's placement for the
// price and the cart for the total, in the page's locale, with the
// library's script and client id; without a library there is none.
func TestOnSiteMessaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{osm: handlers.OSM{Script: "/klarna-sim/web-sdk/v1/klarna.js", ClientID: "klarna_test_client_x"}})
	s := e.shopper(t)
	s.get("/")
	s.post("/market", url.Values{"market": {"DE"}, "return": {"/"}})
	_, doc := s.get("/products/pour-over-kettle")
	p := doc.Find(`klarna-placement`)
	if p.AttrOr("data-key", "") != "credit-promotion-badge" || p.AttrOr("data-locale", "") != "de-DE" || p.AttrOr("data-purchase-amount", "") != "6900" {
		t.Errorf("product placement: %s %s %s", p.AttrOr("data-key", ""), p.AttrOr("data-locale", ""), p.AttrOr("data-purchase-amount", ""))
	}
	if got := doc.Find(`[data-osm]`).AttrOr("data-unit-amount", ""); got != "6900" {
		t.Errorf("unit amount %q", got)
	}
	script := doc.Find(`script[src="/klarna-sim/web-sdk/v1/klarna.js"]`)
	if script.AttrOr("data-client-id", "") != "klarna_test_client_x" {
		t.Errorf("library script: %v", script.Nodes)
	}
	if doc.Find(`klarna-placement[aria-live], [data-osm][aria-live]`).Length() != 0 || doc.Find(`[data-osm] [role=status]`).Length() != 1 {
		t.Errorf("the placement is a live region, or has no status beside it")
	}
	s.post("/cart/add", url.Values{"product": {"pour-over-kettle"}, "quantity": {"3"}})
	_, doc = s.get("/cart")
	if got := doc.Find(`klarna-placement`).AttrOr("data-purchase-amount", ""); got != "20700" {
		t.Errorf("cart placement amount %q, want the total 20700", got)
	}
	if doc.Find(`[data-osm]`).AttrOr("data-unit-amount", "none") != "none" {
		t.Errorf("the cart's placement follows a quantity")
	}
	// Without a library (Klarna without KLARNA_CLIENT_ID): no placement,
	// no script.
	_, doc = newEnv(t, options{}).shopper(t).get("/products/pour-over-kettle")
	if doc.Find(`klarna-placement`).Length() != 0 || doc.Find(`script[data-client-id]`).Length() != 0 {
		t.Errorf("a placement without a library")
	}
}

// TestKlarnaMessagingHosts: Klarna's library comes from a host the policy
// of Klarna modes admits, with the environment; no identifier, no library.
func TestKlarnaMessagingHosts(t *testing.T) {
	t.Parallel()
	if (handlers.KlarnaOSM("", "playground") != handlers.OSM{}) {
		t.Error("a library without a client identifier")
	}
	for _, env := range []string{"playground", "production"} {
		o := handlers.KlarnaOSM("klarna_test_client_abc", env)
		u, _ := url.Parse(o.Script)
		origin := u.Scheme + "://" + u.Host
		admitted := false
		for _, h := range handlers.KlarnaCSP(env == "playground").Script {
			admitted = admitted || h == origin
		}
		if o.Script != "https://js.klarna.com/web-sdk/v1/klarna.js" || o.Environment != env || !admitted {
			t.Errorf("%s: %+v, admitted %v", env, o, admitted)
		}
	}
}
