package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// sel is a CSS selector.
func sel(s string) chromedp.CSS { return chromedp.CSS(s) }

// visit opens a page, waits for it, and runs the accessibility check.
func (b *browser) visit(t *testing.T, url, ready string) {
	t.Helper()
	b.run(t, chromedp.Navigate(url), chromedp.WaitVisible(sel(ready)))
	b.check(t)
}

// toCheckout fills the cart with one product and opens the checkout with
// the widget loaded.
func (b *browser) toCheckout(t *testing.T, a *app, product, qty string) {
	t.Helper()
	b.visit(t, a.URL+"/products/"+product, `[data-testid=add-to-cart]`)
	b.run(t,
		chromedp.SetValue(sel(`#qty`), qty),
		chromedp.Click(sel(`[data-testid=add-to-cart]`)),
		chromedp.WaitVisible(sel(`[data-testid=cart-lines]`)),
	)
	b.check(t)
	b.run(t,
		chromedp.Click(sel(`[data-testid=go-to-checkout]`)),
		chromedp.WaitVisible(sel(`[data-testid=klarna-sim-widget]`)),
		chromedp.WaitEnabled(sel(`[data-testid=pay-button]`)),
	)
	b.check(t)
}

// pay presses Pay and answers the simulator's dialog.
func (b *browser) pay(t *testing.T, choice string) {
	t.Helper()
	b.run(t, chromedp.Click(sel(`[data-testid=pay-button]`)), chromedp.WaitVisible(sel(`[data-testid=klarna-sim-dialog]`)))
	b.check(t)
	b.run(t, chromedp.Click(sel(`[data-testid=klarna-sim-`+choice+`]`)))
}

func (b *browser) confirmed(t *testing.T, state string) string {
	t.Helper()
	b.run(t, chromedp.WaitVisible(sel(`[data-testid=confirmation][data-state=`+state+`]`)))
	b.check(t)
	return b.text(t, `[data-testid=order-ref]`)
}

// setMarket picks a market in the header's switcher, as a shopper does.
func (b *browser) setMarket(t *testing.T, code string) {
	t.Helper()
	current, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#market-select").value`))
	if err != nil {
		t.Fatal(err)
	}
	if current == code {
		return // no form to submit, and no navigation to wait for
	}
	b.run(t,
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#market-select"); s.value = "`+code+`"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`),
		chromedp.WaitReady(sel(`#market-select option[value=`+code+`][selected]`)),
	)
}

