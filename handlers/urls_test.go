package handlers_test

import (
	"testing"

	"github.com/fikaandform/storefront/handlers"
)

// TestURLs: the addresses Klarna is given and the links of order lines,
// built from BASE_URL and the routes.
func TestURLs(t *testing.T) {
	t.Parallel()
	u := handlers.NewURLs("https://shop.example/")
	for _, tt := range []struct{ got, want string }{
		{u.Confirmation("KS-7F3K9QXM"), "https://shop.example/confirmation/KS-7F3K9QXM"},
		{u.AuthorizationCallback("KS-7F3K9QXM", "c0ffee"), "https://shop.example/klarna/authorization?checkout=KS-7F3K9QXM&secret=c0ffee"},
		{u.NotificationCallback("KS-7F3K9QXM", "c0ffee"), "https://shop.example/klarna/notification?checkout=KS-7F3K9QXM&secret=c0ffee"},
		{u.ProductPage("stoneware-mug"), "https://shop.example/products/stoneware-mug"},
		{u.ProductImage("mug.svg"), "https://shop.example/static/art/mug.svg"},
		{u.ProductPage("a b/c"), "https://shop.example/products/a%20b%2Fc"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}
