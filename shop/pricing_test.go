package shop

import (
	"math/rand/v2"
	"testing"
)

// TestOrderLinesAddUp prices random carts in every market and checks that
// the order lines are the order: their totals add up to the order amount,
// their tax to the order tax, and each goods line is its product's.
func TestOrderLinesAddUp(t *testing.T) {
	t.Parallel()
	cat := DefaultCatalog()
	r := rand.New(rand.NewPCG(3, 4))
	products := cat.Products("")
	for _, m := range Markets() {
		for range 500 {
			var c Cart
			for _, i := range r.Perm(len(products))[:r.IntN(len(products)+1)] {
				c.Items = append(c.Items, Item{ProductID: products[i].ID, Quantity: 1 + r.IntN(MaxQuantity)})
			}
			if r.IntN(2) == 0 {
				c.Discount = "WELCOME"
			}
			p, err := Price(c, m, m.Locale(), cat)
			if err != nil {
				t.Fatal(err)
			}
			var total, tax int64
			goods := 0
			for _, l := range p.OrderLines {
				total += l.Total
				tax += l.Tax
				if l.Total != l.Quantity*l.UnitPrice {
					t.Fatalf("%s: line %+v: total is not quantity × unit price", m.Code, l)
				}
				if l.Goods() {
					if got, want := l.Reference, c.Items[goods].ProductID; got != want {
						t.Fatalf("%s: goods line %d is %s, want %s", m.Code, goods, got, want)
					}
					goods++
				}
			}
			if total != p.Total {
				t.Fatalf("%s: lines add up to %d, order amount %d", m.Code, total, p.Total)
			}
			if m.Regime == TaxIncluded && tax != p.Tax {
				t.Fatalf("%s: line tax adds up to %d, order tax %d", m.Code, tax, p.Tax)
			}
			if goods != len(c.Items) {
				t.Fatalf("%s: %d goods lines for %d items", m.Code, goods, len(c.Items))
			}
		}
	}
}

// TestHashFollowsTheOrder: the same cart gives the same hash; another
// quantity, market or language another.
func TestHashFollowsTheOrder(t *testing.T) {
	t.Parallel()
	cat := DefaultCatalog()
	gb, _ := LookupMarket("GB")
	se, _ := LookupMarket("SE")
	hash := func(c Cart, m Market, locale string) string {
		t.Helper()
		p, err := Price(c, m, locale, cat)
		if err != nil {
			t.Fatal(err)
		}
		return p.Hash()
	}
	cart := Cart{Items: []Item{{ProductID: "stoneware-mug", Quantity: 2}}}
	more := Cart{Items: []Item{{ProductID: "stoneware-mug", Quantity: 3}}}
	base := hash(cart, gb, "en-GB")
	if hash(cart, gb, "en-GB") != base {
		t.Error("the same cart hashes differently")
	}
	if hash(more, gb, "en-GB") == base {
		t.Error("another quantity, the same hash")
	}
	if hash(cart, se, "sv-SE") == base {
		t.Error("another market, the same hash")
	}
	if hash(cart, se, "en-SE") == hash(cart, se, "sv-SE") {
		t.Error("another language, the same hash")
	}
}
