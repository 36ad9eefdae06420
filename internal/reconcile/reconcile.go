// Package reconcile compares the shop's orders with Klarna's, by content:
// every local order must match exactly one Klarna order in amount, tax,
// currency and every line, and in what was captured and refunded of it, and
// every Klarna order must belong to exactly one local order. Counting both
// sides is not enough: a shop can hold as many orders as Klarna and still
// have recorded a bigger cart than was paid, or a capture Klarna never made.
//
// The load test, the fault matrix and the crash tests report what it finds.
package reconcile

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
)

// Line is one order line, in minor units.
type Line struct {
	Type, Reference, Name                                         string
	Quantity, UnitPrice, TaxRate, Total, Discount, TotalTaxAmount int64
}

// Order is one order on either side. Reference is the shop's order
// reference (Klarna's merchant_reference1); ID is Klarna's order id, which a
// local order may lack when Klarna would not repeat a lost answer.
type Order struct {
	ID, Reference, Currency string
	Amount, Tax             int64
	Lines                   []Line
	// Captured and Refunded are the order's money after placement: what the
	// shop recorded (WithMoney), and what Klarna holds.
	Captured, Refunded int64
	// Inconsistent says how a local record disagrees with itself (the
	// totals it shows against the order it sent).
	Inconsistent string
}

// Report is what a comparison found. Each problem names the order.
type Report struct {
	Local, Klarna int
	Duplicates    []string // a reference with more than one Klarna order
	Lost          []string // a local order with no Klarna order, or the reverse
	Mismatched    []string // matched orders whose content or money differs
	// Money compared, in minor units of all currencies together: captured
	// and refunded as the shop recorded them and as Klarna holds them.
	LocalCaptured, KlarnaCaptured, LocalRefunded, KlarnaRefunded int64
}

// OK reports whether nothing is wrong.
func (r Report) OK() bool { return len(r.Duplicates)+len(r.Lost)+len(r.Mismatched) == 0 }

func (r Report) String() string {
	s := fmt.Sprintf("orders: %d in the shop, %d at Klarna; duplicates %d, lost %d, mismatched %d",
		r.Local, r.Klarna, len(r.Duplicates), len(r.Lost), len(r.Mismatched))
	if r.LocalCaptured+r.KlarnaCaptured+r.LocalRefunded+r.KlarnaRefunded != 0 {
		s += fmt.Sprintf("; captured %d in the shop, %d at Klarna; refunded %d in the shop, %d at Klarna (minor units)",
			r.LocalCaptured, r.KlarnaCaptured, r.LocalRefunded, r.KlarnaRefunded)
	}
	for _, list := range [][]string{r.Duplicates, r.Lost, r.Mismatched} {
		for i, p := range list {
			if i == 5 {
				s += fmt.Sprintf("\n  … and %d more", len(list)-5)
				break
			}
			s += "\n  " + p
		}
	}
	return s
}

// Compare matches local orders with Klarna's: by Klarna order id when the
// local order has one, otherwise by reference.
func Compare(local, remote []Order) Report {
	r := Report{Local: len(local), Klarna: len(remote)}
	byID := map[string]*Order{}
	byRef := map[string][]*Order{}
	for i := range remote {
		o := &remote[i]
		byID[o.ID] = o
		byRef[o.Reference] = append(byRef[o.Reference], o)
		r.KlarnaCaptured += o.Captured
		r.KlarnaRefunded += o.Refunded
	}
	for _, l := range local {
		r.LocalCaptured += l.Captured
		r.LocalRefunded += l.Refunded
	}
	for ref, os := range byRef {
		if len(os) > 1 {
			r.Duplicates = append(r.Duplicates, fmt.Sprintf("%s: %d Klarna orders", ref, len(os)))
		}
	}
	claimed := map[string]string{} // Klarna order id -> local reference
	for _, l := range local {
		k := byID[l.ID]
		if l.ID == "" && len(byRef[l.Reference]) == 1 {
			k = byRef[l.Reference][0]
		}
		if k == nil {
			r.Lost = append(r.Lost, fmt.Sprintf("%s (Klarna id %q): no such order at Klarna", l.Reference, l.ID))
			continue
		}
		if prev, ok := claimed[k.ID]; ok {
			r.Duplicates = append(r.Duplicates, fmt.Sprintf("Klarna order %s recorded by %s and %s", k.ID, prev, l.Reference))
			continue
		}
		claimed[k.ID] = l.Reference
		diff := differences(l, *k)
		if l.Inconsistent != "" {
			diff = append(diff, l.Inconsistent)
		}
		if len(diff) > 0 {
			r.Mismatched = append(r.Mismatched, fmt.Sprintf("%s vs Klarna %s: %s", l.Reference, k.ID, strings.Join(diff, "; ")))
		}
	}
	for _, k := range remote {
		if _, ok := claimed[k.ID]; !ok {
			r.Lost = append(r.Lost, fmt.Sprintf("Klarna order %s (reference %s): not recorded by the shop", k.ID, k.Reference))
		}
	}
	sort.Strings(r.Duplicates)
	sort.Strings(r.Lost)
	sort.Strings(r.Mismatched)
	return r
}

