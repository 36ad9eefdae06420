package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/orders"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/views"
)

// Orders is what the orders area needs from order management.
type Orders interface {
	Order(ctx context.Context, ref string) (*orders.Order, error)
	Plan(ctx context.Context, ref string, req orders.Request) (*orders.Order, *orders.Plan, error)
	Confirm(ctx context.Context, ref, actionID string, version int64, req orders.Request, who string) (*store.Action, error)
	Retry(ctx context.Context, ref, actionID, who string) (*store.Action, error)
	Refresh(ctx context.Context, ref string) error
	Link(ctx context.Context, ref string, version int64, klarnaOrderID, who string) (*store.Action, error)
	Attention(ctx context.Context, limit int) ([]*orders.Attention, error)
	ForShopper(ctx context.Context, ref string) (*orders.Fulfilment, error)
}

// Option configures a Handler beyond its required dependencies.
type Option func(*Handler)

// WithOrders turns on order management in the orders area (a page per
// order, with its actions) and on the shopper's confirmation page.
func WithOrders(o Orders) Option { return func(h *Handler) { h.orders = o } }

// operator is who acts in the orders area: the HTTP Basic user, or a note
// that the area is open (ADMIN_OPEN, simulator only).
func operator(c echo.Context) string {
	if u, _, ok := c.Request().BasicAuth(); ok && u != "" {
		return u
	}
	return "admin (open orders area)"
}

func orderPath(ref string) string { return "/admin/orders/" + url.PathEscape(ref) }

// ordersError turns order management errors into pages.
func ordersError(err error) error {
	if errors.Is(err, orders.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no order with that reference.")
	}
	return err
}

func (h *Handler) orderPage(c echo.Context) error {
	s := shopperOf(c)
	ref := c.Param("ref")
	o, err := h.orders.Order(c.Request().Context(), ref)
	if err != nil {
		return ordersError(err)
	}
	p := h.orderView(c, s, o)
	if id := c.QueryParam("action"); id != "" {
		for i := range p.History {
			if p.History[i].ID == id {
				p.Outcome = &p.History[i]
			}
		}
	}
	return render(c, http.StatusOK, views.OrderView(p))
}

// orderView fills the order page's view model.
func (h *Handler) orderView(c echo.Context, s *shopper, o *orders.Order) views.OrderPage {
	co := o.Checkout
	b := h.base(c, s, "Order "+co.ID)
	b.Styles = []string{ordersCSS}
	p := views.OrderPage{Base: b, Ref: co.ID, State: string(co.State), Market: co.Market,
		PaymentMethod: paymentMethodLabel(co.PaymentMethod, s.loc), Version: strconv.FormatInt(co.Version, 10), KlarnaOrderID: co.KlarnaOrderID,
		FraudStatus: co.FraudStatus, Hold: co.Hold, NeedsLink: co.KlarnaOrderID == "", Currency: co.Currency,
		Authorized: o.Money(o.Authorized), Captured: o.Money(o.Captured), Refunded: o.Money(o.Refunded), Remaining: o.Money(o.Remaining),
		ExpiryEstimated: o.ExpiryEstimated, ExpiresSoon: o.ExpiresSoon, Why: map[string]string{},
		CaptureAllLabel: "Capture everything (" + o.Money(o.Remaining) + ")", RefundAllLabel: "Refund everything (" + o.Money(o.Refundable) + ")"}
	if co.PlacedAt != nil {
		p.PlacedAt = stamp(*co.PlacedAt)
	}
	if o.ExpiresAt != nil {
		p.ExpiresAt = o.ExpiresAt.Format("2 Jan 2006, 15:04 MST")
	}
	if r := o.Read; r != nil {
		p.KlarnaStatus, p.ReadAt, p.ReadCorrelationID, p.Mismatch = r.Status, stamp(r.ReadAt), r.CorrelationID, r.Mismatch
		if r.FraudStatus != "" {
			p.FraudStatus = r.FraudStatus
		}
	}
	for k, why := range o.Allowed {
		p.Why[string(k)] = why
	}
	for i, l := range o.Lines {
		p.Lines = append(p.Lines, views.OrderLineRow{Index: i, Name: l.Name, Type: string(l.Type),
			Unit: o.Money(l.UnitPrice), Total: o.Money(l.TotalAmount), Quantity: l.Quantity, Captured: l.Captured, Refunded: l.Refunded,
			Capturable: l.Capturable(), Refundable: l.Refundable()})
	}
	p.Shipments = shipments(o)
	for _, a := range o.Actions {
		row := historyRow(a)
		p.History = append(p.History, row)
		if a.Status == store.ActionPending {
			p.Refresh = true
		}
	}
	// Captures and refunds made outside the shop belong in the history too.
	for _, cp := range o.Captures {
		if cp.ActionID == "" {
			p.History = append(p.History, views.HistoryRow{ID: cp.ID, When: stamp(cp.CapturedAt), Who: "Klarna", Status: "klarna",
				StatusLabel: "Recorded from Klarna", What: "Capture of " + o.Money(cp.Amount) + " made outside the shop (auto-capture at order creation, or Klarna's portal)"})
		}
	}
	for _, r := range o.Refunds {
		if r.ActionID == "" {
			p.History = append(p.History, views.HistoryRow{ID: r.ID, When: stamp(r.RefundedAt), Who: "Klarna", Status: "klarna",
				StatusLabel: "Recorded from Klarna", What: "Refund of " + o.Money(r.Amount) + " made outside the shop (Klarna's portal)"})
		}
	}
	return p
}

