package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/fikaandform/storefront/internal/reconcile"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
)

// buy places an order for a cart of "product:quantity" items as a shopper
// and returns its reference and the shopper.
func buy(t *testing.T, e *env, outcome string, items ...string) (string, *shopper) {
	t.Helper()
	s := e.shopper(t)
	s.get("/")
	for _, it := range items {
		product, qty, _ := strings.Cut(it, ":")
		if qty == "" {
			qty = "1"
		}
		s.post("/cart/add", url.Values{"product": {product}, "quantity": {qty}})
		s.get("/cart") // as a browser follows the redirect, with the session's token
	}
	ref := refOf(t, s)
	c, err := e.db.Checkout(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.sim.Authorize(c.SessionID, "pay_later", outcome)
	if err != nil {
		t.Fatal(err)
	}
	if resp, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken}); resp.StatusCode != 200 || out["status"] != "placed" {
		t.Fatalf("place: %d %v", resp.StatusCode, out)
	}
	return ref, s
}

// plan submits one of the order page's forms and returns the confirmation
// page.
func plan(t *testing.T, op *shopper, ref string, form url.Values) *goquery.Document {
	t.Helper()
	_, page := op.get("/admin/orders/" + ref)
	if form.Get("version") == "" {
		form.Set("version", page.Find(`[data-testid=ship-form] input[name=version]`).AttrOr("value", ""))
	}
	resp, doc := op.post("/admin/orders/"+ref+"/plan", form)
	if resp.StatusCode != http.StatusOK || doc.Find(`[data-testid=confirm-page]`).Length() != 1 {
		_, page = op.get("/admin/orders/" + ref)
		t.Fatalf("plan %v: %d; flash %q", form, resp.StatusCode, text(page, "flash"))
	}
	return doc
}

// confirm posts a confirmation page's form, follows the redirect and
// returns the order page it leads to.
func confirm(t *testing.T, op *shopper, doc *goquery.Document) *goquery.Document {
	t.Helper()
	resp := submit(t, op, doc)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	_, page := op.get(strings.TrimPrefix(resp.Header.Get("Location"), op.base))
	return page
}

