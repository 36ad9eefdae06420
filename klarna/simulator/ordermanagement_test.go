package simulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/internal/openapitest"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
)

// placeOrder places an order for gbSession (2655 GBP minor units) with the
// given authorize outcome and returns its id.
func (e *env) placeOrder(t *testing.T, outcome string) string {
	t.Helper()
	ctx := t.Context()
	req := gbSession()
	ms, _, err := e.client.CreateSession(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.sim.Authorize(ms.SessionID, "pay_later", outcome)
	if err != nil || a.AuthorizationToken == "" {
		t.Fatalf("authorize: %+v %v", a, err)
	}
	o, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(req))
	if err != nil {
		t.Fatal(err)
	}
	return o.OrderID
}

func (e *env) order(t *testing.T, id string) *klarna.ManagedOrder {
	t.Helper()
	o, _, err := e.client.GetOrder(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// wantCode asserts a Klarna error with a status and error code.
func wantCode(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	ke := klarnaErr(t, err)
	if ke.StatusCode != status || ke.ErrorCode != code {
		t.Errorf("%s: got %d %s %v, want %d %s", what, ke.StatusCode, ke.ErrorCode, ke.ErrorMessages, status, code)
	}
}

func key() string { return klarna.NewIdempotencyKey() }

func capture(e *env, t *testing.T, id string, amount int64) (*klarna.CaptureCreated, error) {
	t.Helper()
	c, _, err := e.client.Capture(t.Context(), id, key(), &klarna.CaptureRequest{CapturedAmount: amount})
	return c, err
}

func TestOrderManagementThroughTheClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	id := e.placeOrder(t, simulator.OutcomeApprove)
	req := gbSession()

	o := e.order(t, id)
	if o.Status != klarna.OrderAuthorized || o.FraudStatus != klarna.FraudAccepted || o.OrderAmount != 2655 || o.OriginalOrderAmount != 2655 ||
		o.RemainingAuthorizedAmount != 2655 || o.CapturedAmount != 0 || o.RefundedAmount != 0 {
		t.Errorf("new order: %+v", o)
	}
	if o.PurchaseCountry != "GB" || o.PurchaseCurrency != "GBP" || o.Locale != "en-GB" || o.MerchantReference1 != "SHOP-1" ||
		len(o.KlarnaReference) != 7 || o.InitialPaymentMethod == nil || o.InitialPaymentMethod.Type != "INVOICE" {
		t.Errorf("market and references: %+v", o)
	}
	if got, want := o.ExpiresAt.Sub(*o.CreatedAt), 28*24*time.Hour; got != want {
		t.Errorf("expires %v after creation, want %v", got, want)
	}
	gotLines, _ := json.Marshal(o.OrderLines)
	wantLines, _ := json.Marshal(req.OrderLines)
	if string(gotLines) != string(wantLines) {
		t.Errorf("lines\n%s\nwant\n%s", gotLines, wantLines)
	}

	// A partial capture with the mugs and tracking.
	mugs := req.OrderLines[:1]
	c1, resp, err := e.client.Capture(ctx, id, key(), &klarna.CaptureRequest{CapturedAmount: 2400, Description: "Mugs", Reference: "SHIP-1", OrderLines: mugs,
		ShippingInfo: []klarna.ShippingInfo{{ShippingCompany: "Royal Mail", ShippingMethod: klarna.ShipHome, TrackingNumber: "RM1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c1.CaptureID == "" || c1.Location != e.srv.URL+"/ordermanagement/v1/orders/"+id+"/captures/"+c1.CaptureID || resp.StatusCode != 201 {
		t.Errorf("capture: %+v %d", c1, resp.StatusCode)
	}
	o = e.order(t, id)
	if o.Status != klarna.OrderPartCaptured || o.CapturedAmount != 2400 || o.RemainingAuthorizedAmount != 255 || len(o.Captures) != 1 {
		t.Errorf("after a partial capture: %+v", o)
	}
	// The Location is where the capture can be read.
	lreq, _ := http.NewRequest("GET", c1.Location, nil)
	lreq.SetBasicAuth("PK_test", "secret")
	lresp, err := http.DefaultClient.Do(lreq)
	if err != nil || lresp.StatusCode != 200 {
		t.Fatalf("GET Location: %v %v", lresp, err)
	}
	lresp.Body.Close()
	cp, _, err := e.client.GetCapture(ctx, id, c1.CaptureID)
	if err != nil || cp.CapturedAmount != 2400 || cp.KlarnaReference != o.KlarnaReference+"-1" || cp.Reference != "SHIP-1" ||
		len(cp.OrderLines) != 1 || len(cp.ShippingInfo) != 1 || cp.CapturedAt == nil {
		t.Errorf("capture read: %+v %v", cp, err)
	}
	if _, err := e.client.AddCaptureShippingInfo(ctx, id, c1.CaptureID, key(), []klarna.ShippingInfo{{ReturnShippingCompany: "Royal Mail", ReturnTrackingNumber: "RM2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.AddShippingInfo(ctx, id, key(), []klarna.ShippingInfo{{ShippingCompany: "Royal Mail"}}); err != nil {
		t.Fatal(err)
	}

	// The rest, then a refund.
	c2, err := capture(e, t, id, 255)
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := e.client.ListCaptures(ctx, id)
	if err != nil || len(list) != 2 || list[1].CaptureID != c2.CaptureID || list[1].KlarnaReference != o.KlarnaReference+"-2" || len(list[0].ShippingInfo) != 2 {
		t.Errorf("captures: %+v %v", list, err)
	}
	rf, _, err := e.client.Refund(ctx, id, key(), &klarna.RefundRequest{RefundedAmount: 1200, Description: "One mug back",
		OrderLines: []klarna.OrderLine{{Type: klarna.LinePhysical, Reference: "mug", Name: "Mug", Quantity: 1, UnitPrice: 1200, TaxRate: klarna.Int64(2000), TotalAmount: 1200, TotalTaxAmount: klarna.Int64(200)}}})
	if err != nil || rf.RefundID == "" || !strings.HasSuffix(rf.Location, "/refunds/"+rf.RefundID) {
		t.Fatalf("refund: %+v %v", rf, err)
	}
	got, _, err := e.client.GetRefund(ctx, id, rf.RefundID)
	if err != nil || got.RefundedAmount != 1200 || got.Description != "One mug back" || len(got.OrderLines) != 1 {
		t.Errorf("refund read: %+v %v", got, err)
	}
	o = e.order(t, id)
	if o.Status != klarna.OrderCaptured || o.CapturedAmount != 2655 || o.RefundedAmount != 1200 || o.RemainingAuthorizedAmount != 0 ||
		len(o.Refunds) != 1 || o.Captures[0].RefundedAmount != 1200 || len(o.ShippingInfo) != 1 {
		t.Errorf("after capture and refund: %+v", o)
	}
	st, _, err := e.client.GetOrderStatus(ctx, id)
	if err != nil || st.Status != "CAPTURED" || st.OrderAmount != 2655 {
		t.Errorf("GetOrderStatus: %+v %v", st, err)
	}

	_, _, err = e.client.GetCapture(ctx, id, "no-such-capture")
	wantCode(t, "unknown capture", err, 404, "NO_SUCH_CAPTURE")
	_, _, err = e.client.GetRefund(ctx, id, "no-such-refund")
	wantCode(t, "unknown refund", err, 404, "NOT_FOUND")
	for name, call := range map[string]func() error{
		"get":     func() error { _, _, err := e.client.GetOrder(ctx, "nope"); return err },
		"capture": func() error { _, err := capture(e, t, "nope", 1); return err },
		"refund": func() error {
			_, _, err := e.client.Refund(ctx, "nope", key(), &klarna.RefundRequest{RefundedAmount: 1})
			return err
		},
		"cancel":  func() error { _, err := e.client.CancelOrder(ctx, "nope", key()); return err },
		"release": func() error { _, err := e.client.ReleaseRemainingAuthorization(ctx, "nope", key()); return err },
		"extend":  func() error { _, err := e.client.ExtendAuthorizationTime(ctx, "nope", key()); return err },
		"list":    func() error { _, _, err := e.client.ListCaptures(ctx, "nope"); return err },
	} {
		wantCode(t, name+" of an unknown order", call(), 404, "NO_SUCH_ORDER")
	}
}

func TestCaptureRules(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("not more than the remaining authorization", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		_, err := capture(e, t, id, 2656)
		wantCode(t, "over-capture", err, 403, "CAPTURE_NOT_ALLOWED")
		if _, err := capture(e, t, id, 2000); err != nil {
			t.Fatal(err)
		}
		_, err = capture(e, t, id, 656)
		wantCode(t, "over the rest", err, 403, "CAPTURE_NOT_ALLOWED")
		if _, err := capture(e, t, id, 655); err != nil {
			t.Fatalf("exactly the rest: %v", err)
		}
		_, err = capture(e, t, id, 1)
		wantCode(t, "after full capture", err, 403, "CAPTURE_NOT_ALLOWED")
		if n := len(e.order(t, id).Captures); n != 2 {
			t.Errorf("captures = %d", n)
		}
	})
	t.Run("pending fraud review is not capturable, accepted is", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomePending)
		_, err := capture(e, t, id, 100)
		wantCode(t, "pending", err, 403, "CAPTURE_NOT_ALLOWED")
		if err := e.sim.Decide(id, "accept"); err != nil {
			t.Fatal(err)
		}
		if _, err := capture(e, t, id, 100); err != nil {
			t.Errorf("after acceptance: %v", err)
		}
	})
	t.Run("rejected is cancelled and not capturable", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomePending)
		e.sim.Decide(id, "reject")
		_, err := capture(e, t, id, 100)
		wantCode(t, "rejected", err, 403, "CAPTURE_NOT_ALLOWED")
		if o := e.order(t, id); o.Status != klarna.OrderCancelled || o.RemainingAuthorizedAmount != 0 {
			t.Errorf("rejected order: %s, remaining %d", o.Status, o.RemainingAuthorizedAmount)
		}
	})
	t.Run("cancelled and expired orders are not capturable", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		cancelled := e.placeOrder(t, simulator.OutcomeApprove)
		if _, err := e.client.CancelOrder(ctx, cancelled, key()); err != nil {
			t.Fatal(err)
		}
		_, err := capture(e, t, cancelled, 100)
		wantCode(t, "cancelled", err, 403, "CAPTURE_NOT_ALLOWED")
		expiring := e.placeOrder(t, simulator.OutcomeApprove)
		e.sim.Advance(28*24*time.Hour + time.Second)
		_, err = capture(e, t, expiring, 100)
		wantCode(t, "expired", err, 403, "CAPTURE_NOT_ALLOWED")
	})
	t.Run("bodies are validated", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		for _, tt := range []struct {
			name   string
			req    klarna.CaptureRequest
			status int
			code   string
		}{
			{"zero", klarna.CaptureRequest{CapturedAmount: 0}, 400, "BAD_REQUEST"},
			{"negative", klarna.CaptureRequest{CapturedAmount: -5}, 400, "BAD_REQUEST"},
			{"over the maximum", klarna.CaptureRequest{CapturedAmount: 200_000_001}, 400, "BAD_REQUEST"},
			{"lines not adding up", klarna.CaptureRequest{CapturedAmount: 100, OrderLines: gbSession().OrderLines[:1]}, 400, "BAD_REQUEST"},
			{"bad line", klarna.CaptureRequest{CapturedAmount: 100, OrderLines: []klarna.OrderLine{{Name: "", Quantity: 1, UnitPrice: 100, TotalAmount: 100}}}, 400, "BAD_REQUEST"},
			{"shipping company over 100", klarna.CaptureRequest{CapturedAmount: 100, ShippingInfo: []klarna.ShippingInfo{{ShippingCompany: strings.Repeat("x", 101)}}}, 422, "UNPROCESSABLE_ENTITY"},
			{"description over 255", klarna.CaptureRequest{CapturedAmount: 100, Description: strings.Repeat("x", 256)}, 422, "UNPROCESSABLE_ENTITY"},
			{"unknown shipping method", klarna.CaptureRequest{CapturedAmount: 100, ShippingInfo: []klarna.ShippingInfo{{ShippingMethod: "Drone"}}}, 400, "BAD_REQUEST"},
			{"shipping delay not enabled", klarna.CaptureRequest{CapturedAmount: 100, ShippingDelay: 2}, 400, "BAD_REQUEST"},
		} {
			_, _, err := e.client.Capture(ctx, id, key(), &tt.req)
			wantCode(t, tt.name, err, tt.status, tt.code)
		}
		if _, err := capture(e, t, id, 2655); err != nil {
			t.Errorf("nothing was captured by the refused requests: %v", err)
		}
		_, err := e.client.AddCaptureShippingInfo(ctx, id, "no-such-capture", key(), []klarna.ShippingInfo{{ShippingCompany: "DHL"}})
		wantCode(t, "shipping info for an unknown capture", err, 404, "NO_SUCH_CAPTURE")
	})
}

