package klarna

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error codes Klarna returns in the error_code field.
const (
	CodeBadRequest          = "BAD_REQUEST"
	CodeBadValue            = "BAD_VALUE"
	CodeInvalidOperation    = "INVALID_OPERATION"
	CodeMerchantInactive    = "MERCHANT_INACTIVE"
	CodeRejected            = "REJECTED"
	CodeNotFound            = "NOT_FOUND"
	CodeSessionCompleted    = "SESSION_COMPLETED"
	CodeInternalServerError = "INTERNAL_SERVER_ERROR"
)

// Error is a non-2xx answer from Klarna. Every method returns it, reachable
// with errors.As, for any HTTP error status; the helpers below cover the cases
// a merchant branches on. Log CorrelationID: Klarna's support asks for it.
type Error struct {
	Operation     string
	StatusCode    int
	ErrorCode     string
	ErrorMessages []string
	CorrelationID string
	// Body is the raw response body, read through a 1 MiB limit.
	Body     []byte
	Response *Response
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "klarna: %s: %d", e.Operation, e.StatusCode)
	if e.ErrorCode != "" {
		b.WriteString(" " + e.ErrorCode)
	}
	if len(e.ErrorMessages) > 0 {
		b.WriteString(": " + strings.Join(e.ErrorMessages, "; "))
	}
	if e.CorrelationID != "" {
		b.WriteString(" (correlation id " + e.CorrelationID + ")")
	}
	return b.String()
}

// Duration is the round trip of the request that failed.
func (e *Error) Duration() time.Duration {
	if e.Response == nil {
		return 0
	}
	return e.Response.Duration
}

// newError builds an Error from a response, whatever its body: Klarna's JSON,
// a proxy's HTML page, nothing at all, or JSON cut off mid-way.
func newError(op string, resp *Response, body []byte) *Error {
	e := &Error{Operation: op, StatusCode: resp.StatusCode, CorrelationID: resp.CorrelationID, Body: body, Response: resp}
	var wire struct {
		CorrelationID string   `json:"correlation_id"`
		ErrorCode     string   `json:"error_code"`
		ErrorMessages []string `json:"error_messages"`
	}
	if err := json.Unmarshal(body, &wire); err == nil {
		e.ErrorCode = wire.ErrorCode
		e.ErrorMessages = wire.ErrorMessages
		if wire.CorrelationID != "" {
			e.CorrelationID = wire.CorrelationID
		}
	} else {
		// Not Klarna's JSON: say what came back so the log line is useful.
		text := http.StatusText(resp.StatusCode)
		switch {
		case len(body) == 0:
			e.ErrorMessages = []string{text + " (empty body)"}
		default:
			ct := resp.Header.Get("Content-Type")
			snippet := strings.Join(strings.Fields(string(body)), " ")
			if len(snippet) > 120 {
				snippet = snippet[:120] + "…"
			}
			e.ErrorMessages = []string{fmt.Sprintf("%s (unexpected %q body: %s)", text, ct, snippet)}
		}
	}
	return e
}

// RequestError is a call that got no HTTP answer: the connection failed, the
// timeout fired, or the context was cancelled. It names the operation and the
// host. The request may or may not have reached Klarna.
type RequestError struct {
	Operation string
	Method    string
	URL       string
	Duration  time.Duration
	Err       error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("klarna: %s: %s %s: %v", e.Operation, e.Method, e.URL, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports a 404: an unknown or expired session, or an unknown,
// expired (older than 60 minutes) or cancelled authorization token.
func IsNotFound(err error) bool {
	e, ok := asError(err)
	return ok && e.StatusCode == http.StatusNotFound
}

// IsBadValue reports a 400: Klarna rejected a field; ErrorMessages names it.
func IsBadValue(err error) bool {
	e, ok := asError(err)
	return ok && e.StatusCode == http.StatusBadRequest
}

// IsNotMatching reports a 409: the order does not match what the shopper
// authorized. The token is spent; authorize again (reauthorize) and retry.
func IsNotMatching(err error) bool {
	e, ok := asError(err)
	return ok && e.StatusCode == http.StatusConflict
}

// IsUnauthorized reports wrong credentials (401) or a forbidden operation
// (403).
func IsUnauthorized(err error) bool {
	e, ok := asError(err)
	return ok && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden)
}

// IsRateLimited reports a 429 that survived the client's retries.
func IsRateLimited(err error) bool {
	e, ok := asError(err)
	return ok && e.StatusCode == http.StatusTooManyRequests
}

// IsTemporary reports a failure worth retrying later: a 429, a 5xx, or no
// answer at all.
func IsTemporary(err error) bool {
	if e, ok := asError(err); ok {
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
	}
	var re *RequestError
	return errors.As(err, &re)
}
