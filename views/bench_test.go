package views

import (
	"context"
	"io"
	"testing"

	"github.com/a-h/templ"
)

func base() Base {
	b := Base{Title: "Shop", Lang: "en", Path: "/", Market: "GB", CartCount: 3, CSRF: "0123456789abcdef", Mode: "Klarna simulator", ModeDetail: "region eu"}
	b.Markets = []MarketOption{{Code: "GB", Label: "United Kingdom · GBP", Selected: true}, {Code: "SE", Label: "Sweden · SEK"}}
	return b
}

func lines(n int) []CartLine {
	var out []CartLine
	for range n {
		out = append(out, CartLine{ID: "stoneware-mug", Name: "Stoneware mug", Art: "mug.svg", Quantity: 2, Unit: "£18.00", Total: "£36.00"})
	}
	return out
}

var summaryFixture = Summary{Merchandise: "£108.00", Discount: "£10.80", DiscountLabel: "10% off", Shipping: "£0.00", FreeShipping: true, Tax: "£16.20", TaxLabel: "Includes VAT", TaxIncluded: true, Total: "£97.20"}

func benchRender(b *testing.B, c templ.Component) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		if err := c.Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	var cards []ProductCard
	for range 10 {
		cards = append(cards, ProductCard{ID: "stoneware-mug", Name: "Stoneware mug", Summary: "Hand-glazed, 350 ml.", Price: "£18.00", Art: "mug.svg", Category: "Kitchen"})
	}
	b.Run("catalog", func(b *testing.B) {
		benchRender(b, CatalogView(CatalogPage{Base: base(), Categories: []Category{{"Coffee", "Coffee"}, {"Home", "Home"}, {"Kitchen", "Kitchen"}, {"Stationery", "Stationery"}}, Grid: ProductGrid(cards), TaxNote: "Prices include VAT."}))
	})
	b.Run("product grid", func(b *testing.B) {
		benchRender(b, ProductGrid(cards))
	})
	b.Run("product", func(b *testing.B) {
		benchRender(b, ProductView(ProductPage{Base: base(), ID: "stoneware-mug", Name: "Stoneware mug", Category: "Kitchen", Description: "Thrown in small batches.", Price: "£18.00", Art: "mug.svg", MaxQuantity: 99}))
	})
	b.Run("cart", func(b *testing.B) {
		benchRender(b, CartView(CartPage{Base: base(), Lines: lines(3), Summary: summaryFixture, MaxQuantity: 99}))
	})
	b.Run("checkout", func(b *testing.B) {
		benchRender(b, CheckoutView(CheckoutPage{Base: base(), Ref: "KS-ABCDEFGH", Lines: lines(3), Summary: summaryFixture, ClientToken: "eyJhbGciOiJFUzI1NiJ9.eyJzZXNzaW9uX2lkIjoieCJ9.sig",
			Categories: []PaymentCategory{{"pay_later", "Pay later", "/b.svg"}, {"pay_over_time", "Pay in 3 parts", "/c.svg"}}}))
	})
}