// orders returns the order references and states in the orders area.
func orders(t *testing.T, a *app) map[string]string {
	t.Helper()
	resp, err := http.Get(a.URL + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]string{}
	re := regexp.MustCompile(`data-testid="admin-order-(KS-[A-Z0-9]+)"[\s\S]*?data-testid="admin-state">(\w+)<`)
	for _, m := range re.FindAllStringSubmatch(string(body), -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestEveryMarket(t *testing.T) {
	a := startApp(t)
	for _, m := range []struct{ code, symbol string }{{"GB", "£"}, {"SE", "kr"}, {"DE", "€"}, {"NL", "€"}, {"US", "$"}, {"AU", "$"}} {
		t.Run(m.code, func(t *testing.T) {
			b := newBrowser(t, desktop)
			b.visit(t, a.URL+"/", `[data-testid=product-grid]`)
			b.setMarket(t, m.code)
			b.toCheckout(t, a, "ceramic-dripper", "3")
			// Change the quantity in the cart: the Klarna session is updated.
			b.visit(t, a.URL+"/cart", `[data-testid=cart-lines]`)
			b.run(t, chromedp.SetValue(sel(`[data-testid=qty]`), "2"), chromedp.Click(sel(`.qty-form button`)),
				chromedp.WaitReady(sel(`[data-testid=qty][value="2"]`)),
				chromedp.Click(sel(`[data-testid=go-to-checkout]`)), chromedp.WaitEnabled(sel(`[data-testid=pay-button]`)))
			if got := b.text(t, `.cart-side .order-lines`); !strings.Contains(got, "× 2") {
				t.Errorf("checkout lines after changing the quantity: %q", got)
			}
			total := b.text(t, `.cart-side [data-testid=total]`)
			if !strings.Contains(total, m.symbol) {
				t.Errorf("total %q is not in the market's currency", total)
			}
			b.pay(t, "approve")
			ref := b.confirmed(t, "placed")
			if got := b.text(t, `.confirmation [data-testid=total]`); got != total {
				t.Errorf("confirmation total %q, checkout said %q", got, total)
			}
			if orders(t, a)[ref] != "placed" {
				t.Errorf("order %s not in the orders area", ref)
			}
		})
	}
}

func TestWidgetOutcomes(t *testing.T) {
	a := startApp(t)
	t.Run("aborted then approved", func(t *testing.T) {
		b := newBrowser(t, desktop)
		b.toCheckout(t, a, "brass-pen", "1")
		b.pay(t, "close")
		b.run(t, chromedp.WaitEnabled(sel(`[data-testid=pay-button]`)))
		if s := b.text(t, `[data-testid=pay-status]`); !strings.Contains(s, "closed the Klarna window") {
			t.Errorf("after closing: %q", s)
		}
		b.pay(t, "approve")
		b.confirmed(t, "placed")
	})
	t.Run("invalid fields", func(t *testing.T) {
		b := newBrowser(t, desktop)
		b.toCheckout(t, a, "brass-pen", "1")
		b.pay(t, "invalid")
		b.run(t, chromedp.WaitVisible(sel(`#pay-status.is-error`)))
		if s := b.text(t, `[data-testid=pay-status]`); !strings.Contains(s, "billing_address.email") {
			t.Errorf("invalid fields: %q", s)
		}
	})
	t.Run("pending review decided while watching the orders area", func(t *testing.T) {
		b := newBrowser(t, desktop)
		b.toCheckout(t, a, "oak-board", "1")
		b.pay(t, "pending")
		ref := b.confirmed(t, "pending_review")
		if s := b.text(t, `[data-testid=state-label]`); !strings.Contains(s, "pending review") {
			t.Errorf("pending: %q", s)
		}
		b.visit(t, a.URL+"/admin", `[data-testid=admin-order-`+ref+`]`)
		if s := b.text(t, `[data-testid=admin-order-`+ref+`] [data-testid=admin-state]`); s != "pending_review" {
			t.Fatalf("orders area: %q", s)
		}
		b.shot(t, "orders-pending-desktop")
		// Klarna decides, from the simulator's inspector (its buttons post
		// same-origin JSON); the notification reaches the shop; the orders
		// area shows the decision.
		klarnaID := b.content(t, `[data-testid=admin-order-`+ref+`] code`)
		b.visit(t, a.URL+"/klarna-sim/_sim/", `[data-testid=decide-`+klarnaID+`]`)
		b.run(t, chromedp.Click(sel(`[data-testid=decide-`+klarnaID+`] button[value=reject]`)),
			chromedp.WaitVisible(sel(`[data-testid=fraud-`+klarnaID+`]`)))
		// The inspector reloads itself after a decision: a read may land
		// between two documents, so errors only mean "look again".
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`[data-testid=fraud-`+klarnaID+`]`))); err == nil && strings.TrimSpace(v) == "REJECTED" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the inspector's Reject button did not decide the order")
			}
		}
		b.visit(t, a.URL+"/admin", `[data-testid=admin-order-`+ref+`]`)
		ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(sel(`[data-testid=admin-order-`+ref+`] .pill-rejected`))); err != nil {
			t.Fatalf("the decision never showed: %v", err)
		}
	})
	t.Run("finalize on a review page", func(t *testing.T) {
		b := newBrowser(t, desktop)
		b.visit(t, a.URL+"/", `[data-testid=product-grid]`)
		b.setMarket(t, "DE")
		b.toCheckout(t, a, "pour-over-kettle", "1")
		b.run(t, chromedp.Click(sel(`[data-testid=category-pay_now]`)), chromedp.WaitEnabled(sel(`[data-testid=pay-button]`)))
		b.pay(t, "approve")
		b.run(t, chromedp.WaitVisible(sel(`[data-testid=klarna-review]`)), chromedp.WaitEnabled(sel(`[data-testid=confirm-button]`)))
		b.check(t)
		b.shot(t, "review-desktop")
		// Leaving the review page and coming back works.
		b.visit(t, a.URL+"/", `[data-testid=product-grid]`)
		b.visit(t, a.URL+"/checkout/review", `[data-testid=klarna-review]`)
		b.run(t, chromedp.WaitEnabled(sel(`[data-testid=confirm-button]`)),
			chromedp.Click(sel(`[data-testid=confirm-button]`)),
			chromedp.WaitVisible(sel(`[data-testid=klarna-sim-dialog]`)),
			chromedp.Click(sel(`[data-testid=klarna-sim-approve]`)))
		b.confirmed(t, "placed")
		// Germany pays in German: direct debit is Lastschrift.
		if s := b.text(t, `[data-testid=payment-method]`); !strings.Contains(s, "Lastschrift") {
			t.Errorf("payment method: %q", s)
		}
	})
	t.Run("cancel on the review page", func(t *testing.T) {
		b := newBrowser(t, desktop)
		b.toCheckout(t, a, "linen-notebook", "1")
		b.pay(t, "finalize")
		b.run(t, chromedp.WaitVisible(sel(`[data-testid=klarna-review]`)), chromedp.Click(sel(`[data-testid=cancel-review]`)),
			chromedp.WaitVisible(sel(`[data-testid=cart-lines]`)))
		if s := b.text(t, `[data-testid=flash]`); !strings.Contains(s, "Payment cancelled") {
			t.Errorf("after cancel: %q", s)
		}
	})
}

