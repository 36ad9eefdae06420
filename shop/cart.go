package shop

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Cart limits. They keep the cookie small and Klarna's 1000-line limit far
// away.
const (
	MaxQuantity = 99
	MaxLines    = 25
)

// Item is one product in the cart.
type Item struct {
	ProductID string
	Quantity  int
}

// Cart is what the shopper has chosen. It holds ids and quantities only:
// prices always come from the catalog, never from the browser.
type Cart struct {
	Items    []Item
	Discount string // an accepted discount code, upper case
}

// ErrQuantity and friends are what a shopper can fix.
var (
	ErrQuantity       = fmt.Errorf("quantity must be between 1 and %d", MaxQuantity)
	ErrUnknownProduct = errors.New("that product is not in our catalog")
	ErrTooManyLines   = fmt.Errorf("a cart holds at most %d different products", MaxLines)
)

// Count is the number of articles in the cart.
func (c *Cart) Count() int {
	n := 0
	for _, it := range c.Items {
		n += it.Quantity
	}
	return n
}

// Empty reports whether the cart has no items.
func (c *Cart) Empty() bool { return len(c.Items) == 0 }

// Add puts qty more of a product in the cart, up to MaxQuantity.
func (c *Cart) Add(cat *Catalog, id string, qty int) error {
	if _, ok := cat.Product(id); !ok {
		return ErrUnknownProduct
	}
	if qty < 1 || qty > MaxQuantity {
		return ErrQuantity
	}
	for i := range c.Items {
		if c.Items[i].ProductID == id {
			if c.Items[i].Quantity+qty > MaxQuantity {
				return ErrQuantity
			}
			c.Items[i].Quantity += qty
			return nil
		}
	}
	if len(c.Items) >= MaxLines {
		return ErrTooManyLines
	}
	c.Items = append(c.Items, Item{ProductID: id, Quantity: qty})
	return nil
}

// Set changes a product's quantity; 0 removes it.
func (c *Cart) Set(id string, qty int) error {
	if qty < 0 || qty > MaxQuantity {
		return ErrQuantity
	}
	for i := range c.Items {
		if c.Items[i].ProductID == id {
			if qty == 0 {
				c.Items = append(c.Items[:i], c.Items[i+1:]...)
			} else {
				c.Items[i].Quantity = qty
			}
			return nil
		}
	}
	return ErrUnknownProduct
}

// Encode writes the cart compactly for the cookie: "mug:2,kettle:1|CODE".
func (c *Cart) Encode() string {
	var b strings.Builder
	for i, it := range c.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(it.ProductID)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(it.Quantity))
	}
	if c.Discount != "" {
		b.WriteByte('|')
		b.WriteString(c.Discount)
	}
	return b.String()
}

// DecodeCart reads Encode's format, checking every item against the catalog.
// Anything it cannot trust is an error; the caller starts an empty cart.
func DecodeCart(s string, cat *Catalog) (Cart, error) {
	var c Cart
	if s == "" {
		return c, nil
	}
	if len(s) > 2048 {
		return Cart{}, errors.New("cart too large")
	}
	items, code, _ := strings.Cut(s, "|")
	if code != "" {
		if _, ok := LookupDiscount(code); !ok {
			return Cart{}, fmt.Errorf("unknown discount code %q", code)
		}
		c.Discount = code
	}
	if items == "" {
		return c, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(items, ",") {
		id, q, ok := strings.Cut(part, ":")
		if !ok {
			return Cart{}, fmt.Errorf("malformed cart item %q", part)
		}
		qty, err := strconv.Atoi(q)
		if err != nil || qty < 1 || qty > MaxQuantity {
			return Cart{}, fmt.Errorf("cart item %q: %w", part, ErrQuantity)
		}
		if _, ok := cat.Product(id); !ok || seen[id] {
			return Cart{}, fmt.Errorf("cart item %q: %w", part, ErrUnknownProduct)
		}
		seen[id] = true
		c.Items = append(c.Items, Item{ProductID: id, Quantity: qty})
	}
	if len(c.Items) > MaxLines {
		return Cart{}, ErrTooManyLines
	}
	return c, nil
}

// Discount is a percentage discount code.
type Discount struct {
	Code    string
	Percent int64 // whole percent, 1..100
	Label   string
	// Labels are the label in other languages (see LabelIn).
	Labels map[string]string
}

var discounts = map[string]Discount{
	"FIKA10":  {Code: "FIKA10", Percent: 10, Label: "10% off everything", Labels: discountLabels["FIKA10"]},
	"WELCOME": {Code: "WELCOME", Percent: 15, Label: "15% welcome discount", Labels: discountLabels["WELCOME"]},
}

// LookupDiscount finds a discount code, ignoring case and spaces.
func LookupDiscount(code string) (Discount, bool) {
	d, ok := discounts[strings.ToUpper(strings.TrimSpace(code))]
	return d, ok
}
