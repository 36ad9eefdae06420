// Package shop is what the shop sells and for how much: the catalog, the
// markets with their currencies, languages and tax rules, the shopper's
// cart, and pricing, which turns a cart into the exact order lines and
// amounts charged in a market.
//
// Amounts are int64 minor units from the catalog to the payment; no float
// touches them. Prices always come from the catalog: a cart holds product
// ids and quantities only, never an amount the browser could change.
//
// The package knows no HTTP, no storage and no payment provider: it decides
// every order line (OrderLine), and package checkout translates the lines
// into Klarna's. Links to a product's page and picture are the web layer's
// (handlers.URLs).
package shop
