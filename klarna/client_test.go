package klarna

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// setup starts a test server and a client pointed at it. The client records
// its retry waits instead of sleeping.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, *[]time.Duration) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts = append([]Option{WithBaseURL(srv.URL), WithCredentials("PK_user", "s3cret")}, opts...)
	c, err := NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	waits := &[]time.Duration{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*waits = append(*waits, d)
		return ctx.Err()
	}
	return c, mux, waits
}

// expect asserts the parts of a request every operation must get right.
func expect(t *testing.T, r *http.Request, method, path, body string) {
	t.Helper()
	if r.Method != method {
		t.Errorf("method = %s, want %s", r.Method, method)
	}
	if r.URL.EscapedPath() != path {
		t.Errorf("path = %s, want %s", r.URL.EscapedPath(), path)
	}
	if u, p, ok := r.BasicAuth(); !ok || u != "PK_user" || p != "s3cret" {
		t.Errorf("basic auth = %q %q %v", u, p, ok)
	}
	if ua := r.UserAgent(); !strings.HasPrefix(ua, "Library/storefront-klarna-go_"+Version+" Language/go_") {
		t.Errorf("User-Agent = %q", ua)
	}
	got, _ := io.ReadAll(r.Body)
	if body == "" {
		if len(got) != 0 {
			t.Errorf("body = %s, want none", got)
		}
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if !jsonEqual(t, got, []byte(body)) {
		t.Errorf("body =\n%s\nwant\n%s", got, body)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Klarna-Correlation-Id", "corr-1")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func sampleSession() *SessionRequest {
	return &SessionRequest{
		PurchaseCountry: "GB", PurchaseCurrency: "GBP", Locale: "en-GB",
		OrderAmount: 2400, OrderTaxAmount: 400,
		OrderLines: []OrderLine{{
			Type: LinePhysical, Reference: "mug", Name: "Mug", Quantity: 2, UnitPrice: 1200,
			TaxRate: Int64(2000), TotalAmount: 2400, TotalTaxAmount: Int64(400),
		}},
		MerchantURLs: &MerchantURLs{Authorization: "https://shop.example/cb/auth?secret=x"},
	}
}

const sampleSessionJSON = `{"purchase_country":"GB","purchase_currency":"GBP","locale":"en-GB","order_amount":2400,"order_tax_amount":400,
 "order_lines":[{"type":"physical","reference":"mug","name":"Mug","quantity":2,"unit_price":1200,"tax_rate":2000,"total_amount":2400,"total_tax_amount":400}],
 "merchant_urls":{"authorization":"https://shop.example/cb/auth?secret=x"}}`

func TestCreateSession(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/payments/v1/sessions", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/payments/v1/sessions", sampleSessionJSON)
		reply(w, 200, fixture("merchant_session"))
	})
	s, resp, err := c.CreateSession(t.Context(), sampleSession())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.SessionID, "sid-1"; got != want {
		t.Errorf("SessionID = %q, want %q", got, want)
	}
	if got, want := s.PaymentMethodCategories[0].AssetURLs.Standard, "https://x/s.svg"; got != want {
		t.Errorf("asset = %q, want %q", got, want)
	}
	if resp.StatusCode != 200 || resp.CorrelationID != "corr-1" || resp.Attempts != 1 || resp.Duration <= 0 || resp.Operation != "create_session" {
		t.Errorf("metadata = %+v", resp)
	}
}

