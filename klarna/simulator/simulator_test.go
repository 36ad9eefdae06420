package simulator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fikaandform/storefront/internal/openapitest"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
)

// env is a simulator on a loopback server, with a Klarna client for it and a
// recording of every API exchange (for the contract tests).
type env struct {
	sim       *simulator.Simulator
	srv       *httptest.Server
	client    *klarna.Client
	mu        sync.Mutex
	exchanges []openapitest.Exchange
}

type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(s int)           { r.status = s; r.ResponseWriter.WriteHeader(s) }
func (r *recorder) Write(b []byte) (int, error) { r.buf.Write(b); return r.ResponseWriter.Write(b) }
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func newEnv(t testing.TB, cfg simulator.Config) *env {
	t.Helper()
	e := &env{}
	var h http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := openapitest.APIFor(r.URL.Path); !ok {
			h.ServeHTTP(w, r)
			return
		}
		reqBody, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		rec := &recorder{ResponseWriter: w, status: 200}
		h.ServeHTTP(rec, r)
		e.mu.Lock()
		e.exchanges = append(e.exchanges, openapitest.Exchange{Method: r.Method, Path: r.URL.EscapedPath(), RequestHeader: r.Header.Clone(),
			RequestBody: reqBody, Status: rec.status, Header: rec.Header().Clone(), Body: rec.buf.Bytes()})
		e.mu.Unlock()
	}))
	t.Cleanup(e.srv.Close)
	cfg.BaseURL = e.srv.URL
	if cfg.AllowedOrigins == nil {
		// The merchant of these tests, and the callback sinks on loopback.
		cfg.AllowedOrigins = []string{"https://shop.example", "http://127.0.0.1:*"}
	}
	if cfg.Username == "" {
		cfg.Username, cfg.Password = "PK_test", "secret"
	}
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	h = sim
	e.sim = sim
	e.client, err = klarna.NewClient(klarna.WithBaseURL(e.srv.URL), klarna.WithCredentials(cfg.Username, cfg.Password), klarna.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func gbSession() *klarna.SessionRequest {
	return &klarna.SessionRequest{
		PurchaseCountry: "GB", PurchaseCurrency: "GBP", Locale: "en-GB",
		OrderAmount: 2655, OrderTaxAmount: 443,
		OrderLines: []klarna.OrderLine{
			{Type: klarna.LinePhysical, Reference: "mug", Name: "Mug", Quantity: 2, UnitPrice: 1200, TaxRate: klarna.Int64(2000), TotalAmount: 2400, TotalTaxAmount: klarna.Int64(400)},
			{Type: klarna.LineDiscount, Name: "10% off", Quantity: 1, UnitPrice: -240, TaxRate: klarna.Int64(2000), TotalAmount: -240, TotalTaxAmount: klarna.Int64(-40)},
			{Type: klarna.LineShippingFee, Name: "Shipping", Quantity: 1, UnitPrice: 495, TaxRate: klarna.Int64(2000), TotalAmount: 495, TotalTaxAmount: klarna.Int64(83)},
		},
		MerchantURLs: &klarna.MerchantURLs{Confirmation: "https://shop.example/confirm?order={order.id}&session={session.id}"},
	}
}

func orderFor(s *klarna.SessionRequest) *klarna.OrderRequest {
	return &klarna.OrderRequest{PurchaseCountry: s.PurchaseCountry, PurchaseCurrency: s.PurchaseCurrency, Locale: s.Locale,
		OrderAmount: s.OrderAmount, OrderTaxAmount: s.OrderTaxAmount, OrderLines: s.OrderLines, MerchantReference1: "SHOP-1"}
}

// authorize approves a session through the browser endpoint, as the widget
// does, choosing the outcome without a dialog.
func (e *env) authorize(t *testing.T, clientToken, category, outcome string, data map[string]any) simulator.AuthorizeResult {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"client_token": clientToken, "payment_method_category": category, "outcome": outcome, "data": data})
	resp, err := http.Post(e.srv.URL+"/browser/authorize", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out simulator.AuthorizeResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("authorize: status %d, %v", resp.StatusCode, err)
	}
	return out
}

func TestAllSixOperationsThroughTheClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	req := gbSession()
	req.Intent = klarna.IntentBuyAndTokenize
	ms, resp, err := e.client.CreateSession(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.CorrelationID == "" || len(ms.PaymentMethodCategories) == 0 || !strings.HasPrefix(ms.PaymentMethodCategories[0].AssetURLs.Standard, e.srv.URL+"/assets/badges/") {
		t.Errorf("create session: %+v %+v", ms, resp)
	}
	// The client token is a JWT carrying the session, market and base URL.
	parts := strings.Split(ms.ClientToken, ".")
	if len(parts) != 3 {
		t.Fatalf("client token is not a JWT: %q", ms.ClientToken)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	if claims["session_id"] != ms.SessionID || claims["base_url"] != e.srv.URL || claims["purchase_country"] != "GB" {
		t.Errorf("claims = %v", claims)
	}

	if _, err := e.client.UpdateSession(ctx, ms.SessionID, &klarna.SessionUpdate{MerchantReference2: "cart-7"}); err != nil {
		t.Fatal(err)
	}
	s, _, err := e.client.GetSession(ctx, ms.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != klarna.SessionIncomplete || s.OrderAmount != 2655 || s.MerchantReference2 != "cart-7" || s.ExpiresAt == nil || s.ClientToken != ms.ClientToken {
		t.Errorf("session = %+v", s)
	}

	a := e.authorize(t, ms.ClientToken, "pay_later", "", map[string]any{"billing_address": map[string]any{"email": "ada+approve@example.com", "given_name": "Ada"}})
	if !a.Approved || a.AuthorizationToken == "" {
		t.Fatalf("test-data authorize: %+v", a)
	}
	o, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(req))
	if err != nil {
		t.Fatal(err)
	}
	if o.FraudStatus != klarna.FraudAccepted || o.AuthorizedPaymentMethod.Type != klarna.MethodInvoice || o.RedirectURL != e.srv.URL+"/redirect/"+o.OrderID {
		t.Errorf("order = %+v", o)
	}
	tok, _, err := e.client.GenerateCustomerToken(ctx, a.AuthorizationToken, &klarna.CustomerTokenRequest{
		Description: "Coffee every month", IntendedUse: klarna.IntendedUseSubscription, Locale: "en-GB", PurchaseCountry: "GB", PurchaseCurrency: "GBP"})
	if err != nil || tok.TokenID == "" {
		t.Fatalf("token %+v err %v", tok, err)
	}
	s, _, _ = e.client.GetSession(ctx, ms.SessionID)
	if s.Status != klarna.SessionComplete || s.BillingAddress == nil || s.BillingAddress.GivenName != "Ada" {
		t.Errorf("after order: %+v", s)
	}
	st, _, err := e.client.GetOrderStatus(ctx, o.OrderID)
	if err != nil || st.FraudStatus != klarna.FraudAccepted || st.OrderAmount != 2655 {
		t.Errorf("order status %+v err %v", st, err)
	}

	// A second session to cancel an authorization.
	ms2, _, _ := e.client.CreateSession(ctx, gbSession())
	a2 := e.authorize(t, ms2.ClientToken, "pay_over_time", simulator.OutcomeApprove, nil)
	if _, err := e.client.CancelAuthorization(ctx, a2.AuthorizationToken); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.client.CreateOrder(ctx, a2.AuthorizationToken, orderFor(gbSession()))
	if !klarna.IsNotFound(err) {
		t.Errorf("order with a cancelled token: %v", err)
	}

	// The redirect leads to the confirmation URL with placeholders filled.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := noFollow.Get(o.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if loc := r.Header.Get("Location"); loc != "https://shop.example/confirm?order="+o.OrderID+"&session="+ms.SessionID {
		t.Errorf("redirect to %q", loc)
	}
	if got := e.sim.Count(simulator.OpCreateOrder); got != 2 {
		t.Errorf("create order count = %d", got)
	}
}

func klarnaErr(t *testing.T, err error) *klarna.Error {
	t.Helper()
	var ke *klarna.Error
	if !errors.As(err, &ke) {
		t.Fatalf("want *klarna.Error, got %v", err)
	}
	if ke.CorrelationID == "" || ke.Response.Header.Get("Klarna-Correlation-Id") != ke.CorrelationID {
		t.Errorf("correlation id missing or not matching its header: %+v", ke)
	}
	return ke
}