// TestSubscriptionPurchase: subscribe, open the manage link from the
// confirmation, see the next charge, cancel.
func TestSubscriptionPurchase(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "coffee-subscription", "1")
	b.pay(t, "approve")
	b.confirmed(t, "placed")
	b.run(t, chromedp.WaitVisible(sel(`[data-testid=subscription][data-state=active]`)))
	if s := b.text(t, `[data-testid=subscription]`); !strings.Contains(s, "every month") || !strings.Contains(s, "Next charge") {
		t.Errorf("subscription: %q", s)
	}
	b.shot(t, "subscription-confirmation-desktop")
	b.run(t, chromedp.Click(sel(`[data-testid=manage-subscription]`)), chromedp.WaitVisible(sel(`[data-testid=subscription-page][data-state=active]`)))
	b.check(t)
	if next, amount := b.text(t, `[data-testid=next-charge]`), b.text(t, `[data-testid=next-amount]`); next == "" || !strings.HasPrefix(amount, "£") {
		t.Errorf("next charge %q, amount %q", next, amount)
	}
	b.shot(t, "subscription-manage-desktop")
	b.run(t,
		chromedp.Click(sel(`[data-testid=cancel-confirm]`)),
		chromedp.Click(sel(`[data-testid=cancel-subscription]`)),
		chromedp.WaitVisible(sel(`[data-testid=subscription-page][data-state=cancelled]`)),
	)
	b.check(t)
	if s := b.text(t, `[data-testid=subscription-notice]`); !strings.Contains(s, "cancelled") {
		t.Errorf("after cancel: %q", s)
	}
	b.visit(t, a.URL+"/admin/subscriptions", `[data-testid=subscriptions]`)
	if s := b.text(t, `[data-testid=subscriptions]`); !strings.Contains(s, "cancelled") {
		t.Errorf("orders area: %q", s)
	}
}

func TestDiscountAndFreeShippingReachKlarna(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "stoneware-mug", "3")
	b.visit(t, a.URL+"/cart", `[data-testid=cart-lines]`)
	b.run(t, chromedp.SendKeys(sel(`[data-testid=discount-code]`), "FIKA10"), chromedp.Click(sel(`[data-testid=apply-discount]`)),
		chromedp.WaitVisible(sel(`[data-testid=discount]`)))
	// £54 - 10% = £48.60: below £50, so shipping is charged.
	if got := b.text(t, `[data-testid=shipping]`); got != "£4.95" {
		t.Errorf("shipping below the threshold: %q", got)
	}
	b.run(t, chromedp.SetValue(sel(`[data-testid=qty]`), "4"), chromedp.Click(sel(`.qty-form button`)), chromedp.WaitReady(sel(`[data-testid=qty][value="4"]`)))
	if got := b.text(t, `[data-testid=shipping]`); got != "Free" {
		t.Errorf("shipping above the threshold: %q", got)
	}
	b.run(t, chromedp.Click(sel(`[data-testid=go-to-checkout]`)), chromedp.WaitEnabled(sel(`[data-testid=pay-button]`)))
	total := b.text(t, `.cart-side [data-testid=total]`)
	b.run(t, chromedp.Click(sel(`[data-testid=pay-button]`)), chromedp.WaitVisible(sel(`[data-testid=klarna-sim-dialog]`)))
	if amount, lines := b.text(t, `[data-testid=klarna-sim-amount]`), b.text(t, `.ksim-lines`); amount != total || total != "£64.80" || !strings.Contains(lines, "10% off") || strings.Contains(lines, "Shipping") {
		t.Errorf("widget shows %q with lines %q; checkout total %q", amount, lines, total)
	}
	b.run(t, chromedp.Click(sel(`[data-testid=klarna-sim-approve]`)))
	b.confirmed(t, "placed")
	if d := b.text(t, `.confirmation [data-testid=discount]`); d != "−£7.20" {
		t.Errorf("order discount: %q", d)
	}
}

