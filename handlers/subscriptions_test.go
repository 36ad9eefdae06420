package handlers_test

import (
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fikaandform/storefront/klarna/simulator"
)

// subscribe buys the monthly coffee and returns the confirmation page's
// link to manage it.
func subscribe(t *testing.T, e *env, s *shopper) string {
	t.Helper()
	s.get("/")
	s.post("/cart/add", url.Values{"product": {"coffee-subscription"}})
	ref := refOf(t, s)
	a, err := e.sim.Authorize(e.sessionOf(t, ref), "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	if _, out := s.postJSON("/checkout/place", map[string]string{"authorization_token": a.AuthorizationToken}); out["status"] != "placed" {
		t.Fatalf("place: %v", out)
	}
	_, doc := s.get("/confirmation/" + ref)
	link, ok := doc.Find(`[data-testid=manage-subscription]`).Attr("href")
	if !ok || !strings.HasPrefix(link, "/subscription/SUB-") {
		t.Fatalf("no manage link on the confirmation: %q (%s)", link, text(doc, "subscription"))
	}
	if !strings.Contains(text(doc, "subscription-detail"), "Next charge") {
		t.Errorf("confirmation does not say the next charge: %q", text(doc, "subscription-detail"))
	}
	return link
}

func TestShopperManagesSubscriptionByLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{limits: noLimits})
	s := e.shopper(t)
	link := subscribe(t, e, s)

	// The link works from any browser (an e-mail), without the cookie.
	other := e.shopper(t)
	resp, doc := other.get(link)
	if resp.StatusCode != 200 || text(doc, "subscription-status") != "Active" || text(doc, "next-charge") == "" || text(doc, "next-amount") == "" {
		t.Fatalf("manage page: %d %q %q %q", resp.StatusCode, text(doc, "subscription-status"), text(doc, "next-charge"), text(doc, "next-amount"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	// A tampered or stretched link is not found.
	u, _ := url.Parse(link)
	q := u.Query()
	for name, mutate := range map[string]func(url.Values){
		"signature": func(v url.Values) { v.Set("sig", "AAAA"+v.Get("sig")[4:]) },
		"expiry":    func(v url.Values) { v.Set("until", v.Get("until")+"0") },
		"expired":   func(v url.Values) { v.Set("until", "1000") },
		"missing":   func(v url.Values) { v.Del("sig") },
	} {
		v := url.Values{}
		for k, vs := range q {
			v[k] = append([]string(nil), vs...)
		}
		mutate(v)
		if resp, _ := other.get(u.Path + "?" + v.Encode()); resp.StatusCode != 404 {
			t.Errorf("%s link: %d", name, resp.StatusCode)
		}
	}
	id := strings.TrimPrefix(u.Path, "/subscription/")
	if resp, _ := other.get("/subscription/SUB-OTHER?" + u.RawQuery); resp.StatusCode != 404 {
		t.Errorf("the link opened another subscription: %d", resp.StatusCode)
	}
	// Cancelling needs the confirmation box and, once the visitor has a
	// session, its CSRF token.
	other.session()
	cancel := link[:strings.Index(link, "?")] + "/cancel?" + u.RawQuery
	if resp, _ := other.post(cancel, url.Values{}); resp.StatusCode != 400 {
		t.Errorf("cancel without confirming: %d", resp.StatusCode)
	}
	if resp, _ := other.post(cancel, url.Values{"confirm": {"yes"}, "csrf": {"wrong"}}); resp.StatusCode != 403 {
		t.Errorf("cancel without CSRF: %d", resp.StatusCode)
	}
	resp, _ = other.post(cancel, url.Values{"confirm": {"yes"}})
	if resp.StatusCode != 303 {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	_, doc = other.get(resp.Header.Get("Location"))
	if text(doc, "subscription-status") != "Cancelled: nothing more will be charged" || text(doc, "next-charge") != "" || doc.Find(`[data-testid=cancel-subscription]`).Length() != 0 {
		t.Errorf("after cancel: %q next %q", text(doc, "subscription-status"), text(doc, "next-charge"))
	}
	tokens := e.sim.Snapshot().CustomerTokens
	if len(tokens) != 1 || tokens[0].Status != simulator.TokenCancelled {
		t.Errorf("token at Klarna: %+v", tokens)
	}
	// A second cancel is harmless.
	if resp, _ := other.post(cancel, url.Values{"confirm": {"yes"}}); resp.StatusCode != 303 {
		t.Errorf("second cancel: %d", resp.StatusCode)
	}
	_ = id
}

func TestOperatorSubscriptionActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{limits: noLimits, adminPassword: "correct horse battery"})
	s := e.shopper(t)
	link := subscribe(t, e, s)
	id := strings.TrimPrefix(link[:strings.Index(link, "?")], "/subscription/")
	admin := e.shopper(t)
	if resp, _ := admin.get("/admin/subscriptions"); resp.StatusCode != 401 {
		t.Fatalf("without the password: %d", resp.StatusCode)
	}
	admin.c.Transport = basicAuth{"admin", "correct horse battery"}
	resp, doc := admin.get("/admin/subscriptions")
	if resp.StatusCode != 200 || doc.Find(`[data-testid=subscription-`+id+`]`).Length() != 1 {
		t.Fatalf("list: %d", resp.StatusCode)
	}
	act := func(action string, confirm bool) (int, string) {
		form := url.Values{}
		if confirm {
			form.Set("confirm", "yes")
		}
		resp, _ := admin.post("/admin/subscriptions/"+id+"/"+action, form)
		if resp.StatusCode != 303 {
			return resp.StatusCode, ""
		}
		_, doc := admin.get(resp.Header.Get("Location"))
		return 303, text(doc, "subscription-notice") + " | " + text(doc, "subscription-status")
	}
	if code, _ := act("pause", false); code != 400 {
		t.Errorf("unconfirmed: %d", code)
	}
	if _, got := act("pause", true); got != "Paused. | paused" {
		t.Errorf("pause: %q", got)
	}
	if _, got := act("pause", true); !strings.HasPrefix(got, "That is not possible") {
		t.Errorf("double pause: %q", got)
	}
	if _, got := act("resume", true); got != "Resumed. | active" {
		t.Errorf("resume: %q", got)
	}
	if _, got := act("charge", true); !strings.HasPrefix(got, "The current period will be charged") {
		t.Errorf("charge now: %q", got)
	}
	if _, got := act("cancel", true); !strings.HasPrefix(got, "Cancelled") || !strings.HasSuffix(got, "cancelled") {
		t.Errorf("cancel: %q", got)
	}
	if code, _ := act("explode", true); code != 404 {
		t.Errorf("unknown action: %d", code)
	}
	_, doc = admin.get("/admin/subscriptions/" + id)
	history := text(doc, "history")
	for _, want := range []string{"admin · paused", "admin · resumed", "admin · cancelled", "customer token cancelled at Klarna"} {
		if !strings.Contains(strings.Join(strings.Fields(history), " "), want) {
			t.Errorf("history lacks %q:\n%s", want, history)
		}
	}
}

// TestOperatorSettlesAnUnknownCharge: a renewal Klarna never answered for
// a day is put before the operator, who settles it from the subscription's
// page: an order id that is not the period's is refused, Klarna's order
// for the period is recorded, and the period is not charged again.
func TestOperatorSettlesAnUnknownCharge(t *testing.T) {
	t.Parallel()
	var shift atomic.Int64
	e := newEnv(t, options{limits: noLimits, adminPassword: "correct horse battery",
		subsNow: func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }})
	s := e.shopper(t)
	link := subscribe(t, e, s)
	id := strings.TrimPrefix(link[:strings.Index(link, "?")], "/subscription/")
	ctx := t.Context()
	renew := func(after time.Duration) {
		shift.Add(int64(after))
		e.sim.Advance(after)
		e.subs.Renew(ctx)
	}
	renew(0) // adopts the sign-up
	e.sim.InjectFault(simulator.Fault{Operation: "create_token_order", Kind: simulator.FaultAnswerLost, Times: 1})
	renew(32 * 24 * time.Hour)
	renew(25 * time.Hour)
	admin := e.shopper(t)
	admin.c.Transport = basicAuth{"admin", "correct horse battery"}
	_, doc := admin.get("/admin/subscriptions/" + id)
	if doc.Find(`[data-testid=settle]`).Length() != 1 || !strings.Contains(text(doc, "attention"), "did not confirm") {
		t.Fatalf("no settle form, or no note: %q", text(doc, "attention"))
	}
	admin.csrf = doc.Find(`input[name=csrf]`).AttrOr("value", "")
	settle := func(orderID string) string {
		resp, _ := admin.post("/admin/subscriptions/"+id+"/settle-charged", url.Values{"confirm": {"yes"}, "klarna_order_id": {orderID}})
		if resp.StatusCode != 303 {
			t.Fatalf("settle: %d", resp.StatusCode)
		}
		_, doc := admin.get(resp.Header.Get("Location"))
		return text(doc, "subscription-notice")
	}
	var renewal string
	for _, o := range e.sim.Orders() {
		if strings.HasPrefix(o.Reference, "KS-") && o.Reference2 == id {
			renewal = o.ID
		}
	}
	if renewal == "" {
		t.Fatal("Klarna has no renewal order")
	}
	if got := settle("no-such-order"); !strings.Contains(got, "Klarna has no order") {
		t.Errorf("unknown order id: %q", got)
	}
	if got := settle(renewal); !strings.HasPrefix(got, "Recorded Klarna's order") {
		t.Errorf("settle: %q", got)
	}
	_, doc = admin.get("/admin/subscriptions/" + id)
	if doc.Find(`[data-testid=settle]`).Length() != 0 {
		t.Error("still asks to settle")
	}
	renew(10 * time.Minute)
	if n := e.sim.Count("create_token_order"); n != 1 {
		t.Errorf("create_token_order ran %d times, want 1", n)
	}
	e.reconciled(t)
}
