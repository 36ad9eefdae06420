package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/fikaandform/storefront/internal/shopclient"
)

// TestShopClientFillsACart: the client the load test and other tests drive
// the shop with adds products one after another as a browser does. The
// first add starts the session and its token; each later add must carry
// that token, taken from the cart page the add leads to. (It did not: the
// second and third adds were refused, and the load test's "three-item
// cart" held one.)
func TestShopClientFillsACart(t *testing.T) {
	base := runShop(t, map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/shop.db", "LOG_LEVEL": "warn"}, "-addr", "127.0.0.1:0")
	c := shopclient.New(nil, 10*time.Second)
	if _, err := c.Get(base + "/"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"stoneware-mug", "house-blend", "linen-notebook"} {
		if err := c.Add(base, p); err != nil {
			t.Fatalf("adding %s: %v", p, err)
		}
	}
	page, err := c.Get(base + "/cart")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`data-testid="cart-count"[^>]*>(\d+)<`).FindStringSubmatch(page); m == nil || m[1] != "3" {
		t.Errorf("the cart shows %v items, want 3", m)
	}
}
