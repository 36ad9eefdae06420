package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Operation names, as used for faults, counts and the inspector.
const (
	OpCreateSession       = "create_session"
	OpGetSession          = "get_session"
	OpUpdateSession       = "update_session"
	OpCreateOrder         = "create_order"
	OpCancelAuthorization = "cancel_authorization"
	OpCustomerToken       = "generate_customer_token"
	OpGetOrder            = "get_order"

	// Order Management.
	OpCapture                = "capture"
	OpListCaptures           = "list_captures"
	OpGetCapture             = "get_capture"
	OpAddCaptureShippingInfo = "add_capture_shipping_info"
	OpAddShippingInfo        = "add_shipping_info"
	OpRefund                 = "refund"
	OpGetRefund              = "get_refund"
	OpCancelOrder            = "cancel_order"
	OpReleaseAuthorization   = "release_authorization"
	OpExtendAuthorization    = "extend_authorization"

	// Customer Token API.
	OpCreateTokenOrder    = "create_token_order"
	OpGetCustomerToken    = "get_customer_token"
	OpCancelCustomerToken = "cancel_customer_token"
)

type opFunc func(r *http.Request, body []byte) result

// api wraps a REST operation with what every Klarna call has: a correlation
// id, Basic authentication, the 1 MB body limit, recording, and faults.
func (s *Simulator) api(op string, fn opFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		corr := uuid.NewString()
		w.Header().Set("Klarna-Correlation-Id", corr)
		rec := &requestRecord{At: s.now(), Operation: op, Region: regionOf(r.Context()), Method: r.Method, Path: maskPath(r.URL.Path), CorrelationID: corr}
		finish := func(res result) {
			rec.Status = res.status
			for k, v := range res.header {
				w.Header().Set(k, v)
			}
			if res.replay {
				corr = res.corr
				w.Header().Set("Klarna-Correlation-Id", corr)
				rec.CorrelationID, rec.Replay = corr, true
			}
			rec.NoKey = res.noKey
			s.record(rec)
			if res.err != nil {
				res.err.CorrelationID = corr
				writeJSON(w, res.status, res.err)
				return
			}
			if res.body == nil {
				w.WriteHeader(res.status)
				return
			}
			writeJSON(w, res.status, res.body)
		}
		if !s.authorized(r) {
			finish(errorResult(http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized"))
			return
		}
		body, ok := readBody(r)
		if !ok {
			finish(errorResult(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "Request body exceeds 1 MB"))
			return
		}
		rec.Body = string(body)

		f := s.takeFault(op)
		if f != nil {
			rec.Fault = f.String()
			if f.Latency > 0 {
				select {
				case <-time.After(f.Latency):
				case <-r.Context().Done():
					s.record(rec)
					return
				}
			}
			switch f.Kind {
			case FaultStatus:
				res := errorResult(f.Status, statusCode(f.Status), "Injected fault")
				if f.Status == http.StatusTooManyRequests {
					w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfter))
				}
				finish(res)
				return
			case FaultHang:
				s.record(rec)
				select {
				case <-r.Context().Done():
				case <-s.ctx.Done():
				}
				return
			case FaultDrop:
				s.record(rec)
				dropConnection(w)
				return
			}
		}
		s.hideOtherRegions(op, r)
		res := fn(r.WithContext(context.WithValue(r.Context(), corrKey{}, corr)), body)
		if !res.replay {
			s.mu.Lock()
			s.counts[op]++
			s.mu.Unlock()
		}
		if f != nil && f.Kind == FaultAnswerLost {
			// The operation happened; its answer never arrives.
			rec.Status, rec.Replay, rec.NoKey = res.status, res.replay, res.noKey
			s.record(rec)
			dropConnection(w)
			return
		}
		finish(res)
	}
}

func statusCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "RATE_LIMITED"
	case http.StatusServiceUnavailable:
		return "SERVICE_UNAVAILABLE"
	}
	return "INTERNAL_SERVER_ERROR"
}

func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// corrKey carries a request's correlation id to its operation, which
// stores it with an idempotent answer.
type corrKey struct{}

// maskPath hides authorization tokens and customer tokens in recorded paths.
func maskPath(p string) string {
	for _, prefix := range []string{"/payments/v1/authorizations/", "/customer-token/v1/tokens/"} {
		if i := strings.Index(p, prefix); i >= 0 {
			rest := p[i+len(prefix):]
			tok, tail, _ := strings.Cut(rest, "/")
			if tail != "" {
				tail = "/" + tail
			}
			return p[:i+len(prefix)] + suffix(tok) + tail
		}
	}
	return p
}

