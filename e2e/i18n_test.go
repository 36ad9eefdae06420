package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// lang is the page's <html lang>.
func (b *browser) lang(t *testing.T) string {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (b *browser) wantLang(t *testing.T, page, want string) {
	t.Helper()
	if got := b.lang(t); got != want {
		t.Errorf("%s: <html lang=%q>, want %q", page, got, want)
	}
}

// placement waits until the on-site messaging library drew the page's
// placement for the amount it now carries, and returns the amount and
// what the placement says.
func (b *browser) placement(t *testing.T, amount string) string {
	t.Helper()
	text, err := chromedp.Run(b.ctx, chromedp.Poll[string](`(() => {
		const p = document.querySelector("klarna-placement");
		if (!p || p.getAttribute("data-purchase-amount") !== "`+amount+`" || !p.shadowRoot) return "";
		return p.shadowRoot.textContent.trim();
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector("klarna-placement") || {getAttribute(){return "none"}}).getAttribute("data-purchase-amount")`))
		t.Fatalf("no placement drawn for %s (it carries %s): %v", amount, got, err)
	}
	return text
}

// digits are the digits of a displayed amount: its minor units.
func digits(s string) string { return regexp.MustCompile(`\D`).ReplaceAllString(s, "") }

// TestBuyInEachLanguage buys in Sweden, Germany and the Netherlands: the
// market switch brings the market's language; every page has the right
// <html lang> and passes axe; the on-site message is on the product page
// (for the price, redrawn and said once when the quantity changes) and on
// the cart (for the total); Klarna's widget and dialog speak the same
// language; the confirmation's date is in the market's format. Sweden and
// Germany are photographed for docs/.
func TestBuyInEachLanguage(t *testing.T) {
	a := startApp(t)
	for _, m := range []struct {
		code, lang        string
		unit              string // the mug's price in minor units
		payLater, inParts string // the placement's words below and above the minimum
		part              string // a third of three mugs, as shown
		cart, thanks      string
		category, dialog  string // Klarna's names for pay later, and its dialog's title
		placed            string // the confirmation's date
		shots             string // screenshot suffix, "" for none
	}{
		{"SE", "sv", "22900", "Betala om 30 dagar", "Dela upp i 3 räntefria betalningar", "229,00", "Din varukorg", "Tack!", "Betala senare", "Betala med Klarna",
			`^\d{1,2} (jan\.|feb\.|mars|apr\.|maj|juni|juli|aug\.|sep\.|okt\.|nov\.|dec\.) \d{4}, \d{2}:\d{2} UTC$`, "sv"},
		{"DE", "de", "1990", "Bezahle in 30 Tagen", "Bezahle in 3 zinsfreien Raten", "19,90", "Dein Warenkorb", "Danke!", "Später bezahlen", "Mit Klarna bezahlen",
			`^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC$`, "de"},
		{"NL", "nl", "1990", "Betaal binnen 30 dagen", "Betaal in 3 renteloze termijnen", "19,90", "Je winkelwagen", "Bedankt!", "Later betalen", "Betalen met Klarna",
			`^\d{1,2} (jan\.|feb\.|mrt\.|apr\.|mei|jun\.|jul\.|aug\.|sep\.|okt\.|nov\.|dec\.) \d{4}, \d{2}:\d{2} UTC$`, ""},
	} {
		t.Run(m.code, func(t *testing.T) {
			b := newBrowser(t, desktop)
			b.visit(t, a.URL+"/", `[data-testid=product-grid]`)
			b.setMarket(t, m.code)
			b.run(t, chromedp.WaitVisible(sel(`[data-testid=flash]`)))
			b.wantLang(t, "catalog", m.lang)
			b.check(t)
			if m.shots != "" {
				b.shot(t, "catalog-"+m.shots+"-desktop")
			}

			// The product page: the placement for one mug, then for three.
			b.visit(t, a.URL+"/products/stoneware-mug", `[data-testid=add-to-cart]`)
			b.wantLang(t, "product", m.lang)
			if got := b.placement(t, m.unit); !strings.Contains(got, m.payLater) {
				t.Errorf("placement for one: %q, want %q", got, m.payLater)
			}
			b.run(t, chromedp.Evaluate[chromedp.Void](`(() => {
				window.__said = 0;
				new MutationObserver(() => window.__said++).observe(document.querySelector("[data-osm-status]"), {childList: true, characterData: true, subtree: true});
			})()`))
			// Typed as a shopper types: 1, then 13, then back to 3.
			for _, v := range []string{"1", "13", "3"} {
				b.run(t, chromedp.SetValue(sel(`#qty`), v), chromedp.Evaluate[chromedp.Void](`document.querySelector("#qty").dispatchEvent(new Event("input", {bubbles: true}))`))
			}
			got := b.placement(t, mul(m.unit, 3))
			if !strings.Contains(got, m.inParts) || !strings.Contains(got, m.part) {
				t.Errorf("placement for three: %q, want %q and %q", got, m.inParts, m.part)
			}
			said, err := chromedp.Run(b.ctx, chromedp.Poll[string](`document.querySelector("[data-osm-status]").textContent`, chromedp.WithPollingTimeout(5*time.Second)))
			if err != nil || !strings.Contains(said, m.part) {
				t.Errorf("the status says %q (%v)", said, err)
			}
			time.Sleep(800 * time.Millisecond)
			if n, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.__said`)); n != 1 {
				t.Errorf("the new message was said %d times, want once", n)
			}
			b.check(t)
			if m.shots != "" {
				b.shot(t, "product-"+m.shots+"-desktop")
			}

			// The cart: the placement for the total.
			b.run(t, chromedp.Click(sel(`[data-testid=add-to-cart]`)), chromedp.WaitVisible(sel(`[data-testid=cart-lines]`)))
			b.wantLang(t, "cart", m.lang)
			if got := b.text(t, `h1`); got != m.cart {
				t.Errorf("cart heading %q, want %q", got, m.cart)
			}
			total := b.text(t, `.cart-side [data-testid=total]`)
			if got := b.placement(t, digits(total)); !strings.Contains(got, m.inParts) {
				t.Errorf("cart placement for %s: %q", total, got)
			}
			b.check(t)

			// The checkout: Klarna's widget in the same language.
			b.run(t, chromedp.Click(sel(`[data-testid=go-to-checkout]`)),
				chromedp.WaitVisible(sel(`[data-testid=klarna-sim-widget]`)), chromedp.WaitEnabled(sel(`[data-testid=pay-button]`)))
			b.wantLang(t, "checkout", m.lang)
			if got := b.text(t, `.categories-pick`); !strings.Contains(got, m.category) {
				t.Errorf("checkout categories %q, want %q", got, m.category)
			}
			b.check(t)
			if m.shots != "" {
				b.shot(t, "checkout-"+m.shots+"-desktop")
			}
			b.run(t, chromedp.Click(sel(`[data-testid=pay-button]`)), chromedp.WaitVisible(sel(`[data-testid=klarna-sim-dialog]`)))
			if got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=klarna-sim-dialog]").lang + " " + document.querySelector("#ksim-title").textContent`)); got != m.lang+" "+m.dialog {
				t.Errorf("Klarna's dialog: %q, want %q", got, m.lang+" "+m.dialog)
			}
			b.check(t)
			b.run(t, chromedp.Click(sel(`[data-testid=klarna-sim-approve]`)))
			b.confirmed(t, "placed")
			b.wantLang(t, "confirmation", m.lang)
			if got := b.text(t, `[data-testid=state-label]`); !strings.HasPrefix(got, m.thanks) {
				t.Errorf("confirmation %q, want %q…", got, m.thanks)
			}
			if got := b.text(t, `[data-testid=placed-at]`); !regexp.MustCompile(m.placed).MatchString(got) {
				t.Errorf("placed %q, not in the market's format", got)
			}
			if got := b.text(t, `.confirmation [data-testid=total]`); got != total {
				t.Errorf("confirmation total %q, cart said %q", got, total)
			}

			if m.shots != "" {
				p := newBrowser(t, phone)
				p.visit(t, a.URL+"/", `[data-testid=product-grid]`)
				p.setMarket(t, m.code)
				p.run(t, chromedp.WaitVisible(sel(`[data-testid=flash]`)))
				p.shot(t, "catalog-"+m.shots+"-phone")
				p.toCheckout(t, a, "pour-over-kettle", "1")
				p.wantLang(t, "checkout (phone)", m.lang)
				p.shot(t, "checkout-"+m.shots+"-phone")
			}
		})
	}
}

