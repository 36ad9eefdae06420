package handlers

import (
	"crypto/rand"
	"encoding/hex"
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
			var b [16]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		// The response header is where the request log reads it.
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
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
			c.Response().Header().Set("Cache-Control", "no-store")
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
