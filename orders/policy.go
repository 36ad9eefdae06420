package orders

import (
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/store"
)

// Kind is what an operator asks for.
type Kind string

// Kinds of action, as the order page offers them.
const (
	CaptureAll   Kind = "capture_all"   // ship and capture everything still authorized
	CaptureLines Kind = "capture_lines" // capture chosen lines (a partial shipment)
	RefundAll    Kind = "refund_all"    // refund everything captured and not yet refunded
	RefundLines  Kind = "refund_lines"  // refund chosen lines
	RefundAmount Kind = "refund_amount" // refund an amount, with a reason
	Cancel       Kind = "cancel"        // cancel an order with no captures
	Release      Kind = "release"       // release what remains after a partial capture
	Extend       Kind = "extend"        // extend the authorization time
)

// Kinds lists every kind of action in the order the order page shows them.
var Kinds = []Kind{CaptureAll, CaptureLines, RefundAll, RefundLines, RefundAmount, Cancel, Release, Extend}

// Klarna operations, as actions record them.
const (
	opCapture = "capture"
	opRefund  = "refund"
	opCancel  = "cancel"
	opRelease = "release"
	opExtend  = "extend"
	opLink    = "link"
)

// operation is the Klarna operation a kind of action calls.
func (k Kind) operation() string {
	switch k {
	case CaptureAll, CaptureLines:
		return opCapture
	case RefundAll, RefundLines, RefundAmount:
		return opRefund
	case Cancel:
		return opCancel
	case Release:
		return opRelease
	case Extend:
		return opExtend
	}
	return ""
}

// Policy is the shop's order management policy, in one place: what it
// captures at order creation, when it warns about expiry, and (allowed)
// which actions its rules permit before Klarna is asked. Klarna enforces
// its own rules again; the shop's are stricter where shipping is concerned.
type Policy struct {
	// CaptureDigitalAtOrder creates orders whose goods are all digital
	// (delivered at once) with auto_capture, so Klarna captures them when
	// it creates the order (CAPTURE_DIGITAL_AT_ORDER; off by default).
	// Klarna's guidance is to capture at fulfilment, which for a download
	// is the purchase itself. Physical goods are always captured by an
	// operator when they ship.
	CaptureDigitalAtOrder bool
	// ExpiryWarning highlights orders not fully captured this close to
	// their authorization's expiry (default 7 days).
	ExpiryWarning time.Duration
	// AuthorizationLifetime estimates the expiry of an order Klarna was
	// never asked about (default 28 days, Klarna's default; some merchant
	// accounts have up to 180).
	AuthorizationLifetime time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.ExpiryWarning == 0 {
		p.ExpiryWarning = 7 * 24 * time.Hour
	}
	if p.AuthorizationLifetime == 0 {
		p.AuthorizationLifetime = 28 * 24 * time.Hour
	}
	return p
}

// AutoCapture says whether an order with these lines is created with
// auto_capture: only with CaptureDigitalAtOrder, and only when it holds
// digital goods and nothing physical (discounts, fees and tax lines do not
// count).
func (p Policy) AutoCapture(lines []klarna.OrderLine) bool {
	if !p.CaptureDigitalAtOrder {
		return false
	}
	digital := false
	for _, l := range lines {
		switch l.Type {
		case klarna.LineDigital:
			digital = true
		case klarna.LineDiscount, klarna.LineShippingFee, klarna.LineSalesTax, klarna.LineSurcharge:
		default:
			return false
		}
	}
	return digital
}

// fraud is Klarna's fraud status of the order as the shop knows it best:
// its last read's, except that a read still PENDING does not undo the
// decision recorded on the checkout since (a notification, which the shop
// confirms by asking Klarna for the order's status). A decision never goes
// back to PENDING, and the order's next read would only say so later: until
// then an accepted order was refused its capture as "still reviewing".
func (o *Order) fraud() string {
	c := o.Checkout.FraudStatus
	if o.Read == nil || o.Read.FraudStatus == "" {
		return c
	}
	if r := o.Read.FraudStatus; r != string(klarna.FraudPending) || c == "" || c == string(klarna.FraudPending) {
		return r
	}
	return c
}

