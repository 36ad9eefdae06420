package simulator

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// Carts are written as JSON so that the rules are tested on what Klarna
// receives, independently of any Go type.
const gbCart = `{"purchase_country":"GB","purchase_currency":"GBP","locale":"en-GB","order_amount":%d,"order_tax_amount":%d,"order_lines":[
 {"type":"physical","reference":"mug","name":"Mug","quantity":2,"unit_price":1200,"tax_rate":2000,"total_amount":2400,"total_tax_amount":400},
 {"type":"discount","name":"10%% off","quantity":1,"unit_price":-240,"tax_rate":2000,"total_amount":-240,"total_tax_amount":-40},
 {"type":"shipping_fee","name":"Shipping","quantity":1,"unit_price":495,"tax_rate":2000,"total_amount":495,"total_tax_amount":83}]}`

func mustSession(t *testing.T, js string) *wireSession {
	t.Helper()
	var d wireSession
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, js)
	}
	return &d
}

func TestValidateOrderData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"tax-inclusive cart with discount and shipping", sprintf(gbCart, 2655, 443), nil},
		{"order tax within tolerance of one per line", sprintf(gbCart, 2655, 446), nil},
		{"order tax beyond tolerance", sprintf(gbCart, 2655, 447), []string{"order_tax_amount"}},
		{"order amount not the sum", sprintf(gbCart, 2656, 443), []string{"order_amount"}},
		{"US cart with a sales tax line", `{"purchase_country":"US","purchase_currency":"USD","locale":"en-US","order_amount":2165,"order_tax_amount":165,"order_lines":[
			{"type":"physical","name":"Mug","quantity":2,"unit_price":1000,"total_amount":2000},
			{"type":"sales_tax","name":"Sales Tax","quantity":1,"unit_price":165,"total_amount":165}]}`, nil},
		{"US line with a tax rate", `{"purchase_country":"US","purchase_currency":"USD","order_amount":2000,"order_tax_amount":0,"order_lines":[
			{"name":"Mug","quantity":2,"unit_price":1000,"tax_rate":800,"total_amount":2000,"total_tax_amount":148}]}`, []string{"order_lines[0].tax_rate", "order_lines[0].total_tax_amount"}},
		{"US order tax differs from the sales tax line", `{"purchase_country":"US","purchase_currency":"USD","order_amount":2165,"order_tax_amount":160,"order_lines":[
			{"name":"Mug","quantity":2,"unit_price":1000,"total_amount":2000},{"type":"sales_tax","name":"Tax","quantity":1,"unit_price":165,"total_amount":165}]}`, []string{"order_tax_amount"}},
		{"sales tax line outside the US", `{"purchase_country":"GB","purchase_currency":"GBP","order_amount":100,"order_tax_amount":0,"order_lines":[
			{"type":"sales_tax","name":"Tax","quantity":1,"unit_price":100,"total_amount":100}]}`, []string{"order_lines[0].type"}},
		{"line total not quantity times price less discount", `{"purchase_country":"SE","purchase_currency":"SEK","order_amount":1900,"order_tax_amount":380,"order_lines":[
			{"name":"Mug","quantity":2,"unit_price":1000,"total_discount_amount":50,"tax_rate":2500,"total_amount":1900,"total_tax_amount":380}]}`, []string{"order_lines[0].total_amount"}},
		{"per-line discount", `{"purchase_country":"SE","purchase_currency":"SEK","order_amount":1900,"order_tax_amount":380,"order_lines":[
			{"name":"Mug","quantity":2,"unit_price":1000,"total_discount_amount":100,"tax_rate":2500,"total_amount":1900,"total_tax_amount":380}]}`, nil},
		{"line tax off by two", `{"purchase_country":"DE","purchase_currency":"EUR","order_amount":1190,"order_tax_amount":192,"order_lines":[
			{"name":"Mug","quantity":1,"unit_price":1190,"tax_rate":1900,"total_amount":1190,"total_tax_amount":192}]}`, []string{"order_lines[0].total_tax_amount"}},
		{"line tax off by one is tolerated", `{"purchase_country":"DE","purchase_currency":"EUR","order_amount":1190,"order_tax_amount":191,"order_lines":[
			{"name":"Mug","quantity":1,"unit_price":1190,"tax_rate":1900,"total_amount":1190,"total_tax_amount":191}]}`, nil},
		{"tax rate out of range", `{"purchase_country":"DE","purchase_currency":"EUR","order_amount":100,"order_tax_amount":0,"order_lines":[
			{"name":"Mug","quantity":1,"unit_price":100,"tax_rate":10001,"total_amount":100,"total_tax_amount":0}]}`, []string{"order_lines[0].tax_rate"}},
		{"missing required fields", `{"order_lines":[{"quantity":1}]}`, []string{"purchase_country", "purchase_currency", "order_amount",
			"order_lines[0].name", "order_lines[0].unit_price", "order_lines[0].total_amount"}},
		{"no lines", `{"purchase_country":"GB","purchase_currency":"GBP","order_amount":0,"order_lines":[]}`, []string{"order_lines"}},
		{"currency not the country's", `{"purchase_country":"SE","purchase_currency":"EUR","order_amount":100,"order_tax_amount":0,"order_lines":[
			{"name":"x","quantity":1,"unit_price":100,"tax_rate":0,"total_amount":100,"total_tax_amount":0}]}`, []string{"purchase_currency"}},
		{"locale not offered in the country", `{"purchase_country":"SE","purchase_currency":"SEK","locale":"de-DE","order_amount":100,"order_tax_amount":0,"order_lines":[
			{"name":"x","quantity":1,"unit_price":100,"tax_rate":0,"total_amount":100,"total_tax_amount":0}]}`, []string{"locale"}},
		{"unknown country and bad patterns", `{"purchase_country":"XX","purchase_currency":"EURO","locale":"english","order_amount":100,"order_lines":[
			{"name":"x","quantity":1,"unit_price":100,"total_amount":100}]}`, []string{"purchase_country", "purchase_currency", "locale"}},
		{"amount ceiling", `{"purchase_country":"GB","purchase_currency":"GBP","order_amount":200000001,"order_tax_amount":0,"order_lines":[
			{"name":"x","quantity":1,"unit_price":200000001,"tax_rate":0,"total_amount":200000001,"total_tax_amount":0}]}`, []string{"order_lines[0].unit_price", "order_lines[0].total_amount"}},
		{"negative quantity and discount", `{"purchase_country":"GB","purchase_currency":"GBP","order_amount":100,"order_tax_amount":0,"order_lines":[
			{"name":"x","quantity":-1,"unit_price":100,"total_discount_amount":-5,"total_amount":100}]}`, []string{"order_lines[0].quantity", "order_lines[0].total_discount_amount"}},
		{"field formats", `{"purchase_country":"GB","purchase_currency":"GBP","order_amount":100,"order_tax_amount":0,"intent":"lease","acquiring_channel":"PHONE",
			"merchant_urls":{"confirmation":"not a url","authorization":"https://shop.example/cb?s=1"},"options":{"color_text":"red"},"attachment":{"content_type":"x","body":"{not json"},
			"billing_address":{"postal_code":"12345678901","country":"GBR"},"customer":{"last_four_ssn":"12","type":"robot"},
			"order_lines":[{"name":"x","quantity":1,"unit_price":100,"tax_rate":0,"total_amount":100,"total_tax_amount":0,"type":"gadget","quantity_unit":"123456789",
			"subscription":{"name":"s","interval":"HOUR","interval_count":0}}]}`,
			[]string{"intent", "acquiring_channel", "merchant_urls.confirmation", "options.color_text", "attachment", "billing_address.postal_code", "billing_address.country",
				"customer.last_four_ssn", "customer.type", "order_lines[0].type", "order_lines[0].quantity_unit", "order_lines[0].subscription.interval", "order_lines[0].subscription.interval_count"}},
		{"placeholders in merchant URLs are fine", `{"purchase_country":"GB","purchase_currency":"GBP","order_amount":100,"order_tax_amount":0,
			"merchant_urls":{"confirmation":"https://shop.example/c?o={order.id}&s={session.id}"},
			"order_lines":[{"name":"x","quantity":1,"unit_price":100,"tax_rate":0,"total_amount":100,"total_tax_amount":0}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := []string(validateOrderData(mustSession(t, tt.body)))
			if !sameSet(got, tt.want) {
				t.Errorf("problems = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestThousandLinesLimit(t *testing.T) {
	t.Parallel()
	line := func() wireLine {
		name, q, p, r, tot, tax := "x", int64(1), int64(100), int64(0), int64(100), int64(0)
		return wireLine{Name: &name, Quantity: &q, UnitPrice: &p, TaxRate: &r, TotalAmount: &tot, TotalTaxAmount: &tax}
	}
	mk := func(n int) *wireSession {
		c, cur := "GB", "GBP"
		amt, tax := int64(100*n), int64(0)
		d := &wireSession{PurchaseCountry: &c, PurchaseCurrency: &cur, OrderAmount: &amt, OrderTaxAmount: &tax}
		for range n {
			d.OrderLines = append(d.OrderLines, line())
		}
		return d
	}
	if p := validateOrderData(mk(1000)); len(p) != 0 {
		t.Errorf("1000 lines refused: %v", p)
	}
	if p := validateOrderData(mk(1001)); !reflect.DeepEqual([]string(p), []string{"order_lines"}) {
		t.Errorf("1001 lines: %v", p)
	}
}

func TestTaxFormula(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ total, rate, want int64 }{
		{1200, 2000, 200}, {-240, 2000, -40}, {1190, 1900, 190}, {1000, 0, 0}, {1, 2500, 1}, {99999, 600, 5661},
	} {
		if got := taxFor(tt.total, tt.rate); got != tt.want {
			t.Errorf("taxFor(%d, %d) = %d, want %d", tt.total, tt.rate, got, tt.want)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
