// Package handlers is the shop's HTTP layer: Echo handlers that parse
// requests, call shop and checkout, and render views. routes.go shows the
// whole surface; urls.go is the one place that builds the shop's URLs for
// others (the addresses Klarna is given, the links of order lines).
package handlers

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/i18n"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/views"
)

// Checkout is what the handlers need from the checkout service.
type Checkout interface {
	BeginFor(ctx context.Context, sh checkout.Shopper, cart shop.Cart, m shop.Market, locale string) (*store.Checkout, *shop.Priced, error)
	// PlaceCheckout places the order for a checkout already read, which
	// spares the hot path a second read of the same row.
	PlaceCheckout(ctx context.Context, c *store.Checkout, token string, src checkout.Source, cartHash string) (*store.Checkout, error)
	PlaceInBackground(ctx context.Context, c *store.Checkout, token string) error
	// PlacedHere names the Klarna session of an order this process
	// recorded lately, if secret is its callback secret.
	PlacedHere(ref, secret string) (sessionID string, ok bool)
	Checkout(ctx context.Context, ref string) (*store.Checkout, error)
	Orders(ctx context.Context, limit int) ([]*store.Checkout, error)
	Notify(ctx context.Context, ref, orderID, eventType string) (*store.Checkout, error)
	// Nudge asks recovery to look at unfinished placements soon.
	Nudge()
}

// Readiness reports whether the database accepts writes, for /readyz: a
// shop that can read but not write cannot take orders.
type Readiness interface {
	CheckWrite(ctx context.Context) error
}

// Config is what the handlers are told about their surroundings.
type Config struct {
	BaseURL      string
	Mode         string // "Klarna simulator", "Klarna playground", "Klarna production"
	ModeDetail   string
	Simulator    bool
	InspectorURL string // simulator inspector, when mounted
	// WidgetScript is Klarna's api.js, a standalone simulator's, or the
	// built-in simulator's as a path (the browser loads it from the origin
	// it is on).
	WidgetScript string
	// SimulatorBase is the built-in simulator's URL through BASE_URL
	// ("http://localhost:8080/klarna-sim"); empty without it. Its URLs in
	// Klarna's answers are served to the browser on the browser's origin.
	SimulatorBase string
	KlarnaHosts   CSPHosts
	// OSM is Klarna's on-site messaging library; its zero value shows no
	// placements.
	OSM           OSM
	AdminPassword string
	Secure        bool // public URL is https
	SessionKeys   [][]byte
	// RequestMetrics, when set, observes every request (see package
	// metrics).
	RequestMetrics echo.MiddlewareFunc
	// LinkKeys sign the subscription links shown to shoppers (see
	// LinkKeys); the first signs, all verify.
	LinkKeys     [][]byte
	Limits       Limits
	TrustProxy   bool // take the client IP from X-Forwarded-For
	NoRateLimits bool // RATE_LIMITS=off
	// LoginLimits bound failed logins to the orders area; they apply even
	// with RATE_LIMITS=off.
	LoginLimits LoginLimits
	// AllowedHosts are Host values ("host:port") the shop answers to
	// besides BASE_URL's host (and, with the simulator, the loopback names
	// on BASE_URL's port): main adds the loopback names on the listening
	// port, and an explicit listening address. Other hosts get 421.
	AllowedHosts []string
	// Markets are the codes of the markets offered: those whose Klarna
	// region has an account. Empty offers every market.
	Markets []string
	// MarketNotes say why other markets are not offered, for the orders
	// area.
	MarketNotes []string
	// MarketDetail is the footer's payments detail for each market (its
	// Klarna region and API host); ModeDetail when absent.
	MarketDetail map[string]string
}

// CSPHosts are the extra origins the Klarna widget needs.
type CSPHosts struct {
	Script, Frame, Connect, Img, Style, Font []string
}

// Limits are requests per second per client on the routes that cost a
// Klarna call. Zero values take the defaults.
type Limits struct {
	Checkout  float64 // checkout page: may create a Klarna session
	Place     float64 // order placement
	Callbacks float64 // Klarna's callbacks, per Klarna IP
	Burst     int
}

func (l Limits) orDefault() Limits {
	if l.Checkout == 0 {
		l.Checkout = 1
	}
	if l.Place == 0 {
		l.Place = 2
	}
	if l.Callbacks == 0 {
		l.Callbacks = 20
	}
	if l.Burst == 0 {
		l.Burst = 10
	}
	return l
}

