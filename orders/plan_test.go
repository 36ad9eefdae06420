package orders

import (
	"strings"
	"testing"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
)

// TestPartsAddUpToTheLine captures and refunds a line unit by unit, and in
// uneven parts: every part follows Klarna's line rules, and the parts add up
// to exactly the line, amount and tax.
func TestPartsAddUpToTheLine(t *testing.T) {
	t.Parallel()
	tax := shop.TaxIncludedIn(2897, 2000)
	base := klarna.OrderLine{Type: klarna.LinePhysical, Reference: "mug", Name: "Mug", Quantity: 3, UnitPrice: 999,
		TotalDiscountAmount: 100, TotalAmount: 2897, TaxRate: klarna.Int64(2000), TotalTaxAmount: klarna.Int64(tax)}
	for _, split := range [][]int64{{1, 1, 1}, {2, 1}, {1, 2}, {3}} {
		l := Line{OrderLine: base}
		for _, q := range split {
			p := partOf(l, q, false)
			if p.TotalAmount != p.Quantity*p.UnitPrice-p.TotalDiscountAmount || p.TotalDiscountAmount < 0 {
				t.Fatalf("split %v: part %+v breaks Klarna's line rule", split, p)
			}
			if want := shop.TaxIncludedIn(p.TotalAmount, 2000); *p.TotalTaxAmount-want > 1 || want-*p.TotalTaxAmount > 1 {
				t.Fatalf("split %v: tax %d, Klarna expects %d±1", split, *p.TotalTaxAmount, want)
			}
			l.Captured += q
			l.CapturedAmount += p.TotalAmount
			l.capturedTax += *p.TotalTaxAmount
		}
		if l.CapturedAmount != base.TotalAmount || l.capturedTax != tax || l.Capturable() != 0 {
			t.Errorf("split %v: captured %d (tax %d) of %d (tax %d)", split, l.CapturedAmount, l.capturedTax, base.TotalAmount, tax)
		}
		for _, q := range split {
			p := partOf(l, q, true)
			l.Refunded += q
			l.RefundedAmount += p.TotalAmount
			l.refundedTax += *p.TotalTaxAmount
		}
		if l.RefundedAmount != base.TotalAmount || l.refundedTax != tax || l.Refundable() != 0 {
			t.Errorf("split %v: refunded %d (tax %d)", split, l.RefundedAmount, l.refundedTax)
		}
	}
}

func TestAutoCapturePolicy(t *testing.T) {
	t.Parallel()
	digital := klarna.OrderLine{Type: klarna.LineDigital}
	physical := klarna.OrderLine{Type: klarna.LinePhysical}
	discount := klarna.OrderLine{Type: klarna.LineDiscount}
	on := Policy{CaptureDigitalAtOrder: true}
	for _, tc := range []struct {
		p     Policy
		lines []klarna.OrderLine
		want  bool
	}{
		{on, []klarna.OrderLine{digital, discount}, true},
		{on, []klarna.OrderLine{digital, physical}, false},
		{on, []klarna.OrderLine{discount}, false},
		{Policy{}, []klarna.OrderLine{digital}, false},
	} {
		if got := tc.p.AutoCapture(tc.lines); got != tc.want {
			t.Errorf("%+v %v: %v", tc.p, tc.lines, got)
		}
	}
}

// TestMismatch: the shop's records are compared with Klarna's read one by
// one and in total.
func TestMismatch(t *testing.T) {
	t.Parallel()
	c := &store.Checkout{Currency: "GBP", Locale: "en-GB", Amount: 5000}
	ko := &klarna.ManagedOrder{OriginalOrderAmount: 5000, CapturedAmount: 3000, RefundedAmount: 500,
		Captures: []klarna.Capture{{CaptureID: "c1", CapturedAmount: 1000}, {CaptureID: "c2", CapturedAmount: 2000}},
		Refunds:  []klarna.Refund{{RefundID: "r1", RefundedAmount: 500}}}
	caps := []*store.Capture{{ID: "c1", Amount: 1000}, {ID: "c2", Amount: 2000}}
	refunds := []*store.Refund{{ID: "r1", Amount: 500}}
	if m := mismatch(c, ko, caps, refunds); m != "" {
		t.Errorf("equal records: %q", m)
	}
	caps[1].Amount = 1500
	caps = append(caps, &store.Capture{ID: "c9", Amount: 100})
	m := mismatch(c, ko, caps, nil)
	for _, want := range []string{"capture c2 is £15.00 here, £20.00 at Klarna", "capture c9 (£1.00) is not at Klarna", "captured £26.00 here, £30.00 at Klarna", "refunded £0.00 here, £5.00 at Klarna"} {
		if !strings.Contains(m, want) {
			t.Errorf("mismatch %q lacks %q", m, want)
		}
	}
}
