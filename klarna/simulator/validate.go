package simulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits from Klarna's API description and documentation.
const (
	maxLines       = 1000
	maxLineAmount  = 200_000_000
	maxQuantity    = 1_000_000_000 // keeps quantity*unit_price inside int64
	maxBodyBytes   = 1 << 20
	maxURLLength   = 2000
	maxTaxRate     = 10000
	maxMerchantRef = 255
)

var (
	reCountry  = regexp.MustCompile(`^[A-Za-z]{2}$`)
	reCurrency = regexp.MustCompile(`^[A-Za-z]{3}$`)
	reLocale   = regexp.MustCompile(`^[A-Za-z]{2}(?:-[A-Za-z]{2})*$`)
	reColor    = regexp.MustCompile(`^#[A-Fa-f0-9]{6}$`)
	reSSN      = regexp.MustCompile(`^([0-9]{4}|[0-9]{9})$`)
	reCustType = regexp.MustCompile(`^(person|organization)$`)
)

var (
	lineTypes = set("physical", "discount", "shipping_fee", "sales_tax", "digital", "gift_card", "store_credit", "surcharge")
	intents   = set("buy", "tokenize", "buy_and_tokenize")
	channels  = set("ECOMMERCE", "IN_STORE", "TELESALES")
	intervals = set("DAY", "WEEK", "MONTH", "YEAR")
	orgTypes  = set("LIMITED_COMPANY", "PUBLIC_LIMITED_COMPANY", "ENTREPRENEURIAL_COMPANY", "LIMITED_PARTNERSHIP_LIMITED_COMPANY",
		"LIMITED_PARTNERSHIP", "GENERAL_PARTNERSHIP", "REGISTERED_SOLE_TRADER", "SOLE_TRADER", "CIVIL_LAW_PARTNERSHIP", "PUBLIC_INSTITUTION", "OTHER")
)

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// problems collects the fields Klarna would reject, in the order found.
type problems []string

func (p *problems) bad(field string, args ...any) {
	if len(args) > 0 {
		field = fmt.Sprintf(field, args...)
	}
	for _, f := range *p {
		if f == field {
			return
		}
	}
	*p = append(*p, field)
}

// messages renders problems the way Klarna words them.
func (p problems) messages() []string {
	out := make([]string, len(p))
	for i, f := range p {
		out[i] = "Bad value: " + f
	}
	return out
}

func length(p *problems, field, v string, min, max int) {
	if n := utf8.RuneCountInString(v); n < min || n > max {
		p.bad(field)
	}
}