// mul multiplies a whole number written in digits.
func mul(n string, k int) string {
	v := 0
	for _, c := range n {
		v = v*10 + int(c-'0')
	}
	return itoa(v * k)
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	s := ""
	for ; v > 0; v /= 10 {
		s = string(rune('0'+v%10)) + s
	}
	return s
}

// TestEnglishInSweden: English is offered beside Swedish; switching keeps
// the cart and the price, and the page, the placement and Klarna's widget
// all speak English.
func TestEnglishInSweden(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, desktop)
	b.visit(t, a.URL+"/", `[data-testid=product-grid]`)
	b.setMarket(t, "SE")
	b.toCheckout(t, a, "oak-board", "1")
	total := b.text(t, `.cart-side [data-testid=total]`)
	b.run(t,
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#language-select"); s.value = "en"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`),
		chromedp.WaitReady(sel(`#language-select option[value=en][selected]`)),
		chromedp.WaitVisible(sel(`[data-testid=klarna-sim-widget]`)),
	)
	b.wantLang(t, "checkout in English", "en")
	if got := b.text(t, `.cart-side [data-testid=total]`); got != total {
		t.Errorf("total %q after switching, was %q", got, total)
	}
	if got := b.text(t, `.categories-pick`); !strings.Contains(got, "Pay later") {
		t.Errorf("Klarna's categories: %q", got)
	}
	b.check(t)
	b.visit(t, a.URL+"/products/oak-board", `[data-testid=add-to-cart]`)
	if got := b.placement(t, "54900"); !strings.Contains(got, "Pay in 3 interest-free payments of") || !strings.Contains(got, "183") {
		t.Errorf("placement in English: %q", got)
	}
}

