// Package shopclient is a browser without JavaScript, for the tests and the
// load test that drive the shop over HTTP: a cookie jar, the CSRF token of the
// last page, and the shop's forms.
package shopclient

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Client is one shopper's browser.
type Client struct {
	HTTP *http.Client
	CSRF string
}

// New makes a client with an empty cookie jar. transport may be nil.
func New(transport http.RoundTripper, timeout time.Duration) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{HTTP: &http.Client{Jar: jar, Timeout: timeout, Transport: transport}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

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
	if m := csrfRe.FindSubmatch(b); m != nil {
		c.CSRF = string(m[1])
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s: %d", what, resp.StatusCode)
	}
	return string(b), nil
}

// Add puts one of a product in the cart, as the product page's form does.
func (c *Client) Add(base, product string) error {
	resp, err := c.HTTP.PostForm(base+"/cart/add", url.Values{"product": {product}, "quantity": {"1"}, "csrf": {c.CSRF}})
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("add to cart: %d", resp.StatusCode)
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
