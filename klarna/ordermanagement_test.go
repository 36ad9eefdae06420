package klarna

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "5f0c6c2e-2d6b-4a8e-9a57-3c1b8f0d1e2a"

// expectKey asserts the idempotency key an Order Management or Customer
// Token write must carry.
func expectKey(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := r.Header.Get("Klarna-Idempotency-Key"); got != want {
		t.Errorf("Klarna-Idempotency-Key = %q, want %q", got, want)
	}
}

func TestGetOrder(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/ordermanagement/v1/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "GET", "/ordermanagement/v1/orders/o-1", "")
		expectKey(t, r, "")
		reply(w, 200, fixture("om_order"))
	})
	o, resp, err := c.GetOrder(t.Context(), "o-1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Operation != "get_order" {
		t.Errorf("operation = %q", resp.Operation)
	}
	if o.Status != OrderPartCaptured || o.FraudStatus != FraudAccepted || o.OriginalOrderAmount != 2400 || o.OrderAmount != 2400 ||
		o.CapturedAmount != 1200 || o.RefundedAmount != 200 || o.RemainingAuthorizedAmount != 1200 {
		t.Errorf("status and amounts = %+v", o)
	}
	if o.ExpiresAt == nil || !o.ExpiresAt.Equal(time.Date(2026, 12, 25, 10, 0, 0, 0, time.UTC)) || o.CreatedAt == nil {
		t.Errorf("times = %v %v", o.ExpiresAt, o.CreatedAt)
	}
	if o.PurchaseCountry != "GB" || o.PurchaseCurrency != "GBP" || o.Locale != "en-GB" || o.MerchantReference1 != "SHOP-1" ||
		o.MerchantReference2 != "cart-7" || o.KlarnaReference != "K4MADNY" {
		t.Errorf("market and references = %+v", o)
	}
	if len(o.OrderLines) != 1 || o.OrderLines[0].Reference != "mug" || *o.OrderLines[0].TotalTaxAmount != 400 {
		t.Errorf("lines = %+v", o.OrderLines)
	}
	if len(o.Captures) != 1 || o.Captures[0].CaptureID != "cap-1" || o.Captures[0].KlarnaReference != "K4MADNY-1" ||
		o.Captures[0].ShippingInfo[0].TrackingNumber != "RM1" || o.Captures[0].RefundedAmount != 200 || o.Captures[0].CapturedAt == nil {
		t.Errorf("captures = %+v", o.Captures)
	}
	if len(o.Refunds) != 1 || o.Refunds[0].RefundID != "ref-1" || o.Refunds[0].Description != "Chipped" {
		t.Errorf("refunds = %+v", o.Refunds)
	}
	if o.InitialPaymentMethod == nil || o.InitialPaymentMethod.Type != "INVOICE" || len(o.ShippingInfo) != 1 || o.ShippingInfo[0].ShippingMethod != ShipHome {
		t.Errorf("payment method and shipping = %+v %+v", o.InitialPaymentMethod, o.ShippingInfo)
	}
}

