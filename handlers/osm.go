package handlers

import (
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/views"
)

// Klarna's on-site messaging: the documented <klarna-placement> tag on the
// product and cart pages, filled by Klarna's web SDK (or, with the
// simulator, by its stand-in), with the amount in minor units and the
// page's locale. Without a script (Klarna modes without KLARNA_CLIENT_ID)
// there is no placement at all.

// OSM is where Klarna's on-site messaging library comes from.
type OSM struct {
	// Script is the library's URL: Klarna's
	// https://js.klarna.com/web-sdk/v1/klarna.js, or the simulator's
	// stand-in. Empty turns on-site messaging off.
	Script string
	// ClientID is the merchant's client identifier (KLARNA_CLIENT_ID).
	ClientID string
	// Environment is "playground" or "production" for Klarna's library;
	// empty for the simulator's.
	Environment string
}

// placementKey is Klarna's placement for product and cart pages.
const placementKey = "credit-promotion-badge"

// messaging is the library's script for a page with a placement; nil when
// on-site messaging is off.
func (h *Handler) messaging() *views.Messaging {
	o := h.cfg.OSM
	if o.Script == "" {
		return nil
	}
	return &views.Messaging{Script: o.Script, ClientID: o.ClientID, Environment: o.Environment}
}

// placement is an on-site message for an amount in the shopper's locale;
// unit, on a product page, is the price of one, which the page's script
// multiplies by the quantity.
func (h *Handler) placement(s *shopper, amount, unit int64) *views.Placement {
	if h.cfg.OSM.Script == "" {
		return nil
	}
	return &views.Placement{Key: placementKey, Locale: s.Locale, Amount: amount, UnitAmount: unit}
}

// rhythm says a subscription's plan in the page's language: "every month".
func (h *Handler) rhythm(s *shopper, p shop.Plan) string {
	return s.loc.T("plan.every_"+p.Interval, "Count", p.IntervalCount)
}

// KlarnaOSM is Klarna's own on-site messaging library for a client
// identifier in an environment ("playground" or "production"): no
// placements without an identifier. Its hosts are those of KlarnaCSP, which
// the payment widget needs already (docs/SECURITY.md).
func KlarnaOSM(clientID, environment string) OSM {
	if clientID == "" {
		return OSM{}
	}
	return OSM{Script: "https://js.klarna.com/web-sdk/v1/klarna.js", ClientID: clientID, Environment: environment}
}
