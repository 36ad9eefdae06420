package simulator

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// The browser side: the JS SDK stand-in (assets/api.js) calls these
// endpoints, authenticated by the session's client token, the way Klarna's
// widget talks to Klarna. Tests can call them directly to authorize without a
// browser (the test-data path).

// Outcomes a shopper can choose in the authorize dialog, or that test data
// in the billing e-mail selects (shopper+decline@example.com).
const (
	OutcomeApprove  = "approve"
	OutcomeDecline  = "decline"
	OutcomeAbort    = "abort"
	OutcomePending  = "pending"
	OutcomeFinalize = "finalize"
	OutcomeInvalid  = "invalid"
)

var outcomes = set(OutcomeApprove, OutcomeDecline, OutcomeAbort, OutcomePending, OutcomeFinalize, OutcomeInvalid)

// BrowserRequest is the body of /browser/load, /browser/authorize and
// /browser/finalize.
type BrowserRequest struct {
	ClientToken           string       `json:"client_token"`
	PaymentMethodCategory string       `json:"payment_method_category,omitempty"`
	AutoFinalize          *bool        `json:"auto_finalize,omitempty"`
	Data                  *wireSession `json:"data,omitempty"`
	// Outcome is the dialog's choice; empty asks the simulator to decide
	// from test data, or to request the dialog.
	Outcome string `json:"outcome,omitempty"`
	// Reauthorize marks a Klarna.Payments.reauthorize call.
	Reauthorize bool `json:"reauthorize,omitempty"`
}

// AuthorizeResult has the shape of the JS SDK's authorize callback argument,
// plus Dialog when the shopper must choose.
type AuthorizeResult struct {
	Approved           bool           `json:"approved"`
	ShowForm           bool           `json:"show_form"`
	AuthorizationToken string         `json:"authorization_token,omitempty"`
	FinalizeRequired   bool           `json:"finalize_required,omitempty"`
	Error              *InvalidFields `json:"error,omitempty"`
	Dialog             bool           `json:"dialog,omitempty"`
}

// InvalidFields lists fields the shopper must correct.
type InvalidFields struct {
	InvalidFields []string `json:"invalid_fields"`
}

// The base argument is the simulator's root as the browser reaches it
// (publicBase), for the URLs the widget shows.
type browserFunc func(ss *session, req *BrowserRequest, base string) (int, any)

// browser authenticates a widget call by its client token and runs it with
// the session locked.
func (s *Simulator) browser(fn browserFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cors(w)
		body, ok := readBody(r)
		if !ok {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
			return
		}
		var req BrowserRequest
		if err := json.Unmarshal(body, &req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON"})
			return
		}
		sid, err := s.verifyClientToken(req.ClientToken)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "InvalidClientTokenError", "message": err.Error()})
			return
		}
		s.mu.Lock()
		ss, res := s.liveSession(sid)
		if res != nil {
			s.mu.Unlock()
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "session expired or unknown"})
			return
		}
		status, out := fn(ss, &req, s.publicBase(r))
		s.mu.Unlock()
		writeJSON(w, status, out)
	}
}

// cors lets a merchant page on another origin use a standalone simulator, as
// it uses Klarna's widget. These endpoints take no cookies.
func cors(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
}

func (s *Simulator) browserPreflight(w http.ResponseWriter, r *http.Request) {
	cors(w)
	w.WriteHeader(http.StatusNoContent)
}

// browserLoad returns what the widget shows: the categories and a summary of
// the cart for the dialog. Like Klarna's, load's data argument may add the
// shopper's details to the session.
func (s *Simulator) browserLoad(ss *session, req *BrowserRequest, base string) (int, any) {
	if req.Data != nil {
		pd := wireSession{BillingAddress: req.Data.BillingAddress, ShippingAddress: req.Data.ShippingAddress, Customer: req.Data.Customer}
		ss.Data.merge(&pd)
	}
	cats := make([]map[string]string, len(ss.Categories))
	for i, c := range ss.Categories {
		cats[i] = map[string]string{"identifier": c.Identifier, "name": c.nameIn(str(ss.Data.Locale)), "asset_url": base + "/assets/badges/" + c.Identifier + ".svg" + badgeQuery(str(ss.Data.Locale))}
	}
	type line struct {
		Name     string `json:"name"`
		Quantity int64  `json:"quantity"`
		Total    int64  `json:"total_amount"`
	}
	lines := make([]line, 0, len(ss.Data.OrderLines))
	for _, l := range ss.Data.OrderLines {
		lines = append(lines, line{str(l.Name), num(l.Quantity), num(l.TotalAmount)})
	}
	authorized := ""
	if a := s.auths[ss.LastToken]; a != nil {
		authorized = a.Category
	}
	return http.StatusOK, map[string]any{
		"session_id": ss.ID, "status": ss.Status, "categories": cats, "lines": lines, "authorized_category": authorized,
		"order_amount": num(ss.Data.OrderAmount), "purchase_currency": strings.ToUpper(str(ss.Data.PurchaseCurrency)),
		"locale": str(ss.Data.Locale), "purchase_country": strings.ToUpper(str(ss.Data.PurchaseCountry)),
		"intent": orDefault(str(ss.Data.Intent), "buy"),
	}
}

