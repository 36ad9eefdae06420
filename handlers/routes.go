package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/fikaandform/storefront/internal/logging"
	"github.com/fikaandform/storefront/shop"
)

// Routes mounts the whole HTTP surface on e. sim, when not nil, is the Klarna
// simulator, mounted under /klarna-sim/. assets serves the files below
// /static/ (static.Handler). The routes other packages link to are named in
// urls.go, which builds their URLs.
func (h *Handler) Routes(e *echo.Echo, assets http.Handler, sim http.Handler) {
	h.echo = e
	e.HTTPErrorHandler = h.ErrorHandler
	// The client's address for rate limits: the connection's, unless the
	// shop runs behind a proxy that sets X-Forwarded-For (a client could
	// otherwise forge the header to dodge the limits).
	e.IPExtractor = echo.ExtractIPDirect()
	if h.cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(requestID)
	e.Use(h.requestLog)
	if h.cfg.RequestMetrics != nil {
		e.Use(h.cfg.RequestMetrics)
	}
	// The security headers before anything that may answer by itself (a
	// foreign host, a body too large): every response carries them.
	e.Use(h.securityHeaders())
	e.Use(h.checkHost)
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit("256K"))
	e.Use(noStore)

	// Every page answers HEAD as it answers GET (RFC 9110; load balancers
	// probe with it), without its effects: HEAD saves no session, and the
	// checkout page opens no Klarna session for it.
	getHead := []string{http.MethodGet, http.MethodHead}
	e.Match(getHead, "/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.Match(getHead, "/readyz", h.ready)
	e.Match(getHead, "/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })
	// A crawler has no cart, so /checkout only redirects it to /cart: only
	// the orders area needs keeping out of search engines.
	e.Match(getHead, "/robots.txt", func(c echo.Context) error {
		return c.String(http.StatusOK, "User-agent: *\nDisallow: /admin\n")
	})
	e.Match(getHead, routeStatic+"/*", echo.WrapHandler(http.StripPrefix(routeStatic, assets)))
	if sim != nil {
		e.Any(SimulatorPath+"/*", echo.WrapHandler(http.StripPrefix(SimulatorPath, sim)))
	}

	// Klarna's server-to-server callbacks: no cookie, no CSRF token; each is
	// authenticated by its checkout's secret.
	// Limits per client protect the shop and the merchant's Klarna quota.
	limits := h.cfg.Limits.orDefault()
	callbacks := h.rateLimit(limits.Callbacks, limits.Burst*4)
	e.POST(routeAuthorizationCallback, h.authorizationCallback, callbacks)
	e.POST(routeNotificationCallback, h.notificationCallback, callbacks)

	// The shop: a cookie session for everything, CSRF on every form.
	g := e.Group("", h.withShopper, h.csrf)
	g.Match(getHead, "/", h.catalogPage)
	g.Match(getHead, routeProduct, h.product)
	g.Match(getHead, "/cart", h.cart)
	g.POST("/cart/add", h.addToCart)
	g.POST("/cart/update", h.updateCart)
	g.POST("/cart/remove", h.removeFromCart)
	g.POST("/cart/discount", h.applyDiscount)
	g.POST("/cart/discount/remove", h.removeDiscount)
	g.POST("/market", h.setMarket)
	g.POST("/language", h.setLanguage)
	g.Match(getHead, "/checkout", h.checkoutPage, h.rateLimit(limits.Checkout, limits.Burst))
	g.POST("/checkout/place", h.place, h.rateLimit(limits.Place, limits.Burst))
	g.Match(getHead, "/checkout/status", h.checkoutStatus)
	g.POST("/checkout/review", h.startReview)
	g.Match(getHead, "/checkout/review", h.reviewPage)
	g.POST("/checkout/review/cancel", h.cancelReview)
	g.Match(getHead, routeConfirmation, h.confirmation)
	g.Match(getHead, "/admin", h.admin, h.adminAuth)
	// Order management (orders.go): a page per order; every action is
	// planned, shown for confirmation with a one-time id, then confirmed.
	if h.orders != nil {
		g.Match(getHead, "/admin/orders/:ref", h.orderPage, h.adminAuth)
		g.POST("/admin/orders/:ref/plan", h.planAction, h.adminAuth)
		g.POST("/admin/orders/:ref/confirm", h.confirmAction, h.adminAuth)
		g.POST("/admin/orders/:ref/retry", h.retryAction, h.adminAuth)
		g.POST("/admin/orders/:ref/refresh", h.refreshOrder, h.adminAuth)
		g.POST("/admin/orders/:ref/link", h.linkOrder, h.adminAuth)
	}
	if h.subs != nil {
		// Subscriptions: the shopper's page behind a signed link, and the
		// operator's pages.
		g.Match(getHead, "/subscription/:id", h.subscriptionPage)
		g.POST("/subscription/:id/cancel", h.cancelSubscription)
		g.Match(getHead, "/admin/subscriptions", h.adminSubscriptions, h.adminAuth)
		g.Match(getHead, "/admin/subscriptions/:id", h.adminSubscription, h.adminAuth)
		g.POST("/admin/subscriptions/:id/:action", h.adminSubscriptionAction, h.adminAuth)
	}
	// Whatever no route takes: 404, or 405 and OPTIONS for a known path.
	// With the session (for the page's cart) but before any CSRF check,
	// which would turn a wrong method into 403.
	e.RouteNotFound("/*", h.unrouted, h.withShopper)
}

func (h *Handler) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.db.CheckWrite(ctx); err != nil {
		h.log.ErrorContext(ctx, "readiness check failed", "error", err)
		return c.String(http.StatusServiceUnavailable, "database refuses writes")
	}
	return c.String(http.StatusOK, "ready")
}

