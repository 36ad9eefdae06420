package simulator

import (
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

func newID() string { return uuid.NewString() }

// State is a snapshot of everything the simulator holds, for the inspector
// and for tests (GET /_sim/state).
type State struct {
	Now            time.Time         `json:"now"`
	Sessions       []SessionInfo     `json:"sessions"`
	Authorizations []AuthInfo        `json:"authorizations"`
	Orders         []OrderInfo       `json:"orders"`
	CustomerTokens []TokenInfo       `json:"customer_tokens"`
	Callbacks      []CallbackRecord  `json:"callbacks"`
	Requests       []requestRecord   `json:"requests"`
	Counts         map[string]int    `json:"counts"`
	Faults         map[string]string `json:"faults"`
	// UnkeyedWrites counts, per operation, the Order Management and
	// Customer Token writes that came without an idempotency key.
	UnkeyedWrites map[string]int `json:"unkeyed_writes"`
}

// SessionInfo describes a session.
type SessionInfo struct {
	ID       string `json:"session_id"`
	Status   string `json:"status"`
	Country  string `json:"purchase_country"`
	Currency string `json:"purchase_currency"`
	Amount   int64  `json:"order_amount"`
	Intent   string `json:"intent"`
	// Region is the regional host that made the session ("eu", "na",
	// "oc"); empty for the root.
	Region    string          `json:"region,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	ExpiresAt time.Time       `json:"expires_at"`
	Data      json.RawMessage `json:"data"`
}

// AuthInfo describes an authorization. The token is shown as its last
// characters: the inspector is for looking, not for placing orders.
type AuthInfo struct {
	Token     string    `json:"token_suffix"`
	SessionID string    `json:"session_id"`
	Category  string    `json:"category"`
	State     string    `json:"state"`
	Pending   bool      `json:"pending"`
	OrderID   string    `json:"order_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// OrderRecord is an order as Klarna holds it, for the inspector and for
// reconciliation in tests: every field a shop's own order must agree with,
// line by line, and the Order Management state. Orders and GET /_sim/state
// return it.
type OrderRecord struct {
	ID                string       `json:"order_id"`
	SessionID         string       `json:"session_id"`
	Reference         string       `json:"merchant_reference1,omitempty"`
	Reference2        string       `json:"merchant_reference2,omitempty"`
	Amount            int64        `json:"order_amount"`
	OriginalAmount    int64        `json:"original_order_amount"`
	TaxAmount         int64        `json:"order_tax_amount"`
	Currency          string       `json:"purchase_currency"`
	Country           string       `json:"purchase_country"`
	Locale            string       `json:"locale,omitempty"`
	Lines             []LineRecord `json:"order_lines"`
	FraudStatus       string       `json:"fraud_status"`
	Status            string       `json:"status"`
	CapturedAmount    int64        `json:"captured_amount"`
	RefundedAmount    int64        `json:"refunded_amount"`
	RemainingAmount   int64        `json:"remaining_authorized_amount"`
	Category          string       `json:"category"`
	KlarnaReference   string       `json:"klarna_reference"`
	FromCustomerToken bool         `json:"from_customer_token"`
	CustomerToken     string       `json:"customer_token_suffix,omitempty"` // its last characters
	Captures          []MoneyEvent `json:"captures"`
	Refunds           []MoneyEvent `json:"refunds"`
	ShippingInfoCount int          `json:"shipping_info_count"`
	CreatedAt         time.Time    `json:"created_at"`
	ExpiresAt         time.Time    `json:"expires_at"`
	DecidedAt         *time.Time   `json:"decided_at,omitempty"`
}

// OrderInfo is the name OrderRecord had before Order Management.
type OrderInfo = OrderRecord

// LineRecord is one order line as Klarna holds it.
type LineRecord struct {
	Type                string `json:"type,omitempty"`
	Reference           string `json:"reference,omitempty"`
	Name                string `json:"name"`
	Quantity            int64  `json:"quantity"`
	UnitPrice           int64  `json:"unit_price"`
	TaxRate             int64  `json:"tax_rate"`
	TotalAmount         int64  `json:"total_amount"`
	TotalDiscountAmount int64  `json:"total_discount_amount"`
	TotalTaxAmount      int64  `json:"total_tax_amount"`
	Subscription        bool   `json:"subscription,omitempty"`
}

// MoneyEvent is a capture or a refund.
type MoneyEvent struct {
	ID              string    `json:"id"`
	KlarnaReference string    `json:"klarna_reference,omitempty"`
	Amount          int64     `json:"amount"`
	Refunded        int64     `json:"refunded_amount,omitempty"`
	At              time.Time `json:"at"`
	Lines           int       `json:"lines"`
	ShippingInfo    int       `json:"shipping_info,omitempty"`
}

// TokenInfo describes a customer token (its id as its last characters).
type TokenInfo struct {
	ID                string    `json:"token_suffix"`
	SessionID         string    `json:"session_id"`
	Description       string    `json:"description"`
	CreatedAt         time.Time `json:"created_at"`
	Status            string    `json:"status"`
	PaymentMethodType string    `json:"payment_method_type"`
	Country           string    `json:"purchase_country"`
	Currency          string    `json:"purchase_currency"`
	Behaviour         string    `json:"behaviour,omitempty"`
	Charges           int       `json:"charges"`
	Declines          int       `json:"declines"`
	Orders            int       `json:"orders"`
}

// record describes an order at now. Caller holds s.mu.
func (o *order) record(now time.Time) OrderRecord {
	m := &o.om
	r := OrderRecord{ID: o.ID, SessionID: o.SessionID, Reference: o.Reference1, Reference2: m.Reference2, Amount: o.Amount, OriginalAmount: o.Amount,
		TaxAmount: m.TaxAmount, Currency: o.Currency, Country: m.Country, Locale: m.Locale, Lines: []LineRecord{}, FraudStatus: o.FraudStatus,
		Status: o.status(now), CapturedAmount: m.captured(), RefundedAmount: m.refunded(), RemainingAmount: o.remaining(now), Category: o.Category,
		KlarnaReference: m.KlarnaRef, FromCustomerToken: m.TokenID != "", Captures: []MoneyEvent{}, Refunds: []MoneyEvent{},
		ShippingInfoCount: len(m.ShippingInfo), CreatedAt: o.CreatedAt, ExpiresAt: m.ExpiresAt, DecidedAt: o.DecidedAt}
	if m.TokenID != "" {
		r.CustomerToken = suffix(m.TokenID)
	}
	for _, l := range m.Lines {
		r.Lines = append(r.Lines, LineRecord{Type: str(l.Type), Reference: str(l.Reference), Name: str(l.Name), Quantity: num(l.Quantity),
			UnitPrice: num(l.UnitPrice), TaxRate: num(l.TaxRate), TotalAmount: num(l.TotalAmount), TotalDiscountAmount: num(l.TotalDiscountAmount),
			TotalTaxAmount: num(l.TotalTaxAmount), Subscription: l.Subscription != nil})
	}
	for _, c := range m.Captures {
		r.Captures = append(r.Captures, MoneyEvent{ID: c.ID, KlarnaReference: c.KlarnaRef, Amount: c.Amount, Refunded: c.Refunded, At: c.At,
			Lines: len(c.Lines), ShippingInfo: len(c.ShippingInfo)})
	}
	for _, rf := range m.Refunds {
		r.Refunds = append(r.Refunds, MoneyEvent{ID: rf.ID, Amount: rf.Amount, At: rf.At, Lines: len(rf.Lines)})
	}
	return r
}

// Orders returns every order Klarna holds (placed with an authorization or
// charged to a customer token), oldest first, for reconciliation: a shop's
// order must equal its record, line by line.
func (s *Simulator) Orders() []OrderRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]OrderRecord, 0, len(s.orders))
	for _, o := range s.orders {
		out = append(out, o.record(now))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Snapshot returns the simulator's state, newest first, for tests in the
// same process: session data and request bodies are whole. What the
// simulator shows over HTTP is its Redacted form.
func (s *Simulator) Snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	st := State{Now: now, Counts: map[string]int{}, Faults: map[string]string{}, UnkeyedWrites: map[string]int{}}
	for _, ss := range s.sessions {
		data, _ := json.Marshal(ss.Data)
		st.Sessions = append(st.Sessions, SessionInfo{ID: ss.ID, Status: ss.Status, Country: strings.ToUpper(str(ss.Data.PurchaseCountry)),
			Currency: strings.ToUpper(str(ss.Data.PurchaseCurrency)), Amount: num(ss.Data.OrderAmount), Intent: orDefault(str(ss.Data.Intent), "buy"), Region: ss.Region,
			CreatedAt: ss.CreatedAt, UpdatedAt: ss.UpdatedAt, ExpiresAt: ss.UpdatedAt.Add(SessionLifetime), Data: data})
	}
	for _, a := range s.auths {
		st.Authorizations = append(st.Authorizations, AuthInfo{Token: suffix(a.Token), SessionID: a.SessionID, Category: a.Category, State: a.State,
			Pending: a.Pending, OrderID: a.OrderID, CreatedAt: a.CreatedAt, ExpiresAt: a.CreatedAt.Add(AuthorizationLifetime)})
	}
	for _, o := range s.orders {
		st.Orders = append(st.Orders, o.record(now))
	}
	for _, t := range s.tokens {
		st.CustomerTokens = append(st.CustomerTokens, t.info())
	}
	for op, n := range s.unkeyed {
		st.UnkeyedWrites[op] = n
	}
	for i := len(s.calls) - 1; i >= 0; i-- {
		st.Callbacks = append(st.Callbacks, *s.calls[i])
	}
	for i := len(s.requests) - 1; i >= 0; i-- {
		st.Requests = append(st.Requests, *s.requests[i])
	}
	for k, v := range s.counts {
		st.Counts[k] = v
	}
	for op, fs := range s.faults {
		var parts []string
		for _, f := range fs {
			p := f.String()
			if f.Times > 0 {
				p += " ×" + strconv.Itoa(f.Times)
			}
			parts = append(parts, p)
		}
		if len(parts) > 0 {
			st.Faults[op] = strings.Join(parts, ", ")
		}
	}
	sort.Slice(st.Sessions, func(i, j int) bool { return st.Sessions[i].CreatedAt.After(st.Sessions[j].CreatedAt) })
	sort.Slice(st.Authorizations, func(i, j int) bool { return st.Authorizations[i].CreatedAt.After(st.Authorizations[j].CreatedAt) })
	sort.Slice(st.Orders, func(i, j int) bool { return st.Orders[i].CreatedAt.After(st.Orders[j].CreatedAt) })
	sort.Slice(st.CustomerTokens, func(i, j int) bool { return st.CustomerTokens[i].CreatedAt.After(st.CustomerTokens[j].CreatedAt) })
	return st
}

