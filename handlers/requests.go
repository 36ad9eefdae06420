package handlers

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// requestID gives every request an id for the logs and the X-Request-Id
// response header. A client's (or proxy's) id is kept only when it is short
// and made of safe characters; anything else is replaced, so that a client
// cannot fill the logs or inject into them.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		// The response header is where the request log reads it.
		c.Response().Header()[echo.HeaderXRequestID] = []string{id}
		return next(c)
	}
}

// newRequestID makes 128 random bits, as 32 hex digits. An id only has to
// be unique, not secret (it is shown on error pages and sent in headers),
// so it comes from math/rand/v2's generator (ChaCha8, seeded by the
// runtime), which needs no system call, not from crypto/rand, whose read
// was a third of the request id's cost on every page.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	var h [32]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// validRequestID accepts at most 64 characters of [A-Za-z0-9._-].
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

// noStore keeps pages with a shopper's cart, checkout (its client token),
// order or the orders area out of browser and proxy caches, error pages on
// those paths included. The catalog and product pages may be cached.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if private(c.Request().URL.Path) {
			setFixed(c.Response().Header(), "Cache-Control", noStoreValue)
		}
		return next(c)
	}
}

func private(p string) bool {
	for _, prefix := range []string{"/cart", "/checkout", "/admin", "/subscription"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return strings.HasPrefix(p, "/confirmation/")
}

// methods the shop's routes may take, in the order Allow lists them.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// unrouted answers a request no route took: OPTIONS lists the methods the
// path takes (Allow), another method on a known path is 405 with Allow,
// and an unknown path is 404. It runs with the shopper's session, so the
// error page shows their cart as every page does.
func (h *Handler) unrouted(c echo.Context) error {
	r := c.Request()
	var allow []string
	for _, m := range methods {
		ctx := h.echo.NewContext(r, nil)
		h.echo.Router().Find(m, echo.GetPath(r), ctx)
		if p := ctx.Path(); p != "/*" && p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return echo.ErrNotFound
	}
	c.Response().Header().Set(echo.HeaderAllow, strings.Join(append(allow, http.MethodOptions), ", "))
	if r.Method == http.MethodOptions {
		return c.NoContent(http.StatusNoContent)
	}
	return echo.NewHTTPError(http.StatusMethodNotAllowed, "error.method")
}

// Header values every response of a kind carries. setFixed shares them
// instead of allocating a slice per response, as Header.Set would.
var (
	noStoreValue    = []string{"no-store"}
	privateValue    = []string{"private, no-cache"}
	publicValue     = []string{"public, max-age=60"}
	htmlContentType = []string{echo.MIMETextHTMLCharsetUTF8}
)

// setFixed sets the canonical header key to a shared value. The value is
// handed out as a full slice, so that an Add to the header copies it
// instead of appending into the shared array.
func setFixed(hd http.Header, key string, v []string) {
	hd[key] = v[:1:1]
}