func TestErrorsLookLikeKlarnas(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	bad := gbSession()
	bad.OrderTaxAmount = 500
	_, _, err := e.client.CreateSession(ctx, bad)
	ke := klarnaErr(t, err)
	if ke.StatusCode != 400 || ke.ErrorCode != "BAD_VALUE" || len(ke.ErrorMessages) != 1 || ke.ErrorMessages[0] != "Bad value: order_tax_amount" {
		t.Errorf("error = %+v", ke)
	}
	_, _, err = e.client.GetSession(ctx, "no-such-session")
	if ke := klarnaErr(t, err); ke.StatusCode != 404 || ke.ErrorMessages[0] != "Invalid session id" {
		t.Errorf("unknown session: %+v", ke)
	}
	wrong, _ := klarna.NewClient(klarna.WithBaseURL(e.srv.URL), klarna.WithCredentials("PK_test", "wrong"))
	_, _, err = wrong.GetSession(ctx, "x")
	if ke := klarnaErr(t, err); ke.StatusCode != 401 || !klarna.IsUnauthorized(err) {
		t.Errorf("wrong password: %+v", ke)
	}
	// Malformed JSON, wrong types, and anything after the JSON value (the
	// stricter answer: Klarna does not document its parser's).
	for body, want := range map[string]string{`{"order_amount":`: "BAD_REQUEST", `{"order_amount":"ten"}`: "BAD_VALUE",
		`{"purchase_country":"GB"} {"order_amount":1}`: "BAD_REQUEST", `{"purchase_country":"GB"}]`: "BAD_REQUEST"} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/payments/v1/sessions", strings.NewReader(body))
		req.SetBasicAuth("PK_test", "secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var eb map[string]any
		json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != 400 || eb["error_code"] != want {
			t.Errorf("%s: %d %v", body, resp.StatusCode, eb)
		}
	}
	// Over 1 MB.
	req, _ := http.NewRequest("POST", e.srv.URL+"/payments/v1/sessions", bytes.NewReader(bytes.Repeat([]byte(" "), 1<<20+10)))
	req.SetBasicAuth("PK_test", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("large body: %d", resp.StatusCode)
	}
	// The same without a declared length (chunked).
	req, _ = http.NewRequest("POST", e.srv.URL+"/payments/v1/sessions", io.MultiReader(bytes.NewReader(bytes.Repeat([]byte(" "), 1<<20+10))))
	req.SetBasicAuth("PK_test", "secret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("large chunked body: %d", resp.StatusCode)
	}
}

