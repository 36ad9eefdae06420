package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/views"
)

// wantsJSON reports whether the client expects JSON: the checkout script,
// Klarna's callbacks, API-style callers.
func wantsJSON(c echo.Context) bool {
	r := c.Request()
	return strings.HasPrefix(r.URL.Path, "/klarna/") || strings.HasPrefix(r.URL.Path, "/checkout/place") ||
		strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html")
}

// headings are the message ids of the error pages' headings by status;
// other statuses get error.heading.
var headings = map[int]string{
	http.StatusBadRequest:            "error.heading_400",
	http.StatusUnauthorized:          "error.heading_401",
	http.StatusForbidden:             "error.heading_403",
	http.StatusNotFound:              "error.heading_404",
	http.StatusMethodNotAllowed:      "error.heading_403",
	http.StatusRequestEntityTooLarge: "error.heading_413",
	http.StatusTooManyRequests:       "error.heading_429",
	http.StatusServiceUnavailable:    "error.heading_503",
}

// ErrorHandler is the one place errors become responses: it maps them to a
// status, logs server errors only, and renders a friendly page or JSON. It
// never writes to a response that was already sent.
func (h *Handler) ErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	s := shopperOf(c)
	if s == nil || s.loc == nil {
		// Outside the shop's routes (static files, Klarna's callbacks):
		// the default market's language.
		s = &shopper{}
		s.Market, s.Locale = h.defaultMarket()
		h.speak(c, s)
	}
	// Handlers give message ids for what the shopper reads; Klarna's
	// callbacks and the orders area give plain English.
	status, msg := http.StatusInternalServerError, "error.internal"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		}
		if msg == http.StatusText(status) {
			// Echo's own errors (no route, body too large) say only the
			// status.
			msg = map[int]string{http.StatusNotFound: "error.page_not_found", http.StatusRequestEntityTooLarge: "error.too_large"}[status]
			if msg == "" {
				msg = "error.generic"
			}
		}
	}
	if s.loc.Has(msg) {
		msg = s.loc.T(msg)
	}
	if status >= 500 {
		h.log.ErrorContext(c.Request().Context(), "request failed", "error", err, "path", c.Request().URL.Path)
	}
	// An error page carries the shopper's session (their token, cart
	// count, a message) and says nothing worth keeping: no cache, shared
	// or private, may store it. A 404 is cacheable by default.
	setFixed(c.Response().Header(), "Cache-Control", noStoreValue)
	// HEAD gets GET's answer; net/http sends its headers (type and length
	// included) and drops the body.
	if wantsJSON(c) {
		c.JSON(status, map[string]string{"error": msg})
		return
	}
	heading := headings[status]
	if heading == "" {
		heading = "error.heading"
	}
	heading = s.loc.T(heading)
	if rerr := render(c, status, views.ErrorView(views.ErrorPage{Base: h.base(c, s, heading), Status: status, Heading: heading, Message: msg})); rerr != nil {
		c.String(status, msg)
	}
}
