package handlers

import (
	"math"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// clientKey is what per-client limits count by: an IPv4 address, or the /64
// network of an IPv6 address. A subscriber usually gets a whole /64 and can
// take any address in it, so counting single IPv6 addresses would let one
// client rotate through 2^64 of them.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// loginGuard limits failed logins to the orders area: per client (keyed
// like the other limits) and for the whole shop, so that neither one
// address nor many can guess the password at speed. Only failures count.
type loginGuard struct {
	mu      sync.Mutex
	clients map[string]*rate.Limiter
	global  *rate.Limiter
	every   rate.Limit
	burst   int
	delay   time.Duration
}

// LoginLimits bound failed logins to the orders area. Zero values take the
// defaults (see orDefault).
type LoginLimits struct {
	PerClient      float64 // failures a second, per client
	PerClientBurst int
	Global         float64 // failures a second, whole shop
	GlobalBurst    int
	// Delay is added to every failed attempt's answer.
	Delay time.Duration
}

func (l LoginLimits) orDefault() LoginLimits {
	if l.PerClient == 0 {
		l.PerClient = 1.0 / 30 // one more guess every 30 s ...
	}
	if l.PerClientBurst == 0 {
		l.PerClientBurst = 5 // ... after 5 in a row
	}
	if l.Global == 0 {
		l.Global = 1 // the whole shop: one a second ...
	}
	if l.GlobalBurst == 0 {
		l.GlobalBurst = 50 // ... after 50
	}
	if l.Delay == 0 {
		l.Delay = 300 * time.Millisecond
	}
	return l
}

func newLoginGuard(l LoginLimits) *loginGuard {
	l = l.orDefault()
	return &loginGuard{
		clients: map[string]*rate.Limiter{}, global: rate.NewLimiter(rate.Limit(l.Global), l.GlobalBurst),
		every: rate.Limit(l.PerClient), burst: l.PerClientBurst, delay: l.Delay,
	}
}

// retryAfter is how long a client must wait before its next attempt, or 0
// when it may try now.
func (g *loginGuard) retryAfter(key string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	wait := untilToken(g.global, now)
	if c := g.clients[key]; c != nil {
		wait = max(wait, untilToken(c, now))
	}
	return wait
}

// failed counts a failed attempt against the client and the shop.
func (g *loginGuard) failed(key string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.clients[key]
	if c == nil {
		if len(g.clients) >= 10000 {
			g.forgetIdle(now)
		}
		c = rate.NewLimiter(g.every, g.burst)
		g.clients[key] = c
	}
	c.AllowN(now, 1)
	g.global.AllowN(now, 1)
}

// forgetIdle drops clients whose allowance is whole again: they are as good
// as new. Caller holds g.mu.
func (g *loginGuard) forgetIdle(now time.Time) {
	for k, c := range g.clients {
		if c.TokensAt(now) >= float64(g.burst) {
			delete(g.clients, k)
		}
	}
}

func untilToken(l *rate.Limiter, now time.Time) time.Duration {
	t := l.TokensAt(now)
	if t >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - t) / float64(l.Limit()) * float64(time.Second)))
}
