// Package klarna is a typed Go client for the Klarna Payments API v1.
//
// It depends only on the standard library, so it can be copied into any Go
// service. Create one Client and share it:
//
//	client, err := klarna.NewClient(
//		klarna.WithCredentials(os.Getenv("KLARNA_USERNAME"), os.Getenv("KLARNA_PASSWORD")),
//		klarna.WithEnvironment(klarna.Playground),
//		klarna.WithRegion(klarna.RegionEU),
//	)
//
// Against Klarna's own hosts NewClient refuses empty or placeholder
// credentials at once, rather than letting the first checkout fail with 401.
// WithBaseURL points the client elsewhere (a proxy, or the simulator in
// klarna/simulator).
//
// # Operations
//
// The six operations of Klarna's Python SDK, and what they are called here:
//
//	Python SDK (klarnapayments.payment.)  Go (*klarna.Client)       HTTP
//	create_session                        CreateSession             POST   /payments/v1/sessions                         200
//	get_session_details                   GetSession                GET    /payments/v1/sessions/{id}                    200
//	update_session_details                UpdateSession             POST   /payments/v1/sessions/{id}                    204
//	create_order                          CreateOrder               POST   /payments/v1/authorizations/{token}/order     200
//	cancel_authorization                  CancelAuthorization       DELETE /payments/v1/authorizations/{token}           204
//	generate_customer_token               GenerateCustomerToken     POST   /payments/v1/authorizations/{token}/customer-token 200
//	(Order Management read)               GetOrderStatus            GET    /ordermanagement/v1/orders/{id}               200
//
// Every method takes a context first and returns a *Response with the call's
// metadata (status, headers, round-trip time, attempts and Klarna's
// correlation id), success or not: it plays the part of the Python SDK's
// raw namespace and round_trip_time.
//
// # The flow
//
//  1. Price the cart on the server and call CreateSession with the amounts
//     and lines, but no personal data. Keep SessionID; give ClientToken to
//     the browser.
//  2. In the browser, Klarna.Payments.init, load and authorize. On approval
//     the browser receives an authorization token; Klarna also POSTs it to
//     MerchantURLs.Authorization.
//  3. Within 60 minutes, call CreateOrder with the token and the same cart.
//     Send the shopper to Order.RedirectURL. If the cart changed after the
//     authorization, call CancelAuthorization and have the shopper authorize
//     again.
//  4. For subscriptions (intent buy_and_tokenize), also call
//     GenerateCustomerToken with the same token.
//
// # Amounts
//
// All amounts are int64 minor units (1234 is 12.34 GBP). Klarna checks, per
// line, TotalAmount = Quantity*UnitPrice - TotalDiscountAmount and
// TotalTaxAmount = TotalAmount - TotalAmount*10000/(10000+TaxRate) within 1;
// OrderAmount must be the sum of the lines' TotalAmount and OrderTaxAmount
// the sum of their TotalTaxAmount. In the US, prices exclude tax and the tax
// is one line of type sales_tax. Fields where zero is a real value (TaxRate,
// TotalTaxAmount, AutoCapture) are pointers: use Int64 and Bool.
//
// # Errors
//
// Every non-2xx answer is an *Error (use errors.As) carrying the status,
// Klarna's error_code and error_messages, the correlation id and the raw
// body, even when the body is an HTML page from a proxy or empty. IsNotFound,
// IsBadValue, IsNotMatching, IsUnauthorized, IsRateLimited and IsTemporary
// cover the cases a merchant branches on. A call that got no answer at all
// (connection refused, timeout, cancelled context, a cut-off body) is a
// *RequestError naming the operation and host.
//
// # Retries and timeouts
//
// A call is retried, at most WithMaxRetries times (default 2), with capped
// exponential backoff and full jitter, honouring Retry-After, and never once
// its context has ended:
//
//   - GetSession, GetOrderStatus, UpdateSession and CancelAuthorization are
//     idempotent: sending them twice leaves Klarna as sending them once. They
//     are retried on network errors, 429 and 5xx.
//   - CreateSession, CreateOrder and GenerateCustomerToken create something,
//     and Klarna Payments v1 documents no idempotency key for them. They are
//     retried only when Klarna cannot have processed the request: the
//     connection was never established, or Klarna answered 429. After a
//     timeout or a 5xx the order may exist; the caller must find out (for
//     example by calling CreateOrder again with the same token, or reading
//     the session's status) instead of blindly retrying.
//
// Each call is bounded by WithTimeout (default 30s, retries included) and
// each attempt by WithAttemptTimeout (default 10s).
//
// # Privacy
//
// With WithLogger the client logs one line per call: operation, status,
// duration, attempts and correlation id. It never logs bodies, credentials or
// URLs' paths, which contain authorization tokens.
package klarna
