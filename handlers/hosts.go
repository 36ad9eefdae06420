package handlers

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// hostSet is the Host header values the shop answers to.
type hostSet map[string]bool

// allowedHosts is BASE_URL's host, the extra hosts main adds (the loopback
// names on the listening port in simulator mode, an explicit listening
// address), and with the simulator the loopback names on BASE_URL's port.
// Each is kept with and without its default port, as browsers send it.
func allowedHosts(cfg Config) hostSet {
	set := hostSet{}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		}
		set.add(net.JoinHostPort(u.Hostname(), port), u.Scheme)
		if cfg.Simulator {
			for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
				set.add(net.JoinHostPort(h, port), u.Scheme)
			}
		}
	}
	for _, h := range cfg.AllowedHosts {
		set.add(h, "")
	}
	return set
}

func (s hostSet) add(hostport, scheme string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		s[normalHost(hostport)] = true
		return
	}
	host = normalHost(host)
	s[net.JoinHostPort(host, port)] = true
	if (port == "80" && scheme != "https") || (port == "443" && scheme != "http") {
		// A browser leaves the scheme's default port out of Host.
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		s[host] = true
	}
}

func normalHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// allows reports whether a Host header names this shop.
func (s hostSet) allows(host string) bool {
	if host == "" {
		return false
	}
	if s[host] {
		return true // as browsers send it: no allocation on the common path
	}
	if h, port, err := net.SplitHostPort(host); err == nil {
		return s[net.JoinHostPort(normalHost(h), port)]
	}
	return s[normalHost(host)]
}

// canonical is the spelling of an allowed host that allows matched it
// ("shop.test" for "Shop.Test."), so that the spellings a browser may send
// of one host are one key of the kept pages.
func (s hostSet) canonical(host string) string {
	if s[host] {
		return host
	}
	if h, port, err := net.SplitHostPort(host); err == nil {
		return net.JoinHostPort(normalHost(h), port)
	}
	return normalHost(host)
}

// checkHost answers 421 to a request whose Host is not the shop's: a page
// on another site that rebinds its own name to the shop's address (DNS
// rebinding) would otherwise read and drive the shop, and the simulator's
// inspector and control endpoints, as if it were same-origin. Health checks
// are exempt: load balancers probe by address, and they reveal nothing.
func (h *Handler) checkHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if h.hosts.allows(r.Host) || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return next(c)
		}
		setFixed(c.Response().Header(), "Cache-Control", noStoreValue)
		return c.String(http.StatusMisdirectedRequest, "This shop does not answer to that host name.\n")
	}
}
