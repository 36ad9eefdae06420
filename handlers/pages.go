package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/internal/etag"
	"github.com/fikaandform/storefront/views"
)

// buffers are reused across requests: a page is rendered whole into one
// before it is sent, and pooling them halves the allocations of a page view.
var buffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 16<<10)) }}

// getBuffer is an empty buffer from the pool; putBuffer gives it back.
func getBuffer() *bytes.Buffer {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

// putBuffer returns a buffer to the pool, unless it grew past 256 KB: that
// one is left to the collector rather than kept.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 256<<10 {
		buffers.Put(buf)
	}
}

// render writes a component after rendering it fully into memory, so a
// template failure becomes an error page rather than half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return writeHTML(c, status, buf.Bytes())
}

// writeHTML sends a whole page. Its length goes in the header: without it
// net/http sends any body over 2 KB chunked, and a checkout page took three
// socket writes (the last one the chunked end alone) instead of two.
func writeHTML(c echo.Context, status int, page []byte) error {
	hd := c.Response().Header()
	hd[echo.HeaderContentLength] = []string{strconv.Itoa(len(page))}
	// Set here, Echo leaves it (it sets a type only where there is none)
	// and the value is shared.
	setFixed(hd, echo.HeaderContentType, htmlContentType)
	return c.HTMLBlob(status, page)
}

