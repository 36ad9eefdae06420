package simulator

import "strings"

// market is one row of Klarna's table of purchase countries: the currency
// and locales a session for that country must use, and the region whose
// hosts serve it.
type market struct {
	currency string
	locales  []string
	region   string
}

// markets is Klarna's country/currency/locale table (docs/KLARNA.md,
// "Markets"). Only the local currency is accepted for each country. The
// region is the one whose API host serves the country (docs/KLARNA.md,
// "Regions"): eu (api), na (api-na: US, CA, MX) or oc (api-oc: AU, NZ).
var markets = map[string]market{
	"AU": {"AUD", []string{"en-AU"}, "oc"},
	"AT": {"EUR", []string{"de-AT", "en-AT"}, "eu"},
	"BE": {"EUR", []string{"nl-BE", "fr-BE", "en-BE"}, "eu"},
	"CA": {"CAD", []string{"en-CA", "fr-CA"}, "na"},
	"CZ": {"CZK", []string{"cs-CZ", "en-CZ"}, "eu"},
	"DK": {"DKK", []string{"da-DK", "en-DK"}, "eu"},
	"FI": {"EUR", []string{"fi-FI", "sv-FI", "en-FI"}, "eu"},
	"FR": {"EUR", []string{"fr-FR", "en-FR"}, "eu"},
	"DE": {"EUR", []string{"de-DE", "en-DE"}, "eu"},
	"GR": {"EUR", []string{"el-GR", "en-GR"}, "eu"},
	"HU": {"HUF", []string{"hu-HU", "en-HU"}, "eu"},
	"IE": {"EUR", []string{"en-IE"}, "eu"},
	"IT": {"EUR", []string{"it-IT", "en-IT"}, "eu"},
	"MX": {"MXN", []string{"en-MX", "es-MX"}, "na"},
	"NL": {"EUR", []string{"nl-NL", "en-NL"}, "eu"},
	"NZ": {"NZD", []string{"en-NZ"}, "oc"},
	"NO": {"NOK", []string{"nb-NO", "en-NO"}, "eu"},
	"PL": {"PLN", []string{"pl-PL", "en-PL"}, "eu"},
	"PT": {"EUR", []string{"pt-PT", "en-PT"}, "eu"},
	"RO": {"RON", []string{"ro-RO", "en-RO"}, "eu"},
	"SK": {"EUR", []string{"sk-SK", "en-SK"}, "eu"},
	"ES": {"EUR", []string{"es-ES", "en-ES"}, "eu"},
	"SE": {"SEK", []string{"sv-SE", "en-SE"}, "eu"},
	"CH": {"CHF", []string{"de-CH", "fr-CH", "it-CH", "en-CH"}, "eu"},
	"GB": {"GBP", []string{"en-GB"}, "eu"},
	"US": {"USD", []string{"en-US", "es-US"}, "na"},
}

// category is a payment method category the simulator offers, with the
// payment method an order placed through it reports.
type category struct {
	Identifier   string
	Name         string
	Method       string
	Days         int32
	Installments int32
}

var (
	payLater    = category{"pay_later", "Pay later", "invoice", 30, 0}
	payOverTime = category{"pay_over_time", "Pay in 3 parts", "fixed_amount", 0, 3}
	payNow      = category{"pay_now", "Pay now", "direct_debit", 0, 0}
)

// categoryNames are the categories' names beyond English, by language:
// Klarna names them in the session's locale.
var categoryNames = map[string]map[string]string{
	"pay_later":     {"sv": "Betala senare", "de": "Später bezahlen", "nl": "Later betalen"},
	"pay_over_time": {"sv": "Dela upp i 3 delar", "de": "In 3 Raten bezahlen", "nl": "Betaal in 3 delen"},
	"pay_now":       {"sv": "Betala nu", "de": "Sofort bezahlen", "nl": "Nu betalen"},
}

// nameIn is the category's name in a locale's language.
func (c category) nameIn(locale string) string {
	lang, _, _ := strings.Cut(locale, "-")
	if n, ok := categoryNames[c.Identifier][strings.ToLower(lang)]; ok {
		return n
	}
	return c.Name
}

// payNowCountries offer direct debit / bank transfer, the categories that
// need a separate finalize step when authorized with auto_finalize false.
var payNowCountries = map[string]bool{"SE": true, "DE": true, "NL": true, "AT": true, "FI": true}

// categoriesFor returns the categories shown for a country, in widget order.
func categoriesFor(country string) []category {
	cats := []category{payLater, payOverTime}
	if payNowCountries[country] {
		cats = append(cats, payNow)
	}
	return cats
}
