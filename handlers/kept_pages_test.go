package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// TestKeptPagesDoNotCrossShoppers: shoppers with the same market, language
// and cart count share a kept page, each with their own token; a flash
// stays with its shopper; a HEAD request does not disturb it.
func TestKeptPagesDoNotCrossShoppers(t *testing.T) {
	e := newEnv(t, options{})
	a, b := e.shopper(t), e.shopper(t)
	a.session()
	b.session()
	if a.csrf == b.csrf {
		t.Fatal("same token")
	}
	for _, p := range []string{"/", "/products/oak-board", "/?category=Coffee"} {
		// HEAD first, from a, to seed the kept page.
		req, _ := http.NewRequest(http.MethodHead, e.srv.URL+p, nil)
		if resp, err := a.c.Do(req); err == nil {
			resp.Body.Close()
		}
		_, da := a.get(p)
		_, db := b.get(p)
		for who, doc := range map[string]*struct {
			want, other string
			n           int
		}{"a": {a.csrf, b.csrf, 0}, "b": {b.csrf, a.csrf, 0}} {
			d := da
			if who == "b" {
				d = db
			}
			html, _ := d.Html()
			if strings.Contains(html, doc.other) || strings.Contains(html, strings.Repeat("x", 64)) {
				t.Errorf("%s on %s: another token or the placeholder", who, p)
			}
			if !strings.Contains(html, doc.want) {
				t.Errorf("%s on %s: own token missing", who, p)
			}
		}
	}
	// b adds: a flash; a also at count 1 must not see b's flash.
	b.post("/cart/add", url.Values{"product": {"oak-board"}})
	a.post("/cart/add", url.Values{"product": {"oak-board"}})
	a.get("/")         // a's flash
	_, d := a.get("/") // a's flash gone; page now kept
	if text(d, "flash") != "" {
		t.Errorf("a sees a flash on its second page: %q", text(d, "flash"))
	}
	_, d = b.get("/") // b's own flash, rendered alone
	if text(d, "flash") == "" {
		t.Error("b lost its flash")
	}
	if html, _ := d.Html(); strings.Contains(html, a.csrf) {
		t.Error("b sees a's token")
	}
}

// TestKeptPagesBoundedInBytes: kept pages are bounded in bytes as well as
// in number. A key holds the whole address (and, without a chosen market,
// the whole Accept-Language), up to the server's 1 MB of header: kept as
// is, 1024 made-up addresses would keep a gigabyte.
func TestKeptPagesBoundedInBytes(t *testing.T) {
	e := newEnv(t, options{})
	v := e.shopper(t)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pad := strings.Repeat("a", 64<<10)
	for i := range 1023 {
		resp, err := v.c.Get(fmt.Sprintf("%s/?utm=%d%s", e.srv.URL, i, pad))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Errorf("kept pages hold %d MB after 1023 GETs of one page", grew>>20)
	}
}
