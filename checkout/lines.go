package checkout

import (
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
)

// ProductLinks are the pages Klarna links an order line to: the product's
// own and its picture.
type ProductLinks interface {
	ProductPage(id string) string
	ProductImage(art string) string
}

// OrderLines translates a priced cart's order lines into Klarna's: goods
// by the piece, with their brand, category and subscription and, when
// links is not nil, links to the product's page and picture; the tax on
// each line where prices include it (Klarna then checks each line's tax),
// and on the sales_tax line alone where it is added.
func OrderLines(p *shop.Priced, links ProductLinks) []klarna.OrderLine {
	vat := p.Market.Regime == shop.TaxIncluded
	var out []klarna.OrderLine
	for _, l := range p.OrderLines {
		ol := klarna.OrderLine{Type: lineTypes[l.Kind], Reference: l.Reference, Name: l.Name,
			Quantity: l.Quantity, UnitPrice: l.UnitPrice, TotalAmount: l.Total}
		if vat {
			ol.TaxRate, ol.TotalTaxAmount = klarna.Int64(l.TaxRate), klarna.Int64(l.Tax)
		}
		if l.Goods() {
			ol.QuantityUnit = "pcs"
			ol.ProductIdentifiers = &klarna.ProductIdentifiers{Brand: l.Brand, CategoryPath: l.Category}
			if links != nil {
				ol.ProductURL, ol.ImageURL = links.ProductPage(l.Reference), links.ProductImage(l.Art)
			}
		}
		if pl := l.Plan; pl != nil {
			ol.Subscription = subscription(pl)
		}
		out = append(out, ol)
	}
	return out
}

// lineTypes are Klarna's names for the kinds of order lines.
var lineTypes = map[shop.LineKind]klarna.LineType{
	shop.LinePhysical: klarna.LinePhysical,
	shop.LineDigital:  klarna.LineDigital,
	shop.LineDiscount: klarna.LineDiscount,
	shop.LineShipping: klarna.LineShippingFee,
	shop.LineSalesTax: klarna.LineSalesTax,
}

// subscription is a plan as Klarna's order lines carry it.
func subscription(p *shop.Plan) *klarna.Subscription {
	return &klarna.Subscription{Name: p.Name, Interval: klarna.SubscriptionInterval(p.Interval), IntervalCount: p.IntervalCount}
}