func TestZeroValuesThatMatterAreSent(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/payments/v1/authorizations/tok/order", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/payments/v1/authorizations/tok/order", `{"auto_capture":false,"order_amount":0,"order_tax_amount":0,"purchase_country":"SE","purchase_currency":"SEK",
		 "order_lines":[{"name":"Free sample","quantity":0,"unit_price":0,"tax_rate":0,"total_amount":0,"total_tax_amount":0}]}`)
		reply(w, 200, fixture("order_minimal"))
	})
	_, _, err := c.CreateOrder(t.Context(), "tok", &OrderRequest{
		AutoCapture: Bool(false), PurchaseCountry: "SE", PurchaseCurrency: "SEK",
		OrderLines: []OrderLine{{Name: "Free sample", TaxRate: Int64(0), TotalTaxAmount: Int64(0)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGetSession(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/payments/v1/sessions/sid-1", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "GET", "/payments/v1/sessions/sid-1", "")
		reply(w, 200, fixture("session_read"))
	})
	s, _, err := c.GetSession(t.Context(), "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != SessionIncomplete || s.OrderAmount != 2400 || s.ExpiresAt == nil || s.ExpiresAt.Day() != 27 || s.Intent != IntentBuy {
		t.Errorf("session = %+v", s)
	}
}

// TestGetSessionAuthorization: the lean session read asks what GetSession
// asks and keeps the status and the authorization token.
func TestGetSessionAuthorization(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/payments/v1/sessions/sid-1", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "GET", "/payments/v1/sessions/sid-1", "")
		reply(w, 200, fixture("session_authorized"))
	})
	a, _, err := c.GetSessionAuthorization(t.Context(), "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != SessionIncomplete || a.AuthorizationToken != "tok-1" {
		t.Errorf("authorization = %+v", a)
	}
	if _, _, err := c.GetSessionAuthorization(t.Context(), ""); err == nil {
		t.Error("an empty session id was sent")
	}
}

func TestUpdateSession(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/payments/v1/sessions/sid-1", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/payments/v1/sessions/sid-1", `{"order_amount":1200,"order_tax_amount":0,"order_lines":[{"name":"Book","quantity":1,"unit_price":1200,"tax_rate":0,"total_amount":1200,"total_tax_amount":0}]}`)
		w.WriteHeader(http.StatusNoContent)
	})
	resp, err := c.UpdateSession(t.Context(), "sid-1", &SessionUpdate{
		OrderAmount: Int64(1200), OrderTaxAmount: Int64(0),
		OrderLines: []OrderLine{{Name: "Book", Quantity: 1, UnitPrice: 1200, TaxRate: Int64(0), TotalAmount: 1200, TotalTaxAmount: Int64(0)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 204 {
		t.Errorf("status = %d", resp.StatusCode)
	}
}

func TestCreateOrder(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/payments/v1/authorizations/{tok}/order", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/payments/v1/authorizations/a%2Fb/order", `{"purchase_country":"GB","purchase_currency":"GBP","locale":"en-GB","order_amount":2400,"order_tax_amount":400,"merchant_reference1":"R-1",
		 "order_lines":[{"type":"physical","reference":"mug","name":"Mug","quantity":2,"unit_price":1200,"tax_rate":2000,"total_amount":2400,"total_tax_amount":400}],
		 "merchant_urls":{"confirmation":"https://shop.example/c/{order.id}"}}`)
		reply(w, 200, fixture("order"))
	})
	s := sampleSession()
	o, _, err := c.CreateOrder(t.Context(), "a/b", &OrderRequest{
		PurchaseCountry: s.PurchaseCountry, PurchaseCurrency: s.PurchaseCurrency, Locale: s.Locale,
		OrderAmount: s.OrderAmount, OrderTaxAmount: s.OrderTaxAmount, OrderLines: s.OrderLines,
		MerchantReference1: "R-1", MerchantURLs: &MerchantURLs{Confirmation: "https://shop.example/c/{order.id}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.OrderID != "o-1" || o.FraudStatus != FraudAccepted || o.AuthorizedPaymentMethod.Type != MethodInvoice || o.AuthorizedPaymentMethod.NumberOfDays != 30 {
		t.Errorf("order = %+v", o)
	}
}

func TestCancelAuthorization(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/payments/v1/authorizations/tok-1", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "DELETE", "/payments/v1/authorizations/tok-1", "")
		w.WriteHeader(http.StatusNoContent)
	})
	resp, err := c.CancelAuthorization(t.Context(), "tok-1")
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("resp %+v err %v", resp, err)
	}
}

