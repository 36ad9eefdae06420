package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// Customer Token API v1: customer tokens made by generate_customer_token can
// be charged (POST /customer-token/v1/tokens/{token}/order, 200), read and
// cancelled (PATCH …/status, 202). A renewal order joins the other orders,
// so Order Management works on it, and the inspector shows it.
//
// What charging a token does in tests is set by test data: see the package
// documentation's table.

// Token statuses.
const (
	TokenActive    = "ACTIVE"
	TokenSuspended = "SUSPENDED"
	TokenCancelled = "CANCELLED"
)

// TokenBehaviour is what charging a customer token does in tests. Set it
// with SetTokenBehaviour or POST /_sim/tokens/{token_id}.
type TokenBehaviour struct {
	// SoftDeclines makes the next this many charges fail with 403
	// PAYMENT_METHOD_FAILED.
	SoftDeclines int `json:"soft_declines,omitempty"`
	// Decline makes every charge fail with this 403 error code:
	// UNAVAILABLE_PAYMENT_METHOD, PAYMENT_METHOD_CURRENCY_MISMATCH,
	// TOKEN_FORBIDDEN or PAYMENT_METHOD_FAILED.
	Decline string `json:"decline,omitempty"`
	// Status, when set, changes the token's status: ACTIVE, SUSPENDED or
	// CANCELLED (a cancelled token stays cancelled).
	Status string `json:"status,omitempty"`
	// Pending places renewal orders with fraud_status PENDING.
	Pending bool `json:"pending,omitempty"`
}

var declineCodes = set("UNAVAILABLE_PAYMENT_METHOD", "PAYMENT_METHOD_CURRENCY_MISMATCH", "TOKEN_FORBIDDEN", "PAYMENT_METHOD_FAILED")

// tokenState is a customer token's Customer Token API state.
type tokenState struct {
	Status                    string
	Country, Currency, Locale string
	Category                  string
	Behaviour                 TokenBehaviour
	Orders                    []string
	Charges, Declines         int
}

// Test-data tags of the billing e-mail that mark the token made from an
// authorization.
var tokenTagActions = map[string]func(*tokenState){
	"token_soft_decline": func(t *tokenState) { t.Behaviour.SoftDeclines = 2 },
	"token_hard_decline": func(t *tokenState) { t.Behaviour.Decline = "UNAVAILABLE_PAYMENT_METHOD" },
	"token_suspended":    func(t *tokenState) { t.Status = TokenSuspended },
	"token_pending":      func(t *tokenState) { t.Behaviour.Pending = true },
}

// newTokenState is a new token's state: ACTIVE, in the market it was made
// for, with the behaviour the test data asks for.
func newTokenState(a *authorization, req *wireTokenRequest) tokenState {
	t := tokenState{Status: TokenActive, Country: strings.ToUpper(str(req.PurchaseCountry)), Currency: strings.ToUpper(str(req.PurchaseCurrency)),
		Locale: str(req.Locale), Category: a.Category}
	tags := append(emailTags(req.BillingAddress), emailTags(a.Snapshot.BillingAddress)...)
	for _, tag := range append(tags, a.TokenTags...) {
		if f := tokenTagActions[tag]; f != nil {
			f(&t)
		}
	}
	return t
}

func (s *Simulator) customerTokenRoutes(m *http.ServeMux) {
	const p = "/customer-token/v1/tokens/{token}"
	m.HandleFunc("POST "+p+"/order", s.api(OpCreateTokenOrder, s.checkMerchantURLs(s.idempotent(OpCreateTokenOrder, s.createTokenOrder))))
	m.HandleFunc("GET "+p, s.api(OpGetCustomerToken, s.getCustomerToken))
	// Choice: Klarna does not declare an idempotency key for the status
	// update (docs/KLARNA.md, open question 7); cancelling is idempotent by itself, so a repeat
	// answers 202 again.
	m.HandleFunc("PATCH "+p+"/status", s.api(OpCancelCustomerToken, s.cancelCustomerToken))
}

type wireTokenOrderURLs struct {
	Confirmation *string `json:"confirmation,omitempty"`
	Push         *string `json:"push,omitempty"`
}

type wireTokenOrder struct {
	PurchaseCurrency   *string             `json:"purchase_currency"`
	OrderAmount        *int64              `json:"order_amount"`
	OrderTaxAmount     *int64              `json:"order_tax_amount"`
	OrderLines         []wireLine          `json:"order_lines"`
	AutoCapture        *bool               `json:"auto_capture"`
	MerchantReference1 *string             `json:"merchant_reference1"`
	MerchantReference2 *string             `json:"merchant_reference2"`
	MerchantData       *string             `json:"merchant_data"`
	MerchantURLs       *wireTokenOrderURLs `json:"merchant_urls"`
	ShippingAddress    *wireAddress        `json:"shipping_address"`
	Attachment         *wireAttachment     `json:"attachment"`
}

// Limits of the Customer Token API's order line, tighter than Payments'.
const (
	maxTokenLineAmount   = 100_000_000
	maxTokenMerchantData = 255
)

