package handlers

import (
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/shop"
)

// markets are the markets the shop offers: those whose Klarna region has
// an account (Config.Markets). Others are not in the switcher, not taken
// from a form or a cookie, and never reach the checkout.
type markets struct {
	offered map[string]shop.Market
	list    []shop.Market // offered, sorted by name
	def     shop.Market
}

func newMarkets(codes []string) markets {
	m := markets{offered: map[string]shop.Market{}}
	var list []shop.Market
	for _, mk := range shop.Markets() {
		if len(codes) == 0 || slices.Contains(codes, mk.Code) {
			m.offered[mk.Code] = mk
			list = append(list, mk)
		}
	}
	if len(list) == 0 {
		panic("handlers: none of the configured markets exists: " + strings.Join(codes, ", "))
	}
	m.list, m.def = list, list[0]
	if d, ok := m.offered[shop.DefaultMarket]; ok {
		m.def = d
	}
	return m
}

// lookup returns an offered market by country code.
func (m markets) lookup(code string) (shop.Market, bool) {
	mk, ok := m.offered[code]
	return mk, ok
}

// builtInSimulator is the origin and path of the simulator mounted in the
// shop, parsed from Config.SimulatorBase; nil otherwise.
func (h *Handler) builtInSimulator() *url.URL {
	if h.cfg.SimulatorBase == "" {
		return nil
	}
	u, err := url.Parse(h.cfg.SimulatorBase)
	if err != nil {
		return nil
	}
	return u
}

// sameOriginAsset turns a URL of the built-in simulator (a payment badge
// from a session made through BASE_URL's host) into a path, so that the
// browser fetches it from the origin it is on: 127.0.0.1 or a LAN address
// as well as localhost, which the page's Content-Security-Policy admits as
// 'self'. Other URLs are kept.
func (h *Handler) sameOriginAsset(raw string) string {
	sim := h.builtInSimulator()
	if sim == nil {
		return raw
	}
	origin := sim.Scheme + "://" + sim.Host
	if rest, ok := strings.CutPrefix(raw, origin+sim.Path+"/"); ok {
		return sim.Path + "/" + rest
	}
	return raw
}

// followsKlarnaRedirect reports whether the shopper may be sent to Klarna's
// redirect_url after an order. With the built-in simulator and a browser
// on another host name than BASE_URL's (127.0.0.1 for localhost), the
// redirect would end on BASE_URL's host, where this browser has no cookie:
// the shop then shows the confirmation itself.
func (h *Handler) followsKlarnaRedirect(c echo.Context) bool {
	sim := h.builtInSimulator()
	return sim == nil || strings.EqualFold(c.Request().Host, sim.Host)
}