func historyRow(a *store.Action) views.HistoryRow {
	row := views.HistoryRow{ID: a.ID, When: stamp(a.CreatedAt), Who: a.Actor, What: a.Summary, Status: string(a.Status),
		Detail: a.Error, CorrelationID: a.CorrelationID, IdempotencyKey: a.IdempotencyKey}
	switch a.Status {
	case store.ActionSucceeded:
		row.StatusLabel = "Done"
	case store.ActionFailed:
		row.StatusLabel = "Refused"
	case store.ActionPending:
		row.StatusLabel = "Waiting for Klarna"
		if row.Detail == "" {
			row.Detail = "Klarna has been asked; its answer has not arrived yet."
		}
		row.Detail += " Attempts so far: " + strconv.Itoa(a.Attempts) + "."
	}
	return row
}

func shipments(o *orders.Order) []views.ShipmentRow {
	var out []views.ShipmentRow
	for _, cp := range o.Captures {
		out = append(out, views.ShipmentRow{When: stamp(cp.CapturedAt), Amount: o.Money(cp.Amount), Carrier: cp.ShippingCompany,
			TrackingNumber: cp.TrackingNumber, TrackingURL: cp.TrackingURI, Outside: cp.ActionID == ""})
	}
	return out
}

// ordersCSS is the orders area's stylesheet, beside the shop's.
const ordersCSS = "/static/css/orders.css"

