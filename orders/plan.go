package orders

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bojanz/currency"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
)

// Request is what an operator asks for on the order page.
type Request struct {
	Kind Kind
	// Quantities are per line index, for CaptureLines and RefundLines.
	Quantities map[int]int64
	// Amount is the refund of RefundAmount as the operator typed it
	// ("12.50"), in the order's currency.
	Amount string
	// Reason is shown to the customer with a refund (Klarna's description).
	Reason string
	// Carrier, TrackingNumber and TrackingURI go with a capture, so that
	// Klarna (and through Klarna the customer) can follow the parcel.
	Carrier, TrackingNumber, TrackingURI string
}

// Plan is exactly what confirming a request will do: shown on the
// confirmation page with its one-time ActionID, and done on confirmation if
// the order is still at Version.
type Plan struct {
	ActionID string
	Version  int64
	Request  Request
	Amount   int64
	Lines    []klarna.OrderLine
	// Summary says what is asked in one line, for the history; Effect says
	// what Klarna will do.
	Summary, Effect string
	capture         *klarna.CaptureRequest
	refund          *klarna.RefundRequest
}

// Operation is the Klarna operation the plan calls.
func (p *Plan) Operation() string { return p.Request.Kind.operation() }

// body is what is sent to Klarna.
func (p *Plan) body() any {
	switch {
	case p.capture != nil:
		return p.capture
	case p.refund != nil:
		return p.refund
	}
	return struct{}{}
}