func TestCapture(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/ordermanagement/v1/orders/{id}/captures", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/ordermanagement/v1/orders/o%2F1/captures", `{"captured_amount":1200,"description":"First parcel","reference":"SHIP-1",
		 "order_lines":[{"reference":"mug","name":"Mug","quantity":1,"unit_price":1200,"tax_rate":2000,"total_amount":1200,"total_tax_amount":200}],
		 "shipping_info":[{"shipping_company":"DHL US","shipping_method":"Home","tracking_number":"JD1","tracking_uri":"https://dhl.example/JD1"}]}`)
		expectKey(t, r, testKey)
		w.Header().Set("Capture-Id", "cap-1")
		w.Header().Set("Location", "https://api.example/ordermanagement/v1/orders/o%2F1/captures/cap-1")
		w.WriteHeader(http.StatusCreated)
	})
	got, resp, err := c.Capture(t.Context(), "o/1", testKey, &CaptureRequest{
		CapturedAmount: 1200, Description: "First parcel", Reference: "SHIP-1",
		OrderLines:   []OrderLine{{Reference: "mug", Name: "Mug", Quantity: 1, UnitPrice: 1200, TaxRate: Int64(2000), TotalAmount: 1200, TotalTaxAmount: Int64(200)}},
		ShippingInfo: []ShippingInfo{{ShippingCompany: "DHL US", ShippingMethod: ShipHome, TrackingNumber: "JD1", TrackingURI: "https://dhl.example/JD1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.CaptureID != "cap-1" || got.Location != "https://api.example/ordermanagement/v1/orders/o%2F1/captures/cap-1" || resp.StatusCode != 201 || resp.Operation != "capture" {
		t.Errorf("capture = %+v, resp %+v", got, resp)
	}
}

func TestListAndGetCaptures(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/ordermanagement/v1/orders/o-1/captures", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "GET", "/ordermanagement/v1/orders/o-1/captures", "")
		reply(w, 200, "["+fixture("om_capture")+"]")
	})
	mux.HandleFunc("/ordermanagement/v1/orders/o-1/captures/{cid}", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "GET", "/ordermanagement/v1/orders/o-1/captures/cap-1", "")
		reply(w, 200, fixture("om_capture"))
	})
	list, _, err := c.ListCaptures(t.Context(), "o-1")
	if err != nil || len(list) != 1 || list[0].CaptureID != "cap-1" || list[0].CapturedAmount != 1200 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	cp, _, err := c.GetCapture(t.Context(), "o-1", "cap-1")
	if err != nil || cp.KlarnaReference != "K4MADNY-1" || cp.Description != "Shipped" {
		t.Fatalf("capture = %+v, %v", cp, err)
	}
}

func TestShippingInfo(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/ordermanagement/v1/orders/o-1/captures/cap-1/shipping-info", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/ordermanagement/v1/orders/o-1/captures/cap-1/shipping-info",
			`{"shipping_info":[{"shipping_company":"Royal Mail","tracking_number":"RM1","return_shipping_company":"Royal Mail","return_tracking_number":"RM2"}]}`)
		expectKey(t, r, "k-capture-ship")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/ordermanagement/v1/orders/o-1/shipping-info", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/ordermanagement/v1/orders/o-1/shipping-info", `{"shipping_info":[{"shipping_company":"Bring","shipping_method":"PickUpPoint"}]}`)
		expectKey(t, r, "k-order-ship")
		w.WriteHeader(http.StatusNoContent)
	})
	resp, err := c.AddCaptureShippingInfo(t.Context(), "o-1", "cap-1", "k-capture-ship",
		[]ShippingInfo{{ShippingCompany: "Royal Mail", TrackingNumber: "RM1", ReturnShippingCompany: "Royal Mail", ReturnTrackingNumber: "RM2"}})
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("capture shipping info: %v %v", resp, err)
	}
	resp, err = c.AddShippingInfo(t.Context(), "o-1", "k-order-ship", []ShippingInfo{{ShippingCompany: "Bring", ShippingMethod: ShipPickUpPoint}})
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("order shipping info: %v %v", resp, err)
	}
}

