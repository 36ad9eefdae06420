package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/i18n"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/static"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/views"
)

func (h *Handler) checkoutPage(c echo.Context) error {
	s := shopperOf(c)
	if s.Cart.Empty() {
		s.setFlash(s.loc.T("flash.cart_empty"))
		return c.Redirect(http.StatusSeeOther, "/cart")
	}
	if c.Request().Method == http.MethodHead {
		// A probe opens no Klarna session (the merchant's quota, and a
		// checkout row); without asking Klarna it cannot report Klarna's
		// failures either, so it answers as GET does when all is well.
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		return c.NoContent(http.StatusOK)
	}
	b := h.base(c, s, s.loc.T("title.checkout"))
	b.Scripts = []string{static.Path("js/checkout.js"), h.cfg.WidgetScript}
	var cartSince time.Time
	if s.CartSince != 0 {
		cartSince = time.Unix(s.CartSince, 0)
	}
	co, priced, err := h.checkout.BeginFor(c.Request().Context(), checkout.Shopper{CheckoutID: s.CheckoutID, BrowserID: s.BrowserID,
		Established: s.established(time.Now()), CartSince: cartSince}, s.Cart, s.Market, s.Locale)
	var failure *checkout.Failure
	switch {
	case errors.Is(err, checkout.ErrInProgress), errors.Is(err, checkout.ErrAlreadyPlaced):
		// This cart is being ordered or was ordered already (Klarna's
		// callback may have placed it while the browser's request was
		// lost): show that order rather than take a second payment. The
		// browser is on that checkout now, so its confirmation empties the
		// cart it was made from.
		s.rememberOrder(co.ID)
		if s.CheckoutID != co.ID {
			s.CheckoutID, s.dirty = co.ID, true
		}
		return c.Redirect(http.StatusSeeOther, confirmationPath(co.ID))
	case errors.As(err, &failure), errors.Is(err, checkout.ErrUnavailable):
		// No session: say why, by what kind of failure it was.
		class := checkout.ClassOutage
		if failure != nil {
			class = failure.Class
		}
		status, msg := sessionFailureMessage(class, s)
		if class == checkout.ClassRateLimited {
			c.Response().Header().Set("Retry-After", "5")
		}
		priced, _ := shop.Price(s.Cart, s.Market, s.Locale, h.catalog)
		b.Scripts = nil
		return render(c, status, views.CheckoutView(views.CheckoutPage{
			Base: b, Lines: h.lines(priced, s), Summary: h.summary(priced, s),
			Unavailable: msg, UnavailableClass: string(class), Retry: class.Transient(),
		}))
	case err != nil:
		return err
	}
	if s.CheckoutID != co.ID {
		s.CheckoutID, s.dirty = co.ID, true
	}
	p := views.CheckoutPage{Base: b, Ref: co.ID, Lines: h.lines(priced, s), Summary: h.summary(priced, s), ClientToken: co.ClientToken,
		Messages: h.checkoutMessages(s)}
	for _, pc := range checkout.PaymentCategories(co) {
		p.Categories = append(p.Categories, views.PaymentCategory{ID: pc.ID, Name: pc.Name, Badge: h.sameOriginAsset(pc.Badge)})
	}
	switch n := c.QueryParam("notice"); n {
	case "cart_changed", "reauthorize", "failed":
		p.Notice = s.loc.T("checkout.notice_" + n)
	}
	return h.renderInKeptLayout(c, s, http.StatusOK, p.Base, views.CheckoutMain(p), views.CheckoutView(p))
}

// placeResponse is what the checkout script gets back. Every outcome of a
// well-formed request is a 200 whose status says what happened; HTTP errors
// are kept for requests that are wrong (malformed, no CSRF token).
type placeResponse struct {
	// placed, in_progress, cart_changed, reauthorize, failed, expired,
	// unconfirmed (the approval could not be matched to this checkout),
	// unavailable (Klarna or the database could not be reached; no order
	// was made).
	Status      string `json:"status"`
	RedirectURL string `json:"redirect_url,omitempty"`
	Message     string `json:"message,omitempty"`
}