// renderPublic serves a catalog or product page, which depends on the
// shopper only through a few things: their market and language, whether
// they chose the market (the suggestion banner), their cart's count, a
// flash message and their CSRF token. variant is what the page reads from
// the query string ("category=mugs"), as it reads it; build makes the
// page, and is called only when the page is not kept already.
//
// A visitor without a session gets a page that is the same for everyone:
// browsers and shared caches may keep it for a minute and revalidate it
// with its ETag (a 304 carries no body). A shopper with a session gets a
// private page, kept here with a placeholder where their CSRF token goes
// and sent with their token put in: most of a page's cost was rendering
// the same layout for every shopper with the same market, language and
// cart count. A page with a flash message is rendered for its shopper
// alone.
func (h *Handler) renderPublic(c echo.Context, s *shopper, variant string, build func() (templ.Component, error)) error {
	r := c.Request()
	hd := c.Response().Header()
	if !s.MarketChosen {
		// The market suggestion follows the browser's languages.
		addVary(hd, "Accept-Language")
	}
	if s.hasSession() {
		setFixed(hd, "Cache-Control", privateValue)
		if s.flash != "" || !isToken(s.CSRF) {
			comp, err := build()
			if err != nil {
				return err
			}
			return render(c, http.StatusOK, comp)
		}
		return h.renderShopperPage(c, s, variant, build)
	}
	// A visitor's page depends on what a shopper's does (keptKey), with
	// the default market and language and an empty cart.
	key := h.keptKey("anon", r, s, variant)
	page, ok := h.public.get(key)
	if !ok {
		body, err := renderToKeep(r.Context(), build)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		page = keptPage{parts: [][]byte{body}, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		h.public.put(key, page)
	}
	setFixed(hd, "Cache-Control", publicValue)
	hd.Set("ETag", page.etag)
	// A cookie means a session, whose pages differ: caches must key on it.
	hd.Add("Vary", "Cookie")
	if etag.Match(r.Header.Get("If-None-Match"), page.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return writeHTML(c, http.StatusOK, page.parts[0])
}

// csrfPlaceholder stands for the shopper's CSRF token in a kept page. It
// is the length of a token and, like a token, needs no HTML escaping.
var csrfPlaceholder = strings.Repeat("x", 64)

// renderShopperPage serves a page kept for every shopper with the same
// market, language, suggestion and cart count, with this shopper's token.
func (h *Handler) renderShopperPage(c echo.Context, s *shopper, variant string, build func() (templ.Component, error)) error {
	r := c.Request()
	key := h.keptKey("shopper", r, s, variant)
	page, ok := h.public.get(key)
	if !ok {
		token := s.CSRF
		s.CSRF = csrfPlaceholder
		body, err := renderToKeep(r.Context(), build)
		s.CSRF = token
		if err != nil {
			return err
		}
		page = keptPage{parts: bytes.Split(body, []byte(csrfPlaceholder))}
		h.public.put(key, page)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	writeParts(buf, page.parts, s.CSRF)
	return writeHTML(c, http.StatusOK, buf.Bytes())
}

// keptKey is what a kept page or layout depends on besides the catalog:
// the host (the simulator's links follow it), the path and variant, what
// the page reads of the query string, the shopper's market, language and
// cart count, and, until they chose a market, the locale their browser's
// languages match (the market suggestion). Each part is one of a few
// values the shop knows, so that made-up query strings or headers cannot
// fill the cache and push out the shoppers' pages.
func (h *Handler) keptKey(kind string, r *http.Request, s *shopper, variant string) string {
	var suggest string
	if !s.MarketChosen {
		suggest = h.matcher.Match(r.Header.Get("Accept-Language"))
	}
	host := h.hosts.canonical(r.Host)
	var k strings.Builder
	k.Grow(len(kind) + len(host) + len(r.URL.Path) + len(variant) + len(s.Market.Code) + len(s.Locale) + len(suggest) + 32)
	k.WriteString(kind)
	k.WriteByte(' ')
	k.WriteString(host)
	k.WriteByte(' ')
	k.WriteString(r.URL.Path)
	k.WriteByte('?')
	k.WriteString(variant)
	k.WriteByte(' ')
	k.WriteString(s.Market.Code)
	k.WriteByte(' ')
	k.WriteString(s.Locale)
	k.WriteByte(' ')
	k.WriteString(strconv.Itoa(s.Cart.Count()))
	if !s.MarketChosen {
		k.WriteString(" suggest ")
		k.WriteString(suggest)
	}
	return k.String()
}

// writeParts writes a kept page's parts with the shopper's token between
// them.
func writeParts(buf *bytes.Buffer, parts [][]byte, token string) {
	for i, part := range parts {
		if i > 0 {
			buf.WriteString(token)
		}
		buf.Write(part)
	}
}

// contentPlaceholder marks where a kept layout's content goes; nothing the
// templates write contains a NUL.
const contentPlaceholder = "\x00content\x00"

// renderInKeptLayout sends a page whose content is the shopper's own (the
// cart's lines and totals) inside the layout every page has (head, header,
// market switcher, footer), which depends on the shopper only as the pages
// renderShopperPage keeps do. The layout is rendered once per such
// shopper and kept with placeholders for the token and the content; for
// each request only the content is rendered. The layout was more than half
// of the cart page's cost (BenchmarkPages). whole is the page rendered in
// one piece, for a shopper whose page is not kept (no session, a flash
// message) and for a layout that could not be split.
func (h *Handler) renderInKeptLayout(c echo.Context, s *shopper, status int, base views.Base, content, whole templ.Component) error {
	if !s.hasSession() || s.flash != "" || !isToken(s.CSRF) || base.CSRF != s.CSRF || base.Flash != "" {
		return render(c, status, whole)
	}
	r := c.Request()
	// Besides what keptKey holds, what the page's handler put in the
	// layout: its title, description, scripts and styles, and whether it
	// shows on-site messaging. The rest (the market switcher's entries,
	// the mode) follows from the key.
	// The layout reads nothing of the query string.
	key := h.keptKey("layout", r, s, "") + "\x00" + base.Title + "\x00" + base.Description + "\x00" +
		strings.Join(base.Scripts, " ") + "\x00" + strings.Join(base.Styles, " ")
	if base.Messaging != nil {
		key += "\x00messaging"
	}
	page, ok := h.public.get(key)
	if !ok {
		shell := base
		shell.CSRF = csrfPlaceholder
		marker := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			_, err := io.WriteString(w, contentPlaceholder)
			return err
		})
		var b bytes.Buffer
		if err := views.Layout(shell).Render(templ.WithChildren(r.Context(), marker), &b); err != nil {
			return err
		}
		before, after, found := bytes.Cut(b.Bytes(), []byte(contentPlaceholder))
		if !found || bytes.Contains(after, []byte(contentPlaceholder)) {
			return render(c, status, whole)
		}
		parts := bytes.Split(before, []byte(csrfPlaceholder))
		page = keptPage{parts: append(parts, bytes.Split(after, []byte(csrfPlaceholder))...), contentAt: len(parts)}
		h.public.put(key, page)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	writeParts(buf, page.parts[:page.contentAt], s.CSRF)
	if err := content.Render(r.Context(), buf); err != nil {
		return err
	}
	writeParts(buf, page.parts[page.contentAt:], s.CSRF)
	return writeHTML(c, status, buf.Bytes())
}

// renderToKeep builds a page and renders it into bytes of its own (not a
// pooled buffer): they are kept.
func renderToKeep(ctx context.Context, build func() (templ.Component, error)) ([]byte, error) {
	comp, err := build()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// isToken reports a CSRF token as the shop makes them (randomToken): hex,
// so that it can go into a kept page without escaping.
func isToken(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// keptPage is a page as rendered once: its bytes, split where a shopper's
// CSRF token goes (one part for an anonymous page), and its ETag.
type keptPage struct {
	parts [][]byte
	etag  string
	// contentAt is, for a kept layout, where the content goes: between
	// parts[contentAt-1] and parts[contentAt].
	contentAt int
}

// publicPages keeps rendered pages by what they depend on, in two
// generations of at most maxPublicPages each (generations): the pages
// shoppers keep asking for stay kept whatever else is asked for (a
// shopper who changes their cart again and again makes a page for each
// count), and memory stays bounded. A key longer than maxKeptKey is not
// kept: its page is rendered each time.
type publicPages struct {
	kept generations[keptPage]
}

const maxKeptKey = 1024

const maxPublicPages = 1024

func (p *publicPages) get(key string) (keptPage, bool) {
	v, previous, ok := p.kept.lookup(key)
	if previous {
		p.put(key, v) // back to the current generation
	}
	return v, ok
}

func (p *publicPages) put(key string, v keptPage) {
	if len(key) > maxKeptKey {
		return
	}
	p.kept.put(key, v, maxPublicPages)
}

// len is how many pages the current generation holds, for tests.
func (p *publicPages) len() int {
	current, _ := p.kept.sizes()
	return current
}

// addVary adds a header name to Vary once.
func addVary(hd http.Header, name string) {
	for _, v := range hd.Values(echo.HeaderVary) {
		if strings.EqualFold(v, name) {
			return
		}
	}
	hd.Add(echo.HeaderVary, name)
}
