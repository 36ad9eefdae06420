package shop

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"storefront/klarna"
)

// Line is a priced cart line.
type Line struct {
	Product   Product
	Quantity  int64
	UnitPrice int64 // tax included in VAT/GST markets, excluded in the US
	Discount  int64 // this line's share of the discount
	Total     int64 // Quantity*UnitPrice - Discount
	TaxRate   int64 // Klarna's scale: 2000 = 20%
	Tax       int64 // tax contained in Total (0 in the US)
}

// Priced is a cart priced for a market: what the shopper sees and exactly
// what Klarna receives. All amounts are minor units.
type Priced struct {
	Market       Market
	Locale       string
	Lines        []Line
	Merchandise  int64 // before discount
	Discount     int64 // total discount, positive
	DiscountCode *Discount
	Shipping     int64 // 0 when free
	FreeShipping bool
	SalesTax     int64 // US only: the sales_tax line
	Tax          int64 // order_tax_amount
	Total        int64 // order_amount
	OrderLines   []klarna.OrderLine
	// Plan is the subscription in the cart, if any: the checkout then asks
	// Klarna for a customer token too (intent buy_and_tokenize).
	Plan *Plan
}

// roundDiv divides a non-negative numerator, rounding halves up: the one
// rounding rule used for discounts and sales tax.
func roundDiv(num, den int64) int64 { return (num + den/2) / den }

// TaxIncludedIn is Klarna's formula for the tax inside a tax-inclusive
// amount, truncating toward zero like Klarna's own check.
func TaxIncludedIn(total, rate int64) int64 { return total - total*10000/(10000+rate) }

// Price turns a cart into Klarna order lines for a market. baseURL (the
// shop's public URL) makes product and image links; it may be empty.
func Price(cart Cart, m Market, locale string, cat *Catalog, baseURL string) (*Priced, error) {
	if !m.HasLocale(locale) {
		locale = m.Locale()
	}
	p := &Priced{Market: m, Locale: locale}
	var pct int64
	if cart.Discount != "" {
		d, ok := LookupDiscount(cart.Discount)
		if !ok {
			return nil, fmt.Errorf("pricing: unknown discount code %q", cart.Discount)
		}
		p.DiscountCode, pct = &d, d.Percent
	}
	for _, it := range cart.Items {
		prod, ok := cat.Product(it.ProductID)
		if !ok {
			return nil, fmt.Errorf("pricing: %w: %s", ErrUnknownProduct, it.ProductID)
		}
		// Klarna shows the lines in the session's language, as the page does.
		prod = prod.In(locale)
		unit, ok := prod.Price(m.Currency)
		if !ok {
			return nil, fmt.Errorf("pricing: %s has no %s price", prod.ID, m.Currency)
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			return nil, fmt.Errorf("pricing: %s: %w", prod.ID, ErrQuantity)
		}
		q := int64(it.Quantity)
		gross := q * unit
		l := Line{Product: prod, Quantity: q, UnitPrice: unit, Discount: roundDiv(gross*pct, 100)}
		l.Total = gross - l.Discount
		if m.Regime == TaxIncluded {
			l.TaxRate = m.Standard
			if prod.Tax == Reduced {
				l.TaxRate = m.Reduced
			}
			l.Tax = TaxIncludedIn(l.Total, l.TaxRate)
		}
		p.Lines = append(p.Lines, l)
		if prod.Plan != nil && p.Plan == nil {
			p.Plan = prod.Plan
		}
		p.Merchandise += gross
		p.Discount += l.Discount
		p.Total += l.Total
	}
	if len(p.Lines) > 0 {
		if p.Total >= m.FreeAbove || p.digitalOnly() {
			// A cart of downloads has nothing to post.
			p.FreeShipping = true
		} else {
			p.Shipping = m.Shipping
		}
	}
	p.Total += p.Shipping
	var shippingTax int64
	if m.Regime == TaxIncluded {
		shippingTax = TaxIncludedIn(p.Shipping, m.Standard)
	} else if len(p.Lines) > 0 {
		// US: sales tax on merchandise after discount plus shipping.
		p.SalesTax = roundDiv(p.Total*m.SalesTax, 10000)
		p.Tax = p.SalesTax
		p.Total += p.SalesTax
	}
	p.OrderLines = p.klarnaLines(baseURL, shippingTax)
	if m.Regime == TaxIncluded {
		// order_tax_amount is the sum of the lines as sent, so that it
		// matches them exactly whatever the rounding of the discount lines.
		for _, l := range p.OrderLines {
			p.Tax += *l.TotalTaxAmount
		}
	}
	return p, nil
}