// extensionWindow is how long after its creation Klarna extends an order's
// authorization.
const extensionWindow = 180 * 24 * time.Hour

// allowed applies the shop's rules to an order at now: for each kind of
// action, why it may not be taken ("" when it may). Stopped, rejected and
// unreviewed orders are never captured from the shop.
func (p Policy) allowed(o *Order, now time.Time) map[Kind]string {
	out := map[Kind]string{}
	c := o.Checkout
	status, fraud := o.Status(), o.fraud()
	expired := o.ExpiresAt != nil && !o.ExpiryEstimated && o.ExpiresAt.Before(now)
	capturable := false
	for _, l := range o.Lines {
		capturable = capturable || l.Capturable() > 0
	}
	refundable := false
	for _, l := range o.Lines {
		refundable = refundable || l.Refundable() > 0
	}
	// Reasons that stop everything.
	all := ""
	switch {
	case c.KlarnaOrderID == "":
		all = "the shop does not know this order's Klarna order id: look it up in Klarna's portal and link it first"
	case o.Pending != nil:
		all = "an earlier action is still waiting for Klarna's answer: retry it first"
	case status == klarnaCancelled:
		all = "Klarna has cancelled this order"
	}
	if all != "" {
		for _, k := range Kinds {
			out[k] = all
		}
		return out
	}
	// Capture: never what must not ship.
	capture := ""
	switch {
	case c.State == store.StateRejected || fraud == string(klarna.FraudRejected):
		capture = "Klarna rejected this order: it must not ship"
	case c.State == store.StatePendingReview || fraud == string(klarna.FraudPending):
		capture = "Klarna is still reviewing this order: nothing ships before it is accepted"
	case c.Hold != "":
		capture = "this order is stopped (" + c.Hold + ")"
	case status == klarnaExpired || expired:
		capture = "the authorization expired on " + day(*o.ExpiresAt) + ": Klarna no longer captures it"
	case status == klarnaClosed:
		capture = "the rest of the authorization was released: nothing more can be captured"
	case o.Remaining <= 0:
		capture = "nothing is left to capture"
	}
	out[CaptureAll] = capture
	out[CaptureLines] = capture
	if capture == "" && !capturable {
		out[CaptureLines] = "every line has been captured"
	}
	refund := ""
	if o.Refundable <= 0 {
		refund = "nothing captured is left to refund"
	}
	out[RefundAll], out[RefundAmount], out[RefundLines] = refund, refund, refund
	if refund == "" && !refundable {
		out[RefundLines] = "no captured line is left to refund (refund an amount instead)"
	}
	switch {
	case o.Captured > 0 || (o.Read != nil && o.Read.Captured > 0):
		out[Cancel] = "the order has captures: refund what was captured and release the rest instead"
	case status == klarnaExpired || expired:
		out[Cancel] = "the authorization has expired: there is nothing left to cancel"
	}
	switch {
	case o.Captured == 0:
		out[Release] = "nothing has been captured yet: cancel the order instead"
	case o.Remaining <= 0:
		out[Release] = "nothing is left to release"
	case status == klarnaExpired || expired:
		out[Release] = "the authorization has expired: there is nothing left to release"
	}
	switch {
	case status == klarnaExpired || expired:
		out[Extend] = "the authorization has already expired: Klarna cannot extend it"
	case o.Remaining <= 0:
		out[Extend] = "nothing is left to capture, so there is nothing to extend"
	case c.Hold != "":
		out[Extend] = "this order is stopped (" + c.Hold + ")"
	case o.Read != nil && o.Read.KlarnaCreatedAt != nil && now.After(o.Read.KlarnaCreatedAt.Add(extensionWindow)):
		out[Extend] = "Klarna extends an authorization only within 180 days of the order"
	}
	return out
}

func day(t time.Time) string { return t.Format("2 Jan 2006") }
