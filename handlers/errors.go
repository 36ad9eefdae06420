package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/views"
)

// buffers are reused across requests: a page is rendered whole into one
// before it is sent, and pooling them halves the allocations of a page view.
var buffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 16<<10)) }}

// render writes a component after rendering it fully into memory, so a
// template failure becomes an error page rather than half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 256<<10 {
			buffers.Put(buf)
		}
	}()
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderPublic renders a page that is the same for every visitor without a
// session (the catalog and product pages): it may be kept by browsers and
// shared caches for a minute, and revalidated with its ETag (a 304 carries
// no body). Its bytes are kept too (see publicPages), so that the next
// visitor asking for the same page is not rendered for again. A shopper
// with a session gets the page as usual.
func (h *Handler) renderPublic(c echo.Context, s *shopper, comp templ.Component) error {
	if s.hasSession() {
		c.Response().Header().Set("Cache-Control", "private, no-cache")
		return render(c, http.StatusOK, comp)
	}
	r := c.Request()
	// Everything an anonymous page depends on besides the catalog, which
	// does not change while the process runs: the host it is shown on (the
	// simulator's links follow it), the address, and the browser's
	// languages (the market suggestion).
	key := r.Host + " " + r.URL.RequestURI() + " " + r.Header.Get("Accept-Language")
	page, ok := h.public.get(key)
	if !ok {
		var buf bytes.Buffer
		if err := comp.Render(r.Context(), &buf); err != nil {
			return err
		}
		sum := sha256.Sum256(buf.Bytes())
		page = publicPage{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		h.public.put(key, page)
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "public, max-age=60")
	hd.Set("ETag", page.etag)
	// A cookie means a session, whose pages differ: caches must key on it.
	hd.Add("Vary", "Cookie")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, page.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.HTMLBlob(http.StatusOK, page.body)
}

// publicPage is an anonymous page as rendered once.
type publicPage struct {
	body []byte
	etag string
}

// publicPages keeps rendered anonymous pages by what they depend on. It
// holds at most maxPublicPages: past that it starts afresh, so that made-up
// addresses or Accept-Language values cannot grow it without bound.
type publicPages struct {
	mu    sync.RWMutex
	pages map[string]publicPage
}

const maxPublicPages = 512

func (p *publicPages) get(key string) (publicPage, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.pages[key]
	return v, ok
}

func (p *publicPages) put(key string, v publicPage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pages == nil || len(p.pages) >= maxPublicPages {
		p.pages = make(map[string]publicPage)
	}
	p.pages[key] = v
}

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
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
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