func submit(t *testing.T, op *shopper, doc *goquery.Document) *http.Response {
	t.Helper()
	form := url.Values{}
	doc.Find(`[data-testid=confirm-form] input`).Each(func(_ int, in *goquery.Selection) {
		form.Add(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	action := doc.Find(`[data-testid=confirm-form]`).AttrOr("action", "")
	resp, _ := op.post(action, form)
	return resp
}

func outcomeOf(page *goquery.Document) (status, detail string) {
	o := page.Find(`[data-testid=outcome]`)
	return o.AttrOr("data-status", ""), strings.TrimSpace(o.Text())
}

// klarnaOrder is Klarna's record of an order by our reference.
func klarnaOrder(t *testing.T, e *env, ref string) simulator.OrderRecord {
	t.Helper()
	for _, o := range e.sim.Orders() {
		if o.Reference == ref {
			return o
		}
	}
	t.Fatalf("Klarna has no order %s", ref)
	return simulator.OrderRecord{}
}

// TestOrderActions ships an order in two parts (the second with a tracking
// number), refunds one line, an amount and the rest through the real
// router, each confirmed first; then cancels an unshipped order, and
// extends and releases a third. The shopper sees each outcome.
func TestOrderActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	ref, customer := buy(t, e, simulator.OutcomeApprove, "stoneware-mug:2", "house-blend:1")
	op := e.shopper(t)

	_, list := op.get("/admin")
	if href := list.Find(`[data-testid=admin-order-`+ref+`] [data-testid=manage-order]`).AttrOr("href", ""); href != "/admin/orders/"+ref {
		t.Errorf("the orders list links %q", href)
	}
	_, page := op.get("/admin/orders/" + ref)
	if text(page, "amount-authorized") != "£50.90" || text(page, "amount-remaining") != "£50.90" || text(page, "klarna-status") != "Klarna: AUTHORIZED" {
		t.Errorf("order page: authorized %q remaining %q status %q", text(page, "amount-authorized"), text(page, "amount-remaining"), text(page, "klarna-status"))
	}
	if page.Find(`[data-testid=why-release]`).Length() != 1 || page.Find(`[data-testid=cancel]`).Length() != 1 {
		t.Error("release must be explained as not possible, cancel offered")
	}

	// One mug ships first: the confirmation says exactly what happens, and
	// nothing happens before it is confirmed.
	doc := plan(t, op, ref, url.Values{"kind": {"capture_lines"}, "qty-0": {"1"}, "qty-1": {"0"}})
	if s := text(doc, "confirm-summary"); s != "Capture £18.00: Stoneware mug" || text(doc, "confirm-amount") != "£18.00" {
		t.Errorf("confirmation: %q %q", s, text(doc, "confirm-amount"))
	}
	if !strings.Contains(text(doc, "confirm-effect"), "£32.90 stays authorized") {
		t.Errorf("effect: %q", text(doc, "confirm-effect"))
	}
	if e.sim.Count(simulator.OpCapture) != 0 {
		t.Fatal("Klarna was called before the operator confirmed")
	}
	page = confirm(t, op, doc)
	if st, _ := outcomeOf(page); st != "succeeded" || text(page, "amount-captured") != "£18.00" || text(page, "klarna-status") != "Klarna: PART_CAPTURED" {
		t.Errorf("after capturing a mug: outcome %q captured %q", st, text(page, "amount-captured"))
	}

	// The rest ships with a tracking number.
	doc = plan(t, op, ref, url.Values{"kind": {"capture_all"}, "carrier": {"Royal Mail"}, "tracking_number": {"RM123456785GB"},
		"tracking_uri": {"https://www.royalmail.com/track-your-item#/tracking-results/RM123456785GB"}})
	if !strings.Contains(text(doc, "confirm-tracking"), "RM123456785GB") {
		t.Errorf("tracking on the confirmation: %q", text(doc, "confirm-tracking"))
	}
	page = confirm(t, op, doc)
	if text(page, "amount-remaining") != "£0.00" || page.Find(`[data-testid=tracking-link]`).AttrOr("href", "") == "" {
		t.Errorf("after shipping the rest: remaining %q", text(page, "amount-remaining"))
	}

	// One mug comes back; then a goodwill amount; then everything else.
	page = confirm(t, op, plan(t, op, ref, url.Values{"kind": {"refund_lines"}, "qty-0": {"1"}, "reason": {"Chipped"}}))
	if st, _ := outcomeOf(page); st != "succeeded" || text(page, "amount-refunded") != "£18.00" {
		t.Errorf("refund a line: %q %q", st, text(page, "amount-refunded"))
	}
	doc = plan(t, op, ref, url.Values{"kind": {"refund_amount"}, "amount": {"5,00"}, "reason": {"Late delivery"}})
	if text(doc, "confirm-amount") != "£5.00" {
		t.Errorf("amount to refund: %q", text(doc, "confirm-amount"))
	}
	confirm(t, op, doc)
	page = confirm(t, op, plan(t, op, ref, url.Values{"kind": {"refund_all"}}))
	if text(page, "amount-refunded") != "£50.90" || page.Find(`[data-testid=why-refund_all]`).Length() != 1 {
		t.Errorf("refunded everything: %q", text(page, "amount-refunded"))
	}
	k := klarnaOrder(t, e, ref)
	if k.CapturedAmount != 5090 || k.RefundedAmount != 5090 || len(k.Captures) != 2 || len(k.Refunds) != 3 {
		t.Errorf("Klarna: %+v", k)
	}
	if page.Find(`[data-testid=history] tbody tr[data-status=succeeded]`).Length() != 5 {
		t.Errorf("history: %q", text(page, "history"))
	}

	// The shopper's confirmation page says what happened.
	_, conf := customer.get("/confirmation/" + ref)
	if link := conf.Find(`[data-testid=fulfilment-tracking]`).AttrOr("href", ""); !strings.Contains(link, "RM123456785GB") ||
		!strings.Contains(text(conf, "fulfilment"), "Royal Mail") || !strings.Contains(text(conf, "fulfilment-refunded"), "£50.90") {
		t.Errorf("shopper sees: %q (link %q)", text(conf, "fulfilment"), link)
	}

	// An unshipped order is cancelled.
	ref2, customer2 := buy(t, e, simulator.OutcomeApprove, "oak-board")
	doc = plan(t, op, ref2, url.Values{"kind": {"cancel"}})
	if !strings.Contains(text(doc, "confirm-effect"), "never charged") {
		t.Errorf("cancel effect: %q", text(doc, "confirm-effect"))
	}
	page = confirm(t, op, doc)
	if text(page, "klarna-status") != "Klarna: CANCELLED" {
		t.Errorf("cancelled: %q", text(page, "klarna-status"))
	}
	if _, conf := customer2.get("/confirmation/" + ref2); conf.Find(`[data-testid=fulfilment-cancelled]`).Length() != 1 {
		t.Error("the shopper is not told of the cancellation")
	}

	// A third is extended, partly shipped and its rest released.
	ref3, _ := buy(t, e, simulator.OutcomeApprove, "brass-pen:2")
	confirm(t, op, plan(t, op, ref3, url.Values{"kind": {"extend"}}))
	confirm(t, op, plan(t, op, ref3, url.Values{"kind": {"capture_lines"}, "qty-0": {"1"}}))
	page = confirm(t, op, plan(t, op, ref3, url.Values{"kind": {"release"}}))
	if text(page, "klarna-status") != "Klarna: CLOSED" || text(page, "amount-remaining") != "£0.00" {
		t.Errorf("released: %q %q", text(page, "klarna-status"), text(page, "amount-remaining"))
	}
	if n := e.sim.Snapshot().UnkeyedWrites; len(n) != 0 {
		t.Errorf("Order Management writes without an idempotency key: %v", n)
	}
	// The shop's orders, captures and refunds are Klarna's.
	placed, _ := e.db.Orders(t.Context(), 100)
	local, err := reconcile.Local(placed)
	if err != nil {
		t.Fatal(err)
	}
	money, err := e.db.MoneyTotals(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r := reconcile.Compare(reconcile.WithMoney(local, money), reconcile.FromSimulator(e.sim.Orders())); !r.OK() || r.KlarnaCaptured != 5090+3200 {
		t.Errorf("reconciliation: %s", r)
	}
}

// TestOrderActionsNeedCSRF: no form without the session's token.
func TestOrderActionsNeedCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	ref, _ := buy(t, e, simulator.OutcomeApprove, "oak-board")
	op := e.shopper(t)
	op.get("/admin/orders/" + ref)
	for _, step := range []string{"plan", "confirm", "retry", "refresh", "link"} {
		if resp, _ := op.post("/admin/orders/"+ref+"/"+step, url.Values{"csrf": {"forged"}, "kind": {"capture_all"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s with a forged token: %d", step, resp.StatusCode)
		}
	}
	if e.sim.Count(simulator.OpCapture) != 0 {
		t.Error("captured without a CSRF token")
	}
}

// TestDoubleSubmitCapturesOnce: the confirmation posted twice (a double
// click) does it once and says so.
func TestDoubleSubmitCapturesOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	ref, _ := buy(t, e, simulator.OutcomeApprove, "wool-throw")
	op := e.shopper(t)
	doc := plan(t, op, ref, url.Values{"kind": {"capture_all"}})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = submit(t, op, doc).StatusCode
		}()
	}
	wg.Wait()
	resp := submit(t, op, doc) // and once more, after both
	_, page := op.get(strings.TrimPrefix(resp.Header.Get("Location"), op.base))
	if !strings.Contains(text(page, "flash"), "already confirmed") {
		t.Errorf("a second submit is not explained: %q", text(page, "flash"))
	}
	if st, _ := outcomeOf(page); st != "succeeded" {
		t.Errorf("outcome shown after a double submit: %q", st)
	}
	if k := klarnaOrder(t, e, ref); len(k.Captures) != 1 || e.sim.Count(simulator.OpCapture) != 1 {
		t.Errorf("Klarna captured %d times (codes %v)", len(k.Captures), codes)
	}
}

// TestTwoOperatorsRacing: two operators confirm a capture of the same
// order at once; one capture happens, the other operator is told why not.
func TestTwoOperatorsRacing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	ref, _ := buy(t, e, simulator.OutcomeApprove, "stoneware-mug:2")
	ops := []*shopper{e.shopper(t), e.shopper(t)}
	docs := []*goquery.Document{
		plan(t, ops[0], ref, url.Values{"kind": {"capture_all"}}),
		plan(t, ops[1], ref, url.Values{"kind": {"capture_lines"}, "qty-0": {"1"}}),
	}
	pages := make([]*goquery.Document, 2)
	var wg sync.WaitGroup
	for i := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := submit(t, ops[i], docs[i])
			_, pages[i] = ops[i].get(strings.TrimPrefix(resp.Header.Get("Location"), ops[i].base))
		}()
	}
	wg.Wait()
	done, told := 0, 0
	for _, p := range pages {
		if st, _ := outcomeOf(p); st == "succeeded" {
			done++
		}
		if f := text(p, "flash"); strings.Contains(f, "Nothing was done") {
			told++
		}
	}
	if done != 1 || told != 1 {
		t.Errorf("%d succeeded, %d told nothing was done", done, told)
	}
	if k := klarnaOrder(t, e, ref); len(k.Captures) != 1 {
		t.Errorf("Klarna has %d captures", len(k.Captures))
	}
	// A page planned before the capture is stale now.
	if resp := submit(t, ops[1], docs[1]); resp.StatusCode != http.StatusSeeOther || e.sim.Count(simulator.OpCapture) != 1 {
		t.Errorf("a stale confirmation: %d, captures %d", resp.StatusCode, e.sim.Count(simulator.OpCapture))
	}
}

