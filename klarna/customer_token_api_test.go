package klarna

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func renewalRequest() *TokenOrderRequest {
	sub := &Subscription{Name: "Coffee club", Interval: IntervalMonth, IntervalCount: 1}
	return &TokenOrderRequest{
		PurchaseCurrency: "GBP", OrderAmount: 1500, OrderTaxAmount: 0, AutoCapture: Bool(false),
		OrderLines: []OrderLine{{Type: LinePhysical, Reference: "beans-1kg", Name: "Beans 1 kg", Quantity: 1, UnitPrice: 1500,
			TaxRate: Int64(0), TotalAmount: 1500, TotalTaxAmount: Int64(0), Subscription: sub}},
		MerchantReference1: "SUB-7-2026-12", MerchantReference2: "sub-7",
		MerchantURLs:    &TokenOrderURLs{Confirmation: "https://shop.example/subscriptions/7", Push: "https://shop.example/push/{order.id}"},
		ShippingAddress: &Address{GivenName: "Ada", FamilyName: "Lovelace", StreetAddress: "1 Road", PostalCode: "W1 1AA", City: "London", Country: "GB"},
	}
}

const renewalJSON = `{"purchase_currency":"GBP","order_amount":1500,"order_tax_amount":0,"auto_capture":false,
 "order_lines":[{"type":"physical","reference":"beans-1kg","name":"Beans 1 kg","quantity":1,"unit_price":1500,"tax_rate":0,"total_amount":1500,"total_tax_amount":0,
   "subscription":{"name":"Coffee club","interval":"MONTH","interval_count":1}}],
 "merchant_reference1":"SUB-7-2026-12","merchant_reference2":"sub-7",
 "merchant_urls":{"confirmation":"https://shop.example/subscriptions/7","push":"https://shop.example/push/{order.id}"},
 "shipping_address":{"given_name":"Ada","family_name":"Lovelace","street_address":"1 Road","postal_code":"W1 1AA","city":"London","country":"GB"}}`

func TestCreateTokenOrder(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/customer-token/v1/tokens/{token}/order", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/customer-token/v1/tokens/ct-1/order", renewalJSON)
		expectKey(t, r, "sub-7-2026-12")
		reply(w, 200, fixture("ct_order"))
	})
	o, resp, err := c.CreateTokenOrder(t.Context(), "ct-1", "sub-7-2026-12", renewalRequest())
	if err != nil {
		t.Fatal(err)
	}
	if o.OrderID != "o-9" || o.FraudStatus != FraudAccepted || o.RedirectURL != "https://k/r/o-9" || o.AuthorizedPaymentMethod.Type != MethodCard || resp.Operation != "create_token_order" {
		t.Errorf("order = %+v, resp %+v", o, resp)
	}
}

func TestGetCustomerToken(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/customer-token/v1/tokens/{token}", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "GET", "/customer-token/v1/tokens/ct-1", "")
		reply(w, 200, fixture("ct_token"))
	})
	tok, _, err := c.GetCustomerToken(t.Context(), "ct-1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.Status != TokenActive || tok.PaymentMethodType != "CARD" || tok.Card == nil || tok.Card.MaskedNumber != "************1111" || tok.Card.ExpiryDate != "09/2029" || tok.DirectDebit != nil {
		t.Errorf("token = %+v", tok)
	}
}

func TestCancelCustomerToken(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/customer-token/v1/tokens/{token}/status", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "PATCH", "/customer-token/v1/tokens/ct-1/status", `{"status":"CANCELLED"}`)
		if hits.Add(1) == 1 {
			reply(w, 500, `{"error_code":"INTERNAL_SERVER_ERROR"}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	resp, err := c.CancelCustomerToken(t.Context(), "ct-1")
	if err != nil || resp.StatusCode != 202 || resp.Attempts != 2 {
		t.Fatalf("resp %+v err %v", resp, err)
	}
}

func TestTokenDeclinesAreTyped(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status     int
		code       string
		soft, hard bool
	}{
		{403, CodePaymentMethodFailed, true, false},
		{403, CodeUnavailablePaymentMethod, false, true},
		{403, CodeTokenCancelled, false, true},
		{403, CodeTokenSuspended, false, true},
		{404, CodeTokenNotFound, false, true},
	} {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var hits atomic.Int32
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				reply(w, tt.status, `{"correlation_id":"c-d","error_code":"`+tt.code+`","error_messages":["declined"]}`)
			})
			_, _, err := c.CreateTokenOrder(t.Context(), "ct-1", "k", renewalRequest())
			var ke *Error
			if !errors.As(err, &ke) || ke.ErrorCode != tt.code || IsSoftDecline(err) != tt.soft || IsHardDecline(err) != tt.hard || IsTemporary(err) {
				t.Fatalf("err = %v", err)
			}
			if hits.Load() != 1 {
				t.Errorf("a decline was retried: %d attempts", hits.Load())
			}
		})
	}
}

// TestCustomerTokensAreNeverShown: a customer token is a credential. It must
// not appear in errors or log lines, however the call fails.
func TestCustomerTokensAreNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "ct-9f8e7d6c-SECRET"
	const key = "idem-SECRET-KEY"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// An answer from Klarna (404), and no answer at all (connection refused).
	c, mux, _ := setup(t, WithLogger(logger))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 404, `{"correlation_id":"c-404","error_code":"TOKEN_NOT_FOUND","error_messages":["Invalid customer-token ID"]}`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	refused, err := NewClient(WithBaseURL(dead), WithLogger(logger), WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, cl := range []*Client{c, refused} {
		_, _, err := cl.CreateTokenOrder(t.Context(), secret, key, renewalRequest())
		errs = append(errs, err)
		_, _, err = cl.GetCustomerToken(t.Context(), secret)
		errs = append(errs, err)
		_, err = cl.CancelCustomerToken(t.Context(), secret)
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("want an error")
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error shows the token or key: %v", err)
		}
	}
	var re *RequestError
	if !errors.As(errs[3], &re) || !strings.Contains(re.URL, ln.Addr().String()) || strings.Contains(re.URL, "tokens") {
		t.Errorf("request error URL = %q", re.URL)
	}
	if !strings.Contains(logs.String(), "create_token_order") {
		t.Fatalf("no log lines: %s", logs.String())
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("log shows the token or key:\n%s", logs.String())
	}
}
