package reconcile

import (
	"strings"
	"testing"

	"github.com/fikaandform/storefront/store"
)

func TestCompare(t *testing.T) {
	line := Line{Type: "physical", Reference: "mug", Name: "Mug", Quantity: 1, UnitPrice: 1800, TaxRate: 2000, Total: 1800, TotalTaxAmount: 300}
	order := func(id, ref string, amount int64, lines ...Line) Order {
		return Order{ID: id, Reference: ref, Currency: "GBP", Amount: amount, Tax: 300, Lines: lines}
	}
	for _, tc := range []struct {
		name           string
		local, remote  []Order
		dup, lost, mis int
	}{
		{"equal", []Order{order("k1", "KS-1", 1800, line)}, []Order{order("k1", "KS-1", 1800, line)}, 0, 0, 0},
		{"matched by reference without an id", []Order{order("", "KS-1", 1800, line)}, []Order{order("k1", "KS-1", 1800, line)}, 0, 0, 0},
		{"bigger cart recorded than paid", []Order{order("k1", "KS-1", 45495, line)}, []Order{order("k1", "KS-1", 1800, line)}, 0, 0, 1},
		{"a line differs", []Order{order("k1", "KS-1", 1800, line)}, []Order{order("k1", "KS-1", 1800, Line{Reference: "mug", Quantity: 2})}, 0, 0, 1},
		{"two Klarna orders for one cart", []Order{order("k1", "KS-1", 1800, line)}, []Order{order("k1", "KS-1", 1800, line), order("k2", "KS-1", 1800, line)}, 1, 1, 0},
		{"one Klarna order on two checkouts", []Order{order("k1", "KS-1", 1800, line), order("k1", "KS-2", 1800, line)}, []Order{order("k1", "KS-1", 1800, line)}, 1, 0, 0},
		{"local order Klarna lacks", []Order{order("k9", "KS-9", 1800, line)}, nil, 0, 1, 0},
		{"Klarna order the shop lacks", nil, []Order{order("k1", "KS-1", 1800, line)}, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Compare(tc.local, tc.remote)
			if len(r.Duplicates) != tc.dup || len(r.Lost) != tc.lost || len(r.Mismatched) != tc.mis {
				t.Errorf("%s", r)
			}
			if r.OK() != (tc.dup+tc.lost+tc.mis == 0) || !strings.Contains(r.String(), "mismatched") {
				t.Errorf("OK/String: %v %s", r.OK(), r)
			}
		})
	}
}

func TestInconsistentLocalRecordIsAMismatch(t *testing.T) {
	l := Order{ID: "k1", Reference: "KS-1", Currency: "GBP", Amount: 45495, Tax: 300, Inconsistent: "shows 45495 but sent 1800"}
	k := l
	k.Inconsistent = ""
	if r := Compare([]Order{l}, []Order{k}); len(r.Mismatched) != 1 {
		t.Errorf("%s", r)
	}
}

// TestMoneyIsCompared: a capture or refund the shop recorded must be
// Klarna's, to the minor unit.
func TestMoneyIsCompared(t *testing.T) {
	k := Order{ID: "k1", Reference: "KS-1", Currency: "GBP", Amount: 1800, Captured: 1800, Refunded: 500}
	l := WithMoney([]Order{{ID: "k1", Reference: "KS-1", Currency: "GBP", Amount: 1800}}, map[string]store.Money{"KS-1": {Captured: 1800, Refunded: 500}})
	if r := Compare(l, []Order{k}); !r.OK() || r.LocalCaptured != 1800 || r.KlarnaRefunded != 500 || !strings.Contains(r.String(), "captured 1800 in the shop") {
		t.Errorf("equal money: %s", r)
	}
	l[0].Refunded = 0
	if r := Compare(l, []Order{k}); len(r.Mismatched) != 1 || !strings.Contains(r.Mismatched[0], "refunded 0 vs 500") {
		t.Errorf("a refund the shop lacks: %s", r)
	}
}