func TestRefund(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/ordermanagement/v1/orders/o-1/refunds", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/ordermanagement/v1/orders/o-1/refunds", `{"refunded_amount":1200,"description":"Returned mug","reference":"RMA-1",
		 "order_lines":[{"type":"physical","reference":"mug","name":"Mug","quantity":1,"unit_price":1200,"tax_rate":2000,"total_amount":1200,"total_tax_amount":200}]}`)
		expectKey(t, r, testKey)
		w.Header().Set("Refund-Id", "ref-1")
		w.Header().Set("Location", "/ordermanagement/v1/orders/o-1/refunds/ref-1")
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("/ordermanagement/v1/orders/o-1/refunds/{rid}", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "GET", "/ordermanagement/v1/orders/o-1/refunds/ref-1", "")
		reply(w, 200, fixture("om_refund"))
	})
	got, _, err := c.Refund(t.Context(), "o-1", testKey, &RefundRequest{RefundedAmount: 1200, Description: "Returned mug", Reference: "RMA-1",
		OrderLines: []OrderLine{{Type: LinePhysical, Reference: "mug", Name: "Mug", Quantity: 1, UnitPrice: 1200, TaxRate: Int64(2000), TotalAmount: 1200, TotalTaxAmount: Int64(200)}}})
	if err != nil || got.RefundID != "ref-1" || got.Location != "/ordermanagement/v1/orders/o-1/refunds/ref-1" {
		t.Fatalf("refund = %+v, %v", got, err)
	}
	rf, _, err := c.GetRefund(t.Context(), "o-1", "ref-1")
	if err != nil || rf.RefundedAmount != 200 || rf.Reference != "RMA-1" || rf.RefundedAt == nil {
		t.Fatalf("get refund = %+v, %v", rf, err)
	}
}

func TestOrderActions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		op, path string
		call     func(*Client, string) (*Response, error)
	}{
		{"cancel_order", "/ordermanagement/v1/orders/o-1/cancel", func(c *Client, k string) (*Response, error) { return c.CancelOrder(t.Context(), "o-1", k) }},
		{"release_authorization", "/ordermanagement/v1/orders/o-1/release-remaining-authorization", func(c *Client, k string) (*Response, error) {
			return c.ReleaseRemainingAuthorization(t.Context(), "o-1", k)
		}},
		{"extend_authorization", "/ordermanagement/v1/orders/o-1/extend-authorization-time", func(c *Client, k string) (*Response, error) {
			return c.ExtendAuthorizationTime(t.Context(), "o-1", k)
		}},
	} {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc(tt.path, func(w http.ResponseWriter, r *http.Request) {
				expect(t, r, "POST", tt.path, "")
				expectKey(t, r, "key-"+tt.op)
				w.WriteHeader(http.StatusNoContent)
			})
			resp, err := tt.call(c, "key-"+tt.op)
			if err != nil || resp.StatusCode != 204 || resp.Operation != tt.op {
				t.Fatalf("resp %+v err %v", resp, err)
			}
		})
	}
}

// TestWritesRefuseAnEmptyKey: no Order Management or Customer Token write
// leaves without an idempotency key.
func TestWritesRefuseAnEmptyKey(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { hits.Add(1); w.WriteHeader(204) })
	ctx := t.Context()
	info := []ShippingInfo{{ShippingCompany: "DHL"}}
	for name, call := range map[string]func() error{
		"capture":                   func() error { _, _, err := c.Capture(ctx, "o", "", &CaptureRequest{CapturedAmount: 1}); return err },
		"refund":                    func() error { _, _, err := c.Refund(ctx, "o", "", &RefundRequest{RefundedAmount: 1}); return err },
		"cancel_order":              func() error { _, err := c.CancelOrder(ctx, "o", ""); return err },
		"release_authorization":     func() error { _, err := c.ReleaseRemainingAuthorization(ctx, "o", ""); return err },
		"extend_authorization":      func() error { _, err := c.ExtendAuthorizationTime(ctx, "o", ""); return err },
		"add_capture_shipping_info": func() error { _, err := c.AddCaptureShippingInfo(ctx, "o", "c", "", info); return err },
		"add_shipping_info":         func() error { _, err := c.AddShippingInfo(ctx, "o", "", info); return err },
		"create_token_order": func() error {
			_, _, err := c.CreateTokenOrder(ctx, "tok", "", &TokenOrderRequest{PurchaseCurrency: "GBP"})
			return err
		},
	} {
		if err := call(); !errors.Is(err, ErrNoIdempotencyKey) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s without a key: %v", name, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent without a key", hits.Load())
	}
}

