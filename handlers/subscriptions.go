package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/subscriptions"
	"github.com/fikaandform/storefront/views"
)

// Subscriptions is what the handlers need from the subscriptions service.
type Subscriptions interface {
	ForCheckout(ctx context.Context, c *store.Checkout) (*store.Recurring, error)
	Get(ctx context.Context, id string) (*store.Recurring, error)
	Next(r *store.Recurring) (subscriptions.Upcoming, bool)
	History(ctx context.Context, id string) ([]*store.Period, []store.RecurringEvent, error)
	List(ctx context.Context, limit int) ([]*store.Recurring, error)
	Cancel(ctx context.Context, id, who string) (*store.Recurring, error)
	Pause(ctx context.Context, id, who string) (*store.Recurring, error)
	Resume(ctx context.Context, id, who string) (*store.Recurring, error)
	ChargeNow(ctx context.Context, id, who string) (*store.Recurring, error)
	SettleCharged(ctx context.Context, id, klarnaOrderID, who string) (*store.Recurring, error)
	SettleNotCharged(ctx context.Context, id, who string) (*store.Recurring, error)
}

// WithSubscriptions adds the subscription pages: the shopper's, behind a
// signed link, and the operator's.
func WithSubscriptions(s Subscriptions) Option { return func(h *Handler) { h.subs = s } }

// linkLifetime is how long a subscription link from a confirmation page
// works: long enough to come back from an e-mail, short enough that a
// forwarded link goes stale.
const linkLifetime = 30 * 24 * time.Hour

// LinkKeys derives the keys that sign subscription links from the session
// secrets: the first signs, all verify (rotation).
func LinkKeys(secrets []string) [][]byte {
	var keys [][]byte
	for _, s := range secrets {
		k := sha256.Sum256([]byte("subscription-links:" + s))
		keys = append(keys, k[:])
	}
	return keys
}