func hasCategory(cats []category, id string) bool {
	for _, c := range cats {
		if c.Identifier == id {
			return true
		}
	}
	return false
}

// emailTags returns the "+tags" of an address's e-mail:
// "anna+approve+token_soft_decline@example.com" has approve and
// token_soft_decline.
func emailTags(a *wireAddress) []string {
	if a == nil {
		return nil
	}
	local, _, _ := strings.Cut(a.Email, "@")
	tags := strings.Split(local, "+")
	return tags[1:]
}

// testDataOutcome reads the outcome test data in the billing e-mail
// chooses: one of the simulator's own tags ("anna+decline@example.com"),
// beside which other tags (token behaviour, see tokens.go) may stand, or
// one of Klarna's playground test identities (identities.go), which may
// also plan the decision on a pending order.
func testDataOutcome(d *wireSession) (string, *pendingPlan) {
	if d == nil || d.BillingAddress == nil {
		return "", nil
	}
	for _, tag := range emailTags(d.BillingAddress) {
		if outcomes[tag] {
			return tag, nil
		}
	}
	return playgroundOutcome(d.BillingAddress.Email, str(d.PurchaseCountry))
}

func (s *Simulator) browserAuthorize(ss *session, req *BrowserRequest, base string) (int, any) {
	if ss.Status == "complete" {
		return http.StatusConflict, map[string]string{"error": "session is complete"}
	}
	if !hasCategory(ss.Categories, req.PaymentMethodCategory) {
		return http.StatusBadRequest, map[string]string{"error": "PaymentMethodCategoryNotSupportedError"}
	}
	// Personal data arrives here, from the page's data argument.
	if req.Data != nil {
		if bad := append(invalidShopperFields(req.Data.BillingAddress, "billing_address"), invalidShopperFields(req.Data.ShippingAddress, "shipping_address")...); len(bad) > 0 {
			return http.StatusOK, AuthorizeResult{ShowForm: true, Error: &InvalidFields{bad}}
		}
		pd := wireSession{BillingAddress: req.Data.BillingAddress, ShippingAddress: req.Data.ShippingAddress, Customer: req.Data.Customer}
		ss.Data.merge(&pd)
	}
	// The dialog may add token test data to its choice:
	// "approve+token_soft_decline" (see tokens.go).
	outcome, tags, _ := strings.Cut(req.Outcome, "+")
	var tokenTags []string
	if tags != "" {
		tokenTags = strings.Split(tags, "+")
		for _, t := range tokenTags {
			if tokenTagActions[t] == nil {
				return http.StatusBadRequest, map[string]string{"error": "unknown token test data " + t}
			}
		}
	}
	var plan *pendingPlan
	if outcome == "" {
		outcome, plan = testDataOutcome(&ss.Data)
	}
	if outcome == "" {
		return http.StatusOK, AuthorizeResult{Dialog: true}
	}
	if !outcomes[outcome] {
		return http.StatusBadRequest, map[string]string{"error": "unknown outcome"}
	}
	// pay_now authorized with auto_finalize false needs the finalize step,
	// as direct debit does at Klarna.
	pending := outcome == OutcomePending
	if (outcome == OutcomeApprove || outcome == OutcomePending) && req.PaymentMethodCategory == payNow.Identifier && req.AutoFinalize != nil && !*req.AutoFinalize {
		outcome = OutcomeFinalize
	}
	switch outcome {
	case OutcomeDecline:
		return http.StatusOK, AuthorizeResult{}
	case OutcomeAbort:
		return http.StatusOK, AuthorizeResult{ShowForm: true}
	case OutcomeInvalid:
		return http.StatusOK, AuthorizeResult{ShowForm: true, Error: &InvalidFields{[]string{"billing_address.email"}}}
	case OutcomeFinalize:
		ss.Finalize = &pendingFinalize{Category: req.PaymentMethodCategory, TokenTags: tokenTags, Pending: pending, Plan: plan}
		return http.StatusOK, AuthorizeResult{Approved: true, ShowForm: true, FinalizeRequired: true}
	}
	tok := s.issueToken(ss, req.PaymentMethodCategory, pending)
	s.auths[tok].TokenTags, s.auths[tok].Plan = tokenTags, plan
	return http.StatusOK, AuthorizeResult{Approved: true, ShowForm: true, AuthorizationToken: tok}
}

