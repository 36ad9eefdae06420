package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
)

// markets says which of the shop's markets can be offered: those whose
// Klarna region has an account, each with its region and API host; and why
// the others cannot.
type markets struct {
	codes   []string          // offered, by code
	regions []string          // the regions in use
	detail  map[string]string // offered market -> "region eu · API <url>"
	byHost  []string          // start-up lines: markets per region and host
	notes   []string          // why the others are not offered
}

func liveMarkets(clients *klarna.Clients) markets {
	m := markets{detail: map[string]string{}}
	for _, r := range klarna.Regions {
		c := clients.Region(r)
		var codes []string
		for _, mk := range shop.Markets() {
			if region, _ := klarna.RegionOf(mk.Code); region == r {
				codes = append(codes, mk.Code)
			}
		}
		slices.Sort(codes)
		if len(codes) == 0 {
			continue
		}
		if c == nil {
			for _, code := range codes {
				mk, _ := shop.LookupMarket(code)
				m.notes = append(m.notes, fmt.Sprintf("%s (%s): no Klarna credentials for region %s (%s); set KLARNA_%s_USERNAME and KLARNA_%s_PASSWORD to offer it",
					code, mk.Name, r, r.Name(), strings.ToUpper(string(r)), strings.ToUpper(string(r))))
			}
			continue
		}
		m.codes = append(m.codes, codes...)
		m.regions = append(m.regions, string(r))
		m.byHost = append(m.byHost, fmt.Sprintf("%s via %s (%s)", strings.Join(codes, ", "), r, c.BaseURL()))
		for _, code := range codes {
			m.detail[code] = "region " + string(r) + " · API " + c.BaseURL()
		}
	}
	return m
}

// print writes the markets to the start-up output.
func (m markets) print(w io.Writer) {
	for i, line := range m.byHost {
		label := "  markets:  "
		if i > 0 {
			label = "            "
		}
		fmt.Fprintln(w, label+line)
	}
	for _, n := range m.notes {
		fmt.Fprintln(w, "  not offered: "+n)
	}
}

// simulatorClientID is the client identifier the simulator's on-site
// messaging stand-in is given: KLARNA_CLIENT_ID when set, else a made-up
// test one (the stand-in, like Klarna's library, wants one).
func simulatorClientID(configured string) string {
	if configured != "" {
		return configured
	}
	return "klarna_test_client_simulator"
}
