package handlers

import (
	"strconv"
	"strings"
	"testing"
)

// TestPublicPagesBounded: made-up addresses or Accept-Language values
// cannot grow the kept anonymous pages without bound.
func TestPublicPagesBounded(t *testing.T) {
	var p publicPages
	for i := range 10 * maxPublicPages {
		p.put("/?q="+strconv.Itoa(i), keptPage{etag: strconv.Itoa(i)})
		if len(p.pages) > maxPublicPages {
			t.Fatalf("%d pages kept after %d", len(p.pages), i+1)
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
