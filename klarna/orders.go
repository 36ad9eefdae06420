package klarna

import (
	"context"
	"errors"
	"net/http"
)

// CreateOrder places an order with the authorization token the widget
// returned (POST /payments/v1/authorizations/{token}/order). The token is
// valid for 60 minutes and the order must match what was authorized;
// otherwise Klarna answers 404 (IsNotFound) or 409 (IsNotMatching).
//
// It is not retried after the request may have reached Klarna. When it fails
// without an answer the order may exist all the same: resolve that before
// telling the shopper it failed (see the package documentation).
func (c *Client) CreateOrder(ctx context.Context, authorizationToken string, req *OrderRequest) (*Order, *Response, error) {
	if authorizationToken == "" || req == nil {
		return nil, nil, errors.New("klarna: create order: empty authorization token or nil request")
	}
	out := new(Order)
	resp, err := c.do(ctx, call{op: "create_order", method: http.MethodPost,
		path: "payments/v1/authorizations/" + pathEscape(authorizationToken) + "/order", body: req, out: out, policy: retryUnprocessed})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// CancelAuthorization releases an authorization that will not become an
// order (DELETE /payments/v1/authorizations/{token}; Klarna answers 204).
// Cancelling twice has the same effect as once, so it is retried.
func (c *Client) CancelAuthorization(ctx context.Context, authorizationToken string) (*Response, error) {
	if authorizationToken == "" {
		return nil, errors.New("klarna: cancel authorization: empty authorization token")
	}
	return c.do(ctx, call{op: "cancel_authorization", method: http.MethodDelete,
		path: "payments/v1/authorizations/" + pathEscape(authorizationToken)})
}
