package checkout

import (
	"sync"

	"github.com/fikaandform/storefront/store"
)

// placedHereSize bounds the orders placedHere keeps: about 2 MiB, and at a
// thousand orders a second still sixteen seconds of them, far longer than
// Klarna takes to send its callback.
const placedHereSize = 1 << 14

// placedHere remembers the last orders this process recorded. Klarna's
// authorization callback most often arrives after the shopper's own request
// has placed the order, and for an order it has nothing left to do: with
// this it is answered without reading the checkout. What is kept cannot go
// stale: an order stays an order (no move leads out of the order states),
// and its Klarna session and callback secret never change. Another
// instance's orders are not here, and their callbacks read the checkout as
// before.
type placedHere struct {
	mu   sync.Mutex
	size int
	byID map[string]callbackKeys
	// ring holds the kept ids in the order they came, growing to size;
	// then the oldest, at next, makes room for a new one.
	ring []string
	next int
}

// callbackKeys are what a callback for an order is checked against.
type callbackKeys struct{ sessionID, secret string }

// newPlacedHere keeps up to size orders. It starts empty and grows: a
// process that places few orders (and every test's service) holds few.
func newPlacedHere(size int) *placedHere {
	return &placedHere{size: size, byID: map[string]callbackKeys{}}
}

// add keeps c, an order this process has just recorded.
func (p *placedHere) add(c *store.Checkout) {
	if !c.State.IsOrder() || c.CallbackSecret == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.byID[c.ID]; ok {
		return
	}
	if len(p.ring) < p.size {
		p.ring = append(p.ring, c.ID)
	} else {
		delete(p.byID, p.ring[p.next])
		p.ring[p.next] = c.ID
		p.next = (p.next + 1) % p.size
	}
	p.byID[c.ID] = callbackKeys{sessionID: c.SessionID, secret: c.CallbackSecret}
}

// session is the Klarna session of order id when it is kept here and secret
// is its callback secret.
func (p *placedHere) session(id, secret string) (string, bool) {
	p.mu.Lock()
	k, ok := p.byID[id]
	p.mu.Unlock()
	if !ok || !constantTimeEqual(k.secret, secret) {
		return "", false
	}
	return k.sessionID, true
}

// PlacedHere reports whether checkout id is an order this process recorded
// lately and secret its callback secret; sessionID is then its Klarna
// session. Klarna's authorization callback for such an order has nothing
// to place, and is answered without reading the checkout. When it reports
// false, the checkout is read and checked as for any callback: unknown
// here is not unknown.
func (s *Service) PlacedHere(id, secret string) (sessionID string, ok bool) {
	return s.placed.session(id, secret)
}