// taxFor is Klarna's formula for the tax contained in a tax-inclusive amount:
// total - total*10000/(10000+rate), in integer arithmetic (truncating, so
// negative discount lines mirror positive ones).
func taxFor(total, rate int64) int64 {
	return total - total*10000/(10000+rate)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// validateOrderData applies Klarna's rules to the cart and market of a
// session or order. Every problem is reported, not only the first.
func validateOrderData(d *wireSession) problems {
	var p problems
	country := strings.ToUpper(str(d.PurchaseCountry))
	switch {
	case d.PurchaseCountry == nil:
		p.bad("purchase_country")
	case !reCountry.MatchString(country):
		p.bad("purchase_country")
	}
	mk, known := markets[country]
	if d.PurchaseCountry != nil && reCountry.MatchString(country) && !known {
		p.bad("purchase_country")
	}
	currency := strings.ToUpper(str(d.PurchaseCurrency))
	if d.PurchaseCurrency == nil || !reCurrency.MatchString(currency) || (known && currency != mk.currency) {
		p.bad("purchase_currency")
	}
	if d.Locale != nil {
		loc := *d.Locale
		if !reLocale.MatchString(loc) || (known && !hasLocale(mk.locales, loc)) {
			p.bad("locale")
		}
	}
	if d.Intent != nil && !intents[*d.Intent] {
		p.bad("intent")
	}
	if d.AcquiringChannel != nil && !channels[*d.AcquiringChannel] {
		p.bad("acquiring_channel")
	}
	length(&p, "merchant_data", str(d.MerchantData), 0, 6000)
	length(&p, "merchant_reference1", str(d.MerchantReference1), 0, maxMerchantRef)
	length(&p, "merchant_reference2", str(d.MerchantReference2), 0, maxMerchantRef)
	validateURLs(&p, d.MerchantURLs)
	validateOptions(&p, d.Options)
	validateAttachment(&p, d.Attachment)
	validateAddress(&p, "billing_address", d.BillingAddress)
	validateAddress(&p, "shipping_address", d.ShippingAddress)
	validateCustomer(&p, d.Customer)

	if d.OrderAmount == nil || *d.OrderAmount < 0 {
		p.bad("order_amount")
	}
	if d.OrderTaxAmount != nil && *d.OrderTaxAmount < 0 {
		p.bad("order_tax_amount")
	}
	if len(d.OrderLines) == 0 || len(d.OrderLines) > maxLines {
		p.bad("order_lines")
		return p
	}

	us := country == "US"
	var sum, taxSum, salesTax int64
	linesOK := true
	for i := range d.OrderLines {
		l := &d.OrderLines[i]
		f := func(name string) string { return fmt.Sprintf("order_lines[%d].%s", i, name) }
		if !validateLine(&p, l, f) {
			linesOK = false
			continue
		}
		total := *l.TotalAmount
		sum += total
		isSalesTax := str(l.Type) == "sales_tax"
		switch {
		case us && isSalesTax:
			// US: the tax is this line's amount; the line itself has no rate.
			if num(l.TaxRate) != 0 || num(l.TotalTaxAmount) != 0 {
				p.bad(f("tax_rate"))
			}
			salesTax += total
		case us:
			// US prices exclude tax: no per-line tax at all.
			if num(l.TaxRate) != 0 {
				p.bad(f("tax_rate"))
			}
			if num(l.TotalTaxAmount) != 0 {
				p.bad(f("total_tax_amount"))
			}
		case isSalesTax:
			// Outside the US tax is included in every line.
			p.bad(f("type"))
		default:
			rate := num(l.TaxRate)
			tax := num(l.TotalTaxAmount)
			if abs(tax-taxFor(total, rate)) > 1 {
				p.bad(f("total_tax_amount"))
			}
			taxSum += tax
		}
	}
	if !linesOK || d.OrderAmount == nil {
		return p
	}
	if *d.OrderAmount != sum {
		p.bad("order_amount")
	}
	orderTax := num(d.OrderTaxAmount)
	if us {
		if orderTax != salesTax {
			p.bad("order_tax_amount")
		}
	} else if abs(orderTax-taxSum) > int64(len(d.OrderLines)) {
		// Klarna's global tolerance: one minor unit per line.
		p.bad("order_tax_amount")
	}
	return p
}

// validateLine checks one line on its own and reports whether its amounts
// are usable for the order-level sums.
func validateLine(p *problems, l *wireLine, f func(string) string) bool {
	ok := true
	if l.Name == nil {
		p.bad(f("name"))
	} else {
		length(p, f("name"), *l.Name, 1, 255)
	}
	if l.Type != nil && !lineTypes[*l.Type] {
		p.bad(f("type"))
	}
	if l.Reference != nil {
		length(p, f("reference"), *l.Reference, 0, 255)
	}
	if l.QuantityUnit != nil {
		length(p, f("quantity_unit"), *l.QuantityUnit, 1, 8)
	}
	for name, v := range map[string]*string{"merchant_data": l.MerchantData, "product_url": l.ProductURL, "image_url": l.ImageURL} {
		if v != nil {
			length(p, f(name), *v, 0, 1024)
		}
	}
	if id := l.ProductIdentifiers; id != nil {
		length(p, f("product_identifiers.brand"), id.Brand, 0, 70)
		length(p, f("product_identifiers.category_path"), id.CategoryPath, 0, 750)
		length(p, f("product_identifiers.global_trade_item_number"), id.GlobalTradeItemNumber, 0, 50)
		length(p, f("product_identifiers.manufacturer_part_number"), id.ManufacturerPartNumber, 0, 70)
		length(p, f("product_identifiers.color"), id.Color, 0, 64)
		length(p, f("product_identifiers.size"), id.Size, 0, 64)
	}
	if s := l.Subscription; s != nil {
		if s.Name == nil {
			p.bad(f("subscription.name"))
		} else {
			length(p, f("subscription.name"), *s.Name, 1, 255)
		}
		if s.Interval == nil || !intervals[*s.Interval] {
			p.bad(f("subscription.interval"))
		}
		if s.IntervalCount == nil || *s.IntervalCount < 1 {
			p.bad(f("subscription.interval_count"))
		}
	}
	if l.TaxRate != nil && (*l.TaxRate < 0 || *l.TaxRate > maxTaxRate) {
		p.bad(f("tax_rate"))
		ok = false
	}
	if l.Quantity == nil || *l.Quantity < 0 || *l.Quantity > maxQuantity {
		p.bad(f("quantity"))
		ok = false
	}
	if l.UnitPrice == nil || abs(*l.UnitPrice) > maxLineAmount {
		p.bad(f("unit_price"))
		ok = false
	}
	if l.TotalAmount == nil || abs(*l.TotalAmount) > maxLineAmount {
		p.bad(f("total_amount"))
		ok = false
	}
	if l.TotalDiscountAmount != nil && *l.TotalDiscountAmount < 0 {
		p.bad(f("total_discount_amount"))
		ok = false
	}
	if !ok {
		return false
	}
	if *l.TotalAmount != *l.Quantity**l.UnitPrice-num(l.TotalDiscountAmount) {
		p.bad(f("total_amount"))
		return false
	}
	return true
}

func hasLocale(locales []string, loc string) bool {
	for _, l := range locales {
		if strings.EqualFold(l, loc) {
			return true
		}
	}
	return false
}

func validateURLs(p *problems, u *wireURLs) {
	if u == nil {
		return
	}
	for name, v := range map[string]string{"confirmation": u.Confirmation, "notification": u.Notification, "push": u.Push, "authorization": u.Authorization} {
		if v == "" {
			continue
		}
		// Placeholders are not valid URL syntax; check the URL around them.
		parsed, err := url.Parse(placeholdersAsX.Replace(v))
		if len(v) > maxURLLength || err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
			p.bad("merchant_urls." + name)
		}
	}
}

