package handlers

import (
	"strings"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/views"
)

// problemReporter is the part of the checkout service that remembers Klarna
// problems for the operator (checkout.Service has it; a checkout without it
// shows none).
type problemReporter interface {
	Problems() []checkout.Problem
}

// klarnaAttention is what the orders area shows the operator about Klarna: recent
// problems that need them, with what to do, and the markets not offered.
func (h *Handler) klarnaAttention() views.Attention {
	a := views.Attention{Notes: h.cfg.MarketNotes}
	pr, ok := h.checkout.(problemReporter)
	if !ok {
		return a
	}
	for _, p := range pr.Problems() {
		a.Items = append(a.Items, attentionItem(p))
	}
	return a
}

func attentionItem(p checkout.Problem) views.AttentionItem {
	it := views.AttentionItem{Class: string(p.Class), Detail: p.Detail, CorrelationID: p.CorrelationID, Count: p.Count,
		Last: p.Last.Format("2006-01-02 15:04:05")}
	name, currency := p.Market, ""
	if m, ok := shop.LookupMarket(p.Market); ok {
		name, currency = m.Name, m.Currency
	}
	region, _ := klarna.RegionOf(p.Market)
	r := strings.ToUpper(string(region))
	switch p.Class {
	case checkout.ClassCredentials:
		it.Title = "Klarna refused the API credentials for " + name + " (region " + string(region) + ", " + region.Name() + ")"
		it.Advice = "Check KLARNA_" + r + "_USERNAME and KLARNA_" + r + "_PASSWORD (or KLARNA_USERNAME and KLARNA_PASSWORD with KLARNA_REGION=" + string(region) +
			"): they must be API credentials from Klarna's " + region.Name() + " portal, for this environment (playground and production credentials differ), and the account must be active. " +
			"Shoppers in this region cannot pay until then."
	case checkout.ClassMarket:
		if strings.Contains(p.Detail, "no account for region") {
			it.Title = "No Klarna account for " + name + " (region " + string(region) + ")"
			it.Advice = "Set KLARNA_" + r + "_USERNAME and KLARNA_" + r + "_PASSWORD to offer it, or leave it out; it is not offered meanwhile."
			break
		}
		it.Title = "Klarna does not take " + name + " (" + currency + ") on this account"
		it.Advice = "Ask Klarna to add " + name + " and " + currency + " to the contract of your " + region.Name() + " account (each purchase country needs it), " +
			"or check that its calls go to the " + region.Name() + " host."
	default:
		it.Title = "Klarna refused a request as malformed (" + p.Op + ", " + name + ")"
		it.Advice = "A fault in the shop: the log line with this correlation id has the request's shape. Shoppers see an apology and nothing is charged."
	}
	return it
}
