// Package shopclient is a browser without JavaScript, for the tests and the
// load test that drive the shop over HTTP: a cookie jar, the CSRF token of the
// last page, and the shop's forms.
package shopclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// Client is one shopper's browser.
type Client struct {
	HTTP *http.Client
	CSRF string
	// Simulator is the root of the Klarna simulator whose widget endpoints
	// Authorize calls; empty means the shop's built-in one
	// (<base>/klarna-sim).
	Simulator string
}

// New makes a client with an empty cookie jar. transport may be nil.
func New(transport http.RoundTripper, timeout time.Duration) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{HTTP: &http.Client{Jar: jar, Timeout: timeout, Transport: transport}}
}

// Get fetches a page, following redirects, and remembers its CSRF token. A
// final status other than 200 is an error, with the body still returned.
func (c *Client) Get(u string) (string, error) {
	resp, err := c.HTTP.Get(u)
	if err != nil {
		return "", err
	}
	return c.page(resp, "GET "+u)
}

// page reads a response's page and remembers its CSRF token.
func (c *Client) page(resp *http.Response, what string) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if t, ok := CSRFToken(b); ok {
		c.CSRF = t
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s: %d", what, resp.StatusCode)
	}
	return string(b), nil
}

// CSRFToken is the CSRF token of a page's forms: the first
// name="csrf" value="…" whose value is lower-case hex.
func CSRFToken(page []byte) (string, bool) {
	return attribute(page, `name="csrf" value="`, func(b byte) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' })
}

// Add puts one of a product in the cart, as the product page's form does.
func (c *Client) Add(base, product string) error {
	// As a browser: follow the redirect to the cart and keep its page's
	// token, which the next form needs (the first add starts the session,
	// and with it the token).
	if _, err := c.Submit(base+"/cart/add", url.Values{"product": {product}, "quantity": {"1"}}); err != nil {
		return fmt.Errorf("add to cart: %w", err)
	}
	return nil
}

// Submit posts a form as a browser does, with the CSRF token of the last
// page, follows the redirect, and returns the page it leads to
// (remembering that page's token). A final status other than 200 is an
// error, with the body still returned.
func (c *Client) Submit(u string, form url.Values) (string, error) {
	form.Set("csrf", c.CSRF)
	resp, err := c.HTTP.PostForm(u, form)
	if err != nil {
		return "", err
	}
	return c.page(resp, "POST "+u)
}

// Place posts an authorization token as the checkout script does, and
// returns the HTTP status and the shop's answer ({"status": ...}).
func (c *Client) Place(base, token string) (int, map[string]string, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/checkout/place", strings.NewReader(`{"authorization_token":"`+token+`"}`))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", c.CSRF)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]string
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

// Cookie is the Cookie header this browser sends to base.
func (c *Client) Cookie(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	var parts []string
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// ClientToken is the Klarna client token the checkout page hands to the
// widget: the first non-empty data-client-token="…".
func ClientToken(page []byte) (string, bool) {
	return attribute(page, `data-client-token="`, func(b byte) bool { return b != '"' })
}

// attribute finds the first occurrence of prefix followed by one or more
// bytes that pass ok and then a closing quote, and returns those bytes. It
// does what a regular expression like prefix([ok]+)" would, without one:
// the load generator reads every page it gets, and a regexp's backtracking
// was a tenth of its CPU per checkout.
func attribute(page []byte, prefix string, ok func(byte) bool) (string, bool) {
	for i := 0; ; {
		at := bytes.Index(page[i:], []byte(prefix))
		if at < 0 {
			return "", false
		}
		start := i + at + len(prefix)
		end := start
		for end < len(page) && page[end] != '"' && ok(page[end]) {
			end++
		}
		if end > start && end < len(page) && page[end] == '"' {
			return string(page[start:end]), true
		}
		i = start
	}
}

// Authorize approves a checkout's Klarna session as the simulator's widget
// does, through its test-data path (no dialog), and
// returns the authorization token.
func (c *Client) Authorize(base, clientToken string) (string, error) {
	body, _ := json.Marshal(map[string]string{"client_token": clientToken, "payment_method_category": "pay_later", "outcome": "approve"})
	sim := c.Simulator
	if sim == "" {
		sim = base + "/klarna-sim"
	}
	resp, err := c.HTTP.Post(sim+"/browser/authorize", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("authorize: %d", resp.StatusCode)
	}
	var auth struct {
		AuthorizationToken string `json:"authorization_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&auth); err != nil {
		return "", err
	}
	return auth.AuthorizationToken, nil
}

// Buy runs one whole purchase of one product through the built-in
// simulator: add to cart, open the checkout, approve, place. It returns the
// place answer's status ("placed", …).
func (c *Client) Buy(base, product string) (string, error) {
	answer, err := c.Purchase(base, product)
	return answer["status"], err
}

// Purchase is Buy returning the place answer whole: its status, and
// redirect_url, where the shopper goes next (Klarna's redirect for the
// order, or the shop's confirmation page).
func (c *Client) Purchase(base, product string) (map[string]string, error) {
	if c.CSRF == "" {
		if _, err := c.Get(base + "/"); err != nil {
			return nil, err
		}
	}
	if err := c.Add(base, product); err != nil {
		return nil, err
	}
	page, err := c.Get(base + "/checkout")
	if err != nil {
		return nil, err
	}
	ct, ok := ClientToken([]byte(page))
	if !ok {
		return nil, fmt.Errorf("no client token on the checkout page")
	}
	token, err := c.Authorize(base, ct)
	if err != nil {
		return nil, err
	}
	status, out, err := c.Place(base, token)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("place: HTTP %d", status)
	}
	return out, nil
}