func TestNewIdempotencyKey(t *testing.T) {
	t.Parallel()
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		k := NewIdempotencyKey()
		if !v4.MatchString(k) {
			t.Fatalf("%q is not a UUID v4", k)
		}
		if seen[k] {
			t.Fatalf("duplicate key %q", k)
		}
		seen[k] = true
	}
}

// keyRecorder is a handler that records the key of every attempt and fails
// the first ones as told.
type keyRecorder struct {
	mu   sync.Mutex
	keys []string
	fail func(attempt int, w http.ResponseWriter) bool
	ok   func(w http.ResponseWriter)
}

func (k *keyRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	k.mu.Lock()
	k.keys = append(k.keys, r.Header.Get("Klarna-Idempotency-Key"))
	n := len(k.keys)
	k.mu.Unlock()
	if k.fail(n, w) {
		return
	}
	k.ok(w)
}

// loseAnswer closes the connection without answering: the request arrived
// (and at Klarna would have run), but no answer comes back.
func loseAnswer(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

func TestKeyedWritesAreRetriedWithTheSameKey(t *testing.T) {
	t.Parallel()
	created := func(w http.ResponseWriter) { w.Header().Set("Capture-Id", "cap-1"); w.WriteHeader(201) }
	tokenOrder := func(w http.ResponseWriter) { reply(w, 200, fixture("ct_order")) }
	capture := func(c *Client) (string, error) {
		got, _, err := c.Capture(t.Context(), "o-1", testKey, &CaptureRequest{CapturedAmount: 100})
		if err != nil {
			return "", err
		}
		return got.CaptureID, nil
	}
	charge := func(c *Client) (string, error) {
		got, _, err := c.CreateTokenOrder(t.Context(), "ct-secret", testKey, &TokenOrderRequest{PurchaseCurrency: "GBP", OrderAmount: 100})
		if err != nil {
			return "", err
		}
		return got.OrderID, nil
	}
	for _, tt := range []struct {
		name string
		fail func(int, http.ResponseWriter) bool
		ok   func(http.ResponseWriter)
		call func(*Client) (string, error)
		want string
	}{
		{"capture after 503", func(n int, w http.ResponseWriter) bool {
			if n == 1 {
				reply(w, 503, `{"error_code":"TEMPORARILY_UNAVAILABLE"}`)
			}
			return n == 1
		}, created, capture, "cap-1"},
		{"capture after a lost answer", func(n int, w http.ResponseWriter) bool {
			if n == 1 {
				loseAnswer(w)
			}
			return n == 1
		}, created, capture, "cap-1"},
		{"capture after 429 then 500", func(n int, w http.ResponseWriter) bool {
			switch n {
			case 1:
				reply(w, 429, `{"error_code":"TOO_MANY_REQUESTS"}`)
			case 2:
				reply(w, 500, `{"error_code":"INTERNAL_SERVER_ERROR"}`)
			}
			return n <= 2
		}, created, capture, "cap-1"},
		{"token order after a lost answer", func(n int, w http.ResponseWriter) bool {
			if n == 1 {
				loseAnswer(w)
			}
			return n == 1
		}, tokenOrder, charge, "o-9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			rec := &keyRecorder{fail: tt.fail, ok: tt.ok}
			mux.Handle("/", rec)
			got, err := tt.call(c)
			if err != nil || got != tt.want {
				t.Fatalf("got %q, err %v", got, err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.keys) < 2 {
				t.Fatalf("attempts = %d, want a retry", len(rec.keys))
			}
			for i, k := range rec.keys {
				if k != testKey {
					t.Errorf("attempt %d sent key %q, want %q", i+1, k, testKey)
				}
			}
		})
	}
}

func TestForbiddenIsNotRetried(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		reply(w, 403, fixture("om_capture_not_allowed"))
	})
	_, resp, err := c.Capture(t.Context(), "o-1", testKey, &CaptureRequest{CapturedAmount: 99999})
	var ke *Error
	if !errors.As(err, &ke) || ke.StatusCode != 403 || !HasCode(err, CodeCaptureNotAllowed) || ke.CorrelationID != "c-403" {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 1 || resp.Attempts != 1 {
		t.Errorf("attempts = %d (response says %d), want 1", hits.Load(), resp.Attempts)
	}
}

