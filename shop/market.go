package shop

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/bojanz/currency"
)

// TaxRegime says how a market's prices carry tax, which decides how the cart
// is sent to Klarna.
type TaxRegime int

const (
	// TaxIncluded: prices include VAT or GST; each line carries its rate and
	// tax (EU, GB, AU).
	TaxIncluded TaxRegime = iota
	// TaxAdded: prices exclude tax; one sales_tax line adds it (US).
	TaxAdded
)

// Market is a country the shop sells in, with its currency, languages and
// tax rules. Rates are Klarna's: basis points of a percent (2000 = 20%).
type Market struct {
	Code      string // ISO 3166-1 alpha-2, also Klarna's purchase_country
	Name      string
	Currency  string // ISO 4217
	Locales   []string
	Regime    TaxRegime
	TaxName   string // "VAT", "GST", "Sales tax"
	Standard  int64  // rate for most goods
	Reduced   int64  // rate for food and books
	SalesTax  int64  // US: rate added on top (TaxAdded only)
	Shipping  int64  // flat shipping fee, minor units, as displayed
	FreeAbove int64  // free shipping from this merchandise total (after discount)
}

// Locale is the market's default locale.
func (m Market) Locale() string { return m.Locales[0] }

// HasLocale reports whether the market offers a locale.
func (m Market) HasLocale(l string) bool {
	for _, x := range m.Locales {
		if x == l {
			return true
		}
	}
	return false
}

var markets = map[string]Market{
	"GB": {Code: "GB", Name: "United Kingdom", Currency: "GBP", Locales: []string{"en-GB"}, Regime: TaxIncluded, TaxName: "VAT",
		Standard: 2000, Reduced: 0, Shipping: 495, FreeAbove: 5000},
	"SE": {Code: "SE", Name: "Sverige", Currency: "SEK", Locales: []string{"sv-SE", "en-SE"}, Regime: TaxIncluded, TaxName: "Moms",
		Standard: 2500, Reduced: 1200, Shipping: 4900, FreeAbove: 60000},
	"DE": {Code: "DE", Name: "Deutschland", Currency: "EUR", Locales: []string{"de-DE", "en-DE"}, Regime: TaxIncluded, TaxName: "MwSt.",
		Standard: 1900, Reduced: 700, Shipping: 495, FreeAbove: 5000},
	"NL": {Code: "NL", Name: "Nederland", Currency: "EUR", Locales: []string{"nl-NL", "en-NL"}, Regime: TaxIncluded, TaxName: "btw",
		Standard: 2100, Reduced: 900, Shipping: 495, FreeAbove: 5000},
	"US": {Code: "US", Name: "United States", Currency: "USD", Locales: []string{"en-US"}, Regime: TaxAdded, TaxName: "Sales tax",
		SalesTax: 825, Shipping: 599, FreeAbove: 7500},
	"AU": {Code: "AU", Name: "Australia", Currency: "AUD", Locales: []string{"en-AU"}, Regime: TaxIncluded, TaxName: "GST",
		Standard: 1000, Reduced: 0, Shipping: 995, FreeAbove: 9900},
}

// DefaultMarket is used when the shopper has not chosen one.
const DefaultMarket = "GB"

// LookupMarket returns a market by country code.
func LookupMarket(code string) (Market, bool) {
	m, ok := markets[code]
	return m, ok
}

// Markets returns every market, sorted by name.
func Markets() []Market {
	out := make([]Market, 0, len(markets))
	for _, m := range markets {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var (
	fmtMu      sync.Mutex
	formatters = map[string]*currency.Formatter{}

	// formatted caches rendered amounts: a page shows the same prices again
	// and again, and the formatter is the costliest step of rendering one.
	formatted     sync.Map
	formattedSize atomic.Int64
)

type moneyKey struct {
	minor       int64
	cur, locale string
}

// maxFormatted bounds the cache; past it the cache starts over.
const maxFormatted = 50_000

// FormatMoney renders minor units for a locale ("£12.34", "12,34 €"),
// without floating point.
func FormatMoney(minor int64, cur, locale string) string {
	k := moneyKey{minor, cur, locale}
	if v, ok := formatted.Load(k); ok {
		return v.(string)
	}
	s := formatMoney(minor, cur, locale)
	if formattedSize.Add(1) > maxFormatted {
		formatted.Clear()
		formattedSize.Store(0)
	}
	formatted.Store(k, s)
	return s
}

func formatMoney(minor int64, cur, locale string) string {
	amt, err := currency.NewAmountFromInt64(minor, cur)
	if err != nil {
		return "?"
	}
	fmtMu.Lock()
	f, ok := formatters[locale]
	if !ok {
		f = currency.NewFormatter(currency.NewLocale(locale))
		formatters[locale] = f
	}
	fmtMu.Unlock()
	return f.Format(amt)
}
