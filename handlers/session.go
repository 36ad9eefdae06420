package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/i18n"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/views"
)

const (
	sessionName = "fika"
	shopperKey  = "shopper"
	maxOrders   = 10 // order references remembered per browser
)

// SessionKeys derives gorilla's authentication and encryption key pairs
// from the configured secrets: the first secret signs new cookies, all of
// them verify (rotation).
func SessionKeys(secrets []string) [][]byte {
	var keys [][]byte
	for _, s := range secrets {
		auth := sha256.Sum256([]byte("session-auth:" + s))
		enc := sha256.Sum256([]byte("session-enc:" + s))
		keys = append(keys, auth[:], enc[:])
	}
	return keys
}

// shopper is the state kept in the cookie session: the cart, the market,
// the current checkout and the orders this browser may look at.
type shopper struct {
	Cart   shop.Cart
	Market shop.Market
	// MarketChosen is true once the shopper picked a market (the cookie
	// names one); until then the page may suggest one (lang.go).
	MarketChosen bool
	// Lang is the language the shopper chose, "" for the market's own;
	// Locale is what they see: the market's locale in that language.
	Lang       string
	Locale     string
	CheckoutID string
	// Review is the payment category awaiting Klarna.Payments.finalize on
	// the review page, if any.
	Review string
	CSRF   string
	// BrowserID names this browser's session (random): a cookie sent
	// again without the checkout's reference still finds its checkout.
	BrowserID string
	// CartSince is when the cart got its first item (Unix seconds; 0 when
	// empty).
	CartSince int64
	Orders    []string
	flash     string
	dirty     bool
	// loc speaks Locale (the orders area: English).
	loc *i18n.Localizer
}

// hasSession reports whether the visitor has a session (or is about to get
// one with this response): their pages are their own.
func (s *shopper) hasSession() bool { return s.CSRF != "" || s.dirty }

// establishedAfter is how old a cart must be before its shopper may use the
// share of Klarna's session quota that new carts cannot take.
const establishedAfter = 30 * time.Second

// established reports whether the cart was made more than a moment ago.
func (s *shopper) established(now time.Time) bool {
	return s.CartSince != 0 && now.Sub(time.Unix(s.CartSince, 0)) >= establishedAfter
}

func (s *shopper) setFlash(msg string) { s.flash, s.dirty = msg, true }

func (s *shopper) takeFlash() string {
	f := s.flash
	if f != "" {
		s.flash, s.dirty = "", true
	}
	return f
}

func (s *shopper) ownsOrder(ref string) bool {
	return ref != "" && (slices.Contains(s.Orders, ref) || s.CheckoutID == ref)
}