// validateTokenOrder applies a session's order rules (market, amounts, tax,
// lines) in the token's market, and the Customer Token API's own: an
// order_amount of at least 1, an order_tax_amount, lines of at most
// 100000000, and merchant_urls.confirmation when merchant_urls is sent.
//
// Choice: Klarna asks renewals to send the subscription object on every
// line; the simulator refuses a line without it (the stricter reading).
func validateTokenOrder(t *tokenState, req *wireTokenOrder) problems {
	d := wireSession{PurchaseCountry: &t.Country, PurchaseCurrency: req.PurchaseCurrency, Locale: &t.Locale, OrderAmount: req.OrderAmount,
		OrderTaxAmount: req.OrderTaxAmount, OrderLines: req.OrderLines, MerchantReference1: req.MerchantReference1,
		MerchantReference2: req.MerchantReference2, MerchantData: req.MerchantData, ShippingAddress: req.ShippingAddress, Attachment: req.Attachment}
	if u := req.MerchantURLs; u != nil {
		d.MerchantURLs = &wireURLs{Confirmation: str(u.Confirmation), Push: str(u.Push)}
	}
	p := validateOrderData(&d)
	if req.OrderAmount == nil || *req.OrderAmount < 1 {
		p.bad("order_amount")
	}
	if req.OrderTaxAmount == nil {
		p.bad("order_tax_amount")
	}
	if u := req.MerchantURLs; u != nil && (u.Confirmation == nil || *u.Confirmation == "") {
		p.bad("merchant_urls.confirmation")
	}
	for i, l := range req.OrderLines {
		if l.Subscription == nil {
			p.bad("order_lines[%d].subscription", i)
		}
		if abs(num(l.UnitPrice)) > maxTokenLineAmount {
			p.bad("order_lines[%d].unit_price", i)
		}
		if abs(num(l.TotalAmount)) > maxTokenLineAmount {
			p.bad("order_lines[%d].total_amount", i)
		}
		if l.MerchantData != nil && len(*l.MerchantData) > maxTokenMerchantData {
			p.bad("order_lines[%d].merchant_data", i)
		}
	}
	return p
}

func tokenNotFound() result {
	return errorResult(http.StatusNotFound, "TOKEN_NOT_FOUND", "Customer token not found")
}

func (s *Simulator) createTokenOrder(r *http.Request, body []byte) result {
	var req wireTokenOrder
	if res := decode(body, &req); res != nil {
		return *res
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[r.PathValue("token")]
	if t == nil {
		return tokenNotFound()
	}
	ct := &t.ct
	switch ct.Status {
	case TokenCancelled:
		return forbidden("TOKEN_CANCELLED", "The customer token has been cancelled")
	case TokenSuspended:
		return forbidden("TOKEN_SUSPENDED", "The customer token is suspended")
	}
	if c := req.PurchaseCurrency; c != nil && reCurrency.MatchString(*c) && !strings.EqualFold(*c, ct.Currency) {
		return forbidden("PAYMENT_METHOD_CURRENCY_MISMATCH", "The token's payment method does not support "+strings.ToUpper(*c))
	}
	if p := validateTokenOrder(ct, &req); len(p) > 0 {
		return badValue(p)
	}
	ct.Charges++
	switch b := &ct.Behaviour; {
	case b.Decline != "":
		ct.Declines++
		return forbidden(b.Decline, "The purchase was declined")
	case b.SoftDeclines > 0:
		b.SoftDeclines--
		ct.Declines++
		return forbidden("PAYMENT_METHOD_FAILED", "The purchase was declined. Try again later.")
	}

	now := s.now()
	id := uuid.NewString()
	fraud := "ACCEPTED"
	if ct.Behaviour.Pending {
		fraud = "PENDING"
	}
	cat := categoryByID(categoriesFor(ct.Country), ct.Category)
	o := &order{ID: id, SessionID: t.SessionID, Amount: *req.OrderAmount, Currency: strings.ToUpper(*req.PurchaseCurrency), FraudStatus: fraud,
		Category: ct.Category, Reference1: str(req.MerchantReference1), CreatedAt: now}
	if u := req.MerchantURLs; u != nil {
		o.Confirmation = substitute(str(u.Confirmation), t.SessionID, id)
	}
	m := &o.om
	m.Country, m.Locale, m.TaxAmount, m.Lines = ct.Country, ct.Locale, *req.OrderTaxAmount, req.OrderLines
	m.Reference2, m.MerchantData, m.Shipping, m.TokenID = str(req.MerchantReference2), str(req.MerchantData), req.ShippingAddress, t.ID
	s.openManaged(o, cat, req.AutoCapture != nil && *req.AutoCapture)
	// Choice: the answer always has a redirect_url (the API description
	// requires it); without a confirmation URL it leads nowhere.
	resp := map[string]any{"order_id": id, "fraud_status": fraud, "redirect_url": s.cfg.BaseURL + "/redirect/" + id,
		"authorized_payment_method": map[string]any{"type": cat.Method}}
	o.Response, _ = json.Marshal(resp)
	s.orders[id] = o
	if ss := s.sessions[t.SessionID]; ss != nil {
		ss.orderIDs = append(ss.orderIDs, id)
	}
	ct.Orders = append(ct.Orders, id)
	if fraud == "PENDING" && s.cfg.PendingDecisionDelay > 0 {
		s.schedule(s.cfg.PendingDecisionDelay, func() { s.Decide(id, s.cfg.PendingDecision) })
	}
	return result{status: http.StatusOK, body: o.Response}
}

// tokenView is a token as GET returns it. Choice: the payment method shown
// follows the category the shopper authorized: pay_later is INVOICE,
// pay_over_time a CARD, pay_now a DIRECT_DEBIT, with made-up masked
// details.
func tokenView(t *customerToken) map[string]any {
	v := map[string]any{"status": t.ct.Status}
	switch t.ct.Category {
	case payOverTime.Identifier:
		v["payment_method_type"] = "CARD"
		v["card"] = map[string]string{"brand": "VISA", "expiry_date": "12/2030", "masked_number": "************1111"}
	case payNow.Identifier:
		v["payment_method_type"] = "DIRECT_DEBIT"
		v["direct_debit"] = map[string]string{"masked_number": "DE89************3000"}
	default:
		v["payment_method_type"] = "INVOICE"
	}
	return v
}

func (s *Simulator) getCustomerToken(r *http.Request, _ []byte) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[r.PathValue("token")]
	if t == nil {
		return errorResult(http.StatusNotFound, "NOT_FOUND", "Invalid customer-token ID")
	}
	return result{status: http.StatusOK, body: tokenView(t)}
}

