package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// openOrder opens an order's page from the orders list, as an operator
// does.
func (b *browser) openOrder(t *testing.T, a *app, ref string) {
	t.Helper()
	b.visit(t, a.URL+"/admin", `[data-testid=admin-order-`+ref+`]`)
	b.run(t, chromedp.Click(sel(`[data-testid=admin-order-`+ref+`] [data-testid=manage-order]`)), chromedp.WaitVisible(sel(`[data-testid=order-money]`)))
	b.check(t)
}

// act presses an action's button on the order page, checks the
// confirmation page, confirms, and returns the outcome shown.
func (b *browser) act(t *testing.T, button, wantSummary string) (status, detail string) {
	t.Helper()
	b.run(t, chromedp.Click(sel(`[data-testid=`+button+`]`)), chromedp.WaitVisible(sel(`[data-testid=confirm-page]`)))
	b.check(t)
	if s := b.text(t, `[data-testid=confirm-summary]`); !strings.Contains(s, wantSummary) {
		t.Errorf("confirmation of %s says %q, want %q", button, s, wantSummary)
	}
	b.run(t, chromedp.Click(sel(`[data-testid=confirm-action]`)), chromedp.WaitVisible(sel(`[data-testid=outcome]`)))
	attr, err := chromedp.Run(b.ctx, chromedp.AttributeValue(sel(`[data-testid=outcome]`), "data-status"))
	if err != nil {
		t.Fatal(err)
	}
	return attr.Value, b.text(t, `[data-testid=outcome]`)
}

// TestShipAndRefund: a shopper buys two mugs; the operator ships them with
// a tracking number, refunds one mug, then the rest; the shopper's
// confirmation page follows each step.
func TestShipAndRefund(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "stoneware-mug", "2")
	b.pay(t, "approve")
	ref := b.confirmed(t, "placed")

	b.openOrder(t, a, ref)
	if got := b.text(t, `[data-testid=amount-remaining]`); got != "£40.95" {
		t.Errorf("left to capture: %q", got)
	}
	b.run(t,
		chromedp.SetValue(sel(`[data-testid=carrier]`), "Royal Mail"),
		chromedp.SetValue(sel(`[data-testid=tracking-number]`), "RM123456785GB"),
		chromedp.SetValue(sel(`[data-testid=tracking-uri]`), "https://www.royalmail.com/track-your-item#/tracking-results/RM123456785GB"),
		chromedp.Click(sel(`[data-testid=capture-all]`)),
		chromedp.WaitVisible(sel(`[data-testid=confirm-page]`)),
	)
	b.check(t)
	b.shot(t, "order-confirm-desktop")
	if s := b.text(t, `[data-testid=confirm-tracking]`); !strings.Contains(s, "RM123456785GB") {
		t.Errorf("tracking on the confirmation: %q", s)
	}
	b.run(t, chromedp.Click(sel(`[data-testid=confirm-action]`)), chromedp.WaitVisible(sel(`[data-testid=outcome][data-status=succeeded]`)))
	if got := b.text(t, `[data-testid=klarna-status]`); got != "Klarna: CAPTURED" {
		t.Errorf("after shipping: %q", got)
	}

	// One mug comes back.
	b.run(t, chromedp.SetValue(sel(`[data-testid=refund-qty-0]`), "1"), chromedp.SetValue(sel(`[data-testid=refund-reason]`), "Chipped in transit"))
	if st, detail := b.act(t, "refund-lines", "Refund £18.00: Stoneware mug"); st != "succeeded" {
		t.Fatalf("refund one line: %s %s", st, detail)
	}
	if got := b.text(t, `[data-testid=amount-refunded]`); got != "£18.00" {
		t.Errorf("refunded after one line: %q", got)
	}
	b.shot(t, "order-desktop")
	p := newBrowser(t, phone)
	p.visit(t, a.URL+"/admin/orders/"+ref, `[data-testid=order-money]`)
	p.shot(t, "order-phone")
	// Then the rest.
	if st, detail := b.act(t, "refund-all", "Refund £22.95"); st != "succeeded" {
		t.Fatalf("refund the rest: %s %s", st, detail)
	}
	if got := b.text(t, `[data-testid=amount-refunded]`); got != "£40.95" {
		t.Errorf("refunded: %q", got)
	}

	// The shopper's confirmation page (this browser placed the order).
	b.visit(t, a.URL+"/confirmation/"+ref, `[data-testid=fulfilment]`)
	if s := b.text(t, `[data-testid=fulfilment]`); !strings.Contains(s, "Royal Mail") || !strings.Contains(s, "Refunded: £40.95") {
		t.Errorf("the shopper sees %q", s)
	}
	if s := b.text(t, `[data-testid=state-label]`); s != "Your order was refunded." {
		t.Errorf("the shopper's headline: %q", s)
	}
	b.shot(t, "confirmation-refunded-desktop")
}

