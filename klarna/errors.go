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

// Error codes of the Order Management API. The 403 codes say the order's
// state does not allow the operation: retrying does not help.
const (
	CodeCaptureNotAllowed      = "CAPTURE_NOT_ALLOWED" // 403: cancelled, expired, over the remaining authorization
	CodeRefundNotAllowed       = "REFUND_NOT_ALLOWED"  // 403: no captures, or more than captured minus refunded
	CodeCancelNotAllowed       = "CANCEL_NOT_ALLOWED"  // 403: the order has captures, or is closed
	CodeNotAllowed             = "NOT_ALLOWED"         // 403: release, extend and other updates refused
	CodeUpdateNotAllowed       = "UPDATE_NOT_ALLOWED"
	CodeNoSuchOrder            = "NO_SUCH_ORDER"        // 404
	CodeNoSuchCapture          = "NO_SUCH_CAPTURE"      // 404
	CodeConflict               = "CONFLICT"             // 409
	CodeUnprocessableEntity    = "UNPROCESSABLE_ENTITY" // 422: a field too long, for example
	CodeInvalidAddress         = "INVALID_ADDRESS"
	CodeTooManyRequests        = "TOO_MANY_REQUESTS"
	CodeTemporarilyUnavailable = "TEMPORARILY_UNAVAILABLE"
)

// Error codes of the Customer Token API when charging a token. All are 403
// except TOKEN_NOT_FOUND (404).
const (
	CodeTokenNotFound                 = "TOKEN_NOT_FOUND"
	CodeTokenSuspended                = "TOKEN_SUSPENDED"
	CodeTokenCancelled                = "TOKEN_CANCELLED"
	CodeTokenForbidden                = "TOKEN_FORBIDDEN"
	CodeUnavailablePaymentMethod      = "UNAVAILABLE_PAYMENT_METHOD"
	CodePaymentMethodCurrencyMismatch = "PAYMENT_METHOD_CURRENCY_MISMATCH"
	CodePaymentMethodFailed           = "PAYMENT_METHOD_FAILED"
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

// HasCode reports whether err is a Klarna answer with the given error_code,
// for example HasCode(err, CodeCaptureNotAllowed).
func HasCode(err error, code string) bool {
	e, ok := asError(err)
	return ok && e.ErrorCode == code
}

// hardDeclines are the token charge refusals that will not go away by
// waiting: the customer has to act (a new token, another payment method).
var hardDeclines = map[string]bool{
	CodeTokenNotFound: true, CodeTokenSuspended: true, CodeTokenCancelled: true, CodeTokenForbidden: true,
	CodeUnavailablePaymentMethod: true, CodePaymentMethodCurrencyMismatch: true,
}

// IsSoftDecline reports a token charge that Klarna declined this time
// (PAYMENT_METHOD_FAILED, typically a credit decision): charging again
// later, with a new idempotency key for the new attempt, may succeed.
func IsSoftDecline(err error) bool {
	e, ok := asError(err)
	return ok && e.ErrorCode == CodePaymentMethodFailed
}

// IsHardDecline reports a token charge that cannot succeed as it is: the
// token is unknown, suspended, cancelled or not this merchant's, or its
// payment method is unavailable or does not take the currency. Stop charging
// and ask the customer to pay again (a new session, and a new token).
func IsHardDecline(err error) bool {
	e, ok := asError(err)
	return ok && hardDeclines[e.ErrorCode]
}

// CorrelationID is the Klarna correlation id of a call, for logs and for
// Klarna's support: the error's when Klarna answered with one, else the
// response's; empty when no answer arrived.
func CorrelationID(resp *Response, err error) string {
	var ke *Error
	if errors.As(err, &ke) && ke.CorrelationID != "" {
		return ke.CorrelationID
	}
	if resp != nil {
		return resp.CorrelationID
	}
	return ""
}
