package shop

import (
	"fmt"
	"testing"
)

// BenchmarkPrice prices carts of 1 to 1000 lines (beyond the shop's own
// 25-line cap, to show how pricing scales toward Klarna's 1000-line limit).
func BenchmarkPrice(b *testing.B) {
	var products []Product
	for i := range 1000 {
		tax := Standard
		if i%3 == 0 {
			tax = Reduced
		}
		products = append(products, Product{ID: fmt.Sprintf("p%04d", i), Name: fmt.Sprintf("Product %d", i), Category: "Bench",
			Art: "mug.svg", Tax: tax, Prices: prices(1000+int64(i), 12900, 1190, 1400, 1900)})
	}
	cat := NewCatalog(products)
	for _, code := range []string{"GB", "US"} {
		m, _ := LookupMarket(code)
		for _, n := range []int{1, 10, 100, 1000} {
			c := Cart{Discount: "FIKA10"}
			for i := range n {
				c.Items = append(c.Items, Item{ProductID: products[i].ID, Quantity: 1 + i%5})
			}
			b.Run(fmt.Sprintf("%s/lines=%d", code, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Price(c, m, m.Locale(), cat); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
