package orders

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/store"
)

// explain puts Klarna's refusal of an action in plain words for the
// operator, using the order as Klarna showed it right after refusing (o,
// read again). It returns Klarna's error code and the words; Klarna's own
// message follows the words, and the correlation id is kept beside them in
// the history.
func explain(a *store.Action, err error, o *Order, now time.Time) (code, words string) {
	var ke *klarna.Error
	if !errors.As(err, &ke) {
		return "", "The shop could not send this to Klarna: " + err.Error() + "."
	}
	code = ke.ErrorCode
	status := o.Status()
	expired := status == klarnaExpired || o.ExpiresAt != nil && !o.ExpiryEstimated && o.ExpiresAt.Before(now)
	switch {
	case ke.ErrorCode == klarna.CodeCaptureNotAllowed:
		switch {
		case status == klarnaCancelled:
			words = "Klarna will not capture a cancelled order."
		case o.fraud() == string(klarna.FraudPending):
			words = "Klarna will not capture while it is still reviewing the order."
		case expired:
			words = "Klarna will not capture this order: its authorization expired"
			if o.ExpiresAt != nil {
				words += " on " + day(*o.ExpiresAt)
			}
			words += ". The customer was not charged; ask them to order again."
		case status == klarnaClosed:
			words = "Klarna will not capture more: the rest of the authorization was released."
		default:
			words = "Klarna will not capture more than what is still authorized (" + o.Money(o.Remaining) + " remains)."
		}
	case ke.ErrorCode == klarna.CodeRefundNotAllowed:
		if o.Captured == 0 {
			words = "Klarna will not refund an order with no captures: cancel it instead."
		} else {
			words = "Klarna will not refund more than was captured and not yet refunded (" + o.Money(o.Refundable) + " can still be refunded)."
		}
	case ke.ErrorCode == klarna.CodeCancelNotAllowed:
		switch {
		case status == klarnaCancelled:
			words = "Klarna has already cancelled this order."
		case o.Captured > 0 || o.Read != nil && o.Read.Captured > 0:
			words = "Klarna will not cancel an order that has captures: refund what was captured and release the rest instead."
		case expired:
			words = "Klarna will not cancel an expired order: its authorization has lapsed already, and the customer was not charged."
		default:
			words = "Klarna will not cancel this order."
		}
	case ke.ErrorCode == klarna.CodeNotAllowed && a.Kind == opRelease:
		switch {
		case status == klarnaCancelled:
			words = "Klarna will not release anything from a cancelled order."
		case o.Captured == 0:
			words = "Klarna releases the rest of an authorization only after a capture: cancel the order instead."
		case status == klarnaCaptured:
			words = "Klarna has nothing to release: the order is fully captured."
		case status == klarnaClosed:
			words = "Klarna has already released the rest of this authorization."
		case expired:
			words = "Klarna will not release an expired authorization: it has lapsed already."
		default:
			words = "Klarna will not release the rest of this authorization."
		}
	case ke.ErrorCode == klarna.CodeNotAllowed && a.Kind == opExtend:
		switch {
		case expired:
			words = "Klarna will not extend an authorization that has already expired."
		case status == klarnaCancelled:
			words = "Klarna will not extend a cancelled order."
		case o.Remaining == 0:
			words = "Klarna will not extend an order with nothing left to capture."
		default:
			words = "Klarna will not extend this authorization (it does so only within 180 days of the order, and not for every payment method)."
		}
	case ke.ErrorCode == klarna.CodeNoSuchOrder || ke.StatusCode == http.StatusNotFound:
		words = "Klarna does not know this order id (" + a.KlarnaOrderID + ")."
	case ke.StatusCode == http.StatusUnauthorized:
		words = "Klarna refused the shop's API credentials: check KLARNA_USERNAME and KLARNA_PASSWORD."
	case ke.StatusCode == http.StatusBadRequest || ke.StatusCode == http.StatusUnprocessableEntity:
		words = "Klarna refused the request as invalid."
	default:
		words = "Klarna refused this action."
	}
	if len(ke.ErrorMessages) > 0 {
		words += " Klarna said: “" + strings.Join(ke.ErrorMessages, " ") + "”"
		if ke.ErrorCode != "" {
			words += " (" + ke.ErrorCode + ")"
		}
		words += "."
	}
	return code, words
}

// unknownOutcome reports an error after which the action may or may not
// have happened at Klarna: no answer, a 5xx, a 429, or 409 (Klarna is
// still running the first request with this key).
func unknownOutcome(err error) bool {
	if errors.Is(err, errNotSent) {
		return false
	}
	var ke *klarna.Error
	if errors.As(err, &ke) {
		return ke.StatusCode >= 500 || ke.StatusCode == http.StatusTooManyRequests || ke.StatusCode == http.StatusConflict
	}
	return true
}