func TestGenerateCustomerToken(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/payments/v1/authorizations/tok-1/customer-token", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "POST", "/payments/v1/authorizations/tok-1/customer-token", `{"description":"Monthly coffee","intended_use":"SUBSCRIPTION","locale":"en-GB","purchase_country":"GB","purchase_currency":"GBP"}`)
		reply(w, 200, fixture("customer_token"))
	})
	tok, _, err := c.GenerateCustomerToken(t.Context(), "tok-1", &CustomerTokenRequest{
		Description: "Monthly coffee", IntendedUse: IntendedUseSubscription, Locale: "en-GB", PurchaseCountry: "GB", PurchaseCurrency: "GBP",
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenID != "ct-1" || tok.Customer.Gender != "female" {
		t.Errorf("token = %+v", tok)
	}
}

func TestGetOrderStatus(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/ordermanagement/v1/orders/o-1", func(w http.ResponseWriter, r *http.Request) {
		expect(t, r, "GET", "/ordermanagement/v1/orders/o-1", "")
		reply(w, 200, fixture("om_order_pending"))
	})
	o, _, err := c.GetOrderStatus(t.Context(), "o-1")
	if err != nil || o.FraudStatus != FraudPending || o.Status != "AUTHORIZED" || o.OrderAmount != 100 || o.PurchaseCurrency != "GBP" {
		t.Fatalf("order %+v err %v", o, err)
	}
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		ctype       string
		body        string
		header      map[string]string
		wantCode    string
		wantMsg     string
		wantCorr    string
		check       func(error) bool
		wantAttempt int
	}{
		{name: "400 bad value", status: 400, body: fixture("error_bad_value"),
			wantCode: "BAD_VALUE", wantMsg: "Bad value: order_tax_amount", wantCorr: "c-400", check: IsBadValue, wantAttempt: 1},
		{name: "401", status: 401, body: fixture("error_401"),
			wantCode: "UNAUTHORIZED", wantCorr: "c-401", check: IsUnauthorized, wantAttempt: 1},
		{name: "403", status: 403, body: fixture("error_403"),
			wantCode: "INVALID_OPERATION", check: IsUnauthorized, wantAttempt: 1},
		{name: "404", status: 404, body: fixture("error_404"),
			wantCode: "NOT_FOUND", wantMsg: "Invalid session id", check: IsNotFound, wantAttempt: 1},
		{name: "409 not matching", status: 409, body: fixture("error_409"),
			wantCode: "BAD_VALUE", wantMsg: "Not matching fields", check: IsNotMatching, wantAttempt: 1},
		{name: "429 with Retry-After", status: 429, header: map[string]string{"Retry-After": "2"}, body: fixture("error_429"),
			wantCode: "RATE_LIMITED", check: IsRateLimited, wantAttempt: 3},
		{name: "500", status: 500, body: fixture("error_500"),
			wantCode: "INTERNAL_SERVER_ERROR", check: IsTemporary, wantAttempt: 3},
		{name: "503 html from a proxy", status: 503, ctype: "text/html", body: `<html><body><h1>503 Service Unavailable</h1></body></html>`,
			wantMsg: "Service Unavailable", wantCorr: "hdr-corr", check: IsTemporary, wantAttempt: 3},
		{name: "empty body", status: 502, body: ``, wantMsg: "empty body", check: IsTemporary, wantAttempt: 3},
		{name: "truncated JSON", status: 400, body: `{"correlation_id":"c-t","error_code":"BAD_VA`, wantMsg: "unexpected", check: IsBadValue, wantAttempt: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, waits := setup(t)
			var hits atomic.Int32
			mux.HandleFunc("/payments/v1/sessions/s", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Klarna-Correlation-Id", "hdr-corr")
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, resp, err := c.GetSession(t.Context(), "s")
			var kerr *Error
			if !errors.As(err, &kerr) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if kerr.StatusCode != tt.status || kerr.ErrorCode != tt.wantCode {
				t.Errorf("status %d code %q, want %d %q", kerr.StatusCode, kerr.ErrorCode, tt.status, tt.wantCode)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q lacks %q", err.Error(), tt.wantMsg)
			}
			if tt.wantCorr != "" && kerr.CorrelationID != tt.wantCorr {
				t.Errorf("correlation id %q, want %q", kerr.CorrelationID, tt.wantCorr)
			}
			if string(kerr.Body) != tt.body {
				t.Errorf("raw body %q", kerr.Body)
			}
			if !tt.check(err) {
				t.Errorf("helper did not recognise %v", err)
			}
			if got := int(hits.Load()); got != tt.wantAttempt || resp.Attempts != tt.wantAttempt {
				t.Errorf("attempts: server saw %d, response says %d, want %d", got, resp.Attempts, tt.wantAttempt)
			}
			if tt.status == 429 {
				for _, w := range *waits {
					if w != 2*time.Second {
						t.Errorf("waited %v, want Retry-After 2s", w)
					}
				}
			}
			if kerr.Duration() <= 0 {
				t.Error("no round-trip time on the error")
			}
		})
	}
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		call   func(*Client) error
		want   int32
	}{
		{"read retried on 503", 503, func(c *Client) error { _, _, err := c.GetSession(context.Background(), "x"); return err }, 3},
		{"cancel retried on 500", 500, func(c *Client) error { _, err := c.CancelAuthorization(context.Background(), "x"); return err }, 3},
		{"update retried on 502", 502, func(c *Client) error {
			_, err := c.UpdateSession(context.Background(), "x", &SessionUpdate{Locale: "en-GB"})
			return err
		}, 3},
		{"create order not retried on 500", 500, func(c *Client) error {
			_, _, err := c.CreateOrder(context.Background(), "x", &OrderRequest{})
			return err
		}, 1},
		{"create session not retried on 503", 503, func(c *Client) error {
			_, _, err := c.CreateSession(context.Background(), &SessionRequest{})
			return err
		}, 1},
		{"customer token not retried on 500", 500, func(c *Client) error {
			_, _, err := c.GenerateCustomerToken(context.Background(), "x", &CustomerTokenRequest{})
			return err
		}, 1},
		{"create order retried on 429", 429, func(c *Client) error {
			_, _, err := c.CreateOrder(context.Background(), "x", &OrderRequest{})
			return err
		}, 3},
		{"no retry on 400", 400, func(c *Client) error { _, _, err := c.GetSession(context.Background(), "x"); return err }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, waits := setup(t)
			var hits atomic.Int32
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				reply(w, tt.status, fixture("error_x"))
			})
			if err := tt.call(c); err == nil {
				t.Fatal("want an error")
			}
			if got := hits.Load(); got != tt.want {
				t.Errorf("attempts = %d, want %d", got, tt.want)
			}
			if len(*waits) != int(tt.want)-1 {
				t.Errorf("waits = %v", *waits)
			}
			for _, w := range *waits {
				if w <= 0 || w > maxBackoff {
					t.Errorf("wait %v outside (0, %v]", w, maxBackoff)
				}
			}
		})
	}
}

