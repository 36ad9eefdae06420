package shop

import (
	"fmt"
	"sort"
)

// TaxClass selects a market's standard or reduced rate.
type TaxClass int

// Tax classes.
const (
	Standard TaxClass = iota
	Reduced           // food and books
)

// Product is something the shop sells. Prices are minor units per currency:
// tax included for VAT/GST markets, before tax for the US.
type Product struct {
	ID          string
	Name        string
	Category    string
	Summary     string
	Description string
	Art         string // file under static/art/
	Tax         TaxClass
	Prices      map[string]int64
	Brand       string
	// Plan makes the product a subscription, charged again every interval
	// with a Klarna customer token.
	Plan *Plan
	// Digital goods are delivered at once (a download): they go to Klarna
	// as "digital" lines, need no shipping, and may be captured when the
	// order is created (see orders.Policy).
	Digital bool
	// Texts are the product's words in other languages, by language code
	// (see In); Name, Summary and Description are English.
	Texts map[string]Text
}

// Plan is a subscription's rhythm, in Klarna's terms.
type Plan struct {
	Name          string
	Interval      string // DAY, WEEK, MONTH or YEAR
	IntervalCount int
}

// Describe says the rhythm in words: "every month", "every 2 weeks".
func (p Plan) Describe() string {
	unit := map[string]string{"DAY": "day", "WEEK": "week", "MONTH": "month", "YEAR": "year"}[p.Interval]
	if p.IntervalCount == 1 {
		return "every " + unit
	}
	return fmt.Sprintf("every %d %ss", p.IntervalCount, unit)
}

// Price returns the product's price in a currency.
func (p Product) Price(cur string) (int64, bool) {
	v, ok := p.Prices[cur]
	return v, ok
}

// Catalog is the shop's product list.
type Catalog struct {
	byID       map[string]Product
	order      []Product
	categories []string // sorted, computed once: every catalog page lists them
}

// NewCatalog indexes products; the order given is the display order.
func NewCatalog(products []Product) *Catalog {
	c := &Catalog{byID: make(map[string]Product, len(products)), order: products}
	seen := map[string]bool{}
	for _, p := range products {
		c.byID[p.ID] = p
		if !seen[p.Category] {
			seen[p.Category] = true
			c.categories = append(c.categories, p.Category)
		}
	}
	sort.Strings(c.categories)
	return c
}

