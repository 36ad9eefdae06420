package klarna

import (
	"context"
	"errors"
	"net/http"
)

// CreateSession starts a payment session (POST /payments/v1/sessions). Pass
// the returned ClientToken to Klarna.Payments.init in the browser.
//
// It is not retried after the request may have reached Klarna: a retry could
// open a second session.
func (c *Client) CreateSession(ctx context.Context, req *SessionRequest) (*MerchantSession, *Response, error) {
	if req == nil {
		return nil, nil, errors.New("klarna: create session: nil request")
	}
	out := new(MerchantSession)
	resp, err := c.do(ctx, call{op: "create_session", method: http.MethodPost, path: "payments/v1/sessions", body: req, out: out, policy: retryUnprocessed})
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// GetSession reads a session (GET /payments/v1/sessions/{id}); the seed SDK
// calls it get_session_details. Reads are retried.
func (c *Client) GetSession(ctx context.Context, sessionID string) (*Session, *Response, error) {
	out := new(Session)
	resp, err := c.readSession(ctx, sessionID, out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// readSession is the session read of GetSession and
// GetSessionAuthorization, decoded into out.
func (c *Client) readSession(ctx context.Context, sessionID string, out any) (*Response, error) {
	if sessionID == "" {
		return nil, errors.New("klarna: get session: empty session id")
	}
	return c.do(ctx, call{op: "get_session", method: http.MethodGet, path: "payments/v1/sessions/" + pathEscape(sessionID), out: out})
}

// SessionAuthorization is what a session read says about its approval: the
// session's status and the authorization token of its last approval.
type SessionAuthorization struct {
	AuthorizationToken string        `json:"authorization_token,omitempty"`
	Status             SessionStatus `json:"status,omitempty"`
}

// GetSessionAuthorization reads a session as GetSession does (the same call,
// retried alike) but decodes only its status and authorization token: what
// a shop checks before placing an order, or to learn whether a session
// became an order. The order lines, addresses and payment categories it
// skips were most of the cost of reading a session.
func (c *Client) GetSessionAuthorization(ctx context.Context, sessionID string) (*SessionAuthorization, *Response, error) {
	out := new(SessionAuthorization)
	resp, err := c.readSession(ctx, sessionID, out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// UpdateSession changes a session (POST /payments/v1/sessions/{id}; Klarna
// answers 204). Setting the same fields twice leaves the same session, so it
// is retried like a read.
func (c *Client) UpdateSession(ctx context.Context, sessionID string, req *SessionUpdate) (*Response, error) {
	if sessionID == "" || req == nil {
		return nil, errors.New("klarna: update session: empty session id or nil request")
	}
	return c.do(ctx, call{op: "update_session", method: http.MethodPost, path: "payments/v1/sessions/" + pathEscape(sessionID), body: req})
}
