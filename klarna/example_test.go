package klarna_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/fikaandform/storefront/klarna"
)

// fakeKlarna stands in for Klarna so the examples run offline.
func fakeKlarna() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Klarna-Correlation-Id", "corr-42")
		switch {
		case r.URL.Path == "/payments/v1/sessions":
			io.WriteString(w, `{"session_id":"0b1d9815","client_token":"eyJhbGciOiJSUzI1NiJ9.e30.sig"}`)
		case r.URL.Path == "/payments/v1/authorizations/expired-token/order":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"correlation_id":"corr-404","error_code":"NOT_FOUND","error_messages":["Invalid authorization token"]}`)
		default:
			io.WriteString(w, `{"order_id":"f3392f8b","fraud_status":"ACCEPTED","redirect_url":"https://example.com/redirect"}`)
		}
	}))
}

func Example() {
	srv := fakeKlarna()
	defer srv.Close()

	// With real credentials: WithCredentials(user, pass) and WithEnvironment
	// instead of WithBaseURL.
	client, err := klarna.NewClient(klarna.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// 1. The server prices the cart and opens a session, without personal data.
	lines := []klarna.OrderLine{{
		Type: klarna.LinePhysical, Reference: "MUG-1", Name: "Stoneware mug",
		Quantity: 2, UnitPrice: 1200, TaxRate: klarna.Int64(2000),
		TotalAmount: 2400, TotalTaxAmount: klarna.Int64(400),
	}}
	session, resp, err := client.CreateSession(ctx, &klarna.SessionRequest{
		PurchaseCountry: "GB", PurchaseCurrency: "GBP", Locale: "en-GB",
		OrderAmount: 2400, OrderTaxAmount: 400, OrderLines: lines,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("session", session.SessionID, "correlation id", resp.CorrelationID)

	// 2. The browser authorizes with session.ClientToken and sends back a token.
	authorizationToken := "token-from-the-widget"

	// 3. Place the order with the same cart.
	order, _, err := client.CreateOrder(ctx, authorizationToken, &klarna.OrderRequest{
		PurchaseCountry: "GB", PurchaseCurrency: "GBP", Locale: "en-GB",
		OrderAmount: 2400, OrderTaxAmount: 400, OrderLines: lines,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("order", order.OrderID, order.FraudStatus)
	// Output:
	// session 0b1d9815 correlation id corr-42
	// order f3392f8b ACCEPTED
}

func ExampleError() {
	srv := fakeKlarna()
	defer srv.Close()
	client, _ := klarna.NewClient(klarna.WithBaseURL(srv.URL))

	_, _, err := client.CreateOrder(context.Background(), "expired-token", &klarna.OrderRequest{})
	var kerr *klarna.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.StatusCode, kerr.ErrorCode, kerr.CorrelationID)
	}
	if klarna.IsNotFound(err) {
		fmt.Println("authorization expired: ask the shopper to authorize again")
	}
	// Output:
	// 404 NOT_FOUND corr-404
	// authorization expired: ask the shopper to authorize again
}

func ExampleNewClient() {
	_, err := klarna.NewClient(
		klarna.WithCredentials("PK12345_abcdef", "your_password_here"),
		klarna.WithEnvironment(klarna.Playground),
		klarna.WithRegion(klarna.RegionEU),
	)
	fmt.Println(err)
	// Output:
	// klarna: credentials for Klarna's API: password looks like a placeholder
}

// fakeOrderManagement stands in for Klarna's Order Management and Customer
// Token APIs: it captures, and declines token charges softly.
func fakeOrderManagement() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Klarna-Correlation-Id", "corr-7")
		switch {
		case r.Header.Get("Klarna-Idempotency-Key") == "":
			w.WriteHeader(http.StatusBadRequest)
		case r.URL.Path == "/ordermanagement/v1/orders/f3392f8b/captures":
			w.Header().Set("Capture-Id", "4ba29b50")
			w.Header().Set("Location", "https://api.klarna.com/ordermanagement/v1/orders/f3392f8b/captures/4ba29b50")
			w.WriteHeader(http.StatusCreated)
		default:
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"correlation_id":"corr-8","error_code":"PAYMENT_METHOD_FAILED","error_messages":["Purchase declined"]}`)
		}
	}))
}

func ExampleClient_Capture() {
	srv := fakeOrderManagement()
	defer srv.Close()
	client, err := klarna.NewClient(klarna.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	// Make the key when the parcel is handed over, and store it with the
	// shipment before calling Klarna: a retry, even after a crash, sends the
	// same key, and Klarna captures once.
	key := klarna.NewIdempotencyKey()
	created, _, err := client.Capture(context.Background(), "f3392f8b", key, &klarna.CaptureRequest{
		CapturedAmount: 2400,
		ShippingInfo:   []klarna.ShippingInfo{{ShippingCompany: "Royal Mail", TrackingNumber: "RM123"}},
	})
	switch {
	case klarna.HasCode(err, klarna.CodeCaptureNotAllowed):
		fmt.Println("Klarna refuses: cancelled, expired, pending review or more than authorized")
	case err != nil:
		fmt.Println("try again later with the same key:", err)
	default:
		fmt.Println("captured", created.CaptureID)
	}
	// Output:
	// captured 4ba29b50
}

func ExampleClient_CreateTokenOrder() {
	srv := fakeOrderManagement()
	defer srv.Close()
	client, err := klarna.NewClient(klarna.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	// The key names the subscription period, so no retry can charge it twice.
	_, _, err = client.CreateTokenOrder(context.Background(), "customer-token-from-the-vault", "sub-7/2026-12", &klarna.TokenOrderRequest{
		PurchaseCurrency: "GBP", OrderAmount: 1500, OrderTaxAmount: 250,
		OrderLines: []klarna.OrderLine{{Name: "Beans 1 kg", Quantity: 1, UnitPrice: 1500, TaxRate: klarna.Int64(2000), TotalAmount: 1500,
			TotalTaxAmount: klarna.Int64(250), Subscription: &klarna.Subscription{Name: "Coffee club", Interval: klarna.IntervalMonth, IntervalCount: 1}}},
	})
	switch {
	case err == nil:
		fmt.Println("renewed")
	case klarna.IsSoftDecline(err):
		fmt.Println("declined this time: charge again later, with a new key for the new attempt")
	case klarna.IsHardDecline(err):
		fmt.Println("the token cannot pay: ask the customer")
	case klarna.IsTemporary(err):
		fmt.Println("no answer: retry with the same key")
	}
	// Output:
	// declined this time: charge again later, with a new key for the new attempt
}
