package simulator

// market is one row of Klarna's table of purchase countries: the currency
// and locales a session for that country must use.
type market struct {
	currency string
	locales  []string
}

// markets is Klarna's country/currency/locale table (FACTS §3). Only the
// local currency is accepted for each country.
var markets = map[string]market{
	"AU": {"AUD", []string{"en-AU"}},
	"AT": {"EUR", []string{"de-AT", "en-AT"}},
	"BE": {"EUR", []string{"nl-BE", "fr-BE", "en-BE"}},
	"CA": {"CAD", []string{"en-CA", "fr-CA"}},
	"CZ": {"CZK", []string{"cs-CZ", "en-CZ"}},
	"DK": {"DKK", []string{"da-DK", "en-DK"}},
	"FI": {"EUR", []string{"fi-FI", "sv-FI", "en-FI"}},
	"FR": {"EUR", []string{"fr-FR", "en-FR"}},
	"DE": {"EUR", []string{"de-DE", "en-DE"}},
	"GR": {"EUR", []string{"el-GR", "en-GR"}},
	"HU": {"HUF", []string{"hu-HU", "en-HU"}},
	"IE": {"EUR", []string{"en-IE"}},
	"IT": {"EUR", []string{"it-IT", "en-IT"}},
	"MX": {"MXN", []string{"en-MX", "es-MX"}},
	"NL": {"EUR", []string{"nl-NL", "en-NL"}},
	"NZ": {"NZD", []string{"en-NZ"}},
	"NO": {"NOK", []string{"nb-NO", "en-NO"}},
	"PL": {"PLN", []string{"pl-PL", "en-PL"}},
	"PT": {"EUR", []string{"pt-PT", "en-PT"}},
	"RO": {"RON", []string{"ro-RO", "en-RO"}},
	"SK": {"EUR", []string{"sk-SK", "en-SK"}},
	"ES": {"EUR", []string{"es-ES", "en-ES"}},
	"SE": {"SEK", []string{"sv-SE", "en-SE"}},
	"CH": {"CHF", []string{"de-CH", "fr-CH", "it-CH", "en-CH"}},
	"GB": {"GBP", []string{"en-GB"}},
	"US": {"USD", []string{"en-US", "es-US"}},
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