func (s *shopper) rememberOrder(ref string) {
	if slices.Contains(s.Orders, ref) {
		return
	}
	s.Orders = append(s.Orders, ref)
	if len(s.Orders) > maxOrders {
		s.Orders = s.Orders[len(s.Orders)-maxOrders:]
	}
	s.dirty = true
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// withShopper loads the cookie session into the request and saves it after
// the handler if it changed. A cookie that fails to decode or verify
// (tampered, or signed with a retired secret) starts a fresh session with a
// note to the shopper, never an error page.
func (h *Handler) withShopper(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		// The cookie is decoded without gorilla's per-request registry,
		// which would clone the request on every page; the shopper struct
		// below is this request's only view of the session.
		kept, err := h.session(r)
		if err == nil {
			err = kept.cartErr
		}
		s := &shopper{}
		reset := err != nil
		if !reset {
			// The kept session is shared: the shopper gets its own items.
			s.Cart = shop.Cart{Items: slices.Clone(kept.cart.Items), Discount: kept.cart.Discount}
		}
		m, ok := h.markets.lookup(kept.market)
		if !ok {
			// Unknown, or no longer offered (its Klarna account is gone).
			m = h.markets.def
		}
		s.Market, s.MarketChosen, s.Lang = m, ok, kept.lang
		s.Locale = localeFor(m, s.Lang)
		s.CheckoutID, s.CSRF, s.flash, s.Review = kept.checkout, kept.csrf, kept.flash, kept.review
		s.BrowserID = kept.bid
		s.CartSince = kept.since
		s.Orders = slices.Clone(kept.orders)
		h.speak(c, s)
		if reset {
			h.log.InfoContext(r.Context(), "unreadable session cookie; starting a new session", "error", err)
			s = &shopper{Market: s.Market, MarketChosen: s.MarketChosen, Lang: s.Lang, Locale: s.Locale, loc: s.loc}
			s.setFlash(s.loc.T("flash.session_reset"))
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				// The new session's token now, not when it is saved: the
				// page that says so has forms, and they must carry it. A
				// POST goes on without one, as a first POST does, and is
				// checked for its origin only (its form's token was the
				// lost session's); the token is made when it is saved.
				s.CSRF = randomToken()
			}
		}
		// A visitor who has done nothing yet has no session and gets no
		// cookie: the page is the same for everyone and may be cached. The
		// session starts with the first thing that needs one (a cart, a
		// market, a message), and its CSRF token with it. Pages whose
		// forms act on an order, a payment or a subscription always have
		// one, so those forms always carry a token.
		if s.CSRF == "" && needsSession(r.URL.Path) {
			s.CSRF, s.dirty = randomToken(), true
		}
		c.Set(shopperKey, s)
		// Save before the handler writes its response: headers cannot be
		// added afterwards.
		c.Response().Before(func() {
			// HEAD changes nothing (RFC 9110): a probe neither starts a
			// session nor uses up the shopper's message.
			if !s.dirty || r.Method == http.MethodHead {
				return
			}
			if s.CSRF == "" {
				s.CSRF = randomToken()
			}
			if s.BrowserID == "" {
				s.BrowserID = newBrowserID(time.Now())
			}
			switch {
			case s.Cart.Empty():
				s.CartSince = 0
			case s.CartSince == 0:
				s.CartSince = time.Now().Unix()
			}
			since := ""
			if s.CartSince != 0 {
				since = strconv.FormatInt(s.CartSince, 10)
			}
			market := ""
			if s.MarketChosen {
				market = s.Market.Code
			}
			values := map[any]any{
				"cart": s.Cart.Encode(), "market": market, "lang": s.Lang, "checkout": s.CheckoutID,
				"csrf": s.CSRF, "orders": strings.Join(s.Orders, ","), "flash": s.flash, "review": s.Review, "bid": s.BrowserID, "since": since,
			}
			// Taken before securecookie stamps the cookie, so never later
			// than its stamp: the kept copy expires no later than it.
			signed := time.Now()
			encoded, err := securecookie.EncodeMulti(sessionName, values, h.sessions.Codecs...)
			if err != nil {
				h.log.ErrorContext(r.Context(), "saving session cookie failed", "error", err)
				return
			}
			http.SetCookie(c.Response().Writer, sessions.NewCookie(sessionName, encoded, h.sessions.Options))
			// The browser sends this cookie with its next request: keep
			// it parsed already, as parsing the cookie would give it.
			h.decoded.put(encoded, h.parseSession(values), h.cookieExpiry(signed))
		})
		return next(c)
	}
}

// session is the request's session cookie, verified and parsed: empty
// without a cookie, an error for one that fails to decode or verify. A
// cookie verified once is kept parsed (see decodedSessions).
func (h *Handler) session(r *http.Request) (*keptSession, error) {
	now := time.Now()
	// Most requests send a cookie decoded before: look it up as sent,
	// without r.Cookie's parse, which checks every byte of a 400-byte
	// value and allocates a Cookie. rawCookie picks the cookie r.Cookie
	// would, and every key of the decoded sessions is a well-formed,
	// unquoted value (one r.Cookie returned and securecookie verified,
	// or one the shop encoded itself), so a hit is what the full parse
	// would have found; a value r.Cookie would refuse or unquote is never
	// a key, and takes the full parse.
	if raw, ok := rawCookie(r.Header, sessionName); ok {
		if v, ok := h.decoded.get(raw, now); ok {
			return v, nil
		}
	}
	ck, err := r.Cookie(sessionName)
	if err != nil {
		return &noSession, nil
	}
	if v, ok := h.decoded.get(ck.Value, now); ok {
		return v, nil
	}
	values := map[any]any{}
	if err := securecookie.DecodeMulti(sessionName, ck.Value, &values, h.sessions.Codecs...); err != nil {
		return &noSession, err
	}
	kept := h.parseSession(values)
	if signed, ok := cookieTime(ck.Value); ok {
		h.decoded.put(ck.Value, kept, h.cookieExpiry(signed))
	}
	return kept, nil
}

