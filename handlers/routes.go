package handlers

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"storefront/internal/logging"
	"storefront/shop"
)

// Routes mounts the whole HTTP surface on e. sim, when not nil, is the Klarna
// simulator, mounted under /klarna-sim/. static is the embedded static/
// folder.
func (h *Handler) Routes(e *echo.Echo, static fs.FS, sim http.Handler) {
	e.HTTPErrorHandler = h.ErrorHandler
	// The client's address for rate limits: the connection's, unless the
	// shop runs behind a proxy that sets X-Forwarded-For (a client could
	// otherwise forge the header to dodge the limits).
	e.IPExtractor = echo.ExtractIPDirect()
	if h.cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Use(middleware.RequestID())
	e.Use(h.requestLog)
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit("256K"))
	e.Use(h.securityHeaders)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/readyz", h.ready)
	e.GET("/favicon.ico", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })
	// A crawler has no cart, so /checkout only redirects it to /cart: only
	// the orders area needs keeping out of search engines.
	e.GET("/robots.txt", func(c echo.Context) error {
		return c.String(http.StatusOK, "User-agent: *\nDisallow: /admin\n")
	})
	e.GET("/static/*", echo.WrapHandler(cacheStatic(http.StripPrefix("/static/", http.FileServerFS(static)))))
	if sim != nil {
		e.Any("/klarna-sim/*", echo.WrapHandler(http.StripPrefix("/klarna-sim", sim)))
	}

	// Klarna's server-to-server callbacks: no cookie, no CSRF token; each is
	// authenticated by its checkout's secret.
	// Limits per client protect the shop and the merchant's Klarna quota.
	limits := h.cfg.Limits.orDefault()
	callbacks := h.rateLimit(limits.Callbacks, limits.Burst*4)
	e.POST("/klarna/authorization", h.authorizationCallback, callbacks)
	e.POST("/klarna/notification", h.notificationCallback, callbacks)

	// The shop: a cookie session for everything, CSRF on every form.
	g := e.Group("", h.withShopper, h.csrf)
	g.GET("/", h.catalogPage)
	g.GET("/products/:id", h.product)
	g.GET("/cart", h.cart)
	g.POST("/cart/add", h.addToCart)
	g.POST("/cart/update", h.updateCart)
	g.POST("/cart/remove", h.removeFromCart)
	g.POST("/cart/discount", h.applyDiscount)
	g.POST("/cart/discount/remove", h.removeDiscount)
	g.POST("/market", h.setMarket)
	g.GET("/checkout", h.checkoutPage, h.rateLimit(limits.Checkout, limits.Burst))
	g.POST("/checkout/place", h.place, h.rateLimit(limits.Place, limits.Burst))
	g.GET("/checkout/status", h.checkoutStatus)
	g.POST("/checkout/review", h.startReview)
	g.GET("/checkout/review", h.reviewPage)
	g.POST("/checkout/review/cancel", h.cancelReview)
	g.GET("/confirmation/:ref", h.confirmation)
	g.GET("/admin", h.admin, h.adminAuth)
	// Order management (orders.go): a page per order; every action is
	// planned, shown for confirmation with a one-time id, then confirmed.
	if h.orders != nil {
		g.GET("/admin/orders/:ref", h.orderPage, h.adminAuth)
		g.POST("/admin/orders/:ref/plan", h.planAction, h.adminAuth)
		g.POST("/admin/orders/:ref/confirm", h.confirmAction, h.adminAuth)
		g.POST("/admin/orders/:ref/retry", h.retryAction, h.adminAuth)
		g.POST("/admin/orders/:ref/refresh", h.refreshOrder, h.adminAuth)
		g.POST("/admin/orders/:ref/link", h.linkOrder, h.adminAuth)
	}
	g.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
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

func defaultMarket() (shop.Market, string) {
	m, _ := shop.LookupMarket(shop.DefaultMarket)
	return m, m.Locale()
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
		if strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/healthz" {
			return nil
		}
		path := r.URL.Path
		if strings.HasPrefix(path, "/klarna-sim/") {
			// The simulator's paths carry authorization tokens, as Klarna's do.
			path = "/klarna-sim/…"
		}
		h.log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", path), slog.Int("status", c.Response().Status),
			slog.Duration("duration", time.Since(start)))
		return nil
	}
}

// cacheStatic lets browsers keep static files for a day.
func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the Content-Security-Policy and the usual hardening
// headers. Scripts run only with this response's nonce (templ adds it to our
// script tags), plus the hosts Klarna's widget loads from in Klarna modes;
// see docs/SECURITY.md for where each host comes from.
func (h *Handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
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
	return func(c echo.Context) error {
		nonce := randomToken()[:32]
		r := c.Request()
		c.SetRequest(r.WithContext(templ.WithNonce(r.Context(), nonce)))
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'"+
			"; script-src 'nonce-"+nonce+"'"+join(k.Script)+rest)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(self)")
		if h.cfg.Secure {
			hd.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
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

// rateLimit allows each client (by IP) r requests a second with a burst,
// and answers 429 with a friendly page beyond that.
func (h *Handler) rateLimit(r float64, burst int) echo.MiddlewareFunc {
	if h.cfg.NoRateLimits {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(r), Burst: burst, ExpiresIn: 5 * time.Minute,
	})
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		ErrorHandler: func(c echo.Context, err error) error {
			return echo.NewHTTPError(http.StatusForbidden, "We could not tell who you are.")
		},
		DenyHandler: func(c echo.Context, id string, err error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests, "You are going a little fast. Please wait a few seconds and try again; your cart is safe.")
		},
	})
}