func TestLifecycles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	t.Run("session lives 48 hours after its last update", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		ms, _, _ := e.client.CreateSession(ctx, gbSession())
		e.sim.Advance(47 * time.Hour)
		if _, err := e.client.UpdateSession(ctx, ms.SessionID, &klarna.SessionUpdate{MerchantData: "touch"}); err != nil {
			t.Fatal(err)
		}
		e.sim.Advance(47 * time.Hour)
		if _, _, err := e.client.GetSession(ctx, ms.SessionID); err != nil {
			t.Fatalf("47h after the update: %v", err)
		}
		e.sim.Advance(2 * time.Hour)
		if _, _, err := e.client.GetSession(ctx, ms.SessionID); !klarna.IsNotFound(err) {
			t.Fatalf("49h after the update: %v", err)
		}
	})
	t.Run("authorization lives 60 minutes", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		ms, _, _ := e.client.CreateSession(ctx, gbSession())
		a := e.authorize(t, ms.ClientToken, "pay_later", "approve", nil)
		e.sim.Advance(61 * time.Minute)
		_, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(gbSession()))
		if ke := klarnaErr(t, err); ke.StatusCode != 404 || ke.ErrorMessages[0] != "Invalid authorization token" {
			t.Errorf("expired token: %+v", ke)
		}
	})
	t.Run("not matching fields then the token stays failed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		ms, _, _ := e.client.CreateSession(ctx, gbSession())
		a := e.authorize(t, ms.ClientToken, "pay_later", "approve", nil)
		changed := gbSession()
		changed.OrderLines = changed.OrderLines[:1]
		changed.OrderAmount, changed.OrderTaxAmount = 2400, 400
		_, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(changed))
		ke := klarnaErr(t, err)
		if ke.StatusCode != 409 || ke.ErrorCode != "BAD_VALUE" || !strings.HasPrefix(ke.ErrorMessages[0], "Not matching fields: [order_amount, order_tax_amount, Incorrect number of items in the cart. Expected: 3, Actual: 1]") {
			t.Errorf("mismatch: %+v", ke)
		}
		_, _, err = e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(gbSession()))
		if !klarna.IsNotMatching(err) {
			t.Errorf("retry with fixed data must fail the same way: %v", err)
		}
	})
	t.Run("ReplayOrders repeats the order for a spent token", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{ReplayOrders: true})
		ms, _, _ := e.client.CreateSession(ctx, gbSession())
		a := e.authorize(t, ms.ClientToken, "pay_later", "approve", nil)
		o1, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(gbSession()))
		if err != nil {
			t.Fatal(err)
		}
		o2, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(gbSession()))
		if err != nil || o2.OrderID != o1.OrderID {
			t.Errorf("replay: %v %v", o2, err)
		}
	})
	t.Run("complete session refuses updates and repeated orders by default", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		ms, _, _ := e.client.CreateSession(ctx, gbSession())
		a := e.authorize(t, ms.ClientToken, "pay_later", "approve", nil)
		if _, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(gbSession())); err != nil {
			t.Fatal(err)
		}
		// Klarna does not document a replay: the stricter answer refuses it.
		if _, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(gbSession())); !klarna.IsNotFound(err) {
			t.Errorf("replay: %v, want 404", err)
		}
		_, err := e.client.UpdateSession(ctx, ms.SessionID, &klarna.SessionUpdate{MerchantData: "x"})
		if ke := klarnaErr(t, err); ke.StatusCode != 404 || ke.ErrorCode != "SESSION_COMPLETED" {
			t.Errorf("update after order: %+v", ke)
		}
		if _, err := e.client.CancelAuthorization(ctx, a.AuthorizationToken); !klarna.IsNotFound(err) {
			t.Errorf("cancel after order: %v", err)
		}
		if e.sim.Count(simulator.OpCreateOrder) != 2 || len(e.sim.Snapshot().Orders) != 1 {
			t.Errorf("orders at Klarna: %d", len(e.sim.Snapshot().Orders))
		}
	})
	t.Run("intents", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		tokenReq := &klarna.CustomerTokenRequest{Description: "Sub", IntendedUse: klarna.IntendedUseSubscription, Locale: "en-GB", PurchaseCountry: "GB", PurchaseCurrency: "GBP"}
		for _, tt := range []struct {
			intent           klarna.Intent
			orderOK, tokenOK bool
		}{{klarna.IntentBuy, true, false}, {klarna.IntentTokenize, false, true}, {klarna.IntentBuyAndTokenize, true, true}} {
			req := gbSession()
			req.Intent = tt.intent
			ms, _, err := e.client.CreateSession(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			a := e.authorize(t, ms.ClientToken, "pay_later", "approve", nil)
			_, _, oerr := e.client.GenerateCustomerToken(ctx, a.AuthorizationToken, tokenReq)
			_, _, terr := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(req))
			if (terr == nil) != tt.orderOK || (oerr == nil) != tt.tokenOK {
				t.Errorf("intent %s: order err %v, token err %v", tt.intent, terr, oerr)
			}
			if !tt.orderOK && !klarna.IsUnauthorized(terr) {
				t.Errorf("intent %s: order must be 403, got %v", tt.intent, terr)
			}
		}
	})
	t.Run("updating the cart after authorization makes the old authorization not match", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		ms, _, _ := e.client.CreateSession(ctx, gbSession())
		a := e.authorize(t, ms.ClientToken, "pay_later", "approve", nil)
		bigger := gbSession()
		bigger.OrderLines[0].Quantity, bigger.OrderLines[0].TotalAmount, bigger.OrderLines[0].TotalTaxAmount = 3, 3600, klarna.Int64(600)
		bigger.OrderAmount, bigger.OrderTaxAmount = 3855, 643
		if _, err := e.client.UpdateSession(ctx, ms.SessionID, &klarna.SessionUpdate{OrderAmount: klarna.Int64(3855), OrderTaxAmount: klarna.Int64(643), OrderLines: bigger.OrderLines}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(bigger)); !klarna.IsNotMatching(err) {
			t.Errorf("stale authorization: %v", err)
		}
		a2 := e.authorize(t, ms.ClientToken, "pay_later", "approve", nil)
		if _, _, err := e.client.CreateOrder(ctx, a2.AuthorizationToken, orderFor(bigger)); err != nil {
			t.Errorf("fresh authorization: %v", err)
		}
	})
}