// Product returns a product by id.
func (c *Catalog) Product(id string) (Product, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// Products returns all products in display order, optionally only one
// category.
func (c *Catalog) Products(category string) []Product {
	if category == "" {
		return c.order
	}
	var out []Product
	for _, p := range c.order {
		if p.Category == category {
			out = append(out, p)
		}
	}
	return out
}

// Categories returns the category names, sorted. The slice is shared: do
// not modify it.
func (c *Catalog) Categories() []string { return c.categories }

func prices(gbp, sek, eur, usd, aud int64) map[string]int64 {
	return map[string]int64{"GBP": gbp, "SEK": sek, "EUR": eur, "USD": usd, "AUD": aud}
}

// DefaultCatalog is the demo shop's range: a small coffee-and-kitchen
// brand, "Fika & Form".
func DefaultCatalog() *Catalog {
	return NewCatalog(translated([]Product{
		{ID: "stoneware-mug", Name: "Stoneware mug", Category: "Kitchen", Brand: "Fika & Form", Art: "mug.svg",
			Summary: "Hand-glazed, 350 ml, holds heat.", Tax: Standard, Prices: prices(1800, 22900, 1990, 1800, 3200),
			Description: "Thrown in small batches and glazed by hand in a speckled oat colour. Thick walls keep your coffee warm; the wide handle fits two fingers. Dishwasher safe."},
		{ID: "coffee-subscription", Name: "Monthly coffee delivery", Category: "Coffee", Brand: "Fika & Form", Art: "subscription.svg",
			Summary: "House blend at your door, every month.", Tax: Reduced, Prices: prices(1200, 14900, 1390, 1600, 2300),
			Plan:        &Plan{Name: "Fika & Form monthly coffee", Interval: "MONTH", IntervalCount: 1},
			Description: "A fresh 250 g bag of our house blend, roasted on Tuesday and posted on Wednesday, every month. Paid with Klarna each time; pause or cancel whenever you like."},
		{ID: "pour-over-kettle", Name: "Pour-over kettle", Category: "Coffee", Brand: "Fika & Form", Art: "kettle.svg",
			Summary: "Gooseneck spout for a steady pour.", Tax: Standard, Prices: prices(5900, 74900, 6900, 6500, 11900),
			Description: "A 0.9 litre stainless steel kettle with a slim gooseneck spout, so the water lands exactly where you aim. Works on gas, electric and induction hobs."},
		{ID: "ceramic-dripper", Name: "Ceramic dripper", Category: "Coffee", Brand: "Fika & Form", Art: "dripper.svg",
			Summary: "Spiral ribs, one-cup brewer.", Tax: Standard, Prices: prices(2400, 29900, 2700, 2600, 4500),
			Description: "A porcelain cone with spiral ribs that let the coffee breathe and drain evenly. Fits standard size 02 filters and sits on most mugs."},
		{ID: "house-blend", Name: "House blend beans, 250 g", Category: "Coffee", Brand: "Fika & Form", Art: "beans.svg",
			Summary: "Chocolate, hazelnut, a little cherry.", Tax: Reduced, Prices: prices(995, 12900, 1190, 1400, 1900),
			Description: "Our everyday espresso and filter blend: washed Colombian and natural Brazilian beans, roasted medium every Tuesday. Whole beans."},
		{ID: "oak-board", Name: "Oak serving board", Category: "Kitchen", Brand: "Fika & Form", Art: "board.svg",
			Summary: "Solid oak, oiled, 40 cm.", Tax: Standard, Prices: prices(4500, 54900, 4990, 5200, 8900),
			Description: "Cut from one piece of European oak and finished with food-safe oil. Big enough for a loaf and a board of cheese."},
		{ID: "linen-notebook", Name: "Linen notebook", Category: "Stationery", Brand: "Fika & Form", Art: "notebook.svg",
			Summary: "A5, 160 dotted pages.", Tax: Standard, Prices: prices(1400, 17900, 1590, 1600, 2800),
			Description: "Bound in washed linen with 160 pages of 100 g/m² dotted paper that takes fountain pen ink without bleeding. Lies flat."},
		{ID: "brass-pen", Name: "Brass pen", Category: "Stationery", Brand: "Fika & Form", Art: "pen.svg",
			Summary: "Solid brass, ages beautifully.", Tax: Standard, Prices: prices(3200, 39900, 3590, 3800, 6400),
			Description: "Machined from a single brass rod; takes standard G2 refills. It will darken and take on a patina the more you use it."},
		{ID: "coffee-book", Name: "The Slow Coffee Book", Category: "Stationery", Brand: "Fika & Form", Art: "book.svg",
			Summary: "Recipes and rituals, hardback.", Tax: Reduced, Prices: prices(2200, 27900, 2400, 2800, 4200),
			Description: "Forty recipes from Stockholm, Melbourne and Brooklyn, with notes on grind, water and patience. 208 pages, hardback."},
		{ID: "coffee-ebook", Name: "The Slow Coffee Book, e-book", Category: "Stationery", Brand: "Fika & Form", Art: "ebook.svg", Digital: true,
			Summary: "The same forty recipes, as EPUB and PDF.", Tax: Reduced, Prices: prices(1200, 14900, 1400, 1500, 2200),
			Description: "The whole of The Slow Coffee Book for your e-reader, tablet or phone: forty recipes and the notes on grind, water and patience, with the photographs. A download link arrives by e-mail as soon as you have paid; nothing is posted."},
		{ID: "wool-throw", Name: "Wool throw", Category: "Home", Brand: "Fika & Form", Art: "throw.svg",
			Summary: "Lambswool, 130 × 180 cm.", Tax: Standard, Prices: prices(8900, 109900, 9900, 11000, 17900),
			Description: "Woven in lambswool in a soft herringbone, with fringed ends. Warm enough for winter evenings, light enough for summer ones."},
	}))
}