func (s *Simulator) stateJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.Snapshot().Redacted())
}

func (s *Simulator) moveClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
	}
	body, _ := readBody(r)
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `want {"advance":"61m"}`, http.StatusBadRequest)
		return
	}
	d, err := time.ParseDuration(req.Advance)
	if err != nil || d < 0 {
		http.Error(w, "advance must be a positive duration such as 61m", http.StatusBadRequest)
		return
	}
	s.Advance(d)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) decideHandler(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Decision string `json:"decision"`
	}
	body, _ := readBody(r)
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `want {"decision":"accept|reject|stop"}`, http.StatusBadRequest)
		return
	}
	switch err := s.Decide(r.PathValue("id"), req.Decision); err {
	case nil:
	case errNotFound:
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case errNotPending:
		http.Error(w, err.Error(), http.StatusConflict)
		return
	default:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

var inspectorTmpl = template.Must(template.New("i").Funcs(template.FuncMap{
	"t": func(t time.Time) string { return t.Format("15:04:05") },
}).Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Klarna simulator · inspector</title><link rel="stylesheet" href="{{.Base}}/kp/lib/v1/sim.css"></head>
<body class="ksim-inspector"><header><h1>Klarna simulator <small>inspector</small></h1><p>Simulated time {{t .S.Now}} · this is not Klarna. <a href="{{.Base}}/_sim/state">JSON</a></p></header>
<main>
<section><h2>Orders ({{len .S.Orders}})</h2><table><thead><tr><th>Order</th><th>Status</th><th>Amount</th><th>Captured · refunded · remaining</th><th>Fraud status</th><th>Method</th><th>Reference</th><th>Expires</th><th>Decide</th></tr></thead><tbody>
{{range .S.Orders}}<tr><td><code>{{.ID}}</code>{{if .FromCustomerToken}}<br><small>renewal, token <code>{{.CustomerToken}}</code></small>{{end}}</td><td data-testid="status-{{.ID}}">{{.Status}}</td><td>{{.Amount}} {{.Currency}}<br><small>tax {{.TaxAmount}} · {{len .Lines}} lines · {{.Country}}</small></td>
<td data-testid="money-{{.ID}}">{{.CapturedAmount}} · {{.RefundedAmount}} · {{.RemainingAmount}}{{if or .Captures .Refunds}}<details><summary>{{len .Captures}} captures, {{len .Refunds}} refunds</summary><ul>{{range .Captures}}<li>capture {{.KlarnaReference}}: {{.Amount}}{{if .Refunded}} (refunded {{.Refunded}}){{end}}{{if .ShippingInfo}}, {{.ShippingInfo}} shipping info{{end}}</li>{{end}}{{range .Refunds}}<li>refund: {{.Amount}}</li>{{end}}</ul></details>{{end}}</td>
<td data-testid="fraud-{{.ID}}">{{.FraudStatus}}</td><td>{{.Category}}</td><td>{{.Reference}}</td><td>{{.ExpiresAt.Format "2006-01-02 15:04"}}</td>
<td>{{if eq .FraudStatus "PENDING"}}<form method="post" data-decide data-testid="decide-{{.ID}}" action="{{$.Base}}/_sim/orders/{{.ID}}/decide"><button name="decision" value="accept">Accept</button> <button name="decision" value="reject">Reject</button> <button name="decision" value="stop">Stop</button> <output></output></form>{{end}}</td></tr>
{{else}}<tr><td colspan="9">No orders yet.</td></tr>{{end}}</tbody></table>
{{if .S.UnkeyedWrites}}<p data-testid="unkeyed">Writes without an idempotency key: {{range $op, $n := .S.UnkeyedWrites}}{{$op}} ×{{$n}} {{end}}</p>{{end}}</section>
<section><h2>Sessions ({{len .S.Sessions}})</h2><table><thead><tr><th>Session</th><th>Market</th><th>Amount</th><th>Intent</th><th>Status</th><th>Expires</th></tr></thead><tbody>
{{range .S.Sessions}}<tr><td><code>{{.ID}}</code></td><td>{{.Country}}{{if .Region}} <small>via {{.Region}}</small>{{end}}</td><td>{{.Amount}} {{.Currency}}</td><td>{{.Intent}}</td><td>{{.Status}}</td><td>{{.ExpiresAt.Format "2006-01-02 15:04"}}</td></tr>{{end}}</tbody></table></section>
<section><h2>Authorizations</h2><table><thead><tr><th>Token</th><th>Session</th><th>Category</th><th>State</th><th>Order</th></tr></thead><tbody>
{{range .S.Authorizations}}<tr><td><code>{{.Token}}</code></td><td><code>{{.SessionID}}</code></td><td>{{.Category}}{{if .Pending}} (pending review){{end}}</td><td>{{.State}}</td><td><code>{{.OrderID}}</code></td></tr>{{end}}</tbody></table></section>
<section><h2>Customer tokens ({{len .S.CustomerTokens}})</h2><table><thead><tr><th>Token</th><th>Status</th><th>Method</th><th>Market</th><th>Test behaviour</th><th>Charges · declines · orders</th><th>Description</th><th>Session</th></tr></thead><tbody>{{range .S.CustomerTokens}}<tr><td><code>{{.ID}}</code></td><td data-testid="token-status">{{.Status}}</td><td>{{.PaymentMethodType}}</td><td>{{.Country}} {{.Currency}}</td><td>{{.Behaviour}}</td><td>{{.Charges}} · {{.Declines}} · {{.Orders}}</td><td>{{.Description}}</td><td><code>{{.SessionID}}</code></td></tr>{{else}}<tr><td colspan="8">None.</td></tr>{{end}}</tbody></table></section>
<section><h2>Callbacks sent</h2><table><thead><tr><th>When</th><th>Kind</th><th>URL</th><th>Attempt</th><th>Answer</th></tr></thead><tbody>
{{range .S.Callbacks}}<tr><td>{{t .At}}</td><td>{{.Kind}}</td><td><code>{{.URL}}</code></td><td>{{.Attempt}}</td><td>{{if .Error}}{{.Error}}{{else}}{{.Status}}{{end}}</td></tr>{{end}}</tbody></table></section>
<section><h2>Faults</h2><ul>{{range $op, $f := .S.Faults}}<li>{{$op}}: {{$f}}</li>{{else}}<li>None injected.</li>{{end}}</ul></section>
<section><h2>Requests received</h2><table><thead><tr><th>When</th><th>Operation</th><th>Path</th><th>Status</th><th>Correlation id</th><th>Body</th></tr></thead><tbody>
{{range .S.Requests}}<tr><td>{{t .At}}</td><td>{{.Operation}}{{if .Fault}} <em>fault: {{.Fault}}</em>{{end}}</td><td><code>{{.Method}} {{.Path}}</code></td><td>{{.Status}}</td><td><code>{{.CorrelationID}}</code></td><td>{{if .Body}}<details><summary>body</summary><pre>{{.Body}}</pre></details>{{end}}</td></tr>{{end}}</tbody></table></section>
</main><script src="{{.Base}}/_sim/inspector.js" nonce="{{.Nonce}}" defer></script></body></html>`))

func (s *Simulator) inspector(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Links, the stylesheet and the forms stay on the origin the browser
	// came by (localhost or 127.0.0.1, say).
	inspectorTmpl.Execute(w, map[string]any{"S": s.Snapshot().Redacted(), "Base": s.publicBase(r), "Nonce": scriptNonce(w.Header())})
}

var cspNonce = regexp.MustCompile(`'nonce-([A-Za-z0-9+/=_-]+)'`)

// scriptNonce is the nonce the inspector's script runs with: the one of a
// Content-Security-Policy the server that mounts the simulator already set
// (the shop does), or a new one under the simulator's own policy.
func scriptNonce(h http.Header) string {
	if csp := h.Get("Content-Security-Policy"); csp != "" {
		if m := cspNonce.FindStringSubmatch(csp); m != nil {
			return m[1]
		}
		return ""
	}
	b := make([]byte, 16)
	randReader.Read(b)
	nonce := hex.EncodeToString(b)
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+nonce+"'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	return nonce
}