func TestRefundRules(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := newEnv(t, simulator.Config{})
	refund := func(id string, amount int64, lines ...klarna.OrderLine) error {
		_, _, err := e.client.Refund(ctx, id, key(), &klarna.RefundRequest{RefundedAmount: amount, OrderLines: lines})
		return err
	}
	id := e.placeOrder(t, simulator.OutcomeApprove)
	wantCode(t, "refund without captures", refund(id, 100), 403, "REFUND_NOT_ALLOWED")
	if _, err := capture(e, t, id, 1000); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "refund over the captured amount", refund(id, 1001), 403, "REFUND_NOT_ALLOWED")
	if err := refund(id, 600); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "over-refund after a refund", refund(id, 401), 403, "REFUND_NOT_ALLOWED")
	if err := refund(id, 400); err != nil {
		t.Fatalf("the rest: %v", err)
	}
	if o := e.order(t, id); o.RefundedAmount != 1000 || o.CapturedAmount != 1000 || o.RemainingAuthorizedAmount != 1655 {
		t.Errorf("after refunds: %+v", o)
	}

	// A return fee needs one full capture and a market that allows it (not GB).
	mug := klarna.OrderLine{Type: klarna.LinePhysical, Name: "Mug", Quantity: 1, UnitPrice: 1200, TotalAmount: 1200, TaxRate: klarna.Int64(2000), TotalTaxAmount: klarna.Int64(200)}
	fee := klarna.OrderLine{Type: klarna.LineReturnFee, Name: "Return fee", Quantity: 1, UnitPrice: -300, TotalAmount: -300, TaxRate: klarna.Int64(2000), TotalTaxAmount: klarna.Int64(-50)}
	full := e.placeOrder(t, simulator.OutcomeApprove)
	if _, err := capture(e, t, full, 2655); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "return fee in GB", refund(full, 900, mug, fee), 403, "REFUND_NOT_ALLOWED")
	wantCode(t, "lines not adding up", refund(full, 1200, mug, fee), 400, "BAD_REQUEST")
	if err := refund(full, 1200, mug); err != nil {
		t.Errorf("refund with lines: %v", err)
	}
}

