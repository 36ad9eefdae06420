package simulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
)

// makeToken runs a tokenize checkout whose shopper gives the e-mail (with its
// test-data tags) and returns the customer token.
func (e *env) makeToken(t *testing.T, email string) string {
	t.Helper()
	return e.makeTokenAs(t, "", email)
}

// makeTokenAs is makeToken with the authorize dialog's choice.
func (e *env) makeTokenAs(t *testing.T, outcome, email string) string {
	t.Helper()
	ctx := t.Context()
	req := gbSession()
	req.Intent = klarna.IntentTokenize
	ms, _, err := e.client.CreateSession(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	a := e.authorize(t, ms.ClientToken, "pay_later", outcome, map[string]any{"billing_address": map[string]any{"email": email}})
	if !a.Approved {
		t.Fatalf("authorize with %s: %+v", email, a)
	}
	tok, _, err := e.client.GenerateCustomerToken(ctx, a.AuthorizationToken, &klarna.CustomerTokenRequest{
		Description: "Coffee club", IntendedUse: klarna.IntendedUseSubscription, Locale: "en-GB", PurchaseCountry: "GB", PurchaseCurrency: "GBP"})
	if err != nil {
		t.Fatal(err)
	}
	return tok.TokenID
}

// renewal is one month of the coffee club: 1500 GBP minor units, 20% VAT.
func renewal() *klarna.TokenOrderRequest {
	return &klarna.TokenOrderRequest{
		PurchaseCurrency: "GBP", OrderAmount: 1500, OrderTaxAmount: 250, MerchantReference1: "SUB-7-2026-12",
		OrderLines: []klarna.OrderLine{{Type: klarna.LinePhysical, Reference: "beans", Name: "Beans 1 kg", Quantity: 1, UnitPrice: 1500,
			TaxRate: klarna.Int64(2000), TotalAmount: 1500, TotalTaxAmount: klarna.Int64(250),
			Subscription: &klarna.Subscription{Name: "Coffee club", Interval: klarna.IntervalMonth, IntervalCount: 1}}},
		MerchantURLs: &klarna.TokenOrderURLs{Confirmation: "https://shop.example/subscriptions/7?order={order.id}"},
	}
}

func TestCustomerTokenChargeReadCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	tok := e.makeToken(t, "ada+approve@example.com")

	details, _, err := e.client.GetCustomerToken(ctx, tok)
	if err != nil || details.Status != klarna.TokenActive || details.PaymentMethodType != "INVOICE" {
		t.Fatalf("token: %+v %v", details, err)
	}
	o, resp, err := e.client.CreateTokenOrder(ctx, tok, "sub-7-2026-12", renewal())
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || o.OrderID == "" || o.FraudStatus != klarna.FraudAccepted || o.RedirectURL != e.srv.URL+"/redirect/"+o.OrderID ||
		o.AuthorizedPaymentMethod == nil || o.AuthorizedPaymentMethod.Type != klarna.MethodInvoice {
		t.Errorf("renewal: %+v", o)
	}
	// The renewal is an order like any other: Order Management handles it.
	mo := e.order(t, o.OrderID)
	if mo.Status != klarna.OrderAuthorized || mo.OrderAmount != 1500 || mo.PurchaseCountry != "GB" || mo.MerchantReference1 != "SUB-7-2026-12" ||
		len(mo.OrderLines) != 1 || mo.OrderLines[0].Subscription == nil {
		t.Errorf("renewal in Order Management: %+v", mo)
	}
	if _, err := capture(e, t, o.OrderID, 1500); err != nil {
		t.Fatal(err)
	}
	if mo := e.order(t, o.OrderID); mo.Status != klarna.OrderCaptured {
		t.Errorf("renewal after capture: %s", mo.Status)
	}
	var rec *simulator.OrderRecord
	for _, r := range e.sim.Orders() {
		if r.ID == o.OrderID {
			rec = &r
		}
	}
	if rec == nil || !rec.FromCustomerToken || rec.CapturedAmount != 1500 || rec.Status != simulator.StatusCaptured || !strings.HasSuffix(tok, strings.TrimPrefix(rec.CustomerToken, "…")) || rec.CustomerToken == tok {
		t.Errorf("record: %+v", rec)
	}

	// Cancelled for good: further charges are refused.
	resp, err = e.client.CancelCustomerToken(ctx, tok)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("cancel: %v %v", resp, err)
	}
	if resp, err := e.client.CancelCustomerToken(ctx, tok); err != nil || resp.StatusCode != 202 {
		t.Errorf("cancel again: %v %v", resp, err)
	}
	if d, _, _ := e.client.GetCustomerToken(ctx, tok); d.Status != klarna.TokenCancelled {
		t.Errorf("after cancel: %s", d.Status)
	}
	_, _, err = e.client.CreateTokenOrder(ctx, tok, "sub-7-2027-01", renewal())
	wantCode(t, "charge a cancelled token", err, 403, "TOKEN_CANCELLED")
	if !klarna.IsHardDecline(err) {
		t.Errorf("a cancelled token is a hard decline: %v", err)
	}
	if err := e.sim.SetTokenBehaviour(tok, simulator.TokenBehaviour{Status: "ACTIVE"}); err == nil {
		t.Error("a cancelled token was restored")
	}

	_, _, err = e.client.CreateTokenOrder(ctx, "no-such-token", key(), renewal())
	wantCode(t, "unknown token", err, 404, "TOKEN_NOT_FOUND")
	_, _, err = e.client.GetCustomerToken(ctx, "no-such-token")
	wantCode(t, "read an unknown token", err, 404, "NOT_FOUND")
	_, err = e.client.CancelCustomerToken(ctx, "no-such-token")
	wantCode(t, "cancel an unknown token", err, 404, "NOT_FOUND")
}

func TestTokenOrderValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	tok := e.makeToken(t, "ada+approve@example.com")
	for _, tt := range []struct {
		name   string
		change func(*klarna.TokenOrderRequest)
		status int
		code   string
		field  string
	}{
		{"missing subscription", func(r *klarna.TokenOrderRequest) { r.OrderLines[0].Subscription = nil }, 400, "BAD_VALUE", "order_lines[0].subscription"},
		{"bad subscription interval", func(r *klarna.TokenOrderRequest) { r.OrderLines[0].Subscription.Interval = "FORTNIGHT" }, 400, "BAD_VALUE", "order_lines[0].subscription.interval"},
		{"amount not the sum of lines", func(r *klarna.TokenOrderRequest) { r.OrderAmount = 1400 }, 400, "BAD_VALUE", "order_amount"},
		{"wrong tax", func(r *klarna.TokenOrderRequest) { r.OrderTaxAmount = 300 }, 400, "BAD_VALUE", "order_tax_amount"},
		{"zero amount", func(r *klarna.TokenOrderRequest) {
			r.OrderAmount, r.OrderTaxAmount = 0, 0
			r.OrderLines[0].UnitPrice, r.OrderLines[0].TotalAmount, r.OrderLines[0].TotalTaxAmount = 0, 0, klarna.Int64(0)
		}, 400, "BAD_VALUE", "order_amount"},
		{"no lines", func(r *klarna.TokenOrderRequest) { r.OrderLines = nil }, 400, "BAD_VALUE", "order_lines"},
		{"merchant urls without confirmation", func(r *klarna.TokenOrderRequest) {
			r.MerchantURLs = &klarna.TokenOrderURLs{Push: "https://shop.example/p"}
		}, 400, "BAD_VALUE", "merchant_urls.confirmation"},
		{"other currency", func(r *klarna.TokenOrderRequest) { r.PurchaseCurrency = "EUR" }, 403, "PAYMENT_METHOD_CURRENCY_MISMATCH", ""},
	} {
		req := renewal()
		tt.change(req)
		_, _, err := e.client.CreateTokenOrder(ctx, tok, key(), req)
		wantCode(t, tt.name, err, tt.status, tt.code)
		if ke := klarnaErr(t, err); tt.field != "" && !strings.Contains(strings.Join(ke.ErrorMessages, " "), "Bad value: "+tt.field) {
			t.Errorf("%s: messages %v do not name %s", tt.name, ke.ErrorMessages, tt.field)
		}
	}
	if n := e.sim.Snapshot().CustomerTokens[0].Orders; n != 0 {
		t.Errorf("refused charges made %d orders", n)
	}
}