// rawCookie returns the value of the cookie with the name that r.Cookie
// would choose, as the browser sent it (unchecked, quotes and all): it
// splits, trims and matches the Cookie headers as net/http's readCookies
// does. It gives up (false) where readCookies may return nothing for a
// request with many cookies (3,000 by default, less if GODEBUG's
// httpcookiemaxnum says so), and then the full parse decides.
func rawCookie(hd http.Header, name string) (string, bool) {
	lines := hd["Cookie"]
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	if n > maxRawCookies {
		return "", false
	}
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			k, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(k) == name {
				return v, true
			}
		}
	}
	return "", false
}

// maxRawCookies is how many cookies a request may send for rawCookie to
// look at them: far more than a browser sends the shop, far fewer than
// net/http's own limit, unless GODEBUG sets that limit (a go:debug
// directive is not seen here: do not lower the limit that way).
var maxRawCookies = func() int {
	if strings.Contains(os.Getenv("GODEBUG"), "httpcookiemaxnum") {
		return 0
	}
	return 64
}()

// keptSession is a session cookie's values, parsed once for every request
// that sends the same cookie: read only. A cart the catalog refuses is kept
// as its error (the catalog does not change while the shop runs).
type keptSession struct {
	cart                                             shop.Cart
	cartErr                                          error
	market, lang, checkout, csrf, flash, review, bid string
	since                                            int64
	orders                                           []string
}

// newBrowserID names a new browser session: its start in seconds (hex),
// then 64 random bits. Checkouts are indexed by their browser
// (checkouts_browser_created), and a key that grows with time puts each
// new browser's entry at the index's end, on pages that are hot and that
// one group commit writes once for many checkouts; a random key would land
// each on a page of its own, read and written for it alone (measured in
// the load test: 1.3 more write and 1.7 more read system calls, 7 KB more
// read and 4 KB more written to disk, per checkout).
// The id stays inside the encrypted cookie and the database.
func newBrowserID(now time.Time) string {
	return fmt.Sprintf("%09x", now.Unix()) + randomToken()[:16]
}

// noSession is every cookieless request's session. Like every kept
// session it is read only: withShopper copies what it needs into the
// request's own shopper.
var noSession keptSession

func (h *Handler) parseSession(values map[any]any) *keptSession {
	str := func(k string) string { v, _ := values[k].(string); return v }
	k := &keptSession{
		market: str("market"), lang: str("lang"), checkout: str("checkout"), csrf: str("csrf"),
		flash: str("flash"), review: str("review"), bid: str("bid"),
	}
	k.cart, k.cartErr = shop.DecodeCart(str("cart"), h.catalog)
	k.since, _ = strconv.ParseInt(str("since"), 10, 64)
	if o := str("orders"); o != "" {
		k.orders = strings.Split(o, ",")
	}
	return k
}

// cookieExpiry is when securecookie will call a cookie signed at signed
// expired: MaxAge later.
func (h *Handler) cookieExpiry(signed time.Time) time.Time {
	return signed.Add(time.Duration(h.sessions.Options.MaxAge) * time.Second)
}

