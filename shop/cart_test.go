package shop

import (
	"strings"
	"testing"
)

func TestCart(t *testing.T) {
	t.Parallel()
	cat := DefaultCatalog()
	var c Cart
	if err := c.Add(cat, "stoneware-mug", 2); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(cat, "stoneware-mug", 98); err != ErrQuantity {
		t.Errorf("over 99: %v", err)
	}
	if err := c.Add(cat, "nope", 1); err != ErrUnknownProduct {
		t.Errorf("unknown: %v", err)
	}
	if err := c.Add(cat, "house-blend", 0); err != ErrQuantity {
		t.Errorf("zero: %v", err)
	}
	c.Add(cat, "house-blend", 1)
	c.Discount = "FIKA10"
	enc := c.Encode()
	if enc != "stoneware-mug:2,house-blend:1|FIKA10" {
		t.Errorf("encode = %q", enc)
	}
	back, err := DecodeCart(enc, cat)
	if err != nil || back.Encode() != enc {
		t.Errorf("round trip: %v %v", back, err)
	}
	for _, bad := range []string{"mug", "stoneware-mug:0", "stoneware-mug:100", "stoneware-mug:-1", "ghost:1", "stoneware-mug:1,stoneware-mug:1", "stoneware-mug:1|BOGUS", "stoneware-mug:1e3"} {
		if _, err := DecodeCart(bad, cat); err == nil {
			t.Errorf("DecodeCart(%q) accepted", bad)
		}
	}
	c.Set("stoneware-mug", 0)
	if c.Count() != 1 {
		t.Errorf("after remove: %+v", c)
	}
}

// FuzzDecodeCart feeds arbitrary cookie contents to the cart decoder: it
// must never panic, and whatever it accepts must be a valid cart that
// encodes back to an equivalent string.
func FuzzDecodeCart(f *testing.F) {
	for _, s := range []string{"", "stoneware-mug:2", "stoneware-mug:2,house-blend:1|FIKA10", "|WELCOME", "x:1", "stoneware-mug:99,wool-throw:1",
		"stoneware-mug:1,stoneware-mug:1", "stoneware-mug:0", "::::", "stoneware-mug:1|fika10", strings.Repeat("a", 3000)} {
		f.Add(s)
	}
	cat := DefaultCatalog()
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCart(s, cat)
		if err != nil {
			return
		}
		if len(c.Items) > MaxLines {
			t.Fatalf("%d lines accepted", len(c.Items))
		}
		for _, it := range c.Items {
			if _, ok := cat.Product(it.ProductID); !ok || it.Quantity < 1 || it.Quantity > MaxQuantity {
				t.Fatalf("bad item accepted: %+v", it)
			}
		}
		again, err := DecodeCart(c.Encode(), cat)
		if err != nil || again.Encode() != c.Encode() {
			t.Fatalf("round trip of %q: %v", c.Encode(), err)
		}
	})
}
