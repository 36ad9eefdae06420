package klarna

import "github.com/fikaandform/storefront/internal/openapitest"

// fixtures are the response bodies the tests serve. The contract test checks
// each against the schema named here, so the tests cannot drift from what
// Klarna really sends.
var fixtures = map[string]struct{ schema, body string }{
	"merchant_session": {"merchant_session", `{"session_id":"sid-1","client_token":"eyJ.a.b","payment_method_categories":[{"identifier":"pay_later","name":"Pay later","asset_urls":{"standard":"https://x/s.svg","descriptive":"https://x/d.svg"}}]}`},
	"session_read":     {"session_read", `{"status":"incomplete","expires_at":"2026-11-27T10:00:00Z","order_amount":2400,"order_tax_amount":400,"purchase_country":"GB","purchase_currency":"GBP","intent":"buy","client_token":"eyJ.a.b","order_lines":[{"name":"Mug","quantity":2,"unit_price":1200,"tax_rate":2000,"total_amount":2400,"total_tax_amount":400}]}`},
	"session_complete": {"session_read", `{"status":"complete","order_amount":1,"order_tax_amount":0}`},
	"session_authorized": {"session_read", `{"status":"incomplete","authorization_token":"tok-1","order_amount":2400,"order_tax_amount":400,"purchase_country":"GB","purchase_currency":"GBP",` +
		`"order_lines":[{"name":"Mug","quantity":2,"unit_price":1200,"tax_rate":2000,"total_amount":2400,"total_tax_amount":400}],` +
		`"payment_method_categories":[{"identifier":"pay_later","name":"Pay later","asset_urls":{"descriptive":"https://x.klarnacdn.net/d.svg","standard":"https://x.klarnacdn.net/s.svg"}}]}`},
	"order":           {"order", `{"order_id":"o-1","redirect_url":"https://k/r","fraud_status":"ACCEPTED","authorized_payment_method":{"type":"invoice","number_of_days":30}}`},
	"order_minimal":   {"order", `{"order_id":"o1"}`},
	"customer_token":  {"customer_token_creation_response", `{"token_id":"ct-1","payment_method_reference":"pmr","redirect_url":"https://k/t","customer":{"date_of_birth":"1980-01-01","gender":"female"}}`},
	"error_bad_value": {"ErrorV2", `{"correlation_id":"c-400","error_code":"BAD_VALUE","error_messages":["Bad value: order_tax_amount"]}`},
	"error_401":       {"ErrorV2", `{"correlation_id":"c-401","error_code":"UNAUTHORIZED","error_messages":["Unauthorized"]}`},
	"error_403":       {"ErrorV2", `{"correlation_id":"c-403","error_code":"INVALID_OPERATION","error_messages":["nope"]}`},
	"error_404":       {"ErrorV2", `{"correlation_id":"c-404","error_code":"NOT_FOUND","error_messages":["Invalid session id"]}`},
	"error_409":       {"ErrorV2", `{"correlation_id":"c","error_code":"BAD_VALUE","error_messages":["Not matching fields: [order_amount]"]}`},
	"error_429":       {"ErrorV2", `{"error_code":"RATE_LIMITED","error_messages":["slow down"]}`},
	"error_500":       {"ErrorV2", `{"correlation_id":"c-500","error_code":"INTERNAL_SERVER_ERROR","error_messages":["oops"]}`},
	"error_x":         {"ErrorV2", `{"error_code":"X"}`},
}

// afterPaymentFixtures are Order Management and Customer Token bodies,
// checked against those APIs' contracts.
var afterPaymentFixtures = map[string]struct {
	api          openapitest.API
	schema, body string
}{
	"om_order": {openapitest.OrderManagement, "MerchantOrderDto", `{"order_id":"o-1","status":"PART_CAPTURED","fraud_status":"ACCEPTED",
	 "original_order_amount":2400,"order_amount":2400,"captured_amount":1200,"refunded_amount":200,"remaining_authorized_amount":1200,
	 "expires_at":"2026-12-25T10:00:00Z","created_at":"2026-11-27T10:00:00Z","purchase_country":"GB","purchase_currency":"GBP","locale":"en-GB",
	 "merchant_reference1":"SHOP-1","merchant_reference2":"cart-7","klarna_reference":"K4MADNY",
	 "order_lines":[{"type":"physical","reference":"mug","name":"Mug","quantity":2,"unit_price":1200,"tax_rate":2000,"total_amount":2400,"total_tax_amount":400}],
	 "captures":[{"capture_id":"cap-1","klarna_reference":"K4MADNY-1","captured_amount":1200,"captured_at":"2026-11-28T09:00:00Z","refunded_amount":200,
	   "order_lines":[{"reference":"mug","name":"Mug","quantity":1,"unit_price":1200,"tax_rate":2000,"total_amount":1200,"total_tax_amount":200}],
	   "shipping_info":[{"shipping_company":"Royal Mail","tracking_number":"RM1","tracking_uri":"https://track.example/RM1"}]}],
	 "refunds":[{"refund_id":"ref-1","refunded_amount":200,"refunded_at":"2026-11-29T09:00:00Z","description":"Chipped"}],
	 "initial_payment_method":{"type":"INVOICE","description":"Pay later in 30 days"},
	 "shipping_info":[{"shipping_company":"Royal Mail","shipping_method":"Home"}]}`},
	"om_order_pending": {openapitest.OrderManagement, "MerchantOrderDto", `{"order_id":"o-1","status":"AUTHORIZED","fraud_status":"PENDING","order_amount":100,"purchase_currency":"GBP"}`},
	"om_capture":       {openapitest.OrderManagement, "Capture", `{"capture_id":"cap-1","klarna_reference":"K4MADNY-1","captured_amount":1200,"captured_at":"2026-11-28T09:00:00Z","description":"Shipped","refunded_amount":0}`},
	"om_refund":        {openapitest.OrderManagement, "Refund", `{"refund_id":"ref-1","refunded_amount":200,"refunded_at":"2026-11-29T09:00:00Z","reference":"RMA-1"}`},
	"om_capture_not_allowed": {openapitest.OrderManagement, "Capture not allowed error message",
		`{"correlation_id":"c-403","error_code":"CAPTURE_NOT_ALLOWED","error_messages":["Capture not allowed"]}`},
	"ct_token":    {openapitest.CustomerToken, "customer_token", `{"status":"ACTIVE","payment_method_type":"CARD","card":{"brand":"VISA","expiry_date":"09/2029","masked_number":"************1111"}}`},
	"ct_order":    {openapitest.CustomerToken, "order", `{"order_id":"o-9","fraud_status":"ACCEPTED","redirect_url":"https://k/r/o-9","authorized_payment_method":{"type":"card"}}`},
	"ct_declined": {openapitest.CustomerToken, "ErrorV2", `{"correlation_id":"c-d","error_code":"PAYMENT_METHOD_FAILED","error_messages":["Purchase declined"]}`},
}

func fixture(name string) string {
	if f, ok := fixtures[name]; ok {
		return f.body
	}
	if f, ok := afterPaymentFixtures[name]; ok {
		return f.body
	}
	panic("no fixture " + name)
}
