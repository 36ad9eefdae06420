package klarna

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fikaandform/storefront/internal/openapitest"
)

// fullSession sets every field a merchant can send, so the contract test
// covers all of the request types at once.
func fullSession() *SessionRequest {
	addr := &Address{Title: "Ms", GivenName: "Ada", FamilyName: "Lovelace", Email: "ada@example.com", Phone: "+441234",
		StreetAddress: "1 Road", StreetAddress2: "Flat 2", PostalCode: "W1 1AA", City: "London", Region: "LDN", Country: "GB",
		Attention: "Accounts", OrganizationName: "Engines Ltd"}
	s := sampleSession()
	s.AcquiringChannel = ChannelEcommerce
	s.Intent = IntentBuyAndTokenize
	s.Attachment = &Attachment{ContentType: AttachmentEMD, Body: `{"customer_account_info":[]}`}
	s.BillingAddress, s.ShippingAddress = addr, addr
	s.Customer = &Customer{DateOfBirth: "1980-01-01", Gender: "female", Type: "organization", OrganizationEntityType: "LIMITED_COMPANY",
		OrganizationRegistrationID: "123", VATID: "GB1", LastFourSSN: "1234", NationalIdentificationNumber: "x", Title: "Ms"}
	s.CustomPaymentMethodIDs = []string{"promo"}
	s.Design = "klarna"
	s.MerchantData = "{}"
	s.MerchantReference1, s.MerchantReference2 = "R1", "R2"
	s.MerchantURLs = &MerchantURLs{Confirmation: "https://s/c", Notification: "https://s/n", Push: "https://s/p", Authorization: "https://s/a"}
	s.Options = &Options{ColorBorder: "#112233", ColorBorderSelected: "#445566", ColorDetails: "#778899", ColorText: "#AABBCC", RadiusBorder: "4px"}
	l := &s.OrderLines[0]
	l.QuantityUnit, l.MerchantData, l.ProductURL, l.ImageURL = "pcs", "m", "https://s/p/mug", "https://s/i/mug.svg"
	l.TotalDiscountAmount = 0
	l.ProductIdentifiers = &ProductIdentifiers{Brand: "B", CategoryPath: "Home > Mugs", GlobalTradeItemNumber: "123", ManufacturerPartNumber: "M", Color: "blue", Size: "L"}
	l.Subscription = &Subscription{Name: "Monthly", Interval: IntervalMonth, IntervalCount: 1}
	s.OrderLines = append(s.OrderLines, OrderLine{Type: LineDiscount, Name: "Discount", Quantity: 1, UnitPrice: -100, TotalAmount: -100, TaxRate: Int64(2000), TotalTaxAmount: Int64(-17)})
	return s
}

func TestRequestsMatchOpenAPI(t *testing.T) {
	t.Parallel()
	spec := openapitest.Load(t)
	s := fullSession()
	update := &SessionUpdate{OrderAmount: Int64(s.OrderAmount), OrderTaxAmount: Int64(s.OrderTaxAmount), OrderLines: s.OrderLines,
		BillingAddress: s.BillingAddress, Customer: s.Customer, MerchantURLs: s.MerchantURLs, Options: s.Options, Attachment: s.Attachment,
		Locale: "en-GB", PurchaseCountry: "GB", PurchaseCurrency: "GBP", Intent: IntentBuy, AcquiringChannel: ChannelTelesales}
	order := &OrderRequest{AutoCapture: Bool(true), BillingAddress: s.BillingAddress, ShippingAddress: s.ShippingAddress, Customer: s.Customer,
		CustomPaymentMethodIDs: []string{"p"}, Locale: "en-GB", MerchantData: "d", MerchantReference1: "r1", MerchantReference2: "r2",
		MerchantURLs: s.MerchantURLs, OrderAmount: s.OrderAmount, OrderLines: s.OrderLines, OrderTaxAmount: s.OrderTaxAmount,
		PurchaseCountry: "GB", PurchaseCurrency: "GBP"}
	token := &CustomerTokenRequest{Description: "Coffee", IntendedUse: IntendedUseSubscription, Locale: "en-GB", PurchaseCountry: "GB",
		PurchaseCurrency: "GBP", BillingAddress: s.BillingAddress, Customer: s.Customer}
	for _, tt := range []struct {
		schema string
		v      any
	}{
		{"session_create", sampleSession()},
		{"session_create", s},
		{"session", update},
		{"session", &SessionUpdate{Locale: "en-GB"}},
		{"create_order_request", order},
		{"customer_token_creation_request", token},
	} {
		b, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := openapitest.Validate(t, spec, tt.schema, openapitest.Request, b); err != nil {
			t.Errorf("%s does not match the spec: %v\n%s", tt.schema, err, b)
		}
	}
}