func validateOptions(p *problems, o *wireOptions) {
	if o == nil {
		return
	}
	for name, v := range map[string]string{"color_border": o.ColorBorder, "color_border_selected": o.ColorBorderSelected, "color_details": o.ColorDetails, "color_text": o.ColorText} {
		if v != "" && !reColor.MatchString(v) {
			p.bad("options." + name)
		}
	}
}

func validateAttachment(p *problems, a *wireAttachment) {
	if a == nil {
		return
	}
	if a.ContentType == nil || a.Body == nil || !json.Valid([]byte(*a.Body)) {
		p.bad("attachment")
	}
}

func validateAddress(p *problems, field string, a *wireAddress) {
	if a == nil {
		return
	}
	length(p, field+".title", a.Title, 0, 20)
	for name, v := range map[string]string{"attention": a.Attention, "city": a.City, "email": a.Email, "family_name": a.FamilyName,
		"given_name": a.GivenName, "organization_name": a.OrganizationName, "phone": a.Phone, "region": a.Region,
		"street_address": a.StreetAddress, "street_address2": a.StreetAddress2} {
		length(p, field+"."+name, v, 0, 99)
	}
	length(p, field+".postal_code", a.PostalCode, 0, 10)
	if a.Country != "" && !reCountry.MatchString(a.Country) {
		p.bad(field + ".country")
	}
}

func validateCustomer(p *problems, c *wireCustomer) {
	if c == nil {
		return
	}
	if c.LastFourSSN != "" && !reSSN.MatchString(c.LastFourSSN) {
		p.bad("customer.last_four_ssn")
	}
	if c.Type != "" && !reCustType.MatchString(c.Type) {
		p.bad("customer.type")
	}
	if c.OrganizationEntityType != "" && !orgTypes[c.OrganizationEntityType] {
		p.bad("customer.organization_entity_type")
	}
}

// invalidShopperFields is what the widget reports as invalid_fields: data the
// shopper (or the page's data argument) supplied that Klarna cannot use.
func invalidShopperFields(a *wireAddress, field string) []string {
	if a == nil {
		return nil
	}
	var out []string
	if a.Email != "" && (!strings.Contains(a.Email, "@") || strings.HasPrefix(a.Email, "@") || strings.HasSuffix(a.Email, "@")) {
		out = append(out, field+".email")
	}
	for name, v := range map[string]string{"given_name": a.GivenName, "family_name": a.FamilyName} {
		if v != "" && (utf8.RuneCountInString(v) < 2 || strings.Trim(v, "0123456789") == "") {
			out = append(out, field+"."+name)
		}
	}
	if len(a.PostalCode) > 10 {
		out = append(out, field+".postal_code")
	}
	sort.Strings(out)
	return out
}