func TestTokenDeclines(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("soft decline twice, then success (e-mail tag)", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		tok := e.makeToken(t, "ada+token_soft_decline+approve@example.com")
		for i := range 2 {
			_, _, err := e.client.CreateTokenOrder(ctx, tok, key(), renewal())
			wantCode(t, "soft decline", err, 403, "PAYMENT_METHOD_FAILED")
			if !klarna.IsSoftDecline(err) || klarna.IsHardDecline(err) || klarna.IsTemporary(err) {
				t.Errorf("charge %d: not classified as a soft decline: %v", i+1, err)
			}
		}
		if _, _, err := e.client.CreateTokenOrder(ctx, tok, key(), renewal()); err != nil {
			t.Errorf("third charge: %v", err)
		}
		info := e.sim.Snapshot().CustomerTokens[0]
		if info.Charges != 3 || info.Declines != 2 || info.Orders != 1 {
			t.Errorf("token info: %+v", info)
		}
	})
	t.Run("hard decline (e-mail tag)", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		tok := e.makeToken(t, "ada+approve+token_hard_decline@example.com")
		for range 3 {
			_, _, err := e.client.CreateTokenOrder(ctx, tok, key(), renewal())
			wantCode(t, "hard decline", err, 403, "UNAVAILABLE_PAYMENT_METHOD")
			if !klarna.IsHardDecline(err) || klarna.IsSoftDecline(err) {
				t.Errorf("not classified as a hard decline: %v", err)
			}
		}
	})
	t.Run("suspended (e-mail tag), then reactivated (Go)", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		tok := e.makeToken(t, "ada+approve+token_suspended@example.com")
		if d, _, _ := e.client.GetCustomerToken(ctx, tok); d.Status != klarna.TokenSuspended {
			t.Errorf("read: %s", d.Status)
		}
		_, _, err := e.client.CreateTokenOrder(ctx, tok, key(), renewal())
		wantCode(t, "suspended", err, 403, "TOKEN_SUSPENDED")
		if err := e.sim.SetTokenBehaviour(tok, simulator.TokenBehaviour{Status: "ACTIVE"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.client.CreateTokenOrder(ctx, tok, key(), renewal()); err != nil {
			t.Errorf("after reactivation: %v", err)
		}
	})
	t.Run("hard decline chosen in the authorize dialog", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		// The widget offers token choices for a tokenizing session.
		req := gbSession()
		req.Intent = klarna.IntentBuyAndTokenize
		ms, _, _ := e.client.CreateSession(ctx, req)
		body, _ := json.Marshal(map[string]any{"client_token": ms.ClientToken})
		resp, err := http.Post(e.srv.URL+"/browser/load", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var load map[string]any
		json.NewDecoder(resp.Body).Decode(&load)
		resp.Body.Close()
		if load["intent"] != "buy_and_tokenize" {
			t.Errorf("load tells the widget the intent: %v", load["intent"])
		}
		body, _ = json.Marshal(map[string]any{"client_token": ms.ClientToken, "payment_method_category": "pay_later", "outcome": "approve+token_bogus"})
		resp, _ = http.Post(e.srv.URL+"/browser/authorize", "application/json", strings.NewReader(string(body)))
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("unknown token test data: %d", resp.StatusCode)
		}
		tok := e.makeTokenAs(t, "approve+token_hard_decline", "plain@example.com")
		_, _, err = e.client.CreateTokenOrder(ctx, tok, key(), renewal())
		wantCode(t, "hard decline from the dialog", err, 403, "UNAVAILABLE_PAYMENT_METHOD")
	})
	t.Run("control endpoint", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		tok := e.makeToken(t, "ada+approve@example.com")
		post := func(id, body string) int {
			resp, err := http.Post(e.srv.URL+"/_sim/tokens/"+id, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if s := post(tok, `{"decline":"PAYMENT_METHOD_CURRENCY_MISMATCH"}`); s != 204 {
			t.Fatalf("set decline: %d", s)
		}
		_, _, err := e.client.CreateTokenOrder(ctx, tok, key(), renewal())
		wantCode(t, "declined by the control endpoint", err, 403, "PAYMENT_METHOD_CURRENCY_MISMATCH")
		if s := post(tok, `{"soft_declines":1,"pending":true}`); s != 204 {
			t.Fatalf("set soft decline: %d", s)
		}
		_, _, err = e.client.CreateTokenOrder(ctx, tok, key(), renewal())
		wantCode(t, "soft decline by the control endpoint", err, 403, "PAYMENT_METHOD_FAILED")
		o, _, err := e.client.CreateTokenOrder(ctx, tok, key(), renewal())
		if err != nil || o.FraudStatus != klarna.FraudPending {
			t.Fatalf("pending renewal: %+v %v", o, err)
		}
		_, err = capture(e, t, o.OrderID, 1500)
		wantCode(t, "capture a pending renewal", err, 403, "CAPTURE_NOT_ALLOWED")
		for body, want := range map[string]int{`{"decline":"NOPE"}`: 400, `{"status":"GONE"}`: 400, `{"soft":1}`: 400, `not json`: 400} {
			if s := post(tok, body); s != want {
				t.Errorf("%s: %d, want %d", body, s, want)
			}
		}
		if s := post("no-such-token", `{}`); s != 404 {
			t.Errorf("unknown token: %d", s)
		}
	})
}

func TestTokenOrderIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{Faults: "create_token_order=lost*1"})
	ctx := t.Context()
	tok := e.makeToken(t, "ada+approve@example.com")
	retrying, _ := klarna.NewClient(klarna.WithBaseURL(e.srv.URL), klarna.WithCredentials("PK_test", "secret"), klarna.WithMaxRetries(2))
	// The answer to the first attempt is lost; the retry carries the key.
	o1, resp, err := retrying.CreateTokenOrder(ctx, tok, "sub-7-2026-12", renewal())
	if err != nil || resp.Attempts != 2 {
		t.Fatalf("charge: %+v %v", resp, err)
	}
	// A later run of the same job (same subscription period, same key).
	o2, _, err := e.client.CreateTokenOrder(ctx, tok, "sub-7-2026-12", renewal())
	if err != nil || o2.OrderID != o1.OrderID {
		t.Fatalf("repeat: %+v %v", o2, err)
	}
	renewals := 0
	for _, r := range e.sim.Orders() {
		if r.FromCustomerToken {
			renewals++
		}
	}
	if renewals != 1 || e.sim.Count(simulator.OpCreateTokenOrder) != 1 {
		t.Errorf("renewal orders %d, charges run %d", renewals, e.sim.Count(simulator.OpCreateTokenOrder))
	}
}

