// Package handlers is the shop's HTTP layer: Echo handlers that parse
// requests, call shop and checkout, and render views. routes.go shows the
// whole surface.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"storefront/checkout"
	"storefront/shop"
	"storefront/store"
	"storefront/views"
)

// Checkout is what the handlers need from the checkout service.
type Checkout interface {
	Begin(ctx context.Context, existingID string, cart shop.Cart, m shop.Market, locale string) (*store.Checkout, *shop.Priced, error)
	Place(ctx context.Context, sessionID, token string, src checkout.Source, cartHash string) (*store.Checkout, error)
	PlaceInBackground(ctx context.Context, sessionID, token string)
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
	BaseURL       string
	Mode          string // "Klarna simulator", "Klarna playground", "Klarna production"
	ModeDetail    string
	Simulator     bool
	InspectorURL  string // simulator inspector, when mounted
	WidgetScript  string // Klarna's api.js or the simulator's
	KlarnaHosts   CSPHosts
	AdminPassword string
	Secure        bool // public URL is https
	SessionKeys   [][]byte
	Limits        Limits
	TrustProxy    bool // take the client IP from X-Forwarded-For
	NoRateLimits  bool // RATE_LIMITS=off
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
	cfg      Config
	checkout Checkout
	db       Readiness
	catalog  *shop.Catalog
	sessions *sessions.CookieStore
	log      *slog.Logger
	grids    sync.Map // gridKey -> rendered product grid
	// orders is order management (orders.go); nil leaves it out.
	orders Orders
}

// New builds the handlers.
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
	h := &Handler{cfg: cfg, checkout: co, db: db, catalog: cat, sessions: cs, log: log}
	for _, o := range opts {
		o(h)
	}
	return h
}

// base fills the layout's view model.
func (h *Handler) base(c echo.Context, s *shopper, title string) views.Base {
	b := views.Base{
		Title: title, Lang: strings.SplitN(s.Locale, "-", 2)[0], Path: c.Request().URL.Path,
		Market: s.Market.Code, CartCount: s.Cart.Count(), CSRF: s.CSRF, Flash: s.takeFlash(),
		Mode: h.cfg.Mode, ModeDetail: h.cfg.ModeDetail, Simulator: h.cfg.Simulator, InspectURL: h.cfg.InspectorURL,
	}
	b.MarketOptions = marketOptions[s.Market.Code]
	return b
}

func (h *Handler) money(minor int64, s *shopper) string {
	return shop.FormatMoney(minor, s.Market.Currency, s.Locale)
}

// marketOptions is the market switcher's rendered option list for each
// selected market, built once: every page shows it.
var marketOptions = func() map[string]string {
	out := map[string]string{}
	all := shop.Markets()
	for _, selected := range all {
		var opts []views.MarketOption
		for _, m := range all {
			opts = append(opts, views.MarketOption{Code: m.Code, Label: m.Name + " · " + m.Currency, Selected: m.Code == selected.Code})
		}
		html, err := views.Render(context.Background(), views.MarketOptions(opts))
		if err != nil {
			panic("rendering the market switcher: " + err.Error())
		}
		out[selected.Code] = string(html)
	}
	return out
}()