// TestLostAnswerRetriedWithTheSameKey: Klarna captures but its answer is
// lost; the page says so and offers a retry, which sends the same key:
// Klarna answers as the first time and captures once.
func TestLostAnswerRetriedWithTheSameKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	ref, _ := buy(t, e, simulator.OutcomeApprove, "pour-over-kettle")
	op := e.shopper(t)
	e.sim.InjectFault(simulator.Fault{Operation: simulator.OpCapture, Kind: simulator.FaultAnswerLost, Times: 1})
	page := confirm(t, op, plan(t, op, ref, url.Values{"kind": {"capture_all"}, "carrier": {"DPD UK"}, "tracking_number": {"15501234567890"}}))
	st, detail := outcomeOf(page)
	if st != "pending" || !strings.Contains(detail, "same idempotency key") || page.Find(`[data-testid=outcome] [data-testid=retry]`).Length() != 1 {
		t.Fatalf("lost answer: %q %q", st, detail)
	}
	if page.Find(`[data-testid=capture-all]`).Length() != 0 || !strings.Contains(text(page, "why-refund_all"), "waiting for Klarna") {
		t.Error("other actions must wait while an outcome is unknown")
	}
	pending, err := e.db.Actions(t.Context(), ref)
	if err != nil || len(pending) != 1 || pending[0].Status != store.ActionPending {
		t.Fatalf("actions: %+v %v", pending, err)
	}
	form := url.Values{"action_id": {pending[0].ID}}
	form.Set("csrf", page.Find(`[data-testid=outcome] input[name=csrf]`).AttrOr("value", ""))
	resp, _ := op.post("/admin/orders/"+ref+"/retry", form)
	_, page = op.get(strings.TrimPrefix(resp.Header.Get("Location"), op.base))
	if st, _ := outcomeOf(page); st != "succeeded" || text(page, "amount-captured") != "£59.00" {
		t.Errorf("after the retry: %q captured %q", st, text(page, "amount-captured"))
	}
	after, _ := e.db.Action(t.Context(), pending[0].ID)
	if after.IdempotencyKey != pending[0].IdempotencyKey || after.Attempts != 2 {
		t.Errorf("retried with key %q (was %q), %d attempts", after.IdempotencyKey, pending[0].IdempotencyKey, after.Attempts)
	}
	if k := klarnaOrder(t, e, ref); len(k.Captures) != 1 || e.sim.Count(simulator.OpCapture) != 1 {
		t.Errorf("Klarna captured %d times", len(k.Captures))
	}
}