// place receives the authorization token from the shopper's browser and
// places the order through the same guarded path as Klarna's callback.
func (h *Handler) place(c echo.Context) error {
	s := shopperOf(c)
	var req struct {
		AuthorizationToken string `json:"authorization_token"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 8<<10)).Decode(&req); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "error.approval_unreadable")
	}
	if req.AuthorizationToken == "" || len(req.AuthorizationToken) > 256 {
		return echo.NewHTTPError(http.StatusBadRequest, "error.approval_missing")
	}
	ctx := c.Request().Context()
	co, err := h.checkout.Checkout(ctx, s.CheckoutID)
	switch {
	case errors.Is(err, checkout.ErrNotFound):
		return c.JSON(http.StatusOK, placeResponse{Status: "expired", Message: s.loc.T("place.expired")})
	case err != nil:
		h.log.ErrorContext(ctx, "reading the checkout to place failed", "error", err)
		return c.JSON(http.StatusOK, placeResponse{Status: "unavailable", Message: s.loc.T("place.unavailable")})
	}
	priced, err := shop.Price(s.Cart, s.Market, s.Locale, h.catalog)
	if err != nil {
		return err
	}
	hash := priced.Hash()
	if s.Cart.Empty() {
		hash = "" // the cart was emptied by a confirmation in another tab; the order is what counts
	}
	placed, err := h.checkout.PlaceCheckout(ctx, co, req.AuthorizationToken, checkout.FromBrowser, hash)
	var failure *checkout.Failure
	if errors.As(err, &failure) && (failure.Class == checkout.ClassCredentials || failure.Class == checkout.ClassMarket) {
		// Klarna refused the shop, not the order: nothing was ordered, and
		// pressing Pay again will not help until the operator acts.
		_, msg := sessionFailureMessage(failure.Class, s)
		return c.JSON(http.StatusOK, placeResponse{Status: "unavailable", Message: msg})
	}
	switch {
	case err == nil:
		s.rememberOrder(placed.ID)
		target := placed.RedirectURL
		if target == "" || !h.followsKlarnaRedirect(c) {
			target = confirmationPath(placed.ID)
		}
		return c.JSON(http.StatusOK, placeResponse{Status: "placed", RedirectURL: target})
	case errors.Is(err, checkout.ErrInProgress):
		s.rememberOrder(co.ID)
		return c.JSON(http.StatusOK, placeResponse{Status: "in_progress", RedirectURL: confirmationPath(co.ID)})
	case errors.Is(err, checkout.ErrCartChanged):
		return c.JSON(http.StatusOK, placeResponse{Status: "cart_changed", RedirectURL: "/checkout?notice=cart_changed",
			Message: s.loc.T("checkout.notice_cart_changed")})
	case errors.Is(err, checkout.ErrReauthorize):
		return c.JSON(http.StatusOK, placeResponse{Status: "reauthorize", Message: s.loc.T("place.reauthorize")})
	case errors.Is(err, checkout.ErrRefused):
		// The refused checkout stays the browser's: the next checkout page
		// starts a new one from it. A browser without a reference is taken
		// for an older cookie when it has placed orders (BeginFor).
		return c.JSON(http.StatusOK, placeResponse{Status: "failed", RedirectURL: "/checkout?notice=failed", Message: s.loc.T("place.refused")})
	case errors.Is(err, checkout.ErrForeignToken):
		// An honest shopper never gets here unless Klarna's session did not
		// confirm the approval; Klarna's own callback may still place the
		// order, so the script keeps watching the checkout's status.
		return c.JSON(http.StatusOK, placeResponse{Status: "unconfirmed", Message: s.loc.T("place.unconfirmed")})
	}
	// Klarna, or the database, could not be reached before any order was
	// made: the Place contract reports every later failure as in progress.
	h.log.ErrorContext(ctx, "placing the order failed before reaching Klarna", "checkout", co.ID, "error", err)
	return c.JSON(http.StatusOK, placeResponse{Status: "unavailable", Message: s.loc.T("place.unavailable")})
}

// statusResponse tells the checkout script what became of the shopper's
// checkout, so that it never says "not charged" when an order exists.
type statusResponse struct {
	// none (no checkout), open (no order: nothing charged), placing,
	// placed (an order exists; see redirect_url), failed.
	Status      string `json:"status"`
	RedirectURL string `json:"redirect_url,omitempty"`
}

// checkoutStatus reports the state of the shopper's current checkout. It
// reads the database only.
func (h *Handler) checkoutStatus(c echo.Context) error {
	s := shopperOf(c)
	if s.CheckoutID == "" {
		return c.JSON(http.StatusOK, statusResponse{Status: "none"})
	}
	co, err := h.checkout.Checkout(c.Request().Context(), s.CheckoutID)
	if errors.Is(err, checkout.ErrNotFound) {
		return c.JSON(http.StatusOK, statusResponse{Status: "none"})
	}
	if err != nil {
		return err
	}
	switch {
	case co.State.IsOrder():
		s.rememberOrder(co.ID)
		return c.JSON(http.StatusOK, statusResponse{Status: "placed", RedirectURL: confirmationPath(co.ID)})
	case co.State == store.StatePlacing:
		s.rememberOrder(co.ID)
		return c.JSON(http.StatusOK, statusResponse{Status: "placing", RedirectURL: confirmationPath(co.ID)})
	case co.State == store.StateFailed:
		return c.JSON(http.StatusOK, statusResponse{Status: "failed"})
	}
	return c.JSON(http.StatusOK, statusResponse{Status: "open"})
}

// confirmation shows an order to the browser that placed it.
func (h *Handler) confirmation(c echo.Context) error {
	s := shopperOf(c)
	ref := c.Param("ref")
	if !s.ownsOrder(ref) {
		// 404, not 403: another shopper's order reference reveals nothing.
		return echo.NewHTTPError(http.StatusNotFound, "error.order_not_in_browser")
	}
	co, err := h.checkout.Checkout(c.Request().Context(), ref)
	if errors.Is(err, checkout.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "error.order_not_found")
	}
	if err != nil {
		return err
	}
	if co.State == store.StatePlacing {
		// Only read here: recovery settles the placement, and a page that
		// refreshes every few seconds must not call Klarna each time.
		h.checkout.Nudge()
	}
	if co.State == store.StateOpen {
		// Not placed (yet): back to the checkout.
		return c.Redirect(http.StatusSeeOther, "/checkout")
	}
	s.rememberOrder(ref)
	if co.State.IsOrder() && s.CheckoutID == ref {
		// The order is placed: empty the cart it came from.
		s.Cart, s.CheckoutID, s.Review, s.dirty = shop.Cart{}, "", "", true
	}
	p := views.ConfirmationPage{Base: h.base(c, s, s.loc.T("title.order", "Ref", co.ID)), Ref: co.ID, State: string(co.State),
		KlarnaOrderID: co.KlarnaOrderID, PaymentMethod: paymentMethodLabel(co.PaymentMethod, s.loc)}
	if co.PlacedAt != nil {
		p.PlacedAt = s.loc.DateTime(*co.PlacedAt)
	}
	switch co.State {
	case store.StatePlaced, store.StatePendingReview, store.StateRejected, store.StateFailed:
		p.StateLabel, p.StateDetail = s.loc.T("confirmation.label_"+string(co.State)), s.loc.T("confirmation.detail_"+string(co.State))
	case store.StatePlacing:
		p.StateDetail = s.loc.T("confirmation.detail_placing")
	}
	p.SubscriptionState, p.SubscriptionDetail = h.subscriptionText(co, s)
	if co.Subscription.Status == store.SubscriptionActive && h.subs != nil {
		if r, err := h.subs.ForCheckout(c.Request().Context(), co); err == nil {
			p.SubscriptionState = string(r.Status)
			p.SubscriptionDetail = h.subscriptionSummary(r, s)
			p.SubscriptionLink = h.subscriptionLink(r.ID, time.Now())
		} else {
			h.log.ErrorContext(c.Request().Context(), "reading the subscription of an order failed", "checkout", co.ID, "error", err)
		}
	}
	if p.Fulfilment = h.fulfilment(c.Request().Context(), co, s); p.Fulfilment != nil && p.Fulfilment.Headline != "" {
		p.StateLabel, p.StateDetail = p.Fulfilment.Headline, p.Fulfilment.Detail
	}
	if m, ok := shop.LookupMarket(co.Market); ok {
		view := &shopper{Market: m, Locale: co.Locale, loc: s.loc}
		if cart, err := shop.DecodeCart(co.Cart, h.catalog); err == nil {
			if priced, err := shop.Price(cart, m, co.Locale, h.catalog); err == nil {
				p.Lines, p.Summary = h.lines(priced, view), h.summary(priced, view)
				p.Summary.ShippingHint = ""
			}
		}
	}
	return render(c, http.StatusOK, views.ConfirmationView(p))
}

// methodDetail is the stored detail of a payment method: "(30 days)",
// "(3 instalments)" (checkout.place).
var methodDetail = regexp.MustCompile(`^\((\d+) (days|instalments)\)$`)

// paymentMethodLabel names Klarna's payment method ("invoice 30 days") in
// words of the page's language.
func paymentMethodLabel(m string, loc *i18n.Localizer) string {
	name, detail, _ := strings.Cut(m, " ")
	label := name
	if loc.Has("method." + name) {
		label = loc.T("method." + name)
	}
	if m := methodDetail.FindStringSubmatch(detail); m != nil {
		n, _ := strconv.Atoi(m[1])
		detail = loc.T("method."+m[2], "Count", n)
	}
	if detail != "" {
		label += " " + detail
	}
	return "Klarna · " + label
}

// callbackCheckout finds the checkout a Klarna callback names and checks the
// callback's secret against it in constant time. An unknown checkout is 404
// and a wrong secret 403; neither changes anything.
func (h *Handler) callbackCheckout(c echo.Context) (*store.Checkout, error) {
	co, err := h.checkout.Checkout(c.Request().Context(), c.QueryParam("checkout"))
	if errors.Is(err, checkout.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, "unknown checkout")
	}
	if err != nil {
		return nil, err
	}
	if !checkout.SecretMatches(co, c.QueryParam("secret")) {
		return nil, echo.NewHTTPError(http.StatusForbidden, "bad secret")
	}
	return co, nil
}

// authorizationCallback is Klarna's server-to-server call after an
// approval. It has no browser cookie: the checkout is found by reference and
// authenticated by its per-checkout secret; the payload is trusted only to
// name the session and token. It answers at once and places in the
// background, through the same path as the browser.
func (h *Handler) authorizationCallback(c echo.Context) error {
	if sessionID, ok := h.checkout.PlacedHere(c.QueryParam("checkout"), c.QueryParam("secret")); ok {
		// An order this instance recorded, most often from the shopper's
		// own request a moment ago: checked as below, nothing to place.
		if _, err := authorizationBody(c, sessionID); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "accepted"})
	}
	co, err := h.callbackCheckout(c)
	if err != nil {
		return err
	}
	token, err := authorizationBody(c, co.SessionID)
	if err != nil {
		return err
	}
	if err := h.checkout.PlaceInBackground(c.Request().Context(), co, token); err != nil {
		// Not kept: answering 200 would lose it, as Klarna does not send an
		// answered callback again. An error makes Klarna try again.
		h.log.ErrorContext(c.Request().Context(), "could not keep Klarna's authorization callback; asking Klarna to send it again", "checkout", co.ID, "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "accepted"})
}

// authorizationBody is the authorization token of an authorization
// callback's body, which must name the checkout's Klarna session.
func authorizationBody(c echo.Context, sessionID string) (string, error) {
	var body struct {
		AuthorizationToken string `json:"authorization_token"`
		SessionID          string `json:"session_id"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 16<<10)).Decode(&body); err != nil || body.AuthorizationToken == "" || len(body.AuthorizationToken) > 256 {
		return "", echo.NewHTTPError(http.StatusBadRequest, "want JSON with authorization_token and session_id")
	}
	if body.SessionID != sessionID {
		return "", echo.NewHTTPError(http.StatusBadRequest, "session_id does not belong to this checkout")
	}
	return body.AuthorizationToken, nil
}

