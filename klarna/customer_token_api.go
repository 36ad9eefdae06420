package klarna

import (
	"context"
	"errors"
	"net/http"
)

// Customer Token API v1: charging, reading and cancelling the customer
// tokens that GenerateCustomerToken creates. A customer token is a
// credential: the client never puts it in an error or a log line (paths are
// redacted as for authorization tokens).

// CustomerTokenStatus is the state of a customer token.
type CustomerTokenStatus string

// Customer token states. A token is ACTIVE when created; Klarna may suspend
// it; a cancelled token never comes back.
const (
	TokenActive    CustomerTokenStatus = "ACTIVE"
	TokenSuspended CustomerTokenStatus = "SUSPENDED"
	TokenCancelled CustomerTokenStatus = "CANCELLED"
)

// TokenCard describes the card behind a token.
type TokenCard struct {
	Brand        string `json:"brand"`
	ExpiryDate   string `json:"expiry_date"` // MM/YYYY
	MaskedNumber string `json:"masked_number"`
}

// TokenDirectDebit describes the bank account behind a token.
type TokenDirectDebit struct {
	MaskedNumber string `json:"masked_number"`
}

// CustomerTokenDetails is a customer token as Klarna reports it. What is
// filled in depends on the payment method.
type CustomerTokenDetails struct {
	Status            CustomerTokenStatus `json:"status"`
	PaymentMethodType string              `json:"payment_method_type"`
	Card              *TokenCard          `json:"card,omitempty"`
	DirectDebit       *TokenDirectDebit   `json:"direct_debit,omitempty"`
}

// TokenOrderURLs are the merchant URLs of a token order. Confirmation is
// required whenever MerchantURLs is sent.
type TokenOrderURLs struct {
	Confirmation string `json:"confirmation"`
	Push         string `json:"push,omitempty"`
}

// TokenOrderRequest charges a customer token. Amounts and lines follow the
// same rules as a session's; for a subscription renewal every line carries
// the Subscription it renews (as at sign-up).
type TokenOrderRequest struct {
	PurchaseCurrency   string          `json:"purchase_currency"`
	OrderAmount        int64           `json:"order_amount"`
	OrderTaxAmount     int64           `json:"order_tax_amount"`
	OrderLines         []OrderLine     `json:"order_lines"`
	AutoCapture        *bool           `json:"auto_capture,omitempty"`
	MerchantReference1 string          `json:"merchant_reference1,omitempty"`
	MerchantReference2 string          `json:"merchant_reference2,omitempty"`
	MerchantData       string          `json:"merchant_data,omitempty"`
	MerchantURLs       *TokenOrderURLs `json:"merchant_urls,omitempty"`
	ShippingAddress    *Address        `json:"shipping_address,omitempty"`
	Attachment         *Attachment     `json:"attachment,omitempty"`
}

func tokenPath(customerToken string, rest ...string) string {
	p := "customer-token/v1/tokens/" + pathEscape(customerToken)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// CreateTokenOrder charges a customer token (POST
// /customer-token/v1/tokens/{token}/order; Klarna answers 200 with the new
// order, which Order Management then handles like any other).
//
// The idempotency key is required: derive it from what is being charged
// (the subscription and its period) and store it before the call, so that no
// retry, however late, can charge a period twice. With the key the call is
// retried on network errors, 429 and 5xx. A refusal is an *Error: see
// IsSoftDecline and IsHardDecline. Klarna answers a key with its first
// answer for 24 hours, so charging again after a soft decline needs a new
// key (for example subscription, period and attempt number); take the next
// attempt number only after such a definite refusal, never after a
// temporary failure (IsTemporary), whose charge may have happened.
func (c *Client) CreateTokenOrder(ctx context.Context, customerToken, idempotencyKey string, req *TokenOrderRequest) (*Order, *Response, error) {
	if customerToken == "" || req == nil {
		return nil, nil, errors.New("klarna: create token order: empty customer token or nil request")
	}
	if err := checkKey("create_token_order", idempotencyKey); err != nil {
		return nil, nil, err
	}
	out := new(Order)
	resp, err := c.do(ctx, call{op: "create_token_order", method: http.MethodPost, path: tokenPath(customerToken, "order"),
		body: req, out: out, key: idempotencyKey})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// GetCustomerToken reads a customer token (GET
// /customer-token/v1/tokens/{token}): its status and payment method.
func (c *Client) GetCustomerToken(ctx context.Context, customerToken string) (*CustomerTokenDetails, *Response, error) {
	if customerToken == "" {
		return nil, nil, errors.New("klarna: get customer token: empty customer token")
	}
	out := new(CustomerTokenDetails)
	resp, err := c.do(ctx, call{op: "get_customer_token", method: http.MethodGet, path: tokenPath(customerToken), out: out})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// tokenStatusUpdate is the body of the status PATCH; CANCELLED is the only
// value Klarna accepts.
type tokenStatusUpdate struct {
	Status CustomerTokenStatus `json:"status"`
}

// CancelCustomerToken cancels a customer token for good (PATCH
// /customer-token/v1/tokens/{token}/status; Klarna answers 202 Accepted and
// cancels asynchronously). Cancelling twice is cancelling once, so it is
// retried.
func (c *Client) CancelCustomerToken(ctx context.Context, customerToken string) (*Response, error) {
	if customerToken == "" {
		return nil, errors.New("klarna: cancel customer token: empty customer token")
	}
	return c.do(ctx, call{op: "cancel_customer_token", method: http.MethodPatch, path: tokenPath(customerToken, "status"),
		body: tokenStatusUpdate{Status: TokenCancelled}})
}
