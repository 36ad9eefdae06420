package checkout

import (
	"encoding/json"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/store"
)

// PaymentCategory is a way to pay that Klarna offered for a checkout's
// session, such as pay later or pay in parts: the checkout page shows the
// widget once per category.
type PaymentCategory struct {
	ID    string // Klarna's identifier: pay_later, pay_over_time, pay_now …
	Name  string // Klarna's name for it, in the session's language
	Badge string // the URL of its badge; empty without one
}

// PaymentCategories are the payment categories Klarna offered for c's
// session, in Klarna's order; none for a checkout without a session (a
// subscription renewal).
func PaymentCategories(c *store.Checkout) []PaymentCategory {
	var cats []klarna.PaymentMethodCategory
	if json.Unmarshal([]byte(c.Categories), &cats) != nil {
		return nil
	}
	out := make([]PaymentCategory, 0, len(cats))
	for _, pc := range cats {
		cat := PaymentCategory{ID: pc.Identifier, Name: pc.Name}
		if pc.AssetURLs != nil {
			cat.Badge = pc.AssetURLs.Standard
		}
		out = append(out, cat)
	}
	return out
}

// encodeCategories keeps the categories Klarna offered on the checkout row
// (store.Checkout.Categories) as Klarna sent them; PaymentCategories reads
// them back.
func encodeCategories(cats []klarna.PaymentMethodCategory) (string, error) {
	b, err := json.Marshal(cats)
	return string(b), err
}