func (h *Handler) defaultMarket() (shop.Market, string) {
	return h.markets.def, h.markets.def.Locale()
}

// requestLog logs one line per request with its id. It logs the path only:
// query strings carry callback secrets.
func (h *Handler) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		r := c.Request()
		ctx := logging.WithRequestID(r.Context(), c.Response().Header().Get(echo.HeaderXRequestID))
		c.SetRequest(r.WithContext(ctx))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		if strings.HasPrefix(r.URL.Path, routeStatic+"/") || r.URL.Path == "/healthz" {
			return nil
		}
		path := r.URL.Path
		if strings.HasPrefix(path, SimulatorPath+"/") {
			// The simulator's paths carry authorization tokens, as Klarna's do.
			path = SimulatorPath + "/…"
		}
		h.log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", path), slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)))
		return nil
	}
}

// securityHeaders sets the Content-Security-Policy and the usual hardening
// headers. Scripts run only from the shop's own origin (every script is a
// file under /static or the simulator's widget; none is inline, and inline
// scripts are refused) plus the hosts Klarna's widget loads from in Klarna
// modes; see docs/SECURITY.md for where each host comes from. There is no
// per-response nonce: the catalog and product pages of a visitor without a
// session must be byte-identical for everyone, so that caches can keep them.
// The policy is made once: Echo applies its middleware to every request
// anew, so what the outer function does is done per request.
func (h *Handler) securityHeaders() echo.MiddlewareFunc {
	k := h.cfg.KlarnaHosts
	join := func(extra []string) string {
		if len(extra) == 0 {
			return ""
		}
		return " " + strings.Join(extra, " ")
	}
	rest := "; style-src 'self'" + join(k.Style) +
		"; img-src 'self' data:" + join(k.Img) +
		"; font-src 'self'" + join(k.Font) +
		"; connect-src 'self'" + join(k.Connect) +
		"; frame-src 'self'" + join(k.Frame)
	policy := "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'" +
		"; script-src 'self'" + join(k.Script) + rest
	// The values are the same for every response: each is one shared,
	// full slice (an Add elsewhere copies it), instead of Header.Set's new
	// slice per header per response.
	fixed := map[string][]string{
		"Content-Security-Policy": {policy},
		"X-Content-Type-Options":  {"nosniff"},
		"Referrer-Policy":         {"strict-origin-when-cross-origin"},
		"X-Frame-Options":         {"DENY"},
		"Permissions-Policy":      {"camera=(), microphone=(), geolocation=(), payment=(self)"},
	}
	if h.cfg.Secure {
		fixed["Strict-Transport-Security"] = []string{"max-age=31536000; includeSubDomains"}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			hd := c.Response().Header()
			for k, v := range fixed {
				hd[k] = v[:1:1]
			}
			return next(c)
		}
	}
}

// KlarnaCSP is what Klarna's widget needs in playground or production,
// from Klarna's "Browser security configuration for the Klarna web SDK".
func KlarnaCSP(playground bool) CSPHosts {
	script := []string{"https://x.klarnacdn.net", "https://js.klarna.com"}
	if playground {
		script = append(script, "https://js.playground.klarna.com")
	}
	return CSPHosts{
		Script:  script,
		Style:   []string{"'unsafe-inline'", "https://x.klarnacdn.net"},
		Font:    []string{"https://x.klarnacdn.net"},
		Connect: []string{"https://*.klarna.com", "https://*.klarnaevt.com", "https://x.klarnacdn.net"},
		Frame:   []string{"https://*.klarna.com", "https://x.klarnacdn.net"},
		Img:     []string{"https://x.klarnacdn.net", "https://*.klarna.com"},
	}
}

// SimulatorCSP is what a standalone simulator's widget needs, from its
// origin: the script, its stylesheet, its badges and its calls. It draws no
// frames and loads no fonts.
func SimulatorCSP(origin string) CSPHosts {
	o := []string{origin}
	return CSPHosts{Script: o, Style: o, Img: o, Connect: o}
}

// rateLimit allows each client (an IPv4 address or an IPv6 /64, see
// clientKey) r requests a second with a burst, and answers 429 with a
// friendly page beyond that.
func (h *Handler) rateLimit(r float64, burst int) echo.MiddlewareFunc {
	if h.cfg.NoRateLimits {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(r), Burst: burst, ExpiresIn: 5 * time.Minute,
	})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return clientKey(c.RealIP()), nil },
		ErrorHandler: func(c echo.Context, err error) error {
			return echo.NewHTTPError(http.StatusForbidden, "error.no_client")
		},
		DenyHandler: func(c echo.Context, id string, err error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests, "error.rate_limited")
		},
	})
}