func TestCancelReleaseAndExtendRules(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	day := 24 * time.Hour
	cancel := func(e *env, id string) error { _, err := e.client.CancelOrder(ctx, id, key()); return err }
	release := func(e *env, id string) error {
		_, err := e.client.ReleaseRemainingAuthorization(ctx, id, key())
		return err
	}
	extend := func(e *env, id string) error { _, err := e.client.ExtendAuthorizationTime(ctx, id, key()); return err }

	t.Run("cancel only without captures", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		captured := e.placeOrder(t, simulator.OutcomeApprove)
		capture(e, t, captured, 100)
		wantCode(t, "cancel after capture", cancel(e, captured), 403, "CANCEL_NOT_ALLOWED")
		id := e.placeOrder(t, simulator.OutcomeApprove)
		if err := cancel(e, id); err != nil {
			t.Fatal(err)
		}
		if o := e.order(t, id); o.Status != klarna.OrderCancelled || o.RemainingAuthorizedAmount != 0 {
			t.Errorf("cancelled: %s, remaining %d", o.Status, o.RemainingAuthorizedAmount)
		}
		wantCode(t, "cancel twice", cancel(e, id), 403, "CANCEL_NOT_ALLOWED")
		wantCode(t, "release after cancel", release(e, id), 403, "NOT_ALLOWED")
		wantCode(t, "extend after cancel", extend(e, id), 403, "NOT_ALLOWED")
		pending := e.placeOrder(t, simulator.OutcomePending)
		if err := cancel(e, pending); err != nil {
			t.Errorf("cancel a pending order: %v", err)
		}
	})
	t.Run("release remaining authorization", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		wantCode(t, "release without captures", release(e, id), 403, "NOT_ALLOWED")
		capture(e, t, id, 1000)
		if err := release(e, id); err != nil {
			t.Fatal(err)
		}
		if o := e.order(t, id); o.Status != klarna.OrderClosed || o.RemainingAuthorizedAmount != 0 || o.CapturedAmount != 1000 {
			t.Errorf("released: %s, remaining %d", o.Status, o.RemainingAuthorizedAmount)
		}
		_, err := capture(e, t, id, 100)
		wantCode(t, "capture after release", err, 403, "CAPTURE_NOT_ALLOWED")
		wantCode(t, "release twice", release(e, id), 403, "NOT_ALLOWED")
		wantCode(t, "extend after release", extend(e, id), 403, "NOT_ALLOWED")
		// Refunds of what was captured remain possible.
		if _, _, err := e.client.Refund(ctx, id, key(), &klarna.RefundRequest{RefundedAmount: 1000}); err != nil {
			t.Errorf("refund after release: %v", err)
		}
		full := e.placeOrder(t, simulator.OutcomeApprove)
		capture(e, t, full, 2655)
		wantCode(t, "release when fully captured", release(e, full), 403, "NOT_ALLOWED")
		expired := e.placeOrder(t, simulator.OutcomeApprove)
		capture(e, t, expired, 100)
		e.sim.Advance(29 * day)
		wantCode(t, "release when expired", release(e, expired), 403, "NOT_ALLOWED")
	})
	t.Run("extend moves the expiry to now plus the lifetime", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		created := *e.order(t, id).CreatedAt
		e.sim.Advance(20 * day)
		if err := extend(e, id); err != nil {
			t.Fatal(err)
		}
		if got, want := *e.order(t, id).ExpiresAt, created.Add(48*day); !got.Equal(want) {
			t.Errorf("expires %v, want %v (20 days + 28, not 28 + 28)", got, want)
		}
		if err := extend(e, id); err != nil {
			t.Fatal(err)
		}
		if got, want := *e.order(t, id).ExpiresAt, created.Add(48*day); !got.Equal(want) {
			t.Errorf("extending twice at once: expires %v, want %v", got, want)
		}
		e.sim.Advance(27 * day)
		if _, err := capture(e, t, id, 100); err != nil {
			t.Errorf("capture after 47 days of an extended order: %v", err)
		}
		e.sim.Advance(2 * day)
		wantCode(t, "extend when expired", extend(e, id), 403, "NOT_ALLOWED")
		if o := e.order(t, id); o.Status != klarna.OrderPartCaptured || o.RemainingAuthorizedAmount != 0 {
			t.Errorf("a partly captured order past its expiry: %s, remaining %d", o.Status, o.RemainingAuthorizedAmount)
		}
	})
	t.Run("extend only within 180 days of creation", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{OrderAuthorizationLifetime: 100 * day})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		if got := e.order(t, id); got.ExpiresAt.Sub(*got.CreatedAt) != 100*day {
			t.Fatalf("lifetime not configured: %v", got.ExpiresAt.Sub(*got.CreatedAt))
		}
		e.sim.Advance(90 * day)
		if err := extend(e, id); err != nil {
			t.Fatal(err)
		}
		e.sim.Advance(91 * day)
		wantCode(t, "extend after 181 days", extend(e, id), 403, "NOT_ALLOWED")
	})
}

func TestStatusesFollowTheClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	id := e.placeOrder(t, simulator.OutcomeApprove)
	e.sim.Advance(28*24*time.Hour - time.Minute)
	if o := e.order(t, id); o.Status != klarna.OrderAuthorized || o.RemainingAuthorizedAmount != 2655 {
		t.Errorf("a minute before the expiry: %s %d", o.Status, o.RemainingAuthorizedAmount)
	}
	// Over HTTP, as a test in another language would move it.
	resp, err := http.Post(e.srv.URL+"/_sim/clock", "application/json", strings.NewReader(`{"advance":"2m"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if o := e.order(t, id); o.Status != klarna.OrderExpired || o.RemainingAuthorizedAmount != 0 {
		t.Errorf("after the expiry: %s %d", o.Status, o.RemainingAuthorizedAmount)
	}
	wantCode(t, "cancel an expired order", func() error { _, err := e.client.CancelOrder(t.Context(), id, key()); return err }(), 403, "CANCEL_NOT_ALLOWED")
}

// rawPost sends a write with an optional idempotency key, as any client
// would, and returns status, headers and body.
func rawPost(t *testing.T, e *env, path, idemKey, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
	req.SetBasicAuth("PK_test", "secret")
	req.Header.Set("Content-Type", "application/json")
	if idemKey != "" {
		req.Header.Set("Klarna-Idempotency-Key", idemKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	t.Run("a repeat within 24 hours returns the first answer and does not run", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		path := "/ordermanagement/v1/orders/" + id + "/captures"
		s1, h1, b1 := rawPost(t, e, path, "key-1", `{"captured_amount":1000}`)
		e.sim.Advance(23 * time.Hour)
		// Only the key matters: another body changes nothing.
		s2, h2, b2 := rawPost(t, e, path, "key-1", `{"captured_amount":5}`)
		if s1 != 201 || s2 != 201 || h1.Get("Capture-Id") == "" || h1.Get("Capture-Id") != h2.Get("Capture-Id") || h1.Get("Location") != h2.Get("Location") ||
			h1.Get("Klarna-Correlation-Id") != h2.Get("Klarna-Correlation-Id") || b1 != b2 {
			t.Errorf("first %d %v %q, repeat %d %v %q", s1, h1, b1, s2, h2, b2)
		}
		if o := e.order(t, id); len(o.Captures) != 1 || o.CapturedAmount != 1000 || e.sim.Count(simulator.OpCapture) != 1 {
			t.Errorf("captures %d, captured %d, ran %d times", len(o.Captures), o.CapturedAmount, e.sim.Count(simulator.OpCapture))
		}
		// After 24 hours the key is forgotten: the request runs again.
		e.sim.Advance(2 * time.Hour)
		s3, h3, _ := rawPost(t, e, path, "key-1", `{"captured_amount":5}`)
		if s3 != 201 || h3.Get("Capture-Id") == h1.Get("Capture-Id") {
			t.Errorf("after 25 hours: %d %v", s3, h3)
		}
		if o := e.order(t, id); len(o.Captures) != 2 || o.CapturedAmount != 1005 {
			t.Errorf("after 25 hours: %d captures, %d captured", len(o.Captures), o.CapturedAmount)
		}
		var st simulator.State
		resp, _ := http.Get(e.srv.URL + "/_sim/state")
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		replays := 0
		for _, r := range st.Requests {
			if r.Operation == simulator.OpCapture && strings.Contains(r.Path, "/captures") && r.Status == 201 {
				if r.Body == `{"captured_amount":5}` && r.CorrelationID == h1.Get("Klarna-Correlation-Id") {
					replays++
				}
			}
		}
		if replays != 1 {
			t.Errorf("the replay is not visible in the state (%d)", replays)
		}
	})
	t.Run("errors are repeated too", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		path := "/ordermanagement/v1/orders/" + id + "/captures"
		s1, _, b1 := rawPost(t, e, path, "key-2", `{"captured_amount":999999}`)
		s2, _, b2 := rawPost(t, e, path, "key-2", `{"captured_amount":100}`)
		if s1 != 403 || s2 != 403 || b1 != b2 {
			t.Errorf("first %d %s, repeat %d %s", s1, b1, s2, b2)
		}
	})
	t.Run("without a key every write runs and is counted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		path := "/ordermanagement/v1/orders/" + id + "/captures"
		rawPost(t, e, path, "", `{"captured_amount":1000}`)
		rawPost(t, e, path, "", `{"captured_amount":1000}`)
		if o := e.order(t, id); o.CapturedAmount != 2000 {
			t.Errorf("captured %d, want two captures of 1000", o.CapturedAmount)
		}
		if n := e.sim.Snapshot().UnkeyedWrites[simulator.OpCapture]; n != 2 {
			t.Errorf("unkeyed writes counted: %d", n)
		}
	})
	t.Run("RequireIdempotencyKey refuses writes without one", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, simulator.Config{RequireIdempotencyKey: true})
		id := e.placeOrder(t, simulator.OutcomeApprove)
		if s, _, _ := rawPost(t, e, "/ordermanagement/v1/orders/"+id+"/cancel", "", ""); s != 400 {
			t.Errorf("cancel without a key: %d", s)
		}
		if o := e.order(t, id); o.Status != klarna.OrderAuthorized {
			t.Errorf("the refused cancel ran: %s", o.Status)
		}
	})
}

// TestAnswerLostThenRetriedWithTheKey is the reason for idempotency keys:
// the capture runs at Klarna, its answer is lost, the client retries with
// the same key, and there is exactly one capture.
func TestAnswerLostThenRetriedWithTheKey(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"capture=lost*1", "capture=503*1", "capture=500*1", "capture=429:0*1", "capture=drop*1"} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, simulator.Config{})
			id := e.placeOrder(t, simulator.OutcomeApprove)
			if err := e.injectFaults(spec); err != nil {
				t.Fatal(err)
			}
			retrying, _ := klarna.NewClient(klarna.WithBaseURL(e.srv.URL), klarna.WithCredentials("PK_test", "secret"), klarna.WithMaxRetries(2))
			got, resp, err := retrying.Capture(t.Context(), id, key(), &klarna.CaptureRequest{CapturedAmount: 1000})
			if err != nil || got.CaptureID == "" || resp.Attempts != 2 {
				t.Fatalf("capture: %+v %+v %v", got, resp, err)
			}
			o := e.order(t, id)
			if len(o.Captures) != 1 || o.CapturedAmount != 1000 || o.Captures[0].CaptureID != got.CaptureID {
				t.Errorf("captures at Klarna: %+v", o.Captures)
			}
			if e.sim.Count(simulator.OpCapture) != 1 {
				t.Errorf("capture ran %d times", e.sim.Count(simulator.OpCapture))
			}
		})
	}
}

func (e *env) injectFaults(spec string) error {
	faults, err := simulator.ParseFaults(spec)
	for _, f := range faults {
		e.sim.InjectFault(*f)
	}
	return err
}

func TestEveryNewOperationTakesFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	id := e.placeOrder(t, simulator.OutcomeApprove)
	ctx := t.Context()
	for op, call := range map[string]func() error{
		simulator.OpGetOrder:     func() error { _, _, err := e.client.GetOrder(ctx, id); return err },
		simulator.OpCapture:      func() error { _, err := capture(e, t, id, 1); return err },
		simulator.OpListCaptures: func() error { _, _, err := e.client.ListCaptures(ctx, id); return err },
		simulator.OpGetCapture:   func() error { _, _, err := e.client.GetCapture(ctx, id, "c"); return err },
		simulator.OpAddCaptureShippingInfo: func() error {
			_, err := e.client.AddCaptureShippingInfo(ctx, id, "c", key(), []klarna.ShippingInfo{{}})
			return err
		},
		simulator.OpAddShippingInfo: func() error {
			_, err := e.client.AddShippingInfo(ctx, id, key(), []klarna.ShippingInfo{{}})
			return err
		},
		simulator.OpRefund: func() error {
			_, _, err := e.client.Refund(ctx, id, key(), &klarna.RefundRequest{RefundedAmount: 1})
			return err
		},
		simulator.OpGetRefund:            func() error { _, _, err := e.client.GetRefund(ctx, id, "r"); return err },
		simulator.OpCancelOrder:          func() error { _, err := e.client.CancelOrder(ctx, id, key()); return err },
		simulator.OpReleaseAuthorization: func() error { _, err := e.client.ReleaseRemainingAuthorization(ctx, id, key()); return err },
		simulator.OpExtendAuthorization:  func() error { _, err := e.client.ExtendAuthorizationTime(ctx, id, key()); return err },
		simulator.OpCreateTokenOrder: func() error {
			_, _, err := e.client.CreateTokenOrder(ctx, "t", key(), &klarna.TokenOrderRequest{PurchaseCurrency: "GBP"})
			return err
		},
		simulator.OpGetCustomerToken:    func() error { _, _, err := e.client.GetCustomerToken(ctx, "t"); return err },
		simulator.OpCancelCustomerToken: func() error { _, err := e.client.CancelCustomerToken(ctx, "t"); return err },
	} {
		if err := e.injectFaults(op + "=503*1"); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		before := e.sim.Count(op)
		err := call()
		if ke := klarnaErr(t, err); ke.StatusCode != 503 {
			t.Errorf("%s: got %v, want the injected 503", op, err)
		}
		if e.sim.Count(op) != before {
			t.Errorf("%s ran despite the fault", op)
		}
	}
}

// TestAfterPaymentResponsesMatchContract runs Order Management and Customer
// Token flows, successes and failures, and checks every request and answer
// against the contract facts.
func TestAfterPaymentResponsesMatchContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	id := e.placeOrder(t, simulator.OutcomeApprove)
	e.client.GetOrder(ctx, id)
	c, _ := capture(e, t, id, 1000)
	capture(e, t, id, 999999)
	e.client.Capture(ctx, id, key(), &klarna.CaptureRequest{CapturedAmount: 1, ShippingInfo: []klarna.ShippingInfo{{ShippingCompany: strings.Repeat("x", 101)}}})
	e.client.ListCaptures(ctx, id)
	e.client.GetCapture(ctx, id, c.CaptureID)
	e.client.GetCapture(ctx, id, "nope")
	e.client.AddCaptureShippingInfo(ctx, id, c.CaptureID, key(), []klarna.ShippingInfo{{ShippingCompany: "DHL US", TrackingNumber: "1"}})
	e.client.AddShippingInfo(ctx, id, key(), []klarna.ShippingInfo{{ShippingMethod: klarna.ShipPostal}})
	rf, _, _ := e.client.Refund(ctx, id, key(), &klarna.RefundRequest{RefundedAmount: 500, Description: "d", Reference: "r"})
	e.client.Refund(ctx, id, key(), &klarna.RefundRequest{RefundedAmount: 5000})
	e.client.GetRefund(ctx, id, rf.RefundID)
	e.client.GetRefund(ctx, id, "nope")
	e.client.ExtendAuthorizationTime(ctx, id, key())
	e.client.CancelOrder(ctx, id, key())
	e.client.ReleaseRemainingAuthorization(ctx, id, key())
	e.client.GetOrder(ctx, id)
	other := e.placeOrder(t, simulator.OutcomeApprove)
	e.client.CancelOrder(ctx, other, key())
	e.client.GetOrder(ctx, other)
	e.client.GetOrder(ctx, "nope")

	tok := e.makeToken(t, "ada+approve@example.com")
	o, _, _ := e.client.CreateTokenOrder(ctx, tok, key(), renewal())
	bad := renewal()
	bad.OrderLines[0].Subscription = nil
	e.client.CreateTokenOrder(ctx, tok, key(), bad)
	e.client.GetOrder(ctx, o.OrderID)
	e.client.GetCustomerToken(ctx, tok)
	e.client.CancelCustomerToken(ctx, tok)
	e.client.CreateTokenOrder(ctx, tok, key(), renewal())
	e.client.GetCustomerToken(ctx, "nope")
	e.client.CreateTokenOrder(ctx, "nope", key(), renewal())

	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	for _, x := range e.exchanges {
		api, _ := openapitest.APIFor(x.Path)
		if api == openapitest.Payments {
			continue
		}
		seen[x.Method+" "+strings.Split(strings.TrimPrefix(x.Path, "/"), "/")[0]+" "+http.StatusText(x.Status)] = true
		spec := openapitest.LoadAPI(t, api)
		// Some refused requests are refused because they break the
		// contract on purpose; every accepted one must keep it.
		if x.Status < 400 {
			if err := openapitest.ValidateRequest(spec, x.Method, x.Path, x.RequestHeader, x.RequestBody); err != nil {
				t.Errorf("%s %s (%d): the request breaks the contract: %v\n%s", x.Method, x.Path, x.Status, err, x.RequestBody)
			}
		}
		if err := openapitest.ValidateResponse(spec, x.Method, x.Path, x.Status, x.Header, x.Body); err != nil {
			t.Errorf("%s %s (%d) breaks the contract: %v\n%s", x.Method, x.Path, x.Status, err, x.Body)
		}
	}
	if len(e.exchanges) < 30 || !seen["POST ordermanagement Created"] || !seen["POST customer-token OK"] || !seen["PATCH customer-token Accepted"] {
		t.Errorf("too few exchanges checked: %d %v", len(e.exchanges), seen)
	}
}

// TestContractCatchesSimulatorViolations shows the exchange validator
// refuses answers that break the contract.
func TestContractCatchesSimulatorViolations(t *testing.T) {
	t.Parallel()
	for _, x := range []openapitest.Exchange{
		{Method: "POST", Path: "/ordermanagement/v1/orders/o/captures", RequestBody: []byte(`{"captured_amount":1}`), Status: 201, Header: http.Header{"Location": {"x"}}},
		{Method: "POST", Path: "/ordermanagement/v1/orders/o/captures", RequestBody: []byte(`{"captured_amount":1}`), Status: 200, Header: http.Header{}},
		{Method: "GET", Path: "/ordermanagement/v1/orders/o", Status: 200, Body: []byte(`{"order_id":"o","status":"SHIPPED"}`)},
		{Method: "POST", Path: "/ordermanagement/v1/orders/o/captures", RequestBody: []byte(`{"description":"no amount"}`), Status: 403, Body: []byte(`{"error_code":"CAPTURE_NOT_ALLOWED"}`)},
		{Method: "POST", Path: "/customer-token/v1/tokens/t/order", RequestBody: []byte(`{}`), Status: 200, Body: []byte(`{"order_id":"o"}`)},
		{Method: "PATCH", Path: "/customer-token/v1/tokens/t/status", RequestBody: []byte(`{"status":"CANCELLED"}`), Status: 202, Body: []byte(`{"ok":true}`)},
		{Method: "DELETE", Path: "/ordermanagement/v1/orders/o", Status: 204},
	} {
		if err := openapitest.ValidateExchange(t, x); err == nil {
			t.Errorf("%s %s %d accepted: %s", x.Method, x.Path, x.Status, x.Body)
		}
	}
}
