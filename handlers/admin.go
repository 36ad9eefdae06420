package handlers

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/views"
)

// adminAuth protects the orders area with HTTP Basic (user "admin",
// ADMIN_PASSWORD). Without a password it is open, which config only allows
// with the simulator; the page says so.
//
// The credentials are compared as SHA-256 digests in constant time, so
// neither the password nor its length shows in the timing. Failed attempts
// are limited per client and for the whole shop (loginGuard): each waits a
// little before its 401, and beyond the limit every attempt, right or
// wrong, gets 429 with Retry-After. Each failure is logged as a security
// event, without what was typed.
func (h *Handler) adminAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h.cfg.AdminPassword == "" {
			return next(c)
		}
		r := c.Request()
		ctx := r.Context()
		client := clientKey(c.RealIP())
		if wait := h.logins.retryAfter(client, time.Now()); wait > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			h.log.WarnContext(ctx, "security event", "event", "admin_login_throttled", "client", client)
			return echo.NewHTTPError(http.StatusTooManyRequests, "Too many wrong passwords. Please wait a while before trying again.")
		}
		u, p, ok := r.BasicAuth()
		user, pass := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
		if ok && subtle.ConstantTimeCompare(user[:], adminUser[:])&subtle.ConstantTimeCompare(pass[:], h.adminPassword[:]) == 1 {
			return next(c)
		}
		if ok {
			// A browser first asks without credentials: only a wrong
			// answer counts as a failure.
			h.logins.failed(client, time.Now())
			h.log.WarnContext(ctx, "security event", "event", "admin_login_failed", "client", client)
			t := time.NewTimer(h.logins.delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="Fika & Form orders", charset="UTF-8"`)
		return echo.NewHTTPError(http.StatusUnauthorized, "The orders area needs the admin password.")
	}
}

var adminUser = sha256.Sum256([]byte("admin"))

func (h *Handler) admin(c echo.Context) error {
	s := shopperOf(c)
	orders, err := h.checkout.Orders(c.Request().Context(), 200)
	if err != nil {
		return err
	}
	p := views.AdminPage{Base: h.base(c, s, "Orders"), OpenWarning: h.cfg.AdminPassword == "", Attention: h.attention(c), KlarnaAttention: h.klarnaAttention()}
	p.Styles = []string{ordersCSS}
	for _, o := range orders {
		row := views.AdminOrder{Ref: o.ID, State: string(o.State), Market: o.Market, KlarnaOrderID: o.KlarnaOrderID, FraudStatus: o.FraudStatus,
			PaymentMethod: paymentMethodLabel(o.PaymentMethod, s.loc), LastError: o.LastError, CorrelationID: o.CorrelationID, Hold: o.Hold,
			Amount: shop.FormatMoney(o.Amount, o.Currency, o.Locale), SessionPayload: pretty(checkout.RedactSecret(o.SessionPayload, o.CallbackSecret)), OrderPayload: pretty(checkout.RedactSecret(o.OrderPayload, o.CallbackSecret))}
		if o.PlacedAt != nil {
			row.PlacedAt = o.PlacedAt.Format("2006-01-02 15:04:05")
		}
		if o.Subscription.Plan != "" {
			name, rhythm := planWords(o.Subscription.Plan)
			row.Subscription = string(o.Subscription.Status) + ": " + name + ", " + rhythm
			if o.Subscription.Next != nil {
				row.Subscription += "; next " + o.Subscription.Next.Format("2006-01-02")
			}
			if o.Subscription.CustomerToken != "" {
				// The token itself is never shown, not even decrypted.
				row.Subscription += "; customer token stored encrypted"
			}
		}
		if o.State == store.StatePendingReview {
			p.Refresh = true
		}
		p.Orders = append(p.Orders, row)
	}
	return render(c, http.StatusOK, views.AdminView(p))
}

// pretty indents a stored payload. The payloads hold no personal data: the
// shop never sends any, and the callback secret is redacted (when stored,
// and again when shown).
func pretty(raw string) string {
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(raw), "", "  ") != nil {
		return raw
	}
	return buf.String()
}