// TestCancelUnshippedOrder: an order that will never ship is cancelled;
// the shopper is told.
func TestCancelUnshippedOrder(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "oak-board", "1")
	b.pay(t, "approve")
	ref := b.confirmed(t, "placed")
	b.openOrder(t, a, ref)
	if st, detail := b.act(t, "cancel", "Cancel the order"); st != "succeeded" {
		t.Fatalf("cancel: %s %s", st, detail)
	}
	if got := b.text(t, `[data-testid=klarna-status]`); got != "Klarna: CANCELLED" {
		t.Errorf("after cancelling: %q", got)
	}
	b.visit(t, a.URL+"/confirmation/"+ref, `[data-testid=fulfilment-cancelled]`)
}

// TestRefusedActionExplained: the order's authorization expires at Klarna
// while the operator looks at the confirmation; Klarna refuses the capture
// and the page says why in plain words, with the correlation id.
func TestRefusedActionExplained(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "wool-throw", "1")
	b.pay(t, "approve")
	ref := b.confirmed(t, "placed")
	b.openOrder(t, a, ref)
	b.run(t, chromedp.Click(sel(`[data-testid=capture-all]`)), chromedp.WaitVisible(sel(`[data-testid=confirm-page]`)))
	// 29 days pass at Klarna: past the default 28-day authorization.
	resp, err := http.Post(a.URL+"/klarna-sim/_sim/clock", "application/json", strings.NewReader(`{"advance":"696h"}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("moving Klarna's clock: %v %v", resp, err)
	}
	resp.Body.Close()
	b.run(t, chromedp.Click(sel(`[data-testid=confirm-action]`)), chromedp.WaitVisible(sel(`[data-testid=outcome][data-status=failed]`)))
	b.check(t)
	if s := b.text(t, `[data-testid=outcome]`); !strings.Contains(s, "authorization expired") || !strings.Contains(s, "correlation id") {
		t.Errorf("refusal: %q", s)
	}
	b.shot(t, "order-refused-desktop")
	b.visit(t, a.URL+"/admin", `[data-testid=attention-`+ref+`]`)
	if s := b.text(t, `[data-testid=attention-`+ref+`]`); !strings.Contains(s, "Last action failed") {
		t.Errorf("needs attention: %q", s)
	}
	b.shot(t, "orders-attention-desktop")
}

// TestDigitalOrderCapturedOnAcceptance: with capture at order on, a shopper
// buys the e-book and Klarna holds the order for review, so it is not
// captured at creation. Klarna accepts it (from the simulator's inspector);
// the notification reaches the shop, and the orders' recovery captures the
// order as the policy promises: the order page shows the capture, by the
// policy, and nothing left to capture.
func TestDigitalOrderCapturedOnAcceptance(t *testing.T) {
	a := startApp(t, "CAPTURE_DIGITAL_AT_ORDER=true", "RECOVERY_INTERVAL=200ms")
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "coffee-ebook", "1")
	b.pay(t, "pending")
	ref := b.confirmed(t, "pending_review")
	b.visit(t, a.URL+"/admin", `[data-testid=admin-order-`+ref+`]`)
	klarnaID := b.content(t, `[data-testid=admin-order-`+ref+`] code`)
	b.visit(t, a.URL+"/klarna-sim/_sim/", `[data-testid=decide-`+klarnaID+`]`)
	b.run(t, chromedp.Click(sel(`[data-testid=decide-`+klarnaID+`] button[value=accept]`)))
	// The inspector reloads itself after a decision: a read may land
	// between two documents, so errors only mean "look again".
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`[data-testid=fraud-`+klarnaID+`]`))); err == nil && strings.TrimSpace(v) == "ACCEPTED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the inspector's Accept button did not decide the order")
		}
	}
	// The page shows the capture once the notification and a recovery
	// run have gone by.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		b.visit(t, a.URL+"/admin/orders/"+ref, `[data-testid=order-money]`)
		if strings.Contains(b.text(t, `[data-testid=order-money]`), "£12.00") && b.text(t, `[data-testid=amount-remaining]`) == "£0.00" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the accepted e-book was never captured: %s", b.text(t, `[data-testid=order-money]`))
		}
	}
	if h := b.text(t, `[data-testid=history]`); !strings.Contains(h, "policy: digital goods") || !strings.Contains(h, "Capture £12.00") {
		t.Errorf("history: %q", h)
	}
	if got := b.text(t, `[data-testid=klarna-status]`); got != "Klarna: CAPTURED" {
		t.Errorf("Klarna's status: %q", got)
	}
	b.check(t)
	b.shot(t, "order-policy-capture-desktop")
	p := newBrowser(t, phone)
	p.visit(t, a.URL+"/admin/orders/"+ref, `[data-testid=history]`)
	p.shot(t, "order-policy-capture-phone")
}