func TestRacesAndNavigation(t *testing.T) {
	a := startApp(t)
	t.Run("cart changed in a second tab after authorization", func(t *testing.T) {
		b := newBrowser(t, desktop)
		b.toCheckout(t, a, "wool-throw", "1")
		b.run(t, chromedp.Click(sel(`[data-testid=pay-button]`)), chromedp.WaitVisible(sel(`[data-testid=klarna-sim-dialog]`)))
		// The shopper adds something in another tab while the dialog is open.
		tab, closeTab := chromedp.NewContext(b.ctx)
		err := chromedp.Do(tab, chromedp.Navigate(a.URL+"/products/brass-pen"), chromedp.Click(sel(`[data-testid=add-to-cart]`)),
			chromedp.WaitVisible(sel(`[data-testid=cart-lines]`)))
		closeTab()
		if err != nil {
			t.Fatal(err)
		}
		b.run(t, chromedp.Click(sel(`[data-testid=klarna-sim-approve]`)), chromedp.WaitVisible(sel(`[data-testid=checkout-notice]`)),
			chromedp.WaitEnabled(sel(`[data-testid=pay-button]`)))
		if n := b.text(t, `[data-testid=checkout-notice]`); !strings.Contains(n, "cart changed") {
			t.Errorf("notice: %q", n)
		}
		if len(orders(t, a)) != 0 {
			t.Fatal("an order was placed for the old cart")
		}
		b.pay(t, "approve")
		ref := b.confirmed(t, "placed")
		if got := b.text(t, `.confirmation .order-lines`); !strings.Contains(got, "Brass pen") || !strings.Contains(got, "Wool throw") {
			t.Errorf("order lines: %q", got)
		}
		// Back after the confirmation: no second order, no error.
		b.run(t, chromedp.NavigateBack(), chromedp.WaitReady(sel(`body`)))
		if o := orders(t, a); len(o) != 1 || o[ref] != "placed" {
			t.Errorf("orders after back: %v", o)
		}
	})
	t.Run("double click on Pay", func(t *testing.T) {
		before := len(orders(t, a))
		b := newBrowser(t, desktop)
		b.toCheckout(t, a, "linen-notebook", "2")
		b.run(t, chromedp.Evaluate[chromedp.Void](`(() => { const p = document.querySelector("[data-testid=pay-button]"); p.click(); p.click(); })()`),
			chromedp.WaitVisible(sel(`[data-testid=klarna-sim-dialog]`)))
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=klarna-sim-dialog]").length`))
		if err != nil || n != 1 {
			t.Errorf("dialogs open: %d %v", n, err)
		}
		b.run(t, chromedp.Click(sel(`[data-testid=klarna-sim-approve]`)))
		b.confirmed(t, "placed")
		if got := len(orders(t, a)) - before; got != 1 {
			t.Errorf("%d orders from a double click", got)
		}
	})
	t.Run("browser closed after authorization: Klarna's callback places the order", func(t *testing.T) {
		before := len(orders(t, a))
		b := newBrowser(t, desktop)
		b.toCheckout(t, a, "oak-board", "1")
		token, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#klarna-checkout").dataset.clientToken`))
		if err != nil {
			t.Fatal(err)
		}
		// The widget approves (as it would in the Klarna dialog) and the tab
		// closes before the page can post the token.
		resp, err := http.Post(a.URL+"/klarna-sim/browser/authorize", "application/json",
			strings.NewReader(`{"client_token":"`+token+`","payment_method_category":"pay_later","outcome":"approve"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		chromedp.Cancel(b.ctx)
		var got map[string]string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if got = orders(t, a); len(got) > before {
				break
			}
		}
		if len(got) != before+1 {
			t.Fatalf("orders: %d before, %d after", before, len(got))
		}
	})
	t.Run("market switch during checkout", func(t *testing.T) {
		b := newBrowser(t, desktop)
		b.toCheckout(t, a, "ceramic-dripper", "1")
		b.setMarket(t, "SE")
		b.run(t, chromedp.WaitEnabled(sel(`[data-testid=pay-button]`)))
		total := b.text(t, `.cart-side [data-testid=total]`)
		if !strings.Contains(total, "kr") {
			t.Fatalf("after switching to Sweden: %q", total)
		}
		b.pay(t, "approve")
		b.confirmed(t, "placed")
		if got := b.text(t, `.confirmation [data-testid=total]`); got != total {
			t.Errorf("confirmation %q, checkout %q", got, total)
		}
	})
}

func TestWithoutJavaScript(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, phone)
	off := func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tgt, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	}
	b.run(t, off)
	b.noAxe = true // axe is a script; the same pages are checked with scripts on
	b.visit(t, a.URL+"/products/house-blend", `[data-testid=add-to-cart]`)
	b.run(t, chromedp.Click(sel(`[data-testid=add-to-cart]`)), chromedp.WaitVisible(sel(`[data-testid=cart-lines]`)),
		chromedp.SetValue(sel(`[data-testid=qty]`), "3"), chromedp.Click(sel(`.qty-form button`)), chromedp.WaitReady(sel(`[data-testid=qty][value="3"]`)))
	if got := b.text(t, `[data-testid=cart-count]`); got != "3" {
		t.Errorf("quantity update without JavaScript: %q", got)
	}
	// The market switcher's button is there when scripts are off.
	b.run(t, chromedp.SetValue(sel(`#market-select`), "NL"), chromedp.Click(sel(`.market-form button`)), chromedp.WaitVisible(sel(`[data-testid=flash]`)))
	if got := b.text(t, `[data-testid=line-total]`); !strings.Contains(got, "€") {
		t.Errorf("after switching market: %q", got)
	}
	b.run(t, chromedp.Click(sel(`[data-testid=remove]`)), chromedp.WaitVisible(sel(`[data-testid=empty-cart]`)))
	b.shot(t, "cart-nojs-phone")
}

// TestOperatorChargesASubscription: from the orders area the operator
// charges a subscription's next period at once and sees the charge.
func TestOperatorChargesASubscription(t *testing.T) {
	a := startApp(t, "RENEWAL_INTERVAL=200ms")
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "coffee-subscription", "2")
	b.pay(t, "approve")
	b.confirmed(t, "placed")
	b.visit(t, a.URL+"/admin/subscriptions", `[data-testid=subscriptions]`)
	b.run(t, chromedp.Click(sel(`[data-testid=subscriptions] a`)), chromedp.WaitVisible(sel(`[data-testid=action-charge]`)))
	b.check(t)
	b.run(t,
		chromedp.Click(sel(`form[action$="/charge"] input[name=confirm]`)),
		chromedp.Click(sel(`[data-testid=action-charge]`)),
		chromedp.WaitVisible(sel(`[data-testid=subscription-notice]`)),
	)
	// The renewal job charges within a moment; the page shows it on reload.
	var charged bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !charged; time.Sleep(300 * time.Millisecond) {
		b.run(t, chromedp.Reload(), chromedp.WaitVisible(sel(`[data-testid=history]`)))
		charged = strings.Contains(b.text(t, `[data-testid=history]`), "charged")
	}
	if !charged {
		t.Fatalf("no charge after 'charge now': %s", b.text(t, `[data-testid=history]`))
	}
	b.check(t)
	b.shot(t, "admin-subscription-desktop")
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	p := newBrowser(t, phone)
	p.visit(t, loc, `[data-testid=history]`)
	p.shot(t, "admin-subscription-phone")
}