func (s *Simulator) record(rec *requestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, rec)
	if len(s.requests) > maxRecords {
		s.requests = s.requests[len(s.requests)-maxRecords:]
	}
}

// decode parses a JSON body. Malformed JSON is 400 BAD_REQUEST; a value of
// the wrong type names its field, as Klarna's BAD_VALUE does.
func decode(body []byte, v any) *result {
	if len(bytes.TrimSpace(body)) == 0 {
		r := errorResult(http.StatusBadRequest, "BAD_REQUEST", "Request body is missing")
		return &r
	}
	// Unmarshal, not a Decoder: a body with anything after its JSON value
	// is refused, the stricter answer where Klarna's parser is not
	// documented.
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			r := errorResult(http.StatusBadRequest, "BAD_VALUE", "Bad value: "+te.Field)
			return &r
		}
		r := errorResult(http.StatusBadRequest, "BAD_REQUEST", "Invalid JSON: "+err.Error())
		return &r
	}
	return nil
}

func badValue(p problems) result {
	return errorResult(http.StatusBadRequest, "BAD_VALUE", p.messages()...)
}

// liveSession returns a session that exists and has not expired. Caller
// holds s.mu.
func (s *Simulator) liveSession(id string) (*session, *result) {
	ss := s.sessions[id]
	if ss == nil || s.now().After(ss.UpdatedAt.Add(SessionLifetime)) {
		r := errorResult(http.StatusNotFound, "NOT_FOUND", "Invalid session id")
		return nil, &r
	}
	return ss, nil
}

func (s *Simulator) createSession(r *http.Request, body []byte) result {
	var d wireSession
	if res := decode(body, &d); res != nil {
		return *res
	}
	if res := wrongRegion(r, d.PurchaseCountry); res != nil {
		return *res
	}
	if res := s.foreignMerchantURLs(d.MerchantURLs); res != nil {
		return *res
	}
	if p := validateOrderData(&d); len(p) > 0 {
		return badValue(p)
	}
	country := strings.ToUpper(*d.PurchaseCountry)
	if d.Locale == nil {
		// Choice: a missing locale becomes the country's first locale
		// (Klarna documents en-US as the default, which would then fail the
		// market table for every non-US session).
		loc := markets[country].locales[0]
		d.Locale = &loc
	}
	id := uuid.NewString()
	now := s.now()
	ss := &session{ID: id, Region: regionOf(r.Context()), Data: d, Categories: categoriesFor(country), CreatedAt: now, UpdatedAt: now, Status: "incomplete"}
	token, err := s.clientToken(ss)
	if err != nil {
		return errorResult(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
	}
	ss.ClientToken = token

	s.mu.Lock()
	s.sessions[id] = ss
	s.order = append(s.order, id)
	s.evictLocked()
	s.mu.Unlock()
	return result{status: http.StatusOK, body: map[string]any{
		"session_id": id, "client_token": token, "payment_method_categories": s.categoriesJSON(ss.Categories, str(ss.Data.Locale)),
	}}
}

// evictLocked drops the oldest sessions beyond MaxSessions, with everything
// that belongs to them.
func (s *Simulator) evictLocked() {
	for len(s.order) > s.cfg.MaxSessions {
		id := s.order[0]
		s.order = s.order[1:]
		ss := s.sessions[id]
		delete(s.sessions, id)
		if ss == nil {
			continue
		}
		for _, tok := range ss.tokens {
			delete(s.auths, tok)
		}
		for _, oid := range ss.orderIDs {
			delete(s.orders, oid)
		}
		for _, tid := range ss.customerTokens {
			delete(s.tokens, tid)
		}
	}
}

func (s *Simulator) getSession(r *http.Request, _ []byte) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, res := s.liveSession(r.PathValue("id"))
	if res != nil {
		return *res
	}
	return result{status: http.StatusOK, body: s.sessionView(ss)}
}

// sessionView is a session as GET returns it (session_read): what was
// sent, with the defaults Klarna fills in, and what Klarna adds.
func (s *Simulator) sessionView(ss *session) sessionRead {
	d := ss.Data
	if d.Intent == nil {
		d.Intent = ptr("buy")
	}
	if d.AcquiringChannel == nil {
		d.AcquiringChannel = ptr("ECOMMERCE")
	}
	if d.OrderTaxAmount == nil {
		d.OrderTaxAmount = ptr(int64(0))
	}
	v := sessionRead{
		wireSession: d, ClientToken: ss.ClientToken, Status: ss.Status, AuthorizationToken: ss.LastToken,
		ExpiresAt:               ss.UpdatedAt.Add(SessionLifetime).UTC().Format(time.RFC3339),
		PaymentMethodCategories: s.categoriesJSON(ss.Categories, str(ss.Data.Locale)),
	}
	if d.Customer != nil {
		v.Customer = d.Customer.readView()
	}
	return v
}