// notificationCallback is Klarna's fraud decision on a pending order,
// authenticated like the authorization callback. The body is only a hint:
// the checkout service re-reads the decision from Klarna.
func (h *Handler) notificationCallback(c echo.Context) error {
	ctx := c.Request().Context()
	co, err := h.callbackCheckout(c)
	if err != nil {
		return err
	}
	var body struct {
		OrderID   string `json:"order_id"`
		EventType string `json:"event_type"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 16<<10)).Decode(&body); err != nil || body.OrderID == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "want JSON with order_id and event_type")
	}
	switch body.EventType {
	case checkout.EventAccepted, checkout.EventRejected, checkout.EventStopped:
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "unknown event_type")
	}
	updated, err := h.checkout.Notify(ctx, co.ID, body.OrderID, body.EventType)
	switch {
	case errors.Is(err, checkout.ErrStale):
		return c.JSON(http.StatusOK, map[string]string{"status": "ignored"})
	case errors.Is(err, checkout.ErrUnavailable):
		// Klarna retries the notification; so should it.
		return echo.NewHTTPError(http.StatusServiceUnavailable, "could not confirm the decision with Klarna; retry later")
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": string(updated.State)})
}

// subscriptionSummary is one sentence about a subscription for its shopper.
func (h *Handler) subscriptionSummary(r *store.Recurring, s *shopper) string {
	name, rhythm := h.planText(r.Plan, s)
	switch r.Status {
	case store.RecurringCancelled:
		return s.loc.T("subscription.summary_cancelled", "Name", name)
	case store.RecurringPaused:
		return s.loc.T("subscription.summary_paused", "Name", name)
	}
	out := s.loc.T("subscription.summary_active", "Name", name, "Rhythm", rhythm)
	if next, ok := h.subs.Next(r); ok {
		view := &shopper{Locale: r.Locale}
		view.Market, _ = shop.LookupMarket(r.Market)
		out += " " + s.loc.T("subscription.summary_next", "Amount", h.money(next.Amount, view), "Date", s.loc.Date(next.At))
	}
	return out
}

// subscriptionText describes an order's subscription to its shopper.
func (h *Handler) subscriptionText(co *store.Checkout, s *shopper) (state, detail string) {
	sub := co.Subscription
	if sub.Plan == "" {
		return "", ""
	}
	name, rhythm := h.planText(sub.Plan, s)
	switch sub.Status {
	case store.SubscriptionActive:
		out := s.loc.T("subscription.summary_active", "Name", name, "Rhythm", rhythm)
		if sub.Next != nil {
			out += " " + s.loc.T("subscription.next_delivery", "Date", s.loc.Date(*sub.Next))
		}
		return "active", out
	case store.SubscriptionNeedsAttention:
		return "needs_attention", s.loc.T("subscription.needs_attention")
	}
	return "pending", s.loc.T("subscription.setting_up", "Name", name, "Rhythm", rhythm)
}

// planWords turns a stored plan ("MONTH:1:Name") into words, in English
// (the orders area).
func planWords(plan string) (name, rhythm string) {
	parts := strings.SplitN(plan, ":", 3)
	if len(parts) != 3 {
		return plan, ""
	}
	n, _ := strconv.Atoi(parts[1])
	return parts[2], shop.Plan{Interval: parts[0], IntervalCount: n}.Describe()
}

// planText is planWords in the shopper's language.
func (h *Handler) planText(plan string, s *shopper) (name, rhythm string) {
	parts := strings.SplitN(plan, ":", 3)
	if len(parts) != 3 {
		return plan, ""
	}
	n, _ := strconv.Atoi(parts[1])
	return h.catalog.PlanName(parts[2], s.loc.Lang()), h.rhythm(s, shop.Plan{Interval: parts[0], IntervalCount: n})
}

// startReview records that Klarna asked for a separate finalize step
// (finalize_required), and sends the shopper to the review page.
func (h *Handler) startReview(c echo.Context) error {
	s := shopperOf(c)
	var req struct {
		Category string `json:"payment_method_category"`
	}
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 4<<10)).Decode(&req); err != nil || req.Category == "" || len(req.Category) > 64 {
		return echo.NewHTTPError(http.StatusBadRequest, "error.method_missing")
	}
	if s.CheckoutID == "" {
		return c.JSON(http.StatusOK, placeResponse{Status: "expired", Message: s.loc.T("place.expired")})
	}
	s.Review, s.dirty = req.Category, true
	return c.JSON(http.StatusOK, placeResponse{Status: "review", RedirectURL: "/checkout/review"})
}

// reviewPage shows the order once more before the shopper confirms the
// payment (Klarna.Payments.finalize). The shopper may leave and come back.
func (h *Handler) reviewPage(c echo.Context) error {
	s := shopperOf(c)
	if s.Review == "" || s.CheckoutID == "" {
		return c.Redirect(http.StatusSeeOther, "/checkout")
	}
	co, err := h.checkout.Checkout(c.Request().Context(), s.CheckoutID)
	if err != nil || co.State != store.StateOpen {
		s.Review, s.dirty = "", true
		return c.Redirect(http.StatusSeeOther, "/checkout")
	}
	priced, err := shop.Price(s.Cart, s.Market, s.Locale, h.catalog)
	if err != nil {
		return err
	}
	b := h.base(c, s, s.loc.T("title.review"))
	b.Scripts = []string{static.Path("js/checkout.js"), h.cfg.WidgetScript}
	return render(c, http.StatusOK, views.ReviewView(views.ReviewPage{
		Base: b, Ref: co.ID, Lines: h.lines(priced, s), Summary: h.summary(priced, s), ClientToken: co.ClientToken, Category: s.Review,
		Messages: h.checkoutMessages(s),
	}))
}

// cancelReview abandons the payment on the review page. Until finalize
// returns a token the authorization is not complete, so there is nothing to
// release at Klarna: forgetting the pending step is the whole cancellation.
// (A token that finalize did return is released by the place path if the
// cart no longer matches.)
func (h *Handler) cancelReview(c echo.Context) error {
	s := shopperOf(c)
	s.Review, s.dirty = "", true
	s.setFlash(s.loc.T("flash.payment_cancelled"))
	return c.Redirect(http.StatusSeeOther, "/cart")
}

// sessionFailureMessage is what the shopper is told, and the status of the
// page, when Klarna cannot take the payment, by the kind of failure.
func sessionFailureMessage(class checkout.Class, s *shopper) (int, string) {
	safe, m := s.loc.T("unavailable.safe"), s.Market
	switch class {
	case checkout.ClassCredentials:
		return http.StatusServiceUnavailable, s.loc.T("unavailable.credentials") + " " + safe + " " + s.loc.T("unavailable.later")
	case checkout.ClassMarket:
		return http.StatusServiceUnavailable, s.loc.T("unavailable.market", "Country", s.loc.T("market."+m.Code), "Currency", m.Currency) + " " + safe + " " + s.loc.T("unavailable.later")
	case checkout.ClassBadRequest:
		return http.StatusInternalServerError, s.loc.T("unavailable.bad_request") + " " + safe + " " + s.loc.T("unavailable.later")
	case checkout.ClassRateLimited:
		return http.StatusServiceUnavailable, s.loc.T("unavailable.rate_limited") + " " + safe + " " + s.loc.T("unavailable.seconds")
	}
	return http.StatusServiceUnavailable, s.loc.T("unavailable.outage") + " " + safe + " " + s.loc.T("unavailable.moment")
}

// checkoutMessages are the checkout script's words (the messages js.*)
// in the shopper's language, handed to it in a JSON block (no inline
// script runs under the Content-Security-Policy). {name} and {fields} are
// filled in by the script. They are the same on every checkout page in a
// language, so each language's block is made once.
func (h *Handler) checkoutMessages(s *shopper) views.JSONBlock {
	if b, ok := h.jsBlocks.Load(s.loc); ok {
		return b.(views.JSONBlock)
	}
	out := make(map[string]string, len(h.jsMessages))
	for _, id := range h.jsMessages {
		out[strings.TrimPrefix(id, "js.")] = s.loc.T(id, "Name", "{name}", "Fields", "{fields}")
	}
	b, err := views.NewJSONBlock(out)
	if err != nil {
		panic(err) // strings always encode
	}
	h.jsBlocks.Store(s.loc, b)
	return b
}