// TestInspectorShowsNoCredentials: orders, captures and tokens are shown,
// tokens only shortened, on the page, in the state and in recorded paths.
func TestInspectorShowsNoCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	tok := e.makeToken(t, "ada+approve+token_soft_decline@example.com")
	e.client.CreateTokenOrder(ctx, tok, key(), renewal())
	e.client.GetCustomerToken(ctx, tok)
	id := e.placeOrder(t, simulator.OutcomeApprove)
	capture(e, t, id, 1000)
	rawPost(t, e, "/ordermanagement/v1/orders/"+id+"/captures", "", `{"captured_amount":5}`)
	get := func(path string) string {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	page, state := get("/_sim/"), get("/_sim/state")
	for name, body := range map[string]string{"page": page, "state": state} {
		if strings.Contains(body, tok) {
			t.Errorf("the %s shows the whole customer token", name)
		}
		if !strings.Contains(body, tok[len(tok)-4:]) {
			t.Errorf("the %s does not show the token's last characters", name)
		}
	}
	for _, want := range []string{`data-testid="status-` + id + `">PART_CAPTURED`, "1005 · 0 · 1650", "soft declines left: 1", "Writes without an idempotency key: capture ×1", "ACTIVE"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	var st simulator.State
	json.Unmarshal([]byte(state), &st)
	if len(st.Orders) != 1 || st.Orders[0].Status != simulator.StatusPartCaptured || len(st.Orders[0].Captures) != 2 || st.UnkeyedWrites["capture"] != 1 {
		t.Errorf("state orders: %+v", st.Orders)
	}
	if len(st.CustomerTokens) != 1 || st.CustomerTokens[0].Status != "ACTIVE" || st.CustomerTokens[0].Declines != 1 {
		t.Errorf("state tokens: %+v", st.CustomerTokens)
	}
}

// TestOrdersForReconciliation: the record of an order has what a shop's own
// order must equal, line by line.
func TestOrdersForReconciliation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	id := e.placeOrder(t, simulator.OutcomeApprove)
	tok := e.makeToken(t, "ada+approve@example.com")
	ro, _, err := e.client.CreateTokenOrder(t.Context(), tok, key(), renewal())
	if err != nil {
		t.Fatal(err)
	}
	recs := e.sim.Orders()
	if len(recs) != 2 || recs[0].ID != id || recs[1].ID != ro.OrderID {
		t.Fatalf("records, oldest first: %+v", recs)
	}
	r := recs[0]
	if r.Reference != "SHOP-1" || r.Amount != 2655 || r.TaxAmount != 443 || r.Currency != "GBP" || r.Country != "GB" || r.FraudStatus != "ACCEPTED" ||
		r.Status != simulator.StatusAuthorized || r.FromCustomerToken || r.CapturedAmount != 0 || r.RefundedAmount != 0 {
		t.Errorf("record: %+v", r)
	}
	want := []simulator.LineRecord{
		{Type: "physical", Reference: "mug", Name: "Mug", Quantity: 2, UnitPrice: 1200, TaxRate: 2000, TotalAmount: 2400, TotalTaxAmount: 400},
		{Type: "discount", Name: "10% off", Quantity: 1, UnitPrice: -240, TaxRate: 2000, TotalAmount: -240, TotalTaxAmount: -40},
		{Type: "shipping_fee", Name: "Shipping", Quantity: 1, UnitPrice: 495, TaxRate: 2000, TotalAmount: 495, TotalTaxAmount: 83},
	}
	got, _ := json.Marshal(r.Lines)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("lines\n%s\nwant\n%s", got, wantJSON)
	}
	if rr := recs[1]; !rr.FromCustomerToken || rr.Amount != 1500 || rr.TaxAmount != 250 || len(rr.Lines) != 1 || !rr.Lines[0].Subscription || rr.Reference != "SUB-7-2026-12" {
		t.Errorf("renewal record: %+v", rr)
	}
	// The same records over HTTP, for a load test in another process.
	resp, _ := http.Get(e.srv.URL + "/_sim/state")
	var st struct {
		Orders []simulator.OrderRecord `json:"orders"`
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if len(st.Orders) != 2 {
		t.Fatalf("state orders: %d", len(st.Orders))
	}
	for _, o := range st.Orders {
		if o.ID == id {
			got, _ := json.Marshal(o.Lines)
			if string(got) != string(wantJSON) || o.TaxAmount != 443 || o.Status != simulator.StatusAuthorized {
				t.Errorf("state record: %+v", o)
			}
		}
	}
}
