package checkout

import (
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
)

// ClientFor picks the Klarna client for a purchase country: the client of
// the Klarna region that serves it, with that region's credentials. An
// error means no account serves the country (klarna.IsNoAccount); nothing
// was sent. Every Klarna call of a checkout uses its market's client, the
// background ones too (callbacks, recovery, review checks), which find the
// market on the stored checkout.
type ClientFor func(country string) (Klarna, error)

// OneClient serves every market with k: tests, and a shop with an account
// in one Klarna region whose markets are all in that region.
func OneClient(k Klarna) ClientFor {
	return func(string) (Klarna, error) { return k, nil }
}

// ByRegion picks each market's client from cs, one per Klarna region.
func ByRegion(cs *klarna.Clients) ClientFor {
	return func(country string) (Klarna, error) {
		c, err := cs.For(country)
		if err != nil {
			return nil, err // not a typed nil inside the interface
		}
		return c, nil
	}
}

// NewForMarkets builds a Service that calls Klarna through the client of
// each checkout's market (see ClientFor). New is NewForMarkets with one
// client for every market.
func NewForMarkets(clients ClientFor, st store.Store, cat *shop.Catalog, urls URLs, o Options) *Service {
	svc := New(nil, st, cat, urls, o)
	svc.clients = clients
	return svc
}

// client is the Klarna client of a market (a checkout's Market, a
// country code).
func (s *Service) client(market string) (Klarna, error) {
	return s.clients(market)
}
