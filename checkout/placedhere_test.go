package checkout

import (
	"fmt"
	"testing"

	"github.com/fikaandform/storefront/store"
)

func TestPlacedHereKeepsOrdersOnly(t *testing.T) {
	p := newPlacedHere(3)
	order := func(i int, st store.State) *store.Checkout {
		return &store.Checkout{ID: fmt.Sprintf("KS-%d", i), SessionID: fmt.Sprintf("session-%d", i), CallbackSecret: fmt.Sprintf("secret-%d", i), State: st}
	}
	p.add(order(1, store.StatePlaced))
	p.add(order(2, store.StatePendingReview))
	p.add(order(3, store.StatePlacing)) // not an order: never kept
	p.add(order(4, store.StateOpen))
	if sid, ok := p.session("KS-1", "secret-1"); !ok || sid != "session-1" {
		t.Errorf("placed order: %q %v", sid, ok)
	}
	if sid, ok := p.session("KS-2", "secret-2"); !ok || sid != "session-2" {
		t.Errorf("order pending review: %q %v", sid, ok)
	}
	for _, tt := range []struct{ id, secret string }{
		{"KS-1", "secret-2"}, {"KS-1", ""}, {"KS-3", "secret-3"}, {"KS-4", "secret-4"}, {"KS-9", "secret-9"}, {"", ""},
	} {
		if sid, ok := p.session(tt.id, tt.secret); ok {
			t.Errorf("%s with %q: answered with %q", tt.id, tt.secret, sid)
		}
	}
}

func TestPlacedHereForgetsTheOldestFirst(t *testing.T) {
	p := newPlacedHere(3)
	for i := 1; i <= 5; i++ {
		c := &store.Checkout{ID: fmt.Sprintf("KS-%d", i), SessionID: "s", CallbackSecret: "x", State: store.StatePlaced}
		p.add(c)
		p.add(c) // kept once, not twice
	}
	for i := 1; i <= 5; i++ {
		_, ok := p.session(fmt.Sprintf("KS-%d", i), "x")
		if want := i > 2; ok != want {
			t.Errorf("KS-%d kept %v, want %v", i, ok, want)
		}
	}
	if len(p.byID) != 3 || len(p.ring) != 3 {
		t.Errorf("%d kept in a ring of %d, want 3", len(p.byID), len(p.ring))
	}
	if empty := newPlacedHere(placedHereSize); len(empty.ring) != 0 || cap(empty.ring) != 0 {
		t.Errorf("a new service holds room for %d orders before it has any", cap(empty.ring))
	}
}