func TestWidgetOutcomes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ms, _, _ := e.client.CreateSession(t.Context(), gbSession())
	email := func(tag string) map[string]any {
		return map[string]any{"billing_address": map[string]any{"email": "pat+" + tag + "@example.com"}}
	}
	for _, tt := range []struct {
		tag  string
		want simulator.AuthorizeResult
	}{
		{"decline", simulator.AuthorizeResult{}},
		{"abort", simulator.AuthorizeResult{ShowForm: true}},
		{"invalid", simulator.AuthorizeResult{ShowForm: true, Error: &simulator.InvalidFields{InvalidFields: []string{"billing_address.email"}}}},
		{"finalize", simulator.AuthorizeResult{Approved: true, ShowForm: true, FinalizeRequired: true}},
	} {
		got := e.authorize(t, ms.ClientToken, "pay_later", "", email(tt.tag))
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(tt.want)
		if string(gj) != string(wj) {
			t.Errorf("%s: got %s, want %s", tt.tag, gj, wj)
		}
	}
	// load's data argument reaches the session, as Klarna's does.
	body, _ := json.Marshal(map[string]any{"client_token": ms.ClientToken, "data": map[string]any{"billing_address": map[string]any{"given_name": "Grace", "email": "grace@example.com"}}})
	if resp, err := http.Post(e.srv.URL+"/browser/load", "application/json", bytes.NewReader(body)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("load: %v %v", resp, err)
	}
	if s, _, _ := e.client.GetSession(t.Context(), ms.SessionID); s.BillingAddress == nil || s.BillingAddress.GivenName != "Grace" {
		t.Errorf("load data not in the session: %+v", s.BillingAddress)
	}
	// Without test data or a choice, the dialog is requested.
	if got := e.authorize(t, ms.ClientToken, "pay_later", "", map[string]any{"billing_address": map[string]any{"email": "plain@example.com"}}); !got.Dialog {
		t.Errorf("no outcome: %+v", got)
	}
	// Invalid shopper data is reported whatever the outcome.
	if got := e.authorize(t, ms.ClientToken, "pay_later", "approve", map[string]any{"billing_address": map[string]any{"email": "no-at-sign"}}); got.Approved || got.Error == nil {
		t.Errorf("bad e-mail: %+v", got)
	}
	// A tampered client token is refused.
	body, _ = json.Marshal(map[string]any{"client_token": ms.ClientToken[:len(ms.ClientToken)-4] + "AAAA", "payment_method_category": "pay_later", "outcome": "approve"})
	resp, _ := http.Post(e.srv.URL+"/browser/authorize", "application/json", bytes.NewReader(body))
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("tampered token: %d", resp.StatusCode)
	}
}

func TestFinalizeFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	req := gbSession()
	req.PurchaseCountry, req.PurchaseCurrency, req.Locale = "DE", "EUR", "de-DE"
	req.OrderLines[0].TaxRate, req.OrderLines[0].TotalTaxAmount = klarna.Int64(1900), klarna.Int64(383)
	req.OrderLines[1].TaxRate, req.OrderLines[1].TotalTaxAmount = klarna.Int64(1900), klarna.Int64(-38)
	req.OrderLines[2].TaxRate, req.OrderLines[2].TotalTaxAmount = klarna.Int64(1900), klarna.Int64(79)
	req.OrderTaxAmount = 424
	ms, _, err := e.client.CreateSession(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"client_token": ms.ClientToken, "payment_method_category": "pay_now", "auto_finalize": false, "outcome": "approve"})
	resp, _ := http.Post(e.srv.URL+"/browser/authorize", "application/json", bytes.NewReader(body))
	var a simulator.AuthorizeResult
	json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if !a.FinalizeRequired || a.AuthorizationToken != "" {
		t.Fatalf("pay_now without auto finalize: %+v", a)
	}
	body, _ = json.Marshal(map[string]any{"client_token": ms.ClientToken, "payment_method_category": "pay_now", "outcome": "approve"})
	resp, _ = http.Post(e.srv.URL+"/browser/finalize", "application/json", bytes.NewReader(body))
	json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if !a.Approved || a.AuthorizationToken == "" {
		t.Fatalf("finalize: %+v", a)
	}
	o, _, err := e.client.CreateOrder(t.Context(), a.AuthorizationToken, orderFor(req))
	if err != nil || o.AuthorizedPaymentMethod.Type != klarna.MethodDirectDebit {
		t.Fatalf("order after finalize: %+v %v", o, err)
	}
}