// TestAfterPaymentRequestsMatchContract checks every Order Management and
// Customer Token body the client can build, with every field set.
func TestAfterPaymentRequestsMatchContract(t *testing.T) {
	t.Parallel()
	om := openapitest.LoadAPI(t, openapitest.OrderManagement)
	ct := openapitest.LoadAPI(t, openapitest.CustomerToken)
	s := fullSession()
	ship := []ShippingInfo{{ShippingCompany: "DHL US", ShippingMethod: ShipDHLPackstation, TrackingNumber: "1", TrackingURI: "https://t/1",
		ReturnShippingCompany: "DHL US", ReturnTrackingNumber: "2", ReturnTrackingURI: "https://t/2"}}
	returnFee := OrderLine{Type: LineReturnFee, Name: "Return fee", Quantity: 1, UnitPrice: -300, TotalAmount: -300, TaxRate: Int64(2000), TotalTaxAmount: Int64(-50)}
	capture := &CaptureRequest{CapturedAmount: s.OrderAmount, Description: "All", Reference: "SHIP-1", OrderLines: s.OrderLines[:1], ShippingInfo: ship, ShippingDelay: 1}
	refund := &RefundRequest{RefundedAmount: 2100, Description: "Return", Reference: "RMA", OrderLines: append([]OrderLine{s.OrderLines[0]}, returnFee)}
	renewal := renewalRequest()
	renewal.MerchantData = "{}"
	renewal.Attachment = &Attachment{ContentType: AttachmentEMD, Body: "{}"}
	renewal.OrderLines[0].ProductIdentifiers = s.OrderLines[0].ProductIdentifiers
	renewal.OrderLines[0].ProductURL, renewal.OrderLines[0].ImageURL = "https://s/p", "https://s/i"
	for _, tt := range []struct {
		api    string
		schema string
		v      any
	}{
		{"om", "CaptureObject", capture},
		{"om", "CaptureObject", &CaptureRequest{CapturedAmount: 0}},
		{"om", "RefundObject", refund},
		{"om", "UpdateShippingInfo", shippingInfoBody{ship}},
		{"ct", "customer_token_order", renewal},
		{"ct", "customer_token_status_update_request", tokenStatusUpdate{Status: TokenCancelled}},
	} {
		b, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		spec := om
		if tt.api == "ct" {
			spec = ct
		}
		if err := openapitest.Validate(t, spec, tt.schema, openapitest.Request, b); err != nil {
			t.Errorf("%s does not match the contract: %v\n%s", tt.schema, err, b)
		}
	}
	// The contract is not vacuous: a bad body of each API is refused.
	for _, bad := range []struct {
		api, schema, body string
	}{
		{"om", "CaptureObject", `{"captured_amount":200000001}`},
		{"om", "CaptureObject", `{"description":"x"}`},
		{"om", "UpdateShippingInfo", `{"shipping_info":[{"shipping_company":"` + strings.Repeat("x", 101) + `"}]}`},
		{"om", "RefundObject", `{"refunded_amount":1,"order_lines":[{"name":"x","quantity":1,"unit_price":1,"total_amount":1,"type":"gift"}]}`},
		{"ct", "customer_token_order", `{"purchase_currency":"GBP","order_amount":0,"order_tax_amount":0,"order_lines":[{"name":"x","quantity":1,"unit_price":0,"total_amount":0}]}`},
		{"ct", "customer_token_order", `{"purchase_currency":"GBP","order_amount":1,"order_tax_amount":0,"order_lines":[{"name":"x","quantity":1,"unit_price":1,"total_amount":1,"subscription":{"name":"s","interval":"FORTNIGHT","interval_count":1}}]}`},
		{"ct", "customer_token_status_update_request", `{"status":"ACTIVE"}`},
	} {
		spec := om
		if bad.api == "ct" {
			spec = ct
		}
		if err := openapitest.Validate(t, spec, bad.schema, openapitest.Request, []byte(bad.body)); err == nil {
			t.Errorf("%s accepted invalid body %s", bad.schema, bad.body)
		}
	}
}

func TestResponseFixturesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	spec := openapitest.Load(t)
	for name, f := range fixtures {
		if err := openapitest.Validate(t, spec, f.schema, openapitest.Response, []byte(f.body)); err != nil {
			t.Errorf("fixture %s does not match %s: %v", name, f.schema, err)
		}
	}
	for name, f := range afterPaymentFixtures {
		if err := openapitest.Validate(t, openapitest.LoadAPI(t, f.api), f.schema, openapitest.Response, []byte(f.body)); err != nil {
			t.Errorf("fixture %s does not match %s %s: %v", name, f.api, f.schema, err)
		}
	}
}

// TestContractCatchesViolations proves the validator is not vacuous.
func TestContractCatchesViolations(t *testing.T) {
	t.Parallel()
	spec := openapitest.Load(t)
	for _, bad := range []string{
		`{"purchase_country":"GBR","purchase_currency":"GBP","order_amount":1,"order_lines":[{"name":"x","quantity":1,"unit_price":1,"total_amount":1}]}`,
		`{"purchase_country":"GB","purchase_currency":"GBP","order_amount":1,"order_lines":[{"name":"x","quantity":1,"unit_price":1,"total_amount":1,"tax_rate":20000}]}`,
		`{"purchase_country":"GB","purchase_currency":"GBP","order_amount":1}`,
	} {
		if err := openapitest.Validate(t, spec, "session_create", openapitest.Request, []byte(bad)); err == nil {
			t.Errorf("accepted invalid body %s", bad)
		}
	}
}
