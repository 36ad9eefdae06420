package handlers

import (
	"net/url"
	"strings"
)

// Routes that are linked to from outside the handlers: by Klarna (the
// confirmation page and the callbacks it is given), by order lines (a
// product's page and picture) and by main (the simulator's mount). Routes
// mounts them under these patterns, and URLs and the path functions below
// fill them in, so that no other package holds a route.
const (
	routeProduct               = "/products/:id"
	routeConfirmation          = "/confirmation/:ref"
	routeAuthorizationCallback = "/klarna/authorization"
	routeNotificationCallback  = "/klarna/notification"
	routeStatic                = "/static" // the files of package static, below it
	// SimulatorPath is where the built-in Klarna simulator is mounted.
	SimulatorPath = "/klarna-sim"
)

// URLs builds the shop's absolute URLs from BASE_URL and the routes: what
// Klarna is given for a checkout (checkout.URLs) and a subscription renewal
// (subscriptions.URLs), and the links of order lines.
type URLs struct {
	base string // BASE_URL, without a trailing slash
}

// NewURLs returns the URLs of the shop reached at baseURL.
func NewURLs(baseURL string) URLs { return URLs{base: strings.TrimRight(baseURL, "/")} }

// Confirmation is the shopper's page of the order ref, where Klarna sends
// the shopper after the order.
func (u URLs) Confirmation(ref string) string { return u.base + confirmationPath(ref) }

// AuthorizationCallback is where Klarna posts the authorization of the
// checkout ref; secret authenticates the call.
func (u URLs) AuthorizationCallback(ref, secret string) string {
	return u.base + routeAuthorizationCallback + "?" + callbackQuery(ref, secret)
}

// NotificationCallback is where Klarna posts its fraud decision on the
// order of checkout ref; secret authenticates the call.
func (u URLs) NotificationCallback(ref, secret string) string {
	return u.base + routeNotificationCallback + "?" + callbackQuery(ref, secret)
}

// ProductPage is the page of product id.
func (u URLs) ProductPage(id string) string { return u.base + fill(routeProduct, id) }

// ProductImage is a product's picture, a file under static/art/.
func (u URLs) ProductImage(art string) string {
	return u.base + routeStatic + "/art/" + url.PathEscape(art)
}

// confirmationPath is the path of the shopper's page of the order ref.
func confirmationPath(ref string) string { return fill(routeConfirmation, ref) }

// callbackQuery names the checkout of a Klarna callback and carries its
// secret; callbackCheckout reads them.
func callbackQuery(ref, secret string) string {
	return url.Values{"checkout": {ref}, "secret": {secret}}.Encode()
}

// fill puts values, in order, in place of a route's parameters (":id").
func fill(route string, values ...string) string {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") && len(values) > 0 {
			parts[i], values = url.PathEscape(values[0]), values[1:]
		}
	}
	return strings.Join(parts, "/")
}