func differences(l, k Order) []string {
	var d []string
	if l.Reference != k.Reference {
		d = append(d, fmt.Sprintf("reference %s vs %s", l.Reference, k.Reference))
	}
	if !strings.EqualFold(l.Currency, k.Currency) {
		d = append(d, fmt.Sprintf("currency %s vs %s", l.Currency, k.Currency))
	}
	if l.Amount != k.Amount {
		d = append(d, fmt.Sprintf("amount %d vs %d", l.Amount, k.Amount))
	}
	if l.Tax != k.Tax {
		d = append(d, fmt.Sprintf("tax %d vs %d", l.Tax, k.Tax))
	}
	if l.Captured != k.Captured {
		d = append(d, fmt.Sprintf("captured %d vs %d", l.Captured, k.Captured))
	}
	if l.Refunded != k.Refunded {
		d = append(d, fmt.Sprintf("refunded %d vs %d", l.Refunded, k.Refunded))
	}
	if len(l.Lines) != len(k.Lines) {
		return append(d, fmt.Sprintf("%d lines vs %d", len(l.Lines), len(k.Lines)))
	}
	for i := range l.Lines {
		if l.Lines[i] != k.Lines[i] {
			d = append(d, fmt.Sprintf("line %d %+v vs %+v", i, l.Lines[i], k.Lines[i]))
		}
	}
	return d
}

// FromCheckout is a local order as the shop recorded it: its amount and tax
// columns, and the lines of the order it sent to Klarna (or, for an order
// whose answer was lost before it was recorded, of the authorized session).
func FromCheckout(c *store.Checkout) (Order, error) {
	payload := c.OrderPayload
	if payload == "" {
		payload = c.SessionPayload
	}
	var req klarna.OrderRequest
	if err := json.Unmarshal([]byte(payload), &req); err != nil {
		return Order{}, fmt.Errorf("reconcile: order payload of %s: %w", c.ID, err)
	}
	// The totals are the ones the shop shows (orders area, confirmation);
	// the lines are the ones it sent.
	o := Order{ID: c.KlarnaOrderID, Reference: c.ID, Currency: c.Currency, Amount: c.Amount, Tax: c.TaxAmount}
	if req.OrderAmount != c.Amount || req.OrderTaxAmount != c.TaxAmount {
		o.Inconsistent = fmt.Sprintf("shows %d (tax %d) but sent %d (tax %d)", c.Amount, c.TaxAmount, req.OrderAmount, req.OrderTaxAmount)
	}
	for _, l := range req.OrderLines {
		o.Lines = append(o.Lines, Line{Type: string(l.Type), Reference: l.Reference, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			TaxRate: deref(l.TaxRate), Total: l.TotalAmount, Discount: l.TotalDiscountAmount, TotalTaxAmount: deref(l.TotalTaxAmount)})
	}
	return o, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// FromSimulator is Klarna's side, as the simulator holds it.
func FromSimulator(orders []simulator.OrderRecord) []Order {
	out := make([]Order, 0, len(orders))
	for _, k := range orders {
		o := Order{ID: k.ID, Reference: k.Reference, Currency: k.Currency, Amount: k.Amount, Tax: k.TaxAmount,
			Captured: k.CapturedAmount, Refunded: k.RefundedAmount}
		for _, l := range k.Lines {
			o.Lines = append(o.Lines, Line{Type: l.Type, Reference: l.Reference, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
				TaxRate: l.TaxRate, Total: l.TotalAmount, Discount: l.TotalDiscountAmount, TotalTaxAmount: l.TotalTaxAmount})
		}
		out = append(out, o)
	}
	return out
}

// Local reads every order from a store.
func Local(cs []*store.Checkout) ([]Order, error) {
	out := make([]Order, 0, len(cs))
	for _, c := range cs {
		o, err := FromCheckout(c)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// WithMoney adds to local orders what the shop recorded as captured and
// refunded of each (store.OrderStore.MoneyTotals, by order reference).
// Without it a local order counts as never captured, which is true of every
// order until order management acts on it.
func WithMoney(local []Order, money map[string]store.Money) []Order {
	for i := range local {
		m := money[local[i].Reference]
		local[i].Captured, local[i].Refunded = m.Captured, m.Refunded
	}
	return local
}