// callbackSink is a merchant endpoint that records what Klarna posts.
type callbackSink struct {
	mu     sync.Mutex
	bodies []map[string]string
	fail   int // answer 500 this many times first
	got    chan struct{}
}

func newSink(t *testing.T, fail int) (*callbackSink, string) {
	s := &callbackSink{fail: fail, got: make(chan struct{}, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.fail > 0 {
			s.fail--
			w.WriteHeader(500)
			return
		}
		var b map[string]string
		json.NewDecoder(r.Body).Decode(&b)
		b["path"] = r.URL.RequestURI()
		s.bodies = append(s.bodies, b)
		s.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// recordedCallbacks are the simulator's callback records once it has n of
// them, or after two seconds: an attempt is recorded after its answer, so
// a sink can have the callback before the simulator has its record.
func recordedCallbacks(sim *simulator.Simulator, n int) []simulator.CallbackRecord {
	var calls []simulator.CallbackRecord
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if calls = sim.Callbacks(); len(calls) >= n {
			break
		}
	}
	return calls
}

func waitFor(t *testing.T, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("callback never arrived")
	}
}

func TestAuthorizationCallbackIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{CallbackBackoff: 10 * time.Millisecond})
	sink, url := newSink(t, 2)
	req := gbSession()
	req.MerchantURLs.Authorization = url + "/klarna/authorization?secret=s3cr3t"
	ms, _, _ := e.client.CreateSession(t.Context(), req)
	a := e.authorize(t, ms.ClientToken, "pay_later", "approve", nil)
	waitFor(t, sink.got)
	sink.mu.Lock()
	got := sink.bodies[0]
	sink.mu.Unlock()
	if got["authorization_token"] != a.AuthorizationToken || got["session_id"] != ms.SessionID || got["path"] != "/klarna/authorization?secret=s3cr3t" {
		t.Errorf("callback = %v", got)
	}
	calls := recordedCallbacks(e.sim, 3)
	if strings.Contains(calls[0].Body, a.AuthorizationToken) {
		t.Errorf("recorded callback body shows the whole token: %s", calls[0].Body)
	}
	if len(calls) != 3 || calls[0].Status != 500 || calls[2].Status != 200 || strings.Contains(calls[0].URL, "s3cr3t") {
		t.Errorf("attempts recorded: %+v", calls)
	}
}