func (s *Simulator) browserFinalize(ss *session, req *BrowserRequest, base string) (int, any) {
	if ss.Status == "complete" {
		return http.StatusConflict, map[string]string{"error": "session is complete"}
	}
	f := ss.Finalize
	if f == nil {
		// Finalize may be called when not required: it then authorizes.
		req.Outcome = OutcomeApprove
		return s.browserAuthorize(ss, req, base)
	}
	outcome := req.Outcome
	if outcome == "" {
		if o, _ := testDataOutcome(&ss.Data); o == "" {
			return http.StatusOK, AuthorizeResult{Dialog: true}
		}
		outcome = OutcomeApprove // test data: confirm without a dialog
	}
	switch outcome {
	case OutcomeDecline:
		ss.Finalize = nil
		return http.StatusOK, AuthorizeResult{}
	case OutcomeAbort:
		return http.StatusOK, AuthorizeResult{ShowForm: true}
	}
	ss.Finalize = nil
	tok := s.issueToken(ss, f.Category, f.Pending)
	s.auths[tok].TokenTags, s.auths[tok].Plan = f.TokenTags, f.Plan
	return http.StatusOK, AuthorizeResult{Approved: true, ShowForm: true, AuthorizationToken: tok}
}

// issueToken creates an authorization bound to the session as it is now,
// and schedules the authorization callback. Caller holds s.mu.
func (s *Simulator) issueToken(ss *session, cat string, pending bool) string {
	tok := uuid.NewString()
	a := &authorization{Token: tok, SessionID: ss.ID, Snapshot: ss.Data, Category: cat, Pending: pending, CreatedAt: s.now(), State: "active"}
	if u := ss.Data.MerchantURLs; u != nil {
		a.Callback = u.Authorization
	}
	s.auths[tok] = a
	ss.tokens = append(ss.tokens, tok)
	ss.LastToken = tok
	if a.Callback != "" && !s.cfg.DisableCallbacks {
		body, _ := json.Marshal(map[string]string{"authorization_token": tok, "session_id": ss.ID})
		s.deliverLater(s.cfg.CallbackDelay, "authorization", a.Callback, body, ss.ID, "")
	}
	return tok
}

// Authorize approves a session's authorization without a browser, as the
// test-data path does, and returns the authorization token. outcome is one of
// the Outcome constants; approve and pending yield a token.
func (s *Simulator) Authorize(sessionID, category, outcome string) (AuthorizeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, res := s.liveSession(sessionID)
	if res != nil {
		return AuthorizeResult{}, errNotFound
	}
	status, out := s.browserAuthorize(ss, &BrowserRequest{PaymentMethodCategory: category, Outcome: outcome}, s.cfg.BaseURL)
	if status != http.StatusOK {
		return AuthorizeResult{}, errBadAuthorize
	}
	return out.(AuthorizeResult), nil
}

// publicBase is the simulator's root as the browser that sent r reaches
// it: BaseURL, or, when the browser came by another host name (127.0.0.1
// rather than localhost, or a LAN address the operator listens on), that
// host with BaseURL's path. The widget's images then come from the page's
// own origin, which its Content-Security-Policy admits. Hosts are the
// embedding server's to check (the shop and klarna-sim answer only to
// their own names).
func (s *Simulator) publicBase(r *http.Request) string {
	if r.Host == "" || strings.EqualFold(r.Host, s.base.Host) {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + strings.TrimRight(s.base.Path, "/")
}