// cookieTime is when securecookie signed a value: it writes
// base64("time|value|mac"), and verifies the time against its maximum age.
func cookieTime(value string) (time.Time, bool) {
	b, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		return time.Time{}, false
	}
	ts, _, ok := strings.Cut(string(b), "|")
	if !ok {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

// decodedSessions keeps session cookies already verified and decrypted,
// by their exact value, until securecookie would call them expired. A
// shopper sends the same cookie with every page until their session
// changes, and checking its MAC and decrypting it was a tenth of a page's
// cost. Only a value the codecs accepted is kept, so a forged or altered
// cookie is never found here; the secrets change only with a restart. A
// cookie the shop sets is kept as it is made, so that the request after a
// change to the session does not decode it either.
//
// It holds two generations of at most maxDecodedSessions each. When the
// current one is full it becomes the previous one, and a cookie found only
// there moves back into the current one. Anybody can have the shop make
// new sessions (every first add to cart does), so a flood of them must not
// push out the shoppers who are browsing: a cookie sent at least once per
// maxDecodedSessions new ones stays kept, and memory stays bounded.
type decodedSessions struct {
	kept generations[decodedSession]
}

type decodedSession struct {
	session *keptSession // shared by the requests that send the cookie: read only
	expires time.Time
}

const maxDecodedSessions = 4096

func (d *decodedSessions) get(cookie string, now time.Time) (*keptSession, bool) {
	e, previous, ok := d.kept.lookup(cookie)
	if !ok || now.After(e.expires) {
		return nil, false
	}
	if previous {
		d.put(cookie, e.session, e.expires)
	}
	return e.session, true
}

func (d *decodedSessions) put(cookie string, session *keptSession, expires time.Time) {
	d.kept.put(cookie, decodedSession{session: session, expires: expires}, maxDecodedSessions)
}

// len is how many cookies are kept, for tests.
func (d *decodedSessions) len() int {
	current, previous := d.kept.sizes()
	return current + previous
}

// speak gives the request the shopper's language: the shopper's
// localizer, and the same in the context the views render with. The orders
// area speaks English.
func (h *Handler) speak(c echo.Context, s *shopper) {
	r := c.Request()
	if strings.HasPrefix(r.URL.Path, "/admin") {
		s.loc = h.i18n.For("en-GB")
	} else {
		s.loc = h.i18n.For(s.Locale)
	}
	c.SetRequest(r.WithContext(views.WithTranslator(r.Context(), s.loc)))
}

func shopperOf(c echo.Context) *shopper {
	s, _ := c.Get(shopperKey).(*shopper)
	return s
}

// needsSession reports the pages that must run with a session and its CSRF
// token: the orders area, the checkout, confirmations and subscriptions.
func needsSession(path string) bool {
	for _, prefix := range []string{"/admin", "/checkout", "/confirmation/", "/subscription/"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// csrf rejects state-changing requests from other sites. Every POST must
// pass Go's cross-origin protection (Sec-Fetch-Site, or Origin against the
// Host). A shopper who has a session must also send its token, from the
// form field "csrf" or the X-CSRF-Token header (the checkout script's JSON
// post), never the query string. A first POST, from a visitor who has no
// session yet, has nothing to protect: there is no cart or order of theirs
// a forged request could touch, and it starts the session.
func (h *Handler) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			return next(c)
		}
		refused := echo.NewHTTPError(http.StatusForbidden, "error.csrf")
		if err := h.crossOrigin.Check(r); err != nil {
			return refused
		}
		// Read the form now, so that a body over the limit is refused as
		// one (413) whatever its framing: a chunked body reaches the limit
		// only as it is read, and the handlers' FormValue would take the
		// error for an empty form. Other parse errors stay the handlers'
		// to meet, as before: they read what could be parsed.
		var err error
		if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt == echo.MIMEMultipartForm {
			err = r.ParseMultipartForm(32 << 10)
		} else {
			err = r.ParseForm()
		}
		var tooLarge *echo.HTTPError
		if errors.As(err, &tooLarge) {
			return tooLarge
		}
		s := shopperOf(c)
		if s == nil {
			return refused
		}
		if s.CSRF == "" {
			return next(c)
		}
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			got = r.PostFormValue("csrf")
		}
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
			return refused
		}
		return next(c)
	}
}

// flatSerializer encodes the session's string values as a URL query
// ("cart=...&market=GB"): a fifth of gob's size and cost, which matters
// because every page decodes the cookie. The result is still signed and
// encrypted by securecookie.
type flatSerializer struct{}

func (flatSerializer) Serialize(src any) ([]byte, error) {
	m, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("session: cannot serialize %T", src)
	}
	// url.Values.Encode's bytes (keys sorted, both sides query-escaped),
	// written straight out: the map of slices it needs cost a third of
	// each cookie's encoding.
	keys := make([]string, 0, len(m))
	size := 0
	for k, val := range m {
		ks, ok1 := k.(string)
		vs, ok2 := val.(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("session: only string values are stored, not %T", val)
		}
		if vs != "" {
			keys = append(keys, ks)
			size += len(ks) + len(vs) + 2
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, size+size/4)
	for i, k := range keys {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, url.QueryEscape(k)...)
		b = append(b, '=')
		b = append(b, url.QueryEscape(m[k].(string))...)
	}
	return b, nil
}

func (flatSerializer) Deserialize(src []byte, dst any) error {
	m, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("session: cannot deserialize into %T", dst)
	}
	// Straight into the session's map: url.ParseQuery would build a
	// map of slices first, on every page.
	for q := string(src); q != ""; {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
		if _, seen := (*m)[key]; !seen { // the first value wins, as with url.Values.Get
			(*m)[key] = val
		}
	}
	return nil
}