// TestRefusalExplained: Klarna refuses a capture of an order whose
// authorization expired since the shop last read it; the operator reads
// why, with Klarna's correlation id.
func TestRefusalExplained(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	ref, _ := buy(t, e, simulator.OutcomeApprove, "linen-notebook")
	op := e.shopper(t)
	doc := plan(t, op, ref, url.Values{"kind": {"capture_all"}})
	e.sim.Advance(29 * 24 * time.Hour)
	page := confirm(t, op, doc)
	st, detail := outcomeOf(page)
	if st != "failed" || !strings.Contains(detail, "authorization expired") || !strings.Contains(detail, "CAPTURE_NOT_ALLOWED") ||
		text(page, "outcome-correlation") == "" || page.Find(`[data-testid=outcome][role=alert]`).Length() != 1 {
		t.Errorf("refusal: %q %q", st, detail)
	}
	_, list := op.get("/admin")
	if !strings.Contains(text(list, "attention-"+ref), "Last action failed") {
		t.Errorf("needs attention: %q", text(list, "attention"))
	}
}

// TestOperatorRecorded: the HTTP Basic user is who acted.
func TestOperatorRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{adminPassword: "correct horse battery"})
	ref, _ := buy(t, e, simulator.OutcomeApprove, "ceramic-dripper")
	op := e.shopper(t)
	op.c.Transport = basicAuth{"admin", "correct horse battery"}
	if resp, _ := e.shopper(t).get("/admin/orders/" + ref); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("order page without the password: %d", resp.StatusCode)
	}
	page := confirm(t, op, plan(t, op, ref, url.Values{"kind": {"capture_all"}}))
	if who := strings.TrimSpace(page.Find(`[data-testid=history] tbody tr td`).Eq(1).Text()); who != "admin" {
		t.Errorf("who: %q", who)
	}
}

