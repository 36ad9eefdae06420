package handlers

import (
	"strconv"
	"strings"
	"testing"
)

// TestPublicPagesBounded: made-up keys cannot grow the kept pages
// without bound.
func TestPublicPagesBounded(t *testing.T) {
	var p publicPages
	for i := range 10 * maxPublicPages {
		p.put("/?q="+strconv.Itoa(i), keptPage{etag: strconv.Itoa(i)})
		if current, _ := p.kept.sizes(); current > maxPublicPages {
			t.Fatalf("%d pages kept after %d", current, i+1)
		}
	}
	if v, ok := p.get("/?q=" + strconv.Itoa(10*maxPublicPages-1)); !ok || v.etag != strconv.Itoa(10*maxPublicPages-1) {
		t.Error("the newest page is not kept")
	}
	long := "/?q=" + strings.Repeat("a", maxKeptKey)
	p.put(long, keptPage{etag: "long"})
	if _, ok := p.get(long); ok {
		t.Error("a page with a key of more than maxKeptKey bytes is kept")
	}
}

// TestKeptPagesOutlastAFloodOfNewOnes: a page asked for at least once
// every maxPublicPages new pages stays kept however many others are made,
// and at most two generations are held.
func TestKeptPagesOutlastAFloodOfNewOnes(t *testing.T) {
	var p publicPages
	p.put("shopper", keptPage{etag: "kept"})
	for i := range 10 * maxPublicPages {
		p.put("made-up "+strconv.Itoa(i), keptPage{})
		if i%(maxPublicPages/2) == 0 {
			if v, ok := p.get("shopper"); !ok || v.etag != "kept" {
				t.Fatalf("the shopper's page is gone after %d made-up ones", i+1)
			}
		}
		if current, previous := p.kept.sizes(); current > maxPublicPages || previous > maxPublicPages {
			t.Fatalf("%d + %d pages kept", current, previous)
		}
	}
	if _, ok := p.get("made-up 0"); ok {
		t.Error("a page nobody asked for again is still kept after ten generations")
	}
}
