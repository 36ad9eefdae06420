package simulator

import (
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The simulator refuses to be turned against its own network: it calls back
// and redirects only to allowed origins (Config.AllowedOrigins), and its
// control endpoints take only same-origin JSON requests, so that a page on
// another site cannot reset it, inject faults, move its clock or decide
// orders.

// origin is one entry of an allow-list: a scheme, a host and a port, where
// port "*" is any port.
type origin struct{ scheme, host, port string }

// origins is an allow-list of callback and redirect targets.
type origins struct {
	any     bool
	entries []origin
}

// loopbackOrigins is the default allow-list: this machine, any port.
var loopbackOrigins = []string{
	"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*",
	"https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*",
}

// parseOrigins reads an allow-list: "*" (anything, for tests), or origins
// such as "https://shop.example", "http://127.0.0.1:8080" and
// "http://localhost:*".
func parseOrigins(list []string) (origins, error) {
	if len(list) == 0 {
		list = loopbackOrigins
	}
	var out origins
	for _, raw := range list {
		raw = strings.TrimSpace(raw)
		if raw == "*" {
			out.any = true
			continue
		}
		anyPort := strings.HasSuffix(raw, ":*")
		u, err := url.Parse(strings.TrimSuffix(raw, ":*"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return origins{}, fmt.Errorf("simulator: allowed origin %q: want scheme://host[:port], scheme://host:* or *", raw)
		}
		o := origin{scheme: u.Scheme, host: strings.ToLower(u.Hostname()), port: portOf(u)}
		if ip := net.ParseIP(o.host); ip != nil {
			o.host = ip.String()
		}
		if anyPort {
			o.port = "*"
		}
		out.entries = append(out.entries, o)
	}
	return out, nil
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// allows reports whether a merchant URL (placeholders allowed) points to an
// allowed origin.
func (l origins) allows(raw string) bool {
	if l.any {
		return true
	}
	u, err := url.Parse(placeholdersAsX.Replace(raw))
	if err != nil || u.User != nil {
		return false
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), portOf(u)
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String() // one spelling per address: ::1, not 0:0::1
	}
	for _, o := range l.entries {
		if o.scheme == scheme && o.host == host && (o.port == "*" || o.port == port) {
			return true
		}
	}
	return false
}

// checkMerchantURLs refuses, before the operation runs, a request whose
// merchant_urls leave the allow-list: 400 BAD_VALUE naming each field, as
// Klarna names a bad value. Otherwise the simulator would POST callbacks to,
// and redirect shoppers to, wherever a caller asked.
func (s *Simulator) checkMerchantURLs(fn opFunc) opFunc {
	return func(r *http.Request, body []byte) result {
		var d struct {
			MerchantURLs *wireURLs `json:"merchant_urls"`
		}
		if json.Unmarshal(body, &d) != nil {
			return fn(r, body) // the operation reports malformed bodies
		}
		if res := s.foreignMerchantURLs(d.MerchantURLs); res != nil {
			return *res
		}
		return fn(r, body)
	}
}

// foreignMerchantURLs refuses merchant URLs outside the allowed origins
// (nil: none, or all allowed). The operations that decode the whole body
// anyway call it themselves, after decoding: parsing a body once for each
// check was most of the simulator's cost per request.
func (s *Simulator) foreignMerchantURLs(u *wireURLs) *result {
	if u == nil {
		return nil
	}
	var p problems
	for _, f := range []struct{ name, v string }{
		{"confirmation", u.Confirmation}, {"notification", u.Notification}, {"push", u.Push}, {"authorization", u.Authorization},
	} {
		if f.v != "" && !s.origins.allows(f.v) {
			p.bad("merchant_urls." + f.name)
		}
	}
	if len(p) == 0 {
		return nil
	}
	res := badValue(p)
	res.err.ErrorMessages = append(res.err.ErrorMessages, "Simulator: merchant URLs must point to an allowed origin (Config.AllowedOrigins, klarna-sim -allow-origins)")
	return &res
}

// checkRedirect refuses to forward a shopper to a confirmation URL outside
// the allow-list (a session made before the list changed, or a bug).
func (s *Simulator) checkRedirect(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		target := ""
		if o := s.orders[r.PathValue("order")]; o != nil {
			target = o.Confirmation
		}
		s.mu.Unlock()
		if target != "" && !s.origins.allows(target) {
			http.Error(w, "The merchant's confirmation URL is not on the simulator's allow-list.", http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

// control guards a control endpoint: the request must be same-origin (by
// Sec-Fetch-Site, or Origin against Host; a client that sends neither, such
// as curl, passes) and, unless it is a DELETE, carry JSON, which a
// cross-site form cannot send.
func (s *Simulator) control(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.crossOrigin.Check(r); err != nil {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodDelete {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				http.Error(w, "want Content-Type: application/json", http.StatusUnsupportedMediaType)
				return
			}
		}
		next(w, r)
	}
}
