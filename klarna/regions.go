package klarna

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// regions is the Klarna region that serves each purchase country. Klarna's
// documentation lists the hosts per region (docs.klarna.com/api/api-urls)
// and the countries it serves, but not one table joining them; this one
// follows Klarna-built and Klarna-listed integrations, which route a
// country's calls to api (Europe), api-na (North America) or api-oc
// (Oceania): krokedil/klarna-payments-for-woocommerce
// (classes/admin/class-kp-form-fields.php, classes/requests/class-kp-requests.php
// get_base_url) and klarna/sfcc-klarna-payments.
var regions = map[string]Region{
	"AT": RegionEU, "BE": RegionEU, "CH": RegionEU, "CZ": RegionEU, "DE": RegionEU, "DK": RegionEU,
	"ES": RegionEU, "FI": RegionEU, "FR": RegionEU, "GB": RegionEU, "GR": RegionEU, "HU": RegionEU,
	"IE": RegionEU, "IT": RegionEU, "NL": RegionEU, "NO": RegionEU, "PL": RegionEU, "PT": RegionEU,
	"RO": RegionEU, "SE": RegionEU, "SK": RegionEU,
	"US": RegionNA, "CA": RegionNA, "MX": RegionNA,
	"AU": RegionOC, "NZ": RegionOC,
}

// Regions are Klarna's API regions, in a stable order.
var Regions = []Region{RegionEU, RegionNA, RegionOC}

// RegionOf returns the Klarna region whose hosts serve a purchase country
// (ISO 3166-1 alpha-2, any case). ok is false for a country Klarna Payments
// does not serve.
func RegionOf(country string) (r Region, ok bool) {
	r, ok = regions[strings.ToUpper(country)]
	return r, ok
}

// ParseRegion reads "eu", "na" or "oc" (any case).
func ParseRegion(s string) (Region, error) {
	r := Region(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Regions, r) {
		return "", fmt.Errorf("klarna: unknown region %q (want eu, na or oc)", s)
	}
	return r, nil
}

// Name is the region's name for people: "Europe", "North America",
// "Oceania".
func (r Region) Name() string {
	switch r {
	case RegionEU:
		return "Europe"
	case RegionNA:
		return "North America"
	case RegionOC:
		return "Oceania"
	}
	return string(r)
}

// Account is a merchant's API account in one Klarna region: the region's
// credentials and, optionally, a base URL other than Klarna's host for the
// region (a proxy, or a simulator's regional host).
type Account struct {
	Region             Region
	Username, Password string
	BaseURL            string
}

// Clients holds one Client per region the merchant has an account in and
// picks the right one for a purchase country. Klarna's credentials work in
// one region only, and each region has its own host: a purchase country's
// calls must go to its region's host with that region's credentials. Clients
// is safe for concurrent use.
type Clients struct {
	byRegion map[Region]*Client
}

// NewClients builds a client per account; opts apply to every client
// (environment, user agent, logger, timeouts) before the account's own
// region, credentials and base URL. Two accounts for one region are an
// error.
func NewClients(accounts []Account, opts ...Option) (*Clients, error) {
	cs := &Clients{byRegion: map[Region]*Client{}}
	for _, a := range accounts {
		if _, err := ParseRegion(string(a.Region)); err != nil {
			return nil, err
		}
		if cs.byRegion[a.Region] != nil {
			return nil, fmt.Errorf("klarna: two accounts for region %s", a.Region)
		}
		o := append(slices.Clip(opts), WithRegion(a.Region), WithCredentials(a.Username, a.Password))
		if a.BaseURL != "" {
			o = append(o, WithBaseURL(a.BaseURL))
		}
		c, err := NewClient(o...)
		if err != nil {
			return nil, fmt.Errorf("klarna: client for region %s: %w", a.Region, err)
		}
		cs.byRegion[a.Region] = c
	}
	return cs, nil
}

// ClientsOf puts existing clients together, one per region; a nil client
// leaves its region without an account.
func ClientsOf(byRegion map[Region]*Client) *Clients {
	cs := &Clients{byRegion: map[Region]*Client{}}
	for r, c := range byRegion {
		if c != nil {
			cs.byRegion[r] = c
		}
	}
	return cs
}

// For returns the client for a purchase country: its region's. The error is
// a *RegionError when Klarna does not serve the country or the merchant has
// no account in its region.
func (cs *Clients) For(country string) (*Client, error) {
	r, ok := RegionOf(country)
	if !ok {
		return nil, &RegionError{Country: strings.ToUpper(country)}
	}
	c := cs.byRegion[r]
	if c == nil {
		return nil, &RegionError{Country: strings.ToUpper(country), Region: r}
	}
	return c, nil
}

// Region returns the client of a region, or nil without an account there.
func (cs *Clients) Region(r Region) *Client { return cs.byRegion[r] }

// Regions lists the regions with an account, in the order of Regions.
func (cs *Clients) Regions() []Region {
	var out []Region
	for _, r := range Regions {
		if cs.byRegion[r] != nil {
			out = append(out, r)
		}
	}
	return out
}

// Serves reports whether a purchase country's region has an account.
func (cs *Clients) Serves(country string) bool {
	_, err := cs.For(country)
	return err == nil
}

// RegionError says that no client serves a purchase country: Klarna does not
// serve it (Region is empty), or the merchant has no account in its Region.
// No request was sent.
type RegionError struct {
	Country string
	Region  Region
}

func (e *RegionError) Error() string {
	if e.Region == "" {
		return fmt.Sprintf("klarna: Klarna Payments does not serve purchase country %q", e.Country)
	}
	return fmt.Sprintf("klarna: no account for region %s (%s), which serves %s", e.Region, e.Region.Name(), e.Country)
}

// IsNoAccount reports a *RegionError: the call was not sent because no
// account serves the purchase country.
func IsNoAccount(err error) bool {
	var re *RegionError
	return errors.As(err, &re)
}
