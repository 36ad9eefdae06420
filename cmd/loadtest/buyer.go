package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/fikaandform/storefront/internal/shopclient"
)

// buyer runs whole checkouts as internal/shopclient's Buy does (the same
// requests, headers, cookie and forms), on fasthttp's client instead of
// net/http's. The generator's CPU counts against the checkout target, and
// net/http's client, with two goroutines and a channel hand-off per
// request, was most of the generator's 0.4–0.6 ms per checkout. -generator
// nethttp measures with shopclient instead.
type buyer struct {
	c    *fasthttp.Client
	base string // the shop, e.g. http://127.0.0.1:8080
	sim  string // the simulator's widget root: <base>/klarna-sim or a standalone one
}

func newBuyer(base, sim string, conns int) *buyer {
	if sim == "" {
		sim = base + "/klarna-sim"
	}
	return &buyer{base: base, sim: sim, c: &fasthttp.Client{
		MaxConnsPerHost: conns, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second,
		MaxIdleConnDuration: time.Minute,
		// fasthttp's read buffer also bounds a response's headers (4 KiB
		// by default). The shop's can pass that: a session cookie of up to
		// 4 KB (securecookie's limit, and a browser's) beside the content
		// security policy. Browsers take far more, so the generator must.
		ReadBufferSize: maxResponseHeader,
	}}
}

// maxResponseHeader is the most response header the generator reads.
const maxResponseHeader = 16 << 10

// visit is one browser's state: its session cookie and the CSRF token of
// the last page it saw.
type visit struct {
	cookie string // "fika=…", or empty before the session starts
	csrf   string
}

// buy runs one purchase of one product for a new browser: the catalog,
// add to cart (following its redirect), the checkout page, approval in the
// simulator's widget, placement. It returns the place answer's status and
// redirect_url.
func (b *buyer) buy(product string) (status, redirect string, err error) {
	var v visit
	if _, err := b.do(&v, "GET", b.base+"/", "", nil, 200); err != nil {
		return "", "", err
	}
	form := url.Values{"product": {product}, "quantity": {"1"}, "csrf": {v.csrf}}.Encode()
	if _, err := b.do(&v, "POST", b.base+"/cart/add", "application/x-www-form-urlencoded", []byte(form), 200); err != nil {
		return "", "", fmt.Errorf("add to cart: %w", err)
	}
	page, err := b.do(&v, "GET", b.base+"/checkout", "", nil, 200)
	if err != nil {
		return "", "", err
	}
	ct, ok := shopclient.ClientToken(page)
	if !ok {
		return "", "", fmt.Errorf("no client token on the checkout page")
	}
	body, _ := json.Marshal(map[string]string{"client_token": ct, "payment_method_category": "pay_later", "outcome": "approve"})
	var widget visit // the simulator's origin: no shop cookie
	answer, err := b.do(&widget, "POST", b.sim+"/browser/authorize", "application/json", body, 200)
	if err != nil {
		return "", "", fmt.Errorf("authorize: %w", err)
	}
	var auth struct {
		AuthorizationToken string `json:"authorization_token"`
	}
	if err := json.Unmarshal(answer, &auth); err != nil {
		return "", "", err
	}
	placed, err := b.do(&v, "POST", b.base+"/checkout/place", "application/json", []byte(`{"authorization_token":"`+auth.AuthorizationToken+`"}`), 200)
	if err != nil {
		return "", "", fmt.Errorf("place: %w", err)
	}
	var out struct {
		Status      string `json:"status"`
		RedirectURL string `json:"redirect_url"`
	}
	if err := json.Unmarshal(placed, &out); err != nil {
		return "", "", err
	}
	return out.Status, out.RedirectURL, nil
}

// do sends one request as the browser v, follows a redirect (303 to a
// GET, as browsers do after a form), keeps the session cookie and the
// page's CSRF token, and returns the final body if its status is want.
func (b *buyer) do(v *visit, method, u, contentType string, body []byte, want int) ([]byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	for hop := 0; ; hop++ {
		req.Reset()
		req.SetRequestURI(u)
		req.Header.SetMethod(method)
		if v.cookie != "" {
			req.Header.Set("Cookie", v.cookie)
		}
		if body != nil {
			req.Header.SetContentType(contentType)
			req.SetBody(body)
			if contentType == "application/json" && v.csrf != "" {
				req.Header.Set("X-CSRF-Token", v.csrf)
			}
		}
		if err := b.c.Do(req, resp); err != nil {
			return nil, err
		}
		for key, value := range resp.Header.Cookies() {
			if string(key) == "fika" {
				if c, _, _ := bytes.Cut(value, []byte(";")); len(c) > 0 {
					v.cookie = string(c)
				}
			}
		}
		status := resp.StatusCode()
		if status == fasthttp.StatusSeeOther && hop < 5 {
			loc := string(resp.Header.Peek("Location"))
			if strings.HasPrefix(loc, "/") {
				loc = b.base + loc
			}
			u, method, body = loc, "GET", nil
			continue
		}
		page := resp.Body()
		if t, ok := shopclient.CSRFToken(page); ok {
			v.csrf = t
		}
		if status != want {
			return nil, fmt.Errorf("%s %s: %d", method, u, status)
		}
		return append([]byte(nil), page...), nil
	}
}