// digitalOnly reports whether every product in the cart is digital.
func (p *Priced) digitalOnly() bool {
	for _, l := range p.Lines {
		if !l.Product.Digital {
			return false
		}
	}
	return len(p.Lines) > 0
}

func (p *Priced) klarnaLines(baseURL string, shippingTax int64) []klarna.OrderLine {
	vat := p.Market.Regime == TaxIncluded
	base := strings.TrimRight(baseURL, "/")
	var out []klarna.OrderLine
	// Products go at full price; the discount follows as negative lines,
	// one per tax rate, so that each carries exactly the tax it removes.
	discountByRate := map[int64]int64{}
	var rates []int64
	for _, l := range p.Lines {
		gross := l.Quantity * l.UnitPrice
		typ := klarna.LinePhysical
		if l.Product.Digital {
			typ = klarna.LineDigital
		}
		ol := klarna.OrderLine{
			Type: typ, Reference: l.Product.ID, Name: l.Product.Name,
			Quantity: l.Quantity, QuantityUnit: "pcs", UnitPrice: l.UnitPrice, TotalAmount: gross,
			ProductIdentifiers: &klarna.ProductIdentifiers{Brand: l.Product.Brand, CategoryPath: l.Product.Category},
		}
		if vat {
			ol.TaxRate, ol.TotalTaxAmount = klarna.Int64(l.TaxRate), klarna.Int64(TaxIncludedIn(gross, l.TaxRate))
		}
		if pl := l.Product.Plan; pl != nil {
			ol.Subscription = &klarna.Subscription{Name: pl.Name, Interval: klarna.SubscriptionInterval(pl.Interval), IntervalCount: pl.IntervalCount}
		}
		if base != "" {
			ol.ProductURL = base + "/products/" + l.Product.ID
			ol.ImageURL = base + "/static/art/" + l.Product.Art
		}
		out = append(out, ol)
		if l.Discount > 0 {
			if _, seen := discountByRate[l.TaxRate]; !seen {
				rates = append(rates, l.TaxRate)
			}
			discountByRate[l.TaxRate] += l.Discount
		}
	}
	for _, rate := range rates {
		amount := -discountByRate[rate]
		name := p.DiscountCode.LabelIn(p.Locale)
		if vat && len(rates) > 1 {
			name += fmt.Sprintf(" (%d%% %s)", rate/100, p.Market.TaxName)
		}
		ol := klarna.OrderLine{Type: klarna.LineDiscount, Reference: p.DiscountCode.Code, Name: name, Quantity: 1, UnitPrice: amount, TotalAmount: amount}
		if vat {
			ol.TaxRate, ol.TotalTaxAmount = klarna.Int64(rate), klarna.Int64(TaxIncludedIn(amount, rate))
		}
		out = append(out, ol)
	}
	if p.Shipping > 0 {
		ol := klarna.OrderLine{Type: klarna.LineShippingFee, Reference: "shipping", Name: lineName("shipping", p.Locale), Quantity: 1, UnitPrice: p.Shipping, TotalAmount: p.Shipping}
		if vat {
			ol.TaxRate, ol.TotalTaxAmount = klarna.Int64(p.Market.Standard), klarna.Int64(shippingTax)
		}
		out = append(out, ol)
	}
	if !vat && len(p.Lines) > 0 {
		out = append(out, klarna.OrderLine{Type: klarna.LineSalesTax, Reference: "sales-tax", Name: lineName("sales_tax", p.Locale), Quantity: 1, UnitPrice: p.SalesTax, TotalAmount: p.SalesTax})
	}
	return out
}

// Hash identifies what Klarna would be told: two pricings with the same
// hash need no session update, and an authorization made for one hash is
// valid only for that hash.
func (p *Priced) Hash() string {
	b, _ := json.Marshal(struct {
		Country, Currency, Locale string
		Amount, Tax               int64
		Lines                     []klarna.OrderLine
	}{p.Market.Code, p.Market.Currency, p.Locale, p.Total, p.Tax, p.OrderLines})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