func stamp(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04:05 UTC") }

// requestFrom reads an action request from a form: the order page's forms,
// and the same fields repeated on the confirmation page.
func requestFrom(c echo.Context) (orders.Request, error) {
	req := orders.Request{Kind: orders.Kind(c.FormValue("kind")), Reason: c.FormValue("reason"), Carrier: c.FormValue("carrier"),
		TrackingNumber: c.FormValue("tracking_number"), TrackingURI: c.FormValue("tracking_uri"), Quantities: map[int]int64{}}
	if req.Kind == orders.RefundAmount {
		req.Amount = c.FormValue("amount")
	}
	form, err := c.FormParams()
	if err != nil {
		return req, err
	}
	for name := range form {
		i, ok := strings.CutPrefix(name, "qty-")
		if !ok {
			continue
		}
		idx, err1 := strconv.Atoi(i)
		n, err2 := strconv.ParseInt(strings.TrimSpace(form.Get(name)), 10, 64)
		if err1 != nil || err2 != nil || idx < 0 || idx > 1000 {
			return req, &orders.NotAllowedError{Reason: "Quantities are whole numbers."}
		}
		if n != 0 {
			req.Quantities[idx] = n
		}
	}
	return req, nil
}

// fields repeats a request as the confirmation page's hidden fields.
func fields(req orders.Request) []views.Field {
	out := []views.Field{{Name: "kind", Value: string(req.Kind)}}
	add := func(name, v string) {
		if v != "" {
			out = append(out, views.Field{Name: name, Value: v})
		}
	}
	for i, n := range req.Quantities {
		add("qty-"+strconv.Itoa(i), strconv.FormatInt(n, 10))
	}
	add("amount", req.Amount)
	add("reason", req.Reason)
	add("carrier", req.Carrier)
	add("tracking_number", req.TrackingNumber)
	add("tracking_uri", req.TrackingURI)
	return out
}

var actionTitles = map[orders.Kind]string{
	orders.CaptureAll: "Capture everything", orders.CaptureLines: "Capture the chosen lines", orders.RefundAll: "Refund everything",
	orders.RefundLines: "Refund the chosen lines", orders.RefundAmount: "Refund an amount", orders.Cancel: "Cancel the order",
	orders.Release: "Release the remainder", orders.Extend: "Extend the authorization",
}

// planAction shows what an action will do, for the operator to confirm.
func (h *Handler) planAction(c echo.Context) error {
	s := shopperOf(c)
	ref := c.Param("ref")
	ctx := c.Request().Context()
	req, err := requestFrom(c)
	var (
		o    *orders.Order
		plan *orders.Plan
	)
	if err == nil {
		o, plan, err = h.orders.Plan(ctx, ref, req)
	}
	if o != nil && c.FormValue("version") != strconv.FormatInt(o.Checkout.Version, 10) {
		s.setFlash("The order changed since you looked at it (another operator acted, or Klarna's answer arrived). Nothing was done; here it is as it stands now.")
		return c.Redirect(http.StatusSeeOther, orderPath(ref))
	}
	var na *orders.NotAllowedError
	if errors.As(err, &na) {
		s.setFlash("Not done: " + na.Reason)
		return c.Redirect(http.StatusSeeOther, orderPath(ref))
	}
	if err != nil {
		return ordersError(err)
	}
	b := h.base(c, s, "Confirm: "+actionTitles[req.Kind])
	b.Styles = []string{ordersCSS}
	p := views.ConfirmActionPage{Base: b, Ref: ref, ActionID: plan.ActionID,
		Version: strconv.FormatInt(plan.Version, 10), Kind: string(req.Kind), Title: actionTitles[req.Kind], Summary: plan.Summary,
		Effect: plan.Effect, Fields: fields(req), Danger: req.Kind == orders.Cancel || req.Kind == orders.Release}
	if plan.Amount != 0 {
		p.Amount = o.Money(plan.Amount)
	}
	for _, l := range plan.Lines {
		p.Lines = append(p.Lines, views.ConfirmLine{Name: l.Name, Quantity: l.Quantity, Total: o.Money(l.TotalAmount)})
	}
	if req.Carrier != "" {
		p.Carrier = strings.TrimSpace(req.Carrier)
		if n := strings.TrimSpace(req.TrackingNumber); n != "" {
			p.Tracking = "· tracking number " + n
		}
	}
	return render(c, http.StatusOK, views.ConfirmActionView(p))
}

// confirmAction takes the action the operator confirmed, once.
func (h *Handler) confirmAction(c echo.Context) error {
	s := shopperOf(c)
	ref := c.Param("ref")
	ctx := c.Request().Context()
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	req, err := requestFrom(c)
	var a *store.Action
	if err == nil {
		a, err = h.orders.Confirm(ctx, ref, c.FormValue("action_id"), version, req, operator(c))
	}
	var na *orders.NotAllowedError
	switch {
	case err == nil, errors.Is(err, orders.ErrRefused), errors.Is(err, orders.ErrUnknownOutcome):
		// The outcome, success or not, is shown at the top of the page.
	case errors.Is(err, orders.ErrAlreadyTaken):
		s.setFlash("This action was already confirmed (a second click, or a second tab): it was done once, not twice.")
	case errors.Is(err, orders.ErrChanged):
		s.setFlash("Nothing was done: the order changed since you looked at it (another operator acted, or Klarna's answer arrived). Check it as it stands now, and act again if you still need to.")
	case errors.Is(err, orders.ErrBusy):
		s.setFlash("Nothing was done: another action on this order is still waiting for Klarna's answer.")
	case errors.As(err, &na):
		s.setFlash("Not done: " + na.Reason)
	default:
		if a == nil {
			return ordersError(err)
		}
		h.log.ErrorContext(ctx, "order action could not be recorded", "order", ref, "action", a.ID, "error", err)
	}
	if a == nil {
		return c.Redirect(http.StatusSeeOther, orderPath(ref))
	}
	return c.Redirect(http.StatusSeeOther, orderPath(ref)+"?action="+url.QueryEscape(a.ID)+"#outcome")
}

// retryAction sends a pending action to Klarna again, with its key.
func (h *Handler) retryAction(c echo.Context) error {
	s := shopperOf(c)
	ref := c.Param("ref")
	a, err := h.orders.Retry(c.Request().Context(), ref, c.FormValue("action_id"), operator(c))
	switch {
	case err == nil, errors.Is(err, orders.ErrRefused), errors.Is(err, orders.ErrUnknownOutcome):
	case errors.Is(err, orders.ErrBusy):
		s.setFlash("An attempt is already on its way to Klarna; its answer shows here when it arrives.")
	default:
		return ordersError(err)
	}
	return c.Redirect(http.StatusSeeOther, orderPath(ref)+"?action="+url.QueryEscape(a.ID)+"#outcome")
}

func (h *Handler) refreshOrder(c echo.Context) error {
	s := shopperOf(c)
	ref := c.Param("ref")
	err := h.orders.Refresh(c.Request().Context(), ref)
	var na *orders.NotAllowedError
	switch {
	case err == nil:
		s.setFlash("Read again from Klarna.")
	case errors.As(err, &na):
		s.setFlash("Not done: " + na.Reason)
	case errors.Is(err, orders.ErrUnavailable):
		s.setFlash("Klarna could not be reached; the figures are those of the last read.")
	default:
		return ordersError(err)
	}
	return c.Redirect(http.StatusSeeOther, orderPath(ref))
}

func (h *Handler) linkOrder(c echo.Context) error {
	s := shopperOf(c)
	ref := c.Param("ref")
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	a, err := h.orders.Link(c.Request().Context(), ref, version, c.FormValue("klarna_order_id"), operator(c))
	var na *orders.NotAllowedError
	switch {
	case err == nil:
		s.setFlash("Linked: " + a.Summary + ".")
	case errors.As(err, &na):
		s.setFlash("Not linked: " + na.Reason)
	case errors.Is(err, orders.ErrChanged):
		s.setFlash("Not linked: the order changed since you looked at it.")
	case errors.Is(err, orders.ErrUnavailable):
		s.setFlash("Not linked: Klarna could not be reached to verify the id. Try again shortly.")
	default:
		return ordersError(err)
	}
	return c.Redirect(http.StatusSeeOther, orderPath(ref))
}

// attention fills the orders list's "Needs attention". Order management
// failing to list it must not take the orders list down with it.
func (h *Handler) attention(c echo.Context) []views.AttentionRow {
	if h.orders == nil {
		return nil
	}
	ctx := c.Request().Context()
	list, err := h.orders.Attention(ctx, 50)
	if err != nil {
		h.log.ErrorContext(ctx, "listing orders that need attention failed", "error", err)
		return []views.AttentionRow{{Ref: "—", Why: []string{"The list of orders that need attention could not be read; see the logs."}, Urgent: true}}
	}
	var out []views.AttentionRow
	for _, a := range list {
		row := views.AttentionRow{Ref: a.Ref, Why: a.Why, Market: a.Checkout.Market, State: string(a.Checkout.State)}
		row.Amount = (&orders.Order{Checkout: a.Checkout}).Money(a.Checkout.Amount)
		for _, r := range a.Reasons {
			row.Urgent = row.Urgent || r == store.AttentionExpiring || r == store.AttentionHold || r == store.AttentionMismatch
		}
		out = append(out, row)
	}
	return out
}

// fulfilment is what the shopper's confirmation page says happened after
// the order: shipped, refunded, cancelled. Nil when nothing did.
func (h *Handler) fulfilment(ctx context.Context, co *store.Checkout, s *shopper) *views.Fulfilment {
	if h.orders == nil || !co.State.IsOrder() {
		return nil
	}
	f, err := h.orders.ForShopper(ctx, co.ID)
	if err != nil {
		h.log.ErrorContext(ctx, "reading what happened to an order failed", "order", co.ID, "error", err)
		return nil
	}
	if len(f.Shipments) == 0 && f.Refunded == 0 && !f.Cancelled {
		return nil
	}
	o := &orders.Order{Checkout: co}
	v := &views.Fulfilment{Cancelled: f.Cancelled, Released: f.Released, Partly: f.Captured > 0 && f.Captured < co.Amount && !f.Released && !f.Cancelled}
	for _, sh := range f.Shipments {
		v.Shipments = append(v.Shipments, views.ShipmentRow{When: s.loc.Date(sh.At), Amount: o.Money(sh.Amount), Carrier: sh.Carrier,
			TrackingNumber: sh.TrackingNumber, TrackingURL: sh.TrackingURI, Digital: sh.Digital})
	}
	if f.Refunded > 0 {
		v.Refunded = o.Money(f.Refunded)
	}
	state := ""
	switch {
	case f.Cancelled:
		state = "cancelled"
	case f.Captured > 0 && f.Refunded >= f.Captured:
		state = "refunded"
	case len(v.Shipments) > 0 && v.Shipments[len(v.Shipments)-1].Digital:
		state = "delivered"
	case len(v.Shipments) > 0:
		state = "shipped"
	}
	if state != "" {
		v.Headline, v.Detail = s.loc.T("fulfilment.headline_"+state), s.loc.T("fulfilment.detail_"+state)
	}
	return v
}
