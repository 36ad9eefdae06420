package klarna_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"storefront/klarna"
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
