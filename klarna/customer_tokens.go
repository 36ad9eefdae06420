package klarna

import (
	"context"
	"errors"
	"net/http"
)

// GenerateCustomerToken turns an authorization from a session with intent
// tokenize or buy_and_tokenize into a customer token for later charges
// (POST /payments/v1/authorizations/{token}/customer-token). The returned
// TokenID is a credential: store it encrypted and never log it.
//
// Like CreateOrder it is not retried once the request may have reached Klarna.
func (c *Client) GenerateCustomerToken(ctx context.Context, authorizationToken string, req *CustomerTokenRequest) (*CustomerToken, *Response, error) {
	if authorizationToken == "" || req == nil {
		return nil, nil, errors.New("klarna: generate customer token: empty authorization token or nil request")
	}
	out := new(CustomerToken)
	resp, err := c.do(ctx, call{op: "generate_customer_token", method: http.MethodPost,
		path: "payments/v1/authorizations/" + pathEscape(authorizationToken) + "/customer-token", body: req, out: out, policy: retryUnprocessed})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}