func (h *Handler) linkSignature(key []byte, id string, until int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "\n" + strconv.FormatInt(until, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// subscriptionLink is the signed, expiring address of a subscription's
// page: whoever holds it may see the subscription and cancel it, nothing
// else.
func (h *Handler) subscriptionLink(id string, now time.Time) string {
	until := now.Add(linkLifetime).Unix()
	q := url.Values{"until": {strconv.FormatInt(until, 10)}, "sig": {h.linkSignature(h.cfg.LinkKeys[0], id, until)}}
	return "/subscription/" + url.PathEscape(id) + "?" + q.Encode()
}

// signedSubscription checks a subscription link's signature and expiry. A
// bad or expired link is 404, like an unknown subscription: it reveals
// nothing.
func (h *Handler) signedSubscription(c echo.Context) (string, error) {
	id := c.Param("id")
	until, err := strconv.ParseInt(c.QueryParam("until"), 10, 64)
	if err != nil || time.Now().Unix() > until {
		return "", echo.NewHTTPError(http.StatusNotFound, "error.link_expired")
	}
	sig := c.QueryParam("sig")
	for _, k := range h.cfg.LinkKeys {
		if hmac.Equal([]byte(sig), []byte(h.linkSignature(k, id, until))) {
			return id, nil
		}
	}
	return "", echo.NewHTTPError(http.StatusNotFound, "error.subscription_not_found")
}

// subscriptionPage shows the shopper the next charge and lets them cancel.
func (h *Handler) subscriptionPage(c echo.Context) error {
	id, err := h.signedSubscription(c)
	if err != nil {
		return err
	}
	r, err := h.subs.Get(c.Request().Context(), id)
	if errors.Is(err, subscriptions.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "error.subscription_not_found")
	}
	if err != nil {
		return err
	}
	p, err := h.subscriptionView(c, r)
	if err != nil {
		return err
	}
	if r.Status != store.RecurringCancelled {
		p.CancelAction = c.Request().URL.Path + "/cancel?" + c.Request().URL.RawQuery
	}
	switch c.QueryParam("done") {
	case "cancelled":
		p.Notice = shopperOf(c).loc.T("subscription.notice_cancelled")
	}
	return render(c, http.StatusOK, views.SubscriptionView(p))
}

// cancelSubscription is the shopper's cancellation, through the signed link.
func (h *Handler) cancelSubscription(c echo.Context) error {
	id, err := h.signedSubscription(c)
	if err != nil {
		return err
	}
	if c.Request().PostFormValue("confirm") != "yes" {
		return echo.NewHTTPError(http.StatusBadRequest, "error.tick_to_cancel")
	}
	_, err = h.subs.Cancel(c.Request().Context(), id, "shopper")
	if err != nil && !errors.Is(err, subscriptions.ErrState) {
		return err
	}
	back := "/subscription/" + url.PathEscape(id) + "?" + c.Request().URL.RawQuery + "&done=cancelled"
	return c.Redirect(http.StatusSeeOther, back)
}

// subscriptionView builds the page both the shopper and the operator see.
func (h *Handler) subscriptionView(c echo.Context, r *store.Recurring) (views.SubscriptionPage, error) {
	s := shopperOf(c)
	name, rhythm := h.planText(r.Plan, s)
	p := views.SubscriptionPage{Base: h.base(c, s, name), ID: r.ID, Name: name, Rhythm: rhythm, Status: string(r.Status),
		StatusLabel: s.loc.T("subscription.status_" + string(r.Status))}
	view := &shopper{Locale: r.Locale}
	if m, ok := shop.LookupMarket(r.Market); ok {
		view.Market = m
	}
	if next, ok := h.subs.Next(r); ok {
		p.NextAt = s.loc.Date(next.At)
		p.NextAmount = h.money(next.Amount, view)
	}
	periods, _, err := h.subs.History(c.Request().Context(), r.ID)
	if err != nil {
		return p, err
	}
	for _, pd := range periods {
		ch := views.SubscriptionCharge{Period: pd.Period, Due: s.loc.ShortDate(pd.DueAt), Status: string(pd.Status), OrderRef: pd.OrderRef}
		if pd.Amount > 0 {
			ch.Amount = h.money(pd.Amount, view)
		}
		if pd.Status == store.PeriodDeclined && pd.RetryAt != nil {
			ch.Note = s.loc.T("charges.retry", "Date", s.loc.ShortDate(*pd.RetryAt))
		}
		p.Charges = append(p.Charges, ch)
	}
	return p, nil
}

// adminSubscriptions lists subscriptions for the operator.
func (h *Handler) adminSubscriptions(c echo.Context) error {
	rs, err := h.subs.List(c.Request().Context(), 500)
	if err != nil {
		return err
	}
	p := views.AdminSubscriptionsPage{Base: h.base(c, shopperOf(c), "Subscriptions")}
	for _, r := range rs {
		name, _ := planWords(r.Plan)
		row := views.AdminSubscriptionRow{ID: r.ID, CheckoutID: r.CheckoutID, Market: r.Market, Name: name, Status: string(r.Status), Attention: r.Attention}
		if r.NextChargeAt != nil {
			row.NextAt = r.NextChargeAt.Format("2006-01-02 15:04")
		}
		p.Rows = append(p.Rows, row)
	}
	return render(c, http.StatusOK, views.AdminSubscriptionsView(p))
}

// adminSubscription is one subscription: charges, history and actions.
func (h *Handler) adminSubscription(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := h.subs.Get(ctx, c.Param("id"))
	if errors.Is(err, subscriptions.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "No such subscription.")
	}
	if err != nil {
		return err
	}
	sp, err := h.subscriptionView(c, r)
	if err != nil {
		return err
	}
	sp.Base.Title = "Subscription " + r.ID
	p := views.AdminSubscriptionPage{SubscriptionPage: sp, CheckoutID: r.CheckoutID, Attention: r.Attention}
	p.Notice = c.QueryParam("done")
	periods, events, err := h.subs.History(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, e := range events {
		p.Events = append(p.Events, views.SubscriptionEvent{At: e.At.Format("2006-01-02 15:04:05"), Who: e.Who, What: e.What, CorrelationID: e.CorrelationID})
	}
	for _, pd := range periods {
		if pd.Status == store.PeriodUnknown && pd.Period == r.Period {
			p.Unsettled = &views.UnsettledCharge{Period: pd.Period, OrderRef: pd.OrderRef}
		}
	}
	switch {
	case p.Unsettled != nil && r.Status != store.RecurringCancelled:
		p.Actions = []string{"cancel"} // resume and charge wait for the settling
	case r.Status == store.RecurringActive:
		p.Actions = []string{"charge", "pause", "cancel"}
	case r.Status == store.RecurringPaused:
		p.Actions = []string{"resume", "charge", "cancel"}
	}
	return render(c, http.StatusOK, views.AdminSubscriptionView(p))
}

// adminSubscriptionAction runs pause, resume, cancel or charge for the
// operator.
func (h *Handler) adminSubscriptionAction(c echo.Context) error {
	id, action := c.Param("id"), c.Param("action")
	if c.Request().PostFormValue("confirm") != "yes" {
		return echo.NewHTTPError(http.StatusBadRequest, "Tick the box to confirm the action.")
	}
	settleCharged := func(ctx context.Context, id, who string) (*store.Recurring, error) {
		return h.subs.SettleCharged(ctx, id, c.Request().PostFormValue("klarna_order_id"), who)
	}
	run := map[string]func(context.Context, string, string) (*store.Recurring, error){
		"pause": h.subs.Pause, "resume": h.subs.Resume, "cancel": h.subs.Cancel, "charge": h.subs.ChargeNow,
		"settle-charged": settleCharged, "settle-not-charged": h.subs.SettleNotCharged,
	}[action]
	if run == nil {
		return echo.NewHTTPError(http.StatusNotFound, "No such action.")
	}
	who, _, _ := c.Request().BasicAuth()
	if who == "" {
		who = "admin"
	}
	done := map[string]string{"pause": "Paused.", "resume": "Resumed.", "cancel": "Cancelled; the customer token is cancelled at Klarna.",
		"charge":             "The current period will be charged within a minute.",
		"settle-charged":     "Recorded Klarna's order as this period's charge. The subscription stays paused until you resume it.",
		"settle-not-charged": "The period will be charged again within a minute, with a new request to Klarna."}[action]
	_, err := run(c.Request().Context(), id, who)
	var ke *klarna.Error
	switch {
	case errors.Is(err, subscriptions.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "No such subscription.")
	case errors.Is(err, subscriptions.ErrState):
		done = "That is not possible in the subscription's current state; nothing was changed."
	case errors.Is(err, subscriptions.ErrBusy):
		done = "The subscription changed meanwhile; nothing was changed. Look again and retry."
	case errors.Is(err, subscriptions.ErrUnsettled):
		done = "A charge's outcome is unknown: settle it below first; nothing was changed."
	case errors.Is(err, subscriptions.ErrMismatch):
		done = "That Klarna order is not this period's (" + strings.TrimPrefix(err.Error(), subscriptions.ErrMismatch.Error()+": ") + "); nothing was changed."
	case errors.As(err, &ke) && ke.StatusCode == http.StatusNotFound:
		done = "Klarna has no order with that id; nothing was changed."
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/subscriptions/"+url.PathEscape(id)+"?done="+url.QueryEscape(done))
}
