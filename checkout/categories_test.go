package checkout_test

import (
	"slices"
	"testing"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/store"
)

// TestPaymentCategories reads the categories Klarna offered, as kept on the
// checkout row, without the caller knowing Klarna's format.
func TestPaymentCategories(t *testing.T) {
	t.Parallel()
	c := &store.Checkout{Categories: `[{"identifier":"pay_later","name":"Pay later","asset_urls":{"descriptive":"https://x/d.svg","standard":"https://x/s.svg"}},` +
		`{"identifier":"pay_now","name":"Pay now"}]`}
	want := []checkout.PaymentCategory{{ID: "pay_later", Name: "Pay later", Badge: "https://x/s.svg"}, {ID: "pay_now", Name: "Pay now"}}
	if got := checkout.PaymentCategories(c); !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, none := range []string{"[]", ""} {
		if got := checkout.PaymentCategories(&store.Checkout{Categories: none}); len(got) != 0 {
			t.Errorf("%q: %+v", none, got)
		}
	}
}