func TestRetrySucceedsAfterTransientFailure(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/payments/v1/sessions/s", func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			reply(w, 503, `{}`)
			return
		}
		reply(w, 200, fixture("session_complete"))
	})
	s, resp, err := c.GetSession(t.Context(), "s")
	if err != nil || s.Status != SessionComplete || resp.Attempts != 2 {
		t.Fatalf("s=%+v resp=%+v err=%v", s, resp, err)
	}
}

func TestWriteRetriedWhenConnectionRefused(t *testing.T) {
	t.Parallel()
	// A port with nothing listening: the request is never sent, so even a
	// create-order may be retried.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(WithBaseURL("http://" + addr))
	if err != nil {
		t.Fatal(err)
	}
	var waits int
	c.sleep = func(context.Context, time.Duration) error { waits++; return nil }
	_, resp, err := c.CreateOrder(t.Context(), "tok", &OrderRequest{})
	var rerr *RequestError
	if !errors.As(err, &rerr) || rerr.Operation != "create_order" || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "tok") {
		t.Errorf("error leaks the authorization token: %v", err)
	}
	if resp != nil || waits != DefaultMaxRetries {
		t.Errorf("resp %v, waits %d", resp, waits)
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithAttemptTimeout(50*time.Millisecond), WithTimeout(2*time.Second))
	// Registered after setup so it runs before the server's Close.
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var hits atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		// Read the body so the server notices when the client hangs up.
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Run("slow read retried then fails", func(t *testing.T) {
		_, _, err := c.GetSession(t.Context(), "s")
		var rerr *RequestError
		if !errors.As(err, &rerr) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if hits.Load() != 3 {
			t.Errorf("attempts = %d, want 3", hits.Load())
		}
	})
	t.Run("slow create order not retried", func(t *testing.T) {
		hits.Store(0)
		_, _, err := c.CreateOrder(t.Context(), "tok", &OrderRequest{})
		if !errors.Is(err, context.DeadlineExceeded) || hits.Load() != 1 {
			t.Fatalf("err = %v, attempts %d", err, hits.Load())
		}
	})
	t.Run("cancelled context stops at once", func(t *testing.T) {
		hits.Store(0)
		ctx, cancel := context.WithCancel(t.Context())
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		_, _, err := c.GetSession(ctx, "s")
		if !errors.Is(err, context.Canceled) || hits.Load() != 1 {
			t.Fatalf("err = %v, attempts %d", err, hits.Load())
		}
	})
}

