package klarna

import (
	"context"
	"errors"
	"net/http"
)

// Order Management v1: what happens to an order after it is placed. Every
// write takes an idempotency key chosen by the caller (see
// NewIdempotencyKey): Klarna runs a request once per key, so these writes are
// retried like reads, sending the same key again.

func omPath(orderID string, rest ...string) string {
	p := "ordermanagement/v1/orders/" + pathEscape(orderID)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// GetOrder reads an order (GET /ordermanagement/v1/orders/{id}): its status,
// amounts, lines, captures and refunds. Reads are retried.
func (c *Client) GetOrder(ctx context.Context, orderID string) (*ManagedOrder, *Response, error) {
	if orderID == "" {
		return nil, nil, errors.New("klarna: get order: empty order id")
	}
	out := new(ManagedOrder)
	resp, err := c.do(ctx, call{op: "get_order", method: http.MethodGet, path: omPath(orderID), out: out})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// GetOrderStatus reads an order's fraud decision through Order Management.
// Use it when a fraud notification arrives: act on what Klarna says now, not
// on the notification's body. It is GetOrder, reduced to the fields a
// notification handler needs.
func (c *Client) GetOrderStatus(ctx context.Context, orderID string) (*OrderStatus, *Response, error) {
	o, resp, err := c.GetOrder(ctx, orderID)
	if err != nil {
		return nil, resp, err
	}
	return &OrderStatus{OrderID: o.OrderID, Status: string(o.Status), FraudStatus: o.FraudStatus,
		OrderAmount: o.OrderAmount, PurchaseCurrency: o.PurchaseCurrency}, resp, nil
}

// Capture captures all or part of an order (POST …/orders/{id}/captures;
// Klarna answers 201 with the Capture-Id and Location headers). Klarna
// refuses with 403 CAPTURE_NOT_ALLOWED (HasCode) an amount above the
// remaining authorization, and captures of cancelled or expired orders.
func (c *Client) Capture(ctx context.Context, orderID, idempotencyKey string, req *CaptureRequest) (*CaptureCreated, *Response, error) {
	if orderID == "" || req == nil {
		return nil, nil, errors.New("klarna: capture: empty order id or nil request")
	}
	if err := checkKey("capture", idempotencyKey); err != nil {
		return nil, nil, err
	}
	resp, err := c.do(ctx, call{op: "capture", method: http.MethodPost, path: omPath(orderID, "captures"), body: req, key: idempotencyKey})
	if err != nil {
		return nil, resp, err
	}
	return &CaptureCreated{CaptureID: resp.Header.Get("Capture-Id"), Location: resp.Header.Get("Location")}, resp, nil
}

// ListCaptures lists an order's captures (GET …/orders/{id}/captures).
func (c *Client) ListCaptures(ctx context.Context, orderID string) ([]Capture, *Response, error) {
	if orderID == "" {
		return nil, nil, errors.New("klarna: list captures: empty order id")
	}
	var out []Capture
	resp, err := c.do(ctx, call{op: "list_captures", method: http.MethodGet, path: omPath(orderID, "captures"), out: &out})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// GetCapture reads one capture (GET …/orders/{id}/captures/{capture_id});
// 404 NO_SUCH_CAPTURE if it does not exist.
func (c *Client) GetCapture(ctx context.Context, orderID, captureID string) (*Capture, *Response, error) {
	if orderID == "" || captureID == "" {
		return nil, nil, errors.New("klarna: get capture: empty order or capture id")
	}
	out := new(Capture)
	resp, err := c.do(ctx, call{op: "get_capture", method: http.MethodGet, path: omPath(orderID, "captures", pathEscape(captureID)), out: out})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// shippingInfoBody is the body of both shipping-info operations.
type shippingInfoBody struct {
	ShippingInfo []ShippingInfo `json:"shipping_info"`
}

// AddCaptureShippingInfo adds tracking details to a capture (POST
// …/captures/{capture_id}/shipping-info, 1 to 500 items; Klarna answers
// 204).
func (c *Client) AddCaptureShippingInfo(ctx context.Context, orderID, captureID, idempotencyKey string, infos []ShippingInfo) (*Response, error) {
	if orderID == "" || captureID == "" || len(infos) == 0 {
		return nil, errors.New("klarna: add capture shipping info: empty order id, capture id or shipping info")
	}
	if err := checkKey("add_capture_shipping_info", idempotencyKey); err != nil {
		return nil, err
	}
	return c.do(ctx, call{op: "add_capture_shipping_info", method: http.MethodPost,
		path: omPath(orderID, "captures", pathEscape(captureID), "shipping-info"), body: shippingInfoBody{infos}, key: idempotencyKey})
}

// AddShippingInfo adds shipping details to the order itself, before any
// capture (POST …/orders/{id}/shipping-info; Klarna answers 204).
func (c *Client) AddShippingInfo(ctx context.Context, orderID, idempotencyKey string, infos []ShippingInfo) (*Response, error) {
	if orderID == "" || len(infos) == 0 {
		return nil, errors.New("klarna: add shipping info: empty order id or shipping info")
	}
	if err := checkKey("add_shipping_info", idempotencyKey); err != nil {
		return nil, err
	}
	return c.do(ctx, call{op: "add_shipping_info", method: http.MethodPost, path: omPath(orderID, "shipping-info"),
		body: shippingInfoBody{infos}, key: idempotencyKey})
}

// Refund refunds captured money (POST …/orders/{id}/refunds; Klarna answers
// 201 with the Refund-Id and Location headers). Klarna refuses with 403
// REFUND_NOT_ALLOWED a refund of an order without captures, or of more than
// was captured and not yet refunded.
func (c *Client) Refund(ctx context.Context, orderID, idempotencyKey string, req *RefundRequest) (*RefundCreated, *Response, error) {
	if orderID == "" || req == nil {
		return nil, nil, errors.New("klarna: refund: empty order id or nil request")
	}
	if err := checkKey("refund", idempotencyKey); err != nil {
		return nil, nil, err
	}
	resp, err := c.do(ctx, call{op: "refund", method: http.MethodPost, path: omPath(orderID, "refunds"), body: req, key: idempotencyKey})
	if err != nil {
		return nil, resp, err
	}
	return &RefundCreated{RefundID: resp.Header.Get("Refund-Id"), Location: resp.Header.Get("Location")}, resp, nil
}

// GetRefund reads one refund (GET …/orders/{id}/refunds/{refund_id}).
func (c *Client) GetRefund(ctx context.Context, orderID, refundID string) (*Refund, *Response, error) {
	if orderID == "" || refundID == "" {
		return nil, nil, errors.New("klarna: get refund: empty order or refund id")
	}
	out := new(Refund)
	resp, err := c.do(ctx, call{op: "get_refund", method: http.MethodGet, path: omPath(orderID, "refunds", pathEscape(refundID)), out: out})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// CancelOrder cancels an order that has no captures, releasing the whole
// authorization (POST …/orders/{id}/cancel; Klarna answers 204). With a
// capture Klarna answers 403 CANCEL_NOT_ALLOWED: release the remaining
// authorization instead.
func (c *Client) CancelOrder(ctx context.Context, orderID, idempotencyKey string) (*Response, error) {
	return c.orderAction(ctx, "cancel_order", orderID, "cancel", idempotencyKey)
}

// ReleaseRemainingAuthorization gives up what is left of a partly captured
// order's authorization when no more captures will follow (POST
// …/orders/{id}/release-remaining-authorization; Klarna answers 204, or 403
// NOT_ALLOWED when the order has no captures, is fully captured, cancelled
// or expired).
func (c *Client) ReleaseRemainingAuthorization(ctx context.Context, orderID, idempotencyKey string) (*Response, error) {
	return c.orderAction(ctx, "release_authorization", orderID, "release-remaining-authorization", idempotencyKey)
}

// ExtendAuthorizationTime moves an order's expiry to now plus the account's
// authorization lifetime (POST …/orders/{id}/extend-authorization-time;
// Klarna answers 204). Klarna refuses with 403 NOT_ALLOWED expired or
// cancelled orders, and orders placed more than 180 days ago.
func (c *Client) ExtendAuthorizationTime(ctx context.Context, orderID, idempotencyKey string) (*Response, error) {
	return c.orderAction(ctx, "extend_authorization", orderID, "extend-authorization-time", idempotencyKey)
}

// orderAction is a bodiless POST to one of an order's action endpoints.
func (c *Client) orderAction(ctx context.Context, op, orderID, action, key string) (*Response, error) {
	if orderID == "" {
		return nil, errors.New("klarna: " + op + ": empty order id")
	}
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	return c.do(ctx, call{op: op, method: http.MethodPost, path: omPath(orderID, action), key: key})
}
