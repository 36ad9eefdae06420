// Package klarna is a typed Go client for Klarna Payments v1, Order
// Management v1 and the Customer Token API v1.
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
// The six operations of Klarna's Python SDK, what they are called here, and
// the after-payment operations (Order Management, Customer Token). The last
// column says when a failed attempt is retried (see "Retries" below): "safe"
// on network errors, 429 and 5xx; "key" likewise, because the write carries
// the caller's Klarna-Idempotency-Key; "unsent" only when Klarna cannot have
// received the request.
//
//	Python SDK (klarnapayments.payment.)  Go (*klarna.Client)            HTTP                                                                    success  retry
//	create_session                        CreateSession                  POST   /payments/v1/sessions                                            200      unsent
//	get_session_details                   GetSession                     GET    /payments/v1/sessions/{id}                                       200      safe
//	update_session_details                UpdateSession                  POST   /payments/v1/sessions/{id}                                       204      safe
//	create_order                          CreateOrder                    POST   /payments/v1/authorizations/{token}/order                        200      unsent
//	cancel_authorization                  CancelAuthorization            DELETE /payments/v1/authorizations/{token}                              204      safe
//	generate_customer_token               GenerateCustomerToken          POST   /payments/v1/authorizations/{token}/customer-token               200      unsent
//	(Order Management)                    GetOrder, GetOrderStatus       GET    /ordermanagement/v1/orders/{id}                                  200      safe
//	                                      Capture                        POST   /ordermanagement/v1/orders/{id}/captures                         201      key
//	                                      ListCaptures                   GET    /ordermanagement/v1/orders/{id}/captures                         200      safe
//	                                      GetCapture                     GET    /ordermanagement/v1/orders/{id}/captures/{cid}                   200      safe
//	                                      AddCaptureShippingInfo         POST   /ordermanagement/v1/orders/{id}/captures/{cid}/shipping-info     204      key
//	                                      AddShippingInfo                POST   /ordermanagement/v1/orders/{id}/shipping-info                    204      key
//	                                      Refund                         POST   /ordermanagement/v1/orders/{id}/refunds                          201      key
//	                                      GetRefund                      GET    /ordermanagement/v1/orders/{id}/refunds/{rid}                    200      safe
//	                                      CancelOrder                    POST   /ordermanagement/v1/orders/{id}/cancel                           204      key
//	                                      ReleaseRemainingAuthorization  POST   /ordermanagement/v1/orders/{id}/release-remaining-authorization  204      key
//	                                      ExtendAuthorizationTime        POST   /ordermanagement/v1/orders/{id}/extend-authorization-time        204      key
//	(Customer Token)                      CreateTokenOrder               POST   /customer-token/v1/tokens/{token}/order                          200      key
//	                                      GetCustomerToken               GET    /customer-token/v1/tokens/{token}                                200      safe
//	                                      CancelCustomerToken            PATCH  /customer-token/v1/tokens/{token}/status                         202      safe
//
// Capture and Refund return the new id and URL from the 201's Capture-Id
// (Refund-Id) and Location headers.
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
//     GenerateCustomerToken with the same token. Charge each later period
//     with CreateTokenOrder.
//  5. After the order: Capture what ships (before ExpiresAt; not while the
//     fraud status is PENDING), Refund what comes back, CancelOrder what
//     never ships, ReleaseRemainingAuthorization what will not ship after a
//     partial capture. Each write takes an idempotency key stored first.
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
// cover the cases a merchant branches on; HasCode tests an error_code, such
// as CodeCaptureNotAllowed or CodeRefundNotAllowed. A call that got no
// answer at all (connection refused, timeout, cancelled context, a cut-off
// body) is a *RequestError naming the operation and host.
//
// A refused token charge (CreateTokenOrder) is one of three kinds:
//
//   - IsSoftDecline (PAYMENT_METHOD_FAILED): declined this time; charge
//     again later, as a new attempt with a new idempotency key.
//   - IsHardDecline (TOKEN_NOT_FOUND, TOKEN_SUSPENDED, TOKEN_CANCELLED,
//     TOKEN_FORBIDDEN, UNAVAILABLE_PAYMENT_METHOD,
//     PAYMENT_METHOD_CURRENCY_MISMATCH): retrying cannot help; stop and ask
//     the customer to pay again.
//   - IsTemporary (429, 5xx, or no answer): the charge may or may not have
//     happened; retry with the same key, which Klarna runs at most once.
//
// # Retries and timeouts
//
// A call is retried, at most WithMaxRetries times (default 2), with capped
// exponential backoff and full jitter, honouring Retry-After, and never once
// its context has ended:
//
//   - Reads (GetSession, GetOrder, ListCaptures, GetCapture, GetRefund,
//     GetCustomerToken) and idempotent writes (UpdateSession,
//     CancelAuthorization, CancelCustomerToken): sending them twice leaves
//     Klarna as sending them once. They are retried on network errors, 429
//     and 5xx.
//   - Order Management writes and CreateTokenOrder carry a
//     Klarna-Idempotency-Key, which the caller must give (an empty key is an
//     error, ErrNoIdempotencyKey; nothing is sent). Klarna runs a request
//     once per key and answers a repeat within 24 hours with the first
//     answer, so they are retried like reads, with the same key. Make the key
//     with NewIdempotencyKey (or derive it, for a subscription period) and
//     store it before the call, so that a retry after a crash or a lost
//     answer reuses it.
//   - CreateSession, CreateOrder and GenerateCustomerToken create something,
//     and Klarna Payments v1 documents no idempotency key for them. They are
//     retried only when Klarna cannot have processed the request: the
//     connection was never established, or Klarna answered 429. After a
//     timeout or a 5xx the order may exist; the caller must find out (for
//     example by calling CreateOrder again with the same token, or reading
//     the session's status) instead of blindly retrying.
//
// No 4xx other than 429 is retried: a 403 such as CAPTURE_NOT_ALLOWED says
// the order's state forbids the operation, and sending it again cannot
// change that.
//
// Klarna's escalation policy for Order Management goes further than these
// in-call retries: after a 5xx on a read, or on a write sent with an
// idempotency key, retry after 5 seconds, then 5 minutes, then 5 hours, and
// escalate if all three fail; a write sent without a key must not be
// retried; a 3xx or 4xx must not be retried blindly but fixed (with Klarna's
// support if needed). The retries of minutes and hours belong to the
// caller's background job, which keeps the stored idempotency key (a key
// holds for 24 hours); the client only covers the first seconds.
//
// Each call is bounded by WithTimeout (default 30s, retries included) and
// each attempt by WithAttemptTimeout (default 10s).
//
// # Regions
//
// Klarna runs three regions, each with its own hosts and its own merchant
// accounts: Europe (api.klarna.com), North America (api-na.klarna.com, for
// US, CA and MX) and Oceania (api-oc.klarna.com, for AU and NZ); the
// playground has the same three with ".playground" in the host. Credentials
// work in their own region only; elsewhere Klarna answers 401. RegionOf says
// which region serves a purchase country. A merchant selling in several
// regions has one account in each: NewClients builds a client per account,
// and Clients.For picks the client for a purchase country, or returns a
// *RegionError (IsNoAccount) without sending anything when the merchant has
// no account there:
//
//	clients, err := klarna.NewClients([]klarna.Account{
//		{Region: klarna.RegionEU, Username: euUser, Password: euPass},
//		{Region: klarna.RegionNA, Username: naUser, Password: naPass},
//	}, klarna.WithEnvironment(klarna.Playground))
//	...
//	client, err := clients.For(order.PurchaseCountry) // "US": the North America client
//
// Calls about an existing session, order or customer token must use the
// client of the region that made it: keep the purchase country with it.
//
// # Privacy
//
// With WithLogger the client logs one line per call: operation, status,
// duration, attempts and correlation id. It never logs bodies, credentials,
// idempotency keys or URLs' paths, which contain authorization tokens and
// customer tokens; a *RequestError names the host only. Customer tokens are
// credentials: store them encrypted.
package klarna