// sessionRead is session_read's body. Its customer shadows the one sent
// (Klarna reads back less of it); the rest of what was sent is embedded.
// A struct rather than a map built by a JSON round trip: every checkout
// reads its session.
type sessionRead struct {
	wireSession
	Customer                *wireCustomer    `json:"customer,omitempty"`
	ClientToken             string           `json:"client_token"`
	ExpiresAt               string           `json:"expires_at"`
	Status                  string           `json:"status"`
	PaymentMethodCategories []map[string]any `json:"payment_method_categories"`
	AuthorizationToken      string           `json:"authorization_token,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func (s *Simulator) updateSession(r *http.Request, body []byte) result {
	var u wireSession
	if res := decode(body, &u); res != nil {
		return *res
	}
	if res := s.foreignMerchantURLs(u.MerchantURLs); res != nil {
		return *res
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, res := s.liveSession(r.PathValue("id"))
	if res != nil {
		return *res
	}
	if ss.Status == "complete" {
		// Choice: 404 SESSION_COMPLETED is among Klarna's listed codes;
		// the simulator uses it for any change to a session whose order has
		// been placed (docs/KLARNA.md, open question 1).
		return errorResult(http.StatusNotFound, "SESSION_COMPLETED", "Session is completed")
	}
	merged := ss.Data
	merged.merge(&u)
	if p := validateOrderData(&merged); len(p) > 0 {
		return badValue(p)
	}
	oldCountry := strings.ToUpper(str(ss.Data.PurchaseCountry))
	ss.Data = merged
	ss.UpdatedAt = s.now()
	if c := strings.ToUpper(str(merged.PurchaseCountry)); c != oldCountry {
		ss.Categories = categoriesFor(c)
	}
	return result{status: http.StatusNoContent}
}

// usableAuth finds an authorization that may still be used. Caller holds s.mu.
func (s *Simulator) usableAuth(token string) (*authorization, *result) {
	a := s.auths[token]
	if a == nil || a.State == "cancelled" || s.now().After(a.CreatedAt.Add(AuthorizationLifetime)) {
		r := errorResult(http.StatusNotFound, "NOT_FOUND", "Invalid authorization token")
		return nil, &r
	}
	return a, nil
}

func (s *Simulator) cancelAuthorization(r *http.Request, _ []byte) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, res := s.usableAuth(r.PathValue("token"))
	if res != nil {
		return *res
	}
	if a.OrderID != "" {
		// Choice: an authorization that became an order cannot be released
		// any more; Klarna answers as if it were unknown.
		return errorResult(http.StatusNotFound, "NOT_FOUND", "Invalid authorization token")
	}
	a.State = "cancelled"
	return result{status: http.StatusNoContent}
}

func (s *Simulator) createOrder(r *http.Request, body []byte) result {
	var req wireOrderRequest
	if res := decode(body, &req); res != nil {
		return *res
	}
	if res := s.foreignMerchantURLs(req.MerchantURLs); res != nil {
		return *res
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, res := s.usableAuth(r.PathValue("token"))
	if res != nil {
		return *res
	}
	if str(a.Snapshot.Intent) == "tokenize" {
		return errorResult(http.StatusForbidden, "INVALID_OPERATION", "Authorization is for tokenization only; generate a customer token instead")
	}
	if a.OrderID != "" {
		// Choice: a spent token is refused like an unknown one (404), the
		// stricter of the two plausible answers: a merchant whose answer was
		// lost cannot learn the order id by asking again. Config.ReplayOrders
		// chooses the other: the repeat returns the order already placed.
		if !s.cfg.ReplayOrders {
			return errorResult(http.StatusNotFound, "NOT_FOUND", "Invalid authorization token")
		}
		if o := s.orders[a.OrderID]; o != nil {
			return result{status: http.StatusOK, body: o.Response}
		}
	}
	if a.Failure != nil {
		// Klarna: once create order failed for a token, it keeps failing
		// with the same error, even with corrected data.
		return result{status: a.Failure.Status, err: &apiError{Status: a.Failure.Status, ErrorCode: a.Failure.ErrorCode, ErrorMessages: a.Failure.ErrorMessages}}
	}
	if p := validateOrderData(&req.wireSession); len(p) > 0 {
		return badValue(p)
	}
	if diff := mismatches(&a.Snapshot, &req.wireSession); len(diff) > 0 {
		e := errorResult(http.StatusConflict, "BAD_VALUE", "Not matching fields: ["+strings.Join(diff, ", ")+"]")
		a.State = "failed"
		stored := *e.err
		a.Failure = &stored
		return e
	}
	ss := s.sessions[a.SessionID]
	if ss == nil {
		return errorResult(http.StatusNotFound, "NOT_FOUND", "Invalid authorization token")
	}
	cat := categoryByID(ss.Categories, a.Category)
	id := uuid.NewString()
	fraud := "ACCEPTED"
	if a.Pending {
		fraud = "PENDING"
	}
	// Merchant URLs given with the order override the session's, one by one.
	var urls *wireURLs
	if a.Snapshot.MerchantURLs != nil {
		cp := *a.Snapshot.MerchantURLs
		urls = &cp
	}
	if u := req.MerchantURLs; u != nil {
		if urls == nil {
			urls = &wireURLs{}
		}
		for _, f := range []struct {
			dst *string
			src string
		}{{&urls.Confirmation, u.Confirmation}, {&urls.Notification, u.Notification}, {&urls.Push, u.Push}} {
			if f.src != "" {
				*f.dst = f.src
			}
		}
	}
	o := &order{ID: id, SessionID: ss.ID, Token: a.Token, Amount: num(req.OrderAmount), Currency: strings.ToUpper(str(req.PurchaseCurrency)),
		FraudStatus: fraud, Category: a.Category, Reference1: str(req.MerchantReference1), CreatedAt: s.now()}
	resp := map[string]any{"order_id": id, "fraud_status": fraud}
	pm := map[string]any{"type": cat.Method}
	if cat.Days > 0 {
		pm["number_of_days"] = cat.Days
	}
	if cat.Installments > 0 {
		pm["number_of_installments"] = cat.Installments
	}
	resp["authorized_payment_method"] = pm
	if urls != nil {
		o.Confirmation = substitute(urls.Confirmation, ss.ID, id)
		// Choice: fraud decisions go to the notification URL given with the
		// order only (Klarna documents it "sent at create order"), never to
		// the session's: the stricter reading.
		if req.MerchantURLs != nil {
			o.Notification = substitute(req.MerchantURLs.Notification, ss.ID, id)
		}
		if o.Confirmation != "" {
			resp["redirect_url"] = s.cfg.BaseURL + "/redirect/" + id
		}
	}
	o.Response, _ = json.Marshal(resp)
	s.manage(o, &req, a)
	s.orders[id] = o
	ss.orderIDs = append(ss.orderIDs, id)
	a.OrderID = id
	a.State = "used"
	ss.Status = "complete"
	switch {
	case a.Pending && a.Plan != nil:
		s.planDecisionLocked(o, a.Plan)
	case a.Pending && s.cfg.PendingDecisionDelay > 0:
		s.schedule(s.cfg.PendingDecisionDelay, func() { s.Decide(id, s.cfg.PendingDecision) })
	}
	return result{status: http.StatusOK, body: o.Response}
}

func substitute(u, sessionID, orderID string) string {
	// Two plain replacements: building a Replacer per call cost more
	// than the replacing.
	return strings.ReplaceAll(strings.ReplaceAll(u, "{session.id}", sessionID), "{order.id}", orderID)
}

// placeholdersAsX puts a letter where a merchant URL has a placeholder,
// which is not URL syntax, so that the URL around it can be checked.
var placeholdersAsX = strings.NewReplacer("{session.id}", "x", "{order.id}", "x")

func categoryByID(cats []category, id string) category {
	for _, c := range cats {
		if c.Identifier == id {
			return c
		}
	}
	return payLater
}

// mismatches compares an order with the data that was authorized, in
// Klarna's words. Choice: the fields compared are the market, the amounts and
// each line's quantity and amounts (docs/KLARNA.md, open question 4).
func mismatches(auth, req *wireSession) []string {
	var diff []string
	if !strings.EqualFold(str(auth.PurchaseCountry), str(req.PurchaseCountry)) {
		diff = append(diff, "purchase_country")
	}
	if !strings.EqualFold(str(auth.PurchaseCurrency), str(req.PurchaseCurrency)) {
		diff = append(diff, "purchase_currency")
	}
	if req.Locale != nil && !strings.EqualFold(str(auth.Locale), *req.Locale) {
		diff = append(diff, "locale")
	}
	if num(auth.OrderAmount) != num(req.OrderAmount) {
		diff = append(diff, "order_amount")
	}
	if num(auth.OrderTaxAmount) != num(req.OrderTaxAmount) {
		diff = append(diff, "order_tax_amount")
	}
	if len(auth.OrderLines) != len(req.OrderLines) {
		return append(diff, fmt.Sprintf("Incorrect number of items in the cart. Expected: %d, Actual: %d", len(auth.OrderLines), len(req.OrderLines)))
	}
	for i := range auth.OrderLines {
		a, b := &auth.OrderLines[i], &req.OrderLines[i]
		if num(a.Quantity) != num(b.Quantity) || num(a.UnitPrice) != num(b.UnitPrice) || num(a.TotalAmount) != num(b.TotalAmount) ||
			num(a.TaxRate) != num(b.TaxRate) || num(a.TotalTaxAmount) != num(b.TotalTaxAmount) || str(a.Reference) != str(b.Reference) {
			diff = append(diff, fmt.Sprintf("order_lines[%d]", i))
		}
	}
	return diff
}

func (s *Simulator) createCustomerToken(r *http.Request, body []byte) result {
	var req wireTokenRequest
	if res := decode(body, &req); res != nil {
		return *res
	}
	var p problems
	if req.Description == nil {
		p.bad("description")
	} else {
		length(&p, "description", *req.Description, 1, 255)
	}
	if str(req.IntendedUse) != "SUBSCRIPTION" {
		p.bad("intended_use")
	}
	if req.Locale == nil || !reLocale.MatchString(*req.Locale) {
		p.bad("locale")
	}
	if req.PurchaseCountry == nil || !reCountry.MatchString(*req.PurchaseCountry) {
		p.bad("purchase_country")
	}
	if req.PurchaseCurrency == nil || !reCurrency.MatchString(*req.PurchaseCurrency) {
		p.bad("purchase_currency")
	}
	validateAddress(&p, "billing_address", req.BillingAddress)
	validateCustomer(&p, req.Customer)
	if len(p) > 0 {
		return badValue(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, res := s.usableAuth(r.PathValue("token"))
	if res != nil {
		return *res
	}
	if in := str(a.Snapshot.Intent); in != "tokenize" && in != "buy_and_tokenize" {
		return errorResult(http.StatusForbidden, "INVALID_OPERATION", "Authorization was not made for tokenization (intent "+orDefault(in, "buy")+")")
	}
	if !strings.EqualFold(str(a.Snapshot.PurchaseCountry), *req.PurchaseCountry) || !strings.EqualFold(str(a.Snapshot.PurchaseCurrency), *req.PurchaseCurrency) {
		return errorResult(http.StatusConflict, "BAD_VALUE", "Not matching fields: [purchase_country, purchase_currency]")
	}
	if a.TokenID != "" {
		// Choice: like create order, a repeat returns the token already made.
		return result{status: http.StatusOK, body: s.tokens[a.TokenID].Response}
	}
	id := uuid.NewString()
	resp := map[string]any{"token_id": id, "payment_method_reference": "pmr-" + id[:8], "redirect_url": s.cfg.BaseURL + "/redirect/token/" + id}
	if ss := s.sessions[a.SessionID]; ss != nil && ss.Data.BillingAddress != nil {
		resp["billing_address"] = ss.Data.BillingAddress
	}
	raw, _ := json.Marshal(resp)
	s.tokens[id] = &customerToken{ID: id, Token: a.Token, SessionID: a.SessionID, Description: *req.Description, CreatedAt: s.now(), Response: raw,
		ct: newTokenState(a, &req)}
	if ss := s.sessions[a.SessionID]; ss != nil {
		ss.customerTokens = append(ss.customerTokens, id)
	}
	a.TokenID = id
	if str(a.Snapshot.Intent) == "tokenize" {
		a.State = "used"
		if ss := s.sessions[a.SessionID]; ss != nil {
			ss.Status = "complete"
		}
	}
	return result{status: http.StatusOK, body: json.RawMessage(raw)}
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// redirect is Klarna's redirect_url: it forwards the shopper to the
// merchant's confirmation URL.
func (s *Simulator) redirect(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o := s.orders[r.PathValue("order")]
	s.mu.Unlock()
	if o == nil || o.Confirmation == "" {
		http.Error(w, "Unknown order", http.StatusNotFound)
		return
	}
	http.Redirect(w, r, o.Confirmation, http.StatusFound)
}