// TestSuggestedMarket: a Swedish browser's first visit offers Sweden, in
// Swedish, without a redirect; accepting shows the shop in Swedish.
func TestSuggestedMarket(t *testing.T) {
	a := startApp(t)
	b := newBrowserIn(t, phone, "sv-SE,sv")
	b.visit(t, a.URL+"/", `[data-testid=market-suggestion]`)
	if loc, _ := chromedp.Run(b.ctx, chromedp.Location()); strings.TrimSuffix(loc, "/") != a.URL {
		t.Errorf("redirected to %s", loc)
	}
	b.wantLang(t, "first visit", "en")
	if got := b.text(t, `[data-testid=market-suggestion] p`); got != "Handlar du från Sverige?" {
		t.Errorf("suggestion %q", got)
	}
	b.shot(t, "suggestion-phone")
	b.run(t, chromedp.Click(sel(`[data-testid=suggestion-accept]`)), chromedp.WaitVisible(sel(`[data-testid=flash]`)))
	b.wantLang(t, "after accepting", "sv")
	if n, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=market-suggestion]").length`)); n != 0 {
		t.Error("still suggesting after the answer")
	}
	if got := b.text(t, `[data-testid=price]`); !strings.Contains(got, "kr") {
		t.Errorf("prices %q", got)
	}
	b.check(t)
}