// Plan checks a request against the shop's rules and works out exactly
// what it will do, for the operator to confirm. It changes nothing, and
// reads the order from Klarna first if it was never read.
func (s *Service) Plan(ctx context.Context, ref string, req Request) (*Order, *Plan, error) {
	o, err := s.Order(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.plan(o, req, newActionID(ref))
	if err != nil {
		return o, nil, err
	}
	return o, p, nil
}

// newActionID makes a one-time action id, such as "KS-7F3K9QXM-A4KQ2Z7B".
// It starts with the order reference, so Klarna's settlement files (where
// it is a capture's or refund's reference) name the order.
func newActionID(ref string) string {
	b := make([]byte, 5)
	rand.Read(b)
	return ref + "-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

var actionIDRe = regexp.MustCompile(`^KS-[A-Z2-7]{8}-[A-Z2-7]{8}$`)

// ValidActionID reports whether id could be one of ref's action ids.
func ValidActionID(ref, id string) bool {
	return actionIDRe.MatchString(id) && strings.HasPrefix(id, ref+"-")
}

func (s *Service) plan(o *Order, req Request, actionID string) (*Plan, error) {
	if req.Kind.operation() == "" {
		return nil, notAllowed("unknown action %q", req.Kind)
	}
	if why := o.Allowed[req.Kind]; why != "" {
		return nil, &NotAllowedError{Reason: capitalize(why) + "."}
	}
	p := &Plan{ActionID: actionID, Version: o.Checkout.Version, Request: req}
	money := o.Money
	switch req.Kind {
	case CaptureAll, CaptureLines:
		info, err := shippingInfo(req)
		if err != nil {
			return nil, err
		}
		if req.Kind == CaptureAll {
			p.Amount, p.Lines = o.Remaining, remainingLines(o, false)
		} else if p.Amount, p.Lines, err = chosenLines(o, req.Quantities, false); err != nil {
			return nil, err
		}
		if p.Amount > o.Remaining {
			return nil, notAllowed("These lines come to %s, more than the %s still authorized.", money(p.Amount), money(o.Remaining))
		}
		p.capture = &klarna.CaptureRequest{CapturedAmount: p.Amount, Reference: actionID, OrderLines: p.Lines}
		if info != nil {
			p.capture.ShippingInfo = []klarna.ShippingInfo{*info}
		}
		p.Summary = "Capture " + money(p.Amount) + linesWords(p.Lines)
		p.Effect = "Klarna charges the customer " + money(p.Amount) + ": their invoice or payment plan for it starts now."
		if info != nil {
			p.Summary += "; shipped with " + info.ShippingCompany
			if info.TrackingNumber != "" {
				p.Summary += ", tracking " + info.TrackingNumber
			}
			p.Effect += " Klarna tells them it is on its way with " + info.ShippingCompany + "."
		}
		if left := o.Remaining - p.Amount; left > 0 {
			p.Effect += " " + money(left) + " stays authorized for later captures until " + expiryWords(o) + "."
		} else {
			p.Effect += " Nothing stays authorized."
		}
		p.Effect += " A capture cannot be undone, only refunded."
	case RefundAll, RefundLines, RefundAmount:
		if utf8.RuneCountInString(req.Reason) > 255 {
			return nil, notAllowed("The reason is shown to the customer and may be at most 255 characters.")
		}
		var err error
		switch req.Kind {
		case RefundAll:
			p.Amount, p.Lines = o.Refundable, remainingLines(o, true)
		case RefundLines:
			if p.Amount, p.Lines, err = chosenLines(o, req.Quantities, true); err != nil {
				return nil, err
			}
		case RefundAmount:
			if strings.TrimSpace(req.Reason) == "" {
				return nil, notAllowed("Say why you refund this amount: the reason is shown to the customer.")
			}
			if p.Amount, err = ParseAmount(req.Amount, o.Checkout.Currency); err != nil {
				return nil, err
			}
			if p.Amount <= 0 {
				return nil, notAllowed("Enter the amount to refund.")
			}
		}
		if p.Amount > o.Refundable {
			return nil, notAllowed("Klarna refunds at most what was captured and not yet refunded: %s, not %s.", money(o.Refundable), money(p.Amount))
		}
		p.refund = &klarna.RefundRequest{RefundedAmount: p.Amount, Description: strings.TrimSpace(req.Reason), Reference: actionID, OrderLines: p.Lines}
		p.Summary = "Refund " + money(p.Amount) + linesWords(p.Lines)
		p.Effect = "Klarna pays " + money(p.Amount) + " back to the customer and takes it off what they owe."
		if r := strings.TrimSpace(req.Reason); r != "" {
			p.Summary += " (reason: " + r + ")"
			p.Effect += " They see the reason: “" + r + "”."
		}
		p.Effect += " A refund cannot be undone."
	case Cancel:
		p.Amount = o.Authorized
		p.Summary = "Cancel the order (" + money(o.Authorized) + " authorized)"
		p.Effect = "Klarna releases the whole authorization of " + money(o.Authorized) + ": the customer is never charged. The order cannot be captured or reopened afterwards."
	case Release:
		p.Amount = o.Remaining
		p.Summary = "Release the remaining " + money(o.Remaining)
		p.Effect = "Klarna releases the " + money(o.Remaining) + " that was not captured: the customer is not charged for it, and no more captures are possible. What was captured (" + money(o.Captured) + ") stands."
	case Extend:
		p.Summary = "Extend the authorization (now until " + expiryWords(o) + ")"
		p.Effect = "Klarna moves the expiry to today plus the account's authorization period (28 days by default), not the current expiry plus that period. Klarna calls extension an exceptional tool; it is possible only within 180 days of the order, and not for every payment method."
	}
	if p.Amount <= 0 && (p.capture != nil || p.refund != nil) {
		return nil, notAllowed("Choose at least one line: the lines chosen come to nothing.")
	}
	return p, nil
}

func expiryWords(o *Order) string {
	if o.ExpiresAt == nil {
		return "it expires"
	}
	if o.ExpiryEstimated {
		return "about " + day(*o.ExpiresAt)
	}
	return day(*o.ExpiresAt)
}

// shippingInfo checks the tracking details of a capture (Klarna's limits:
// company and number 100 characters, URI 1024).
func shippingInfo(req Request) (*klarna.ShippingInfo, error) {
	carrier, number, uri := strings.TrimSpace(req.Carrier), strings.TrimSpace(req.TrackingNumber), strings.TrimSpace(req.TrackingURI)
	if carrier == "" && number == "" && uri == "" {
		return nil, nil
	}
	switch {
	case carrier == "":
		return nil, notAllowed("Name the carrier of this tracking number (as specific as “DHL UK”, not “DHL”).")
	case utf8.RuneCountInString(carrier) > 100 || utf8.RuneCountInString(number) > 100:
		return nil, notAllowed("Klarna takes at most 100 characters for the carrier and the tracking number.")
	case len(uri) > 1024:
		return nil, notAllowed("Klarna takes a tracking link of at most 1024 characters.")
	}
	if uri != "" {
		u, err := url.Parse(uri)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, notAllowed("The tracking link must be a full web address (https://…).")
		}
	}
	return &klarna.ShippingInfo{ShippingCompany: carrier, TrackingNumber: number, TrackingURI: uri}, nil
}

// remainingLines are the lines still to capture (or, for a refund, still
// to refund), if they add up to the whole amount; otherwise none (an amount
// was captured or refunded without lines, and lines would not add up).
func remainingLines(o *Order, refund bool) []klarna.OrderLine {
	var out []klarna.OrderLine
	var sum int64
	for _, l := range o.Lines {
		q := l.Capturable()
		if refund {
			q = l.Refundable()
		}
		if q > 0 {
			part := partOf(l, q, refund)
			out = append(out, part)
			sum += part.TotalAmount
		}
	}
	want := o.Remaining
	if refund {
		want = o.Refundable
	}
	if sum != want {
		return nil
	}
	return out
}

// chosenLines are the lines an operator chose, with their amount.
func chosenLines(o *Order, quantities map[int]int64, refund bool) (int64, []klarna.OrderLine, error) {
	idx := make([]int, 0, len(quantities))
	for i := range quantities {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var sum int64
	var out []klarna.OrderLine
	for _, i := range idx {
		q := quantities[i]
		if q == 0 {
			continue
		}
		if i < 0 || i >= len(o.Lines) || q < 0 {
			return 0, nil, notAllowed("That line is not on this order.")
		}
		l := o.Lines[i]
		left, verb := l.Capturable(), "capture"
		if refund {
			left, verb = l.Refundable(), "refund"
		}
		if q > left {
			return 0, nil, notAllowed("Only %d of “%s” %s left to %s.", left, l.Name, isAre(left), verb)
		}
		part := partOf(l, q, refund)
		out = append(out, part)
		sum += part.TotalAmount
	}
	if len(out) == 0 {
		return 0, nil, notAllowed("Choose at least one line and its quantity.")
	}
	return sum, out, nil
}

func isAre(n int64) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// partOf is q units of an order line, as a capture (or refund) line. The
// amounts are the line's share, and the last units take what is left, so
// that the parts of a line add up to exactly the line.
func partOf(l Line, q int64, refund bool) klarna.OrderLine {
	// What is left of the line: units, amount and tax.
	units, amount, tax := l.Quantity-l.Captured, l.TotalAmount-l.CapturedAmount, lineTax(l.OrderLine)-l.capturedTax
	if refund {
		units, amount, tax = l.Captured-l.Refunded, l.CapturedAmount-l.RefundedAmount, l.capturedTax-l.refundedTax
	}
	part := l.OrderLine
	part.Quantity = q
	if q < units {
		amount = amount * q / units
		if l.TaxRate != nil {
			tax = shop.TaxIncludedIn(amount, *l.TaxRate)
		}
	}
	part.TotalAmount = amount
	part.TotalDiscountAmount = q*l.UnitPrice - amount
	if part.TotalDiscountAmount < 0 {
		// A share above the unit price (not with the shop's own lines, whose
		// totals are quantity × unit price): Klarna wants total = quantity ×
		// unit price − discount with a discount of at least 0.
		part.UnitPrice = ceilDiv(amount, q)
		part.TotalDiscountAmount = q*part.UnitPrice - amount
	}
	if l.TotalTaxAmount != nil {
		part.TotalTaxAmount = klarna.Int64(tax)
	}
	return part
}

func ceilDiv(a, b int64) int64 {
	d := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		d++
	}
	return d
}

func lineTax(l klarna.OrderLine) int64 {
	if l.TotalTaxAmount == nil {
		return 0
	}
	return *l.TotalTaxAmount
}

// linesWords names the lines of a capture or refund: ": Mug × 2, Shipping".
func linesWords(ls []klarna.OrderLine) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Name
		if l.Quantity != 1 {
			parts[i] += " × " + strconv.FormatInt(l.Quantity, 10)
		}
	}
	return ": " + strings.Join(parts, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ParseAmount reads an amount an operator typed ("12.50", "12,50", "12")
// in a currency's minor units. It refuses more decimals than the currency
// has, negative amounts and anything else.
func ParseAmount(s, cur string) (int64, error) {
	s = strings.TrimSpace(s)
	digits, ok := currency.GetDigits(cur)
	if !ok {
		return 0, fmt.Errorf("orders: unknown currency %q", cur)
	}
	whole, frac, hasFrac := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	if whole == "" || len(whole) > 9 || strings.Trim(whole, "0123456789") != "" ||
		hasFrac && (frac == "" || len(frac) > int(digits) || strings.Trim(frac, "0123456789") != "") {
		return 0, notAllowed("Write the amount as a number such as 12.50.")
	}
	frac += strings.Repeat("0", int(digits)-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, notAllowed("Write the amount as a number such as 12.50.")
	}
	return n, nil
}
