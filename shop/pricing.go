package shop

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
// what the payment is for. All amounts are minor units.
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
	// OrderLines are the order as it is charged, line by line; their
	// totals add up to Total and their tax to Tax.
	OrderLines []OrderLine
	// Plan is the subscription in the cart, if any: the checkout then asks
	// Klarna for a customer token too (intent buy_and_tokenize).
	Plan *Plan
}

// LineKind is what an order line charges for.
type LineKind string

// Kinds of order lines.
const (
	LinePhysical LineKind = "physical"  // goods that are posted
	LineDigital  LineKind = "digital"   // goods delivered at once (a download)
	LineDiscount LineKind = "discount"  // a discount code's share, negative
	LineShipping LineKind = "shipping"  // the shipping fee
	LineSalesTax LineKind = "sales_tax" // the tax added on top (TaxAdded)
)

// OrderLine is one line of the order as it is charged: goods at full
// price, then the discount (negative, one line per tax rate, so that each
// removes exactly the tax it covers), shipping, and in a TaxAdded market
// the sales tax. Pricing decides every field; a payment adapter (package
// checkout for Klarna) only translates them.
type OrderLine struct {
	Kind      LineKind
	Reference string // product id, discount code, "shipping" or "sales-tax"
	Name      string
	Quantity  int64
	UnitPrice int64
	Total     int64 // Quantity × UnitPrice
	// TaxRate (2000 = 20%) and Tax, the tax contained in Total, are set in
	// TaxIncluded markets; in TaxAdded markets lines carry no tax and the
	// LineSalesTax line adds it.
	TaxRate int64
	Tax     int64
	// Brand, Category and Art (a file under static/art/) describe the
	// product of a goods line; Plan is its subscription, if it is one.
	Brand, Category, Art string
	Plan                 *Plan
}

// Goods reports whether the line is a product.
func (l OrderLine) Goods() bool { return l.Kind == LinePhysical || l.Kind == LineDigital }

// roundDiv divides a non-negative numerator, rounding halves up: the one
// rounding rule used for discounts and sales tax.
func roundDiv(num, den int64) int64 { return (num + den/2) / den }

// TaxIncludedIn is Klarna's formula for the tax inside a tax-inclusive
// amount, truncating toward zero like Klarna's own check.
func TaxIncludedIn(total, rate int64) int64 { return total - total*10000/(10000+rate) }

// Price turns a cart into the order lines and amounts charged in a market.
func Price(cart Cart, m Market, locale string, cat *Catalog) (*Priced, error) {
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
	p.OrderLines = p.orderLines(shippingTax)
	if m.Regime == TaxIncluded {
		// order_tax_amount is the sum of the lines, so that it matches them
		// exactly whatever the rounding of the discount lines.
		for _, l := range p.OrderLines {
			p.Tax += l.Tax
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

// orderLines lists the goods at full price, then the discount, one
// negative line per tax rate, then shipping and, where tax is added, the
// sales tax.
func (p *Priced) orderLines(shippingTax int64) []OrderLine {
	vat := p.Market.Regime == TaxIncluded
	var out []OrderLine
	discountByRate := map[int64]int64{}
	var rates []int64
	for _, l := range p.Lines {
		gross := l.Quantity * l.UnitPrice
		ol := OrderLine{
			Kind: LinePhysical, Reference: l.Product.ID, Name: l.Product.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Total: gross,
			Brand: l.Product.Brand, Category: l.Product.Category, Art: l.Product.Art, Plan: l.Product.Plan,
		}
		if l.Product.Digital {
			ol.Kind = LineDigital
		}
		if vat {
			ol.TaxRate, ol.Tax = l.TaxRate, TaxIncludedIn(gross, l.TaxRate)
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
		ol := OrderLine{Kind: LineDiscount, Reference: p.DiscountCode.Code, Name: name, Quantity: 1, UnitPrice: amount, Total: amount}
		if vat {
			ol.TaxRate, ol.Tax = rate, TaxIncludedIn(amount, rate)
		}
		out = append(out, ol)
	}
	if p.Shipping > 0 {
		ol := OrderLine{Kind: LineShipping, Reference: "shipping", Name: lineName("shipping", p.Locale), Quantity: 1, UnitPrice: p.Shipping, Total: p.Shipping}
		if vat {
			ol.TaxRate, ol.Tax = p.Market.Standard, shippingTax
		}
		out = append(out, ol)
	}
	if !vat && len(p.Lines) > 0 {
		out = append(out, OrderLine{Kind: LineSalesTax, Reference: "sales-tax", Name: lineName("sales_tax", p.Locale), Quantity: 1, UnitPrice: p.SalesTax, Total: p.SalesTax})
	}
	return out
}

// Hash identifies what the shopper would pay for: the market, the language,
// the amounts and every order line. Two pricings with the same hash need no
// Klarna session update, and an authorization made for one hash is valid
// only for that hash.
func (p *Priced) Hash() string {
	b, _ := json.Marshal(struct {
		Country, Currency, Locale string
		Amount, Tax               int64
		Lines                     []OrderLine
	}{p.Market.Code, p.Market.Currency, p.Locale, p.Total, p.Tax, p.OrderLines})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