func TestAnswerCutOffIsARequestError(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, `{"order_id":"o-`)
	})
	_, resp, err := c.CreateOrder(t.Context(), "tok", &OrderRequest{})
	var rerr *RequestError
	if !errors.As(err, &rerr) || resp == nil || resp.StatusCode != 200 {
		t.Fatalf("err = %v resp = %+v", err, resp)
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []Option
		wantURL string
		wantErr string
	}{
		{"playground eu default", []Option{WithCredentials("PK123_abc", "klarna_test_api_Zm9v")}, "https://api.playground.klarna.com/", ""},
		{"production na", []Option{WithCredentials("PK1", "pw-real"), WithEnvironment(Production), WithRegion(RegionNA)}, "https://api-na.klarna.com/", ""},
		{"playground oc", []Option{WithCredentials("PK1", "pw-real"), WithRegion(RegionOC)}, "https://api-oc.playground.klarna.com/", ""},
		{"override without credentials", []Option{WithBaseURL("http://127.0.0.1:9/sim")}, "http://127.0.0.1:9/sim/", ""},
		{"empty credentials on klarna", nil, "", "username is empty"},
		{"placeholder password", []Option{WithCredentials("PK1", "your_password_here")}, "", "password looks like a placeholder"},
		{"placeholder via override to klarna", []Option{WithBaseURL("https://api.klarna.com"), WithCredentials("changeme", "x1")}, "", "username looks like a placeholder"},
		{"bad region", []Option{WithRegion("xx")}, "", "unknown region"},
		{"bad env", []Option{WithEnvironment("staging")}, "", "unknown environment"},
		{"relative base URL", []Option{WithBaseURL("/api")}, "", "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.BaseURL(); got != tt.wantURL {
				t.Errorf("BaseURL = %q, want %q", got, tt.wantURL)
			}
		})
	}
}

func TestUserAgentSuffix(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithUserAgent("MyShop/2.1"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.UserAgent(), " MyShop/2.1") {
			t.Errorf("UA = %q", r.UserAgent())
		}
		w.WriteHeader(204)
	})
	if _, err := c.CancelAuthorization(t.Context(), "t"); err != nil {
		t.Fatal(err)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "junk": 0, "-1": 0} {
		if got := retryAfter(in); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
	date := time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)
	if got := retryAfter(date); got < 3*time.Second || got > 6*time.Second {
		t.Errorf("retryAfter(date) = %v", got)
	}
	for i := 1; i < 10; i++ {
		if b := backoff(i); b <= 0 || b > maxBackoff {
			t.Errorf("backoff(%d) = %v", i, b)
		}
	}
}

func TestErrorMessageNamesEverything(t *testing.T) {
	t.Parallel()
	e := &Error{Operation: "create_order", StatusCode: 409, ErrorCode: "BAD_VALUE", ErrorMessages: []string{"Not matching fields: [order_amount]"}, CorrelationID: "c-9"}
	want := "klarna: create_order: 409 BAD_VALUE: Not matching fields: [order_amount] (correlation id c-9)"
	if got := e.Error(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	wrapped := fmt.Errorf("placing order: %w", e)
	if !IsNotMatching(wrapped) || IsNotFound(wrapped) {
		t.Error("helpers must see through wrapping")
	}
}