func TestPendingOrderDecisionIsNotified(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	sink, url := newSink(t, 0)
	req := gbSession()
	// Klarna notifies the URL given with the order; the session's is
	// ignored.
	req.MerchantURLs.Notification = url + "/klarna/notification/session-url"
	ms, _, _ := e.client.CreateSession(t.Context(), req)
	a := e.authorize(t, ms.ClientToken, "pay_later", "pending", nil)
	or := orderFor(req)
	or.MerchantURLs = &klarna.MerchantURLs{Notification: url + "/klarna/notification/{order.id}?secret=n"}
	o, _, err := e.client.CreateOrder(t.Context(), a.AuthorizationToken, or)
	if err != nil || o.FraudStatus != klarna.FraudPending {
		t.Fatalf("pending order: %+v %v", o, err)
	}
	resp, err := http.Post(e.srv.URL+"/_sim/orders/"+o.OrderID+"/decide", "application/json", strings.NewReader(`{"decision":"reject"}`))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("decide: %v %v", resp, err)
	}
	waitFor(t, sink.got)
	sink.mu.Lock()
	got := sink.bodies[0]
	sink.mu.Unlock()
	if got["order_id"] != o.OrderID || got["event_type"] != "FRAUD_RISK_REJECTED" || got["path"] != "/klarna/notification/"+o.OrderID+"?secret=n" {
		t.Errorf("notification = %v", got)
	}
	st, _, _ := e.client.GetOrderStatus(t.Context(), o.OrderID)
	if st.FraudStatus != klarna.FraudRejected {
		t.Errorf("fraud status after decision: %v", st.FraudStatus)
	}
	if err := e.sim.Decide(o.OrderID, "accept"); err == nil {
		t.Error("a decided order was decided again")
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, tt := range []struct {
		spec    string
		check   func(err error) bool
		ran     int
		timeout bool
	}{
		{"create_session=500*1", klarna.IsTemporary, 0, false},
		{"create_session=503*1", klarna.IsTemporary, 0, false},
		{"create_session=429:7*1", klarna.IsRateLimited, 0, false},
		{"create_session=drop*1", isRequestError, 0, false},
		{"create_session=lost*1", isRequestError, 1, false},
		{"create_session=hang*1", isRequestError, 0, true},
		{"create_session=latency:30ms*1", func(err error) bool { return err == nil }, 1, false},
	} {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, simulator.Config{Faults: tt.spec})
			c := e.client
			if tt.timeout {
				c, _ = klarna.NewClient(klarna.WithBaseURL(e.srv.URL), klarna.WithCredentials("PK_test", "secret"), klarna.WithMaxRetries(0), klarna.WithAttemptTimeout(100*time.Millisecond))
			}
			_, resp, err := c.CreateSession(ctx, gbSession())
			if !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
			if strings.HasPrefix(tt.spec, "create_session=429") && resp.Header.Get("Retry-After") != "7" {
				t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
			}
			if got := e.sim.Count(simulator.OpCreateSession); got != tt.ran {
				t.Errorf("operation ran %d times, want %d", got, tt.ran)
			}
			// The fault was used up: the next call succeeds.
			if _, _, err := e.client.CreateSession(ctx, gbSession()); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
	if _, err := simulator.ParseFaults("create_order=teapot"); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := simulator.ParseFaults("fly=500"); err == nil {
		t.Error("unknown operation accepted")
	}
}

func isRequestError(err error) bool {
	var re *klarna.RequestError
	return errors.As(err, &re)
}

func TestControlEndpointsAndInspector(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	resp, _ := http.Post(e.srv.URL+"/_sim/faults", "application/json", strings.NewReader(`{"spec":"get_session=503*1"}`))
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("set fault: %d", resp.StatusCode)
	}
	ms, _, _ := e.client.CreateSession(t.Context(), gbSession())
	if _, _, err := e.client.GetSession(t.Context(), ms.SessionID); !klarna.IsTemporary(err) {
		t.Errorf("fault from control endpoint not applied: %v", err)
	}
	resp, _ = http.Post(e.srv.URL+"/_sim/clock", "application/json", strings.NewReader(`{"advance":"49h"}`))
	resp.Body.Close()
	if _, _, err := e.client.GetSession(t.Context(), ms.SessionID); !klarna.IsNotFound(err) {
		t.Errorf("clock not moved: %v", err)
	}
	resp, _ = http.Get(e.srv.URL + "/_sim/")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), ms.SessionID) || !strings.Contains(string(page), "Klarna simulator") {
		t.Error("inspector does not show the session")
	}
	resp, _ = http.Get(e.srv.URL + "/_sim/state")
	var st simulator.State
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if len(st.Sessions) != 1 || len(st.Requests) < 3 || st.Counts[simulator.OpCreateSession] != 1 {
		t.Errorf("state = %+v", st)
	}
	resp, _ = http.Post(e.srv.URL+"/_sim/reset", "application/json", nil)
	resp.Body.Close()
	if len(e.sim.Snapshot().Sessions) != 0 {
		t.Error("reset kept sessions")
	}
	for _, p := range []string{"/kp/lib/v1/api.js", "/kp/lib/v1/sim.css", "/assets/badges/pay_later.svg"} {
		resp, _ := http.Get(e.srv.URL + p)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

func TestStateIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{MaxSessions: 5})
	for range 12 {
		if _, _, err := e.client.CreateSession(t.Context(), gbSession()); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.sim.Snapshot().Sessions); n != 5 {
		t.Errorf("sessions kept = %d, want 5", n)
	}
	// Evicting a session takes its authorizations and orders with it.
	for range 3 {
		ms, _, _ := e.client.CreateSession(t.Context(), gbSession())
		a, _ := e.sim.Authorize(ms.SessionID, "pay_later", simulator.OutcomeApprove)
		e.client.CreateOrder(t.Context(), a.AuthorizationToken, orderFor(gbSession()))
	}
	for range 5 {
		e.client.CreateSession(t.Context(), gbSession())
	}
	if st := e.sim.Snapshot(); len(st.Orders) != 0 || len(st.Authorizations) != 0 {
		t.Errorf("after eviction: %d orders, %d authorizations left", len(st.Orders), len(st.Authorizations))
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms, _, err := e.client.CreateSession(context.Background(), gbSession())
			if err != nil {
				t.Error(err)
				return
			}
			r, _ := e.sim.Authorize(ms.SessionID, "pay_later", simulator.OutcomeApprove)
			if _, _, err := e.client.CreateOrder(context.Background(), r.AuthorizationToken, orderFor(gbSession())); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(e.sim.Snapshot().Orders); n != 20 {
		t.Errorf("orders = %d", n)
	}
}

