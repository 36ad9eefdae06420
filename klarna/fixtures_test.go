package klarna

// fixtures are the response bodies the tests serve. The contract test checks
// each against the schema named here, so the tests cannot drift from what
// Klarna really sends.
var fixtures = map[string]struct{ schema, body string }{
	"merchant_session": {"merchant_session", `{"session_id":"sid-1","client_token":"eyJ.a.b","payment_method_categories":[{"identifier":"pay_later","name":"Pay later","asset_urls":{"standard":"https://x/s.svg","descriptive":"https://x/d.svg"}}]}`},
	"session_read":     {"session_read", `{"status":"incomplete","expires_at":"2026-11-27T10:00:00Z","order_amount":2400,"order_tax_amount":400,"purchase_country":"GB","purchase_currency":"GBP","intent":"buy","client_token":"eyJ.a.b","order_lines":[{"name":"Mug","quantity":2,"unit_price":1200,"tax_rate":2000,"total_amount":2400,"total_tax_amount":400}]}`},
	"session_complete": {"session_read", `{"status":"complete","order_amount":1,"order_tax_amount":0}`},
	"order":            {"order", `{"order_id":"o-1","redirect_url":"https://k/r","fraud_status":"ACCEPTED","authorized_payment_method":{"type":"invoice","number_of_days":30}}`},
	"order_minimal":    {"order", `{"order_id":"o1"}`},
	"customer_token":   {"customer_token_creation_response", `{"token_id":"ct-1","payment_method_reference":"pmr","redirect_url":"https://k/t","customer":{"date_of_birth":"1980-01-01","gender":"female"}}`},
	"error_bad_value":  {"ErrorV2", `{"correlation_id":"c-400","error_code":"BAD_VALUE","error_messages":["Bad value: order_tax_amount"]}`},
	"error_401":        {"ErrorV2", `{"correlation_id":"c-401","error_code":"UNAUTHORIZED","error_messages":["Unauthorized"]}`},
	"error_403":        {"ErrorV2", `{"correlation_id":"c-403","error_code":"INVALID_OPERATION","error_messages":["nope"]}`},
	"error_404":        {"ErrorV2", `{"correlation_id":"c-404","error_code":"NOT_FOUND","error_messages":["Invalid session id"]}`},
	"error_409":        {"ErrorV2", `{"correlation_id":"c","error_code":"BAD_VALUE","error_messages":["Not matching fields: [order_amount]"]}`},
	"error_429":        {"ErrorV2", `{"error_code":"RATE_LIMITED","error_messages":["slow down"]}`},
	"error_500":        {"ErrorV2", `{"correlation_id":"c-500","error_code":"INTERNAL_SERVER_ERROR","error_messages":["oops"]}`},
	"error_x":          {"ErrorV2", `{"error_code":"X"}`},
	"order_status":     {"", `{"order_id":"o-1","status":"AUTHORIZED","fraud_status":"PENDING","order_amount":100,"purchase_currency":"GBP"}`},
}

func fixture(name string) string {
	f, ok := fixtures[name]
	if !ok {
		panic("no fixture " + name)
	}
	return f.body
}