func (s *Simulator) cancelCustomerToken(r *http.Request, body []byte) result {
	var req struct {
		Status *string `json:"status"`
	}
	if res := decode(body, &req); res != nil {
		return *res
	}
	if req.Status == nil || *req.Status != TokenCancelled {
		return errorResult(http.StatusBadRequest, "BAD_VALUE", "Bad value: status")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[r.PathValue("token")]
	if t == nil {
		return errorResult(http.StatusNotFound, "NOT_FOUND", "Invalid token ID")
	}
	t.ct.Status = TokenCancelled
	return result{status: http.StatusAccepted}
}

var errNoToken = errors.New("simulator: no such customer token")

// SetTokenBehaviour sets what charging a customer token does (see
// TokenBehaviour). It replaces the token's soft declines, decline code and
// pending flag, and changes its status when b.Status is set.
func (s *Simulator) SetTokenBehaviour(tokenID string, b TokenBehaviour) error {
	if b.Decline != "" && !declineCodes[b.Decline] {
		return fmt.Errorf("simulator: decline must be one of UNAVAILABLE_PAYMENT_METHOD, PAYMENT_METHOD_CURRENCY_MISMATCH, TOKEN_FORBIDDEN, PAYMENT_METHOD_FAILED, not %q", b.Decline)
	}
	if b.SoftDeclines < 0 {
		return errors.New("simulator: soft_declines must not be negative")
	}
	switch b.Status {
	case "", TokenActive, TokenSuspended, TokenCancelled:
	default:
		return fmt.Errorf("simulator: status must be ACTIVE, SUSPENDED or CANCELLED, not %q", b.Status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[tokenID]
	if t == nil {
		return errNoToken
	}
	if b.Status != "" {
		if t.ct.Status == TokenCancelled && b.Status != TokenCancelled {
			return errors.New("simulator: a cancelled token cannot be restored")
		}
		t.ct.Status = b.Status
	}
	b.Status = ""
	t.ct.Behaviour = b
	return nil
}

// tokenControl is POST /_sim/tokens/{id} with a TokenBehaviour body.
func (s *Simulator) tokenControl(w http.ResponseWriter, r *http.Request) {
	body, _ := readBody(r)
	var b TokenBehaviour
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		http.Error(w, `want JSON such as {"soft_declines":2}, {"decline":"UNAVAILABLE_PAYMENT_METHOD"}, {"status":"SUSPENDED"} or {"pending":true}`, http.StatusBadRequest)
		return
	}
	switch err := s.SetTokenBehaviour(r.PathValue("id"), b); {
	case errors.Is(err, errNoToken):
		http.Error(w, err.Error(), http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// tokenInfo describes a token for the inspector, its id shortened.
func (t *customerToken) info() TokenInfo {
	b := t.ct.Behaviour
	var behaviour []string
	if b.SoftDeclines > 0 {
		behaviour = append(behaviour, fmt.Sprintf("soft declines left: %d", b.SoftDeclines))
	}
	if b.Decline != "" {
		behaviour = append(behaviour, "declines: "+b.Decline)
	}
	if b.Pending {
		behaviour = append(behaviour, "orders pending")
	}
	return TokenInfo{ID: suffix(t.ID), SessionID: t.SessionID, Description: t.Description, CreatedAt: t.CreatedAt, Status: t.ct.Status,
		PaymentMethodType: tokenView(t)["payment_method_type"].(string), Country: t.ct.Country, Currency: t.ct.Currency,
		Behaviour: strings.Join(behaviour, ", "), Charges: t.ct.Charges, Declines: t.ct.Declines, Orders: len(t.ct.Orders)}
}
