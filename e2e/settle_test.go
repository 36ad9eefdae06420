package e2e

import (
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	_ "modernc.org/sqlite" // to put the period where a day without Klarna's answer leaves it
)

// TestOperatorSettlesAnUnknownCharge: Klarna's answers to a renewal are
// lost (it made the order; the client's own retries, with the same key, are
// lost too). After a day without an answer the renewal job puts
// the period before the operator; the day is skipped here by writing what
// the job writes then (period unknown, subscription paused with a note).
// The operator finds Klarna's order, enters its id on the subscription's
// page, and the period is recorded as charged, once.
func TestOperatorSettlesAnUnknownCharge(t *testing.T) {
	dir := t.TempDir()
	a, _ := launch(t, dir, "127.0.0.1:0", "RENEWAL_INTERVAL=200ms", "KLARNA_SIM_FAULTS=create_token_order=lost*10")
	b := newBrowser(t, desktop)
	b.toCheckout(t, a, "coffee-subscription", "1")
	b.pay(t, "approve")
	b.confirmed(t, "placed")
	b.visit(t, a.URL+"/admin/subscriptions", `[data-testid=subscriptions]`)
	b.run(t, chromedp.Click(sel(`[data-testid=subscriptions] a`)), chromedp.WaitVisible(sel(`[data-testid=action-charge]`)))
	b.run(t,
		chromedp.Click(sel(`form[action$="/charge"] input[name=confirm]`)),
		chromedp.Click(sel(`[data-testid=action-charge]`)),
		chromedp.WaitVisible(sel(`[data-testid=subscription-notice]`)),
	)
	var sent bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !sent; time.Sleep(300 * time.Millisecond) {
		b.run(t, chromedp.Reload(), chromedp.WaitVisible(sel(`[data-testid=history]`)))
		sent = strings.Contains(b.text(t, `[data-testid=history]`), "could not be reached")
	}
	if !sent {
		t.Fatalf("the lost answer was not noted: %s", b.text(t, `[data-testid=history]`))
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "shop.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ref string
	if err := db.QueryRow(`SELECT order_ref FROM subscription_periods WHERE status = 'claimed'`).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	note := "Klarna did not confirm within a day whether it charged period 1 (order reference " + ref + "). Look the reference up in Klarna's merchant portal, then settle the period."
	for _, q := range []string{
		`UPDATE subscription_periods SET status = 'unknown', error = ? WHERE status = 'claimed'`,
		`UPDATE subscriptions SET status = 'paused', attention = ?, next_charge_at = NULL, version = version + 1`,
	} {
		if _, err := db.Exec(q, note); err != nil {
			t.Fatal(err)
		}
	}
	b.run(t, chromedp.Reload(), chromedp.WaitVisible(sel(`[data-testid=settle]`)))
	b.check(t)
	b.shot(t, "admin-subscription-settle-desktop")
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	p := newBrowser(t, phone)
	p.visit(t, loc, `[data-testid=settle]`)
	p.shot(t, "admin-subscription-settle-phone")

	// Klarna's order for the period, as the merchant portal would show it.
	resp, err := http.Get(a.URL + "/klarna-sim/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var state struct {
		Orders []struct {
			ID        string `json:"order_id"`
			Reference string `json:"merchant_reference1"`
		} `json:"orders"`
	}
	if err := jsonDecode(resp, &state); err != nil {
		t.Fatal(err)
	}
	var orderID string
	for _, o := range state.Orders {
		if o.Reference == ref {
			orderID = o.ID
		}
	}
	if orderID == "" {
		t.Fatalf("Klarna has no order with reference %s", ref)
	}
	b.run(t,
		chromedp.SendKeys(sel(`#klarna-order-id`), orderID),
		chromedp.Click(sel(`form[action$="/settle-charged"] input[name=confirm]`)),
		chromedp.Click(sel(`[data-testid=settle-charged]`)),
		chromedp.WaitNotPresent(sel(`[data-testid=settle]`)),
	)
	if got := b.text(t, `[data-testid=subscription-notice]`); !strings.HasPrefix(got, "Recorded Klarna's order") {
		t.Fatalf("notice: %q", got)
	}
	if h := b.text(t, `[data-testid=history]`); !strings.Contains(h, "Klarna charged it (order "+orderID+")") {
		t.Errorf("history: %s", h)
	}
}