type basicAuth struct{ user, pass string }

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.pass)
	return http.DefaultTransport.RoundTrip(r)
}

// TestNeedsAttention: the orders list puts orders pending review and
// stopped orders first, and the order page refuses to ship them.
func TestNeedsAttention(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	review, _ := buy(t, e, simulator.OutcomePending, "brass-pen")
	op := e.shopper(t)
	_, list := op.get("/admin")
	if !strings.Contains(text(list, "attention-"+review), "reviewing") {
		t.Errorf("attention: %q", text(list, "attention"))
	}
	_, page := op.get("/admin/orders/" + review)
	if page.Find(`[data-testid=capture-all]`).Length() != 0 || !strings.Contains(text(page, "why-capture_all"), "reviewing") {
		t.Error("an order under review can be shipped from its page")
	}
	if resp, _ := op.get("/admin/orders/KS-NOPE2345"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown order: %d", resp.StatusCode)
	}
}

// TestLinkKlarnaOrderForm: an order whose Klarna id the shop never learned
// (Klarna made it but would not repeat a lost answer) is on hold with a
// form to link the id; the shop links only the order Klarna confirms is
// this one.
func TestLinkKlarnaOrderForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	other, _ := buy(t, e, simulator.OutcomeApprove, "brass-pen")
	e.sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultAnswerLost, Times: 1})
	ref, _ := buy(t, e, simulator.OutcomeApprove, "wool-throw")
	op := e.shopper(t)
	_, page := op.get("/admin/orders/" + ref)
	if page.Find(`[data-testid=link-form]`).Length() != 1 || text(page, "order-hold") == "" || page.Find(`[data-testid=capture-all]`).Length() != 0 {
		t.Fatalf("an order without its Klarna id: hold %q", text(page, "order-hold"))
	}
	version := page.Find(`[data-testid=link-form] input[name=version]`).AttrOr("value", "")
	link := func(id string) string {
		t.Helper()
		resp, _ := op.post("/admin/orders/"+ref+"/link", url.Values{"version": {version}, "klarna_order_id": {id}})
		_, page := op.get(strings.TrimPrefix(resp.Header.Get("Location"), op.base))
		version = page.Find(`[data-testid=ship-form] input[name=version]`).AttrOr("value", version)
		return text(page, "flash")
	}
	if f := link(klarnaOrder(t, e, other).ID); !strings.Contains(f, "Not linked") || !strings.Contains(f, other) {
		t.Errorf("another order's id: %q", f)
	}
	if f := link(klarnaOrder(t, e, ref).ID); !strings.HasPrefix(f, "Linked") {
		t.Errorf("the right id: %q", f)
	}
	_, page = op.get("/admin/orders/" + ref)
	if text(page, "order-klarna-id") != klarnaOrder(t, e, ref).ID || page.Find(`[data-testid=capture-all]`).Length() != 1 || text(page, "order-hold") != "" {
		t.Errorf("after linking: id %q", text(page, "order-klarna-id"))
	}
}