func TestErrorCodeHelpers(t *testing.T) {
	t.Parallel()
	klarnaErr := func(status int, code string) error {
		return fmt.Errorf("renewing: %w", &Error{Operation: "create_token_order", StatusCode: status, ErrorCode: code})
	}
	noAnswer := &RequestError{Operation: "create_token_order", Err: io.ErrUnexpectedEOF}
	for _, tt := range []struct {
		err                   error
		code                  string
		soft, hard, temporary bool
	}{
		{klarnaErr(403, CodeCaptureNotAllowed), CodeCaptureNotAllowed, false, false, false},
		{klarnaErr(403, CodeRefundNotAllowed), CodeRefundNotAllowed, false, false, false},
		{klarnaErr(403, CodeCancelNotAllowed), CodeCancelNotAllowed, false, false, false},
		{klarnaErr(403, CodeNotAllowed), CodeNotAllowed, false, false, false},
		{klarnaErr(404, CodeNoSuchOrder), CodeNoSuchOrder, false, false, false},
		{klarnaErr(404, CodeNoSuchCapture), CodeNoSuchCapture, false, false, false},
		{klarnaErr(403, CodePaymentMethodFailed), CodePaymentMethodFailed, true, false, false},
		{klarnaErr(404, CodeTokenNotFound), CodeTokenNotFound, false, true, false},
		{klarnaErr(403, CodeTokenSuspended), CodeTokenSuspended, false, true, false},
		{klarnaErr(403, CodeTokenCancelled), CodeTokenCancelled, false, true, false},
		{klarnaErr(403, CodeTokenForbidden), CodeTokenForbidden, false, true, false},
		{klarnaErr(403, CodeUnavailablePaymentMethod), CodeUnavailablePaymentMethod, false, true, false},
		{klarnaErr(403, CodePaymentMethodCurrencyMismatch), CodePaymentMethodCurrencyMismatch, false, true, false},
		{klarnaErr(503, "SERVICE_UNAVAILABLE"), "SERVICE_UNAVAILABLE", false, false, true},
		{klarnaErr(429, CodeTooManyRequests), CodeTooManyRequests, false, false, true},
		{noAnswer, "", false, false, true},
	} {
		if tt.code != "" && !HasCode(tt.err, tt.code) {
			t.Errorf("HasCode(%v, %s) = false", tt.err, tt.code)
		}
		if HasCode(tt.err, "SOMETHING_ELSE") {
			t.Errorf("HasCode(%v) matched a different code", tt.err)
		}
		if got := IsSoftDecline(tt.err); got != tt.soft {
			t.Errorf("IsSoftDecline(%v) = %v", tt.err, got)
		}
		if got := IsHardDecline(tt.err); got != tt.hard {
			t.Errorf("IsHardDecline(%v) = %v", tt.err, got)
		}
		if got := IsTemporary(tt.err); got != tt.temporary {
			t.Errorf("IsTemporary(%v) = %v", tt.err, got)
		}
	}
	if HasCode(nil, "") || HasCode(errors.New("x"), "") {
		t.Error("HasCode matched an error that is not Klarna's")
	}
}

func TestOrderManagementRetriesOnReads(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			reply(w, 502, ``)
			return
		}
		reply(w, 200, "[]")
	})
	if _, resp, err := c.ListCaptures(context.Background(), "o-1"); err != nil || resp.Attempts != 2 {
		t.Fatalf("resp %+v err %v", resp, err)
	}
}