// Handler holds the handlers' dependencies.
type Handler struct {
	cfg Config
	// public keeps rendered pages (visitors' and shoppers' catalog and
	// product pages) and layouts (the cart's and checkout's), bounded.
	public   publicPages
	checkout Checkout
	subs     Subscriptions
	db       Readiness
	catalog  *shop.Catalog
	sessions *sessions.CookieStore
	decoded  decodedSessions // verified session cookies (session.go)
	log      *slog.Logger
	grids    sync.Map // gridKey -> the catalog's product list (shop.go)
	hosts    hostSet
	// i18n is every language's messages; matcher matches a browser's
	// Accept-Language against the offered markets' locales.
	i18n    *i18n.Catalog
	matcher *i18n.Matcher
	// jsMessages are the ids of the checkout script's messages; jsBlocks
	// their JSON by language (*i18n.Localizer: views.JSONBlock).
	jsMessages []string
	jsBlocks   sync.Map
	// marketLists and languages are the switchers' entries by
	// switcherKey (lang.go).
	marketLists, languages sync.Map
	// categoryLists are the catalog's categories by locale (shop.go).
	categoryLists sync.Map
	markets       markets
	// logins limits failed logins to the orders area; adminPassword is the
	// SHA-256 of ADMIN_PASSWORD.
	logins        *loginGuard
	adminPassword [32]byte
	// crossOrigin refuses cross-site POSTs (Sec-Fetch-Site, Origin).
	crossOrigin *http.CrossOriginProtection
	// echo is the router Routes mounted the shop on, asked which methods a
	// path takes (405, OPTIONS).
	echo *echo.Echo
	// orders is order management (orders.go); nil leaves it out.
	orders Orders
}

// New builds the handlers. Options add the optional parts: order management
// (WithOrders) and subscriptions (WithSubscriptions).
func New(cfg Config, co Checkout, db Readiness, cat *shop.Catalog, log *slog.Logger, opts ...Option) *Handler {
	cs := sessions.NewCookieStore(cfg.SessionKeys...)
	cs.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   30 * 24 * 3600,
		HttpOnly: true,
		Secure:   cfg.Secure,
		// Lax, not Strict: the shopper comes back from Klarna's redirect by a
		// top-level navigation from another site, and must still have a cart.
		SameSite: http.SameSiteLaxMode,
	}
	cs.MaxAge(cs.Options.MaxAge)
	for _, codec := range cs.Codecs {
		if sc, ok := codec.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(flatSerializer{})
		}
	}
	if len(cfg.LinkKeys) == 0 {
		cfg.LinkKeys = [][]byte{cfg.SessionKeys[0]}
	}
	h := &Handler{cfg: cfg, crossOrigin: http.NewCrossOriginProtection(), checkout: co, db: db, catalog: cat, sessions: cs, log: log,
		hosts: allowedHosts(cfg), markets: newMarkets(cfg.Markets), i18n: i18n.MustLoad(),
		logins: newLoginGuard(cfg.LoginLimits), adminPassword: sha256.Sum256([]byte(cfg.AdminPassword))}
	h.matcher = i18n.NewMatcher(offeredLocales(h.markets))
	for _, id := range h.i18n.IDs(i18n.Fallback) {
		if strings.HasPrefix(id, "js.") {
			h.jsMessages = append(h.jsMessages, id)
		}
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// base fills the layout's view model.
func (h *Handler) base(c echo.Context, s *shopper, title string) views.Base {
	b := views.Base{
		Title: title, Lang: s.loc.Lang(), Path: c.Request().URL.Path,
		Market: s.Market.Code, CartCount: s.Cart.Count(), CSRF: s.CSRF, Flash: s.takeFlash(),
		Mode: h.modeName(s), ModeDetail: h.cfg.ModeDetail, Simulator: h.cfg.Simulator, InspectURL: h.cfg.InspectorURL,
		Markets: h.marketOptions(s), Languages: h.languageOptions(s), Suggestion: h.suggestion(c, s),
	}
	if d, ok := h.cfg.MarketDetail[s.Market.Code]; ok {
		b.ModeDetail = d
	}
	return b
}

// modeName names the payment mode in the page's language.
func (h *Handler) modeName(s *shopper) string {
	id := map[string]string{
		"Klarna simulator": "mode.simulator", "Klarna simulator (standalone)": "mode.standalone",
		"Klarna playground": "mode.playground", "Klarna production": "mode.production",
	}[h.cfg.Mode]
	if id == "" {
		return h.cfg.Mode
	}
	return s.loc.T(id)
}

func (h *Handler) money(minor int64, s *shopper) string {
	return shop.FormatMoney(minor, s.Market.Currency, s.Locale)
}