// TestResponsesMatchOpenAPI runs the main flows and checks every response
// body the simulator sent against Klarna's OpenAPI description.
func TestResponsesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	req := gbSession()
	req.Intent = klarna.IntentBuyAndTokenize
	req.BillingAddress = &klarna.Address{GivenName: "Ada", Email: "ada@example.com", Country: "GB"}
	req.Customer = &klarna.Customer{DateOfBirth: "1980-01-01", NationalIdentificationNumber: "x"}
	ms, _, _ := e.client.CreateSession(ctx, req)
	e.client.GetSession(ctx, ms.SessionID)
	e.client.UpdateSession(ctx, ms.SessionID, &klarna.SessionUpdate{MerchantReference1: "r"})
	a := e.authorize(t, ms.ClientToken, "pay_over_time", "approve", nil)
	e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(req))
	e.client.GenerateCustomerToken(ctx, a.AuthorizationToken, &klarna.CustomerTokenRequest{Description: "d", IntendedUse: "SUBSCRIPTION", Locale: "en-GB", PurchaseCountry: "GB", PurchaseCurrency: "GBP"})
	read, _, err := e.client.GetSession(ctx, ms.SessionID)
	if err != nil || read.AuthorizationToken != a.AuthorizationToken || read.Intent != klarna.IntentBuyAndTokenize || read.AcquiringChannel != "ECOMMERCE" ||
		read.Customer == nil || read.Status != klarna.SessionComplete || read.ClientToken != ms.ClientToken || read.MerchantReference1 != "r" || read.ExpiresAt == nil {
		t.Errorf("session read back: %+v, %v", read, err)
	}
	bad := gbSession()
	bad.OrderAmount = 1
	e.client.CreateSession(ctx, bad)
	e.client.GetSession(ctx, "missing")
	e.client.CancelAuthorization(ctx, "missing")

	e.mu.Lock()
	defer e.mu.Unlock()
	checked := 0
	for _, x := range e.exchanges {
		checked++
		if err := openapitest.ValidateExchange(t, x); err != nil {
			t.Errorf("%s %s (%d) breaks the contract: %v\n%s", x.Method, x.Path, x.Status, err, x.Body)
		}
	}
	if checked < 8 {
		t.Errorf("only %d bodies checked", checked)
	}
}

// TestBodiesAreReadWhateverTheirDeclaredLength: mounted in another server,
// the simulator may get a body that is not the length its request declared
// (a middleware decompressed it, a test built it from a reader of unknown
// length): the declared length only sizes the buffer, the body is what is
// read.
func TestBodiesAreReadWhateverTheirDeclaredLength(t *testing.T) {
	sim, err := simulator.New(simulator.Config{BaseURL: "http://sim.test", Username: "PK_test", Password: "secret",
		AllowedOrigins: []string{"https://shop.example"}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(gbSession())
	if err != nil {
		t.Fatal(err)
	}
	for _, declared := range []int64{0, -1, 10, int64(len(body)), int64(len(body)) + 5000, 1 << 20} {
		req := httptest.NewRequest(http.MethodPost, "http://sim.test/payments/v1/sessions", bytes.NewReader(body))
		req.SetBasicAuth("PK_test", "secret")
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = declared
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"client_token"`) {
			t.Errorf("declared %d bytes, sent %d: %d %s", declared, len(body), rec.Code, rec.Body.String())
		}
	}
}
