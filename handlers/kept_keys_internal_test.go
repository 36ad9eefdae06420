package handlers

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/shop"
)

// TestMadeUpQueriesDoNotFillTheKeptPages: a client that sends made-up
// query strings or Accept-Language values gets the page every visitor
// gets, and does not add kept pages: before, each was a page of its own,
// and 1,024 of them emptied the cache for every shopper.
func TestMadeUpQueriesDoNotFillTheKeptPages(t *testing.T) {
	cat := shop.DefaultCatalog()
	h := newHandler(cat)
	e := echo.New()
	h.Routes(e, http.NotFoundHandler(), nil)
	get := func(target, acceptLanguage string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "http://shop.test"+target, nil)
		if acceptLanguage != "" {
			req.Header.Set("Accept-Language", acceptLanguage)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", target, rec.Code)
		}
		b, _ := io.ReadAll(rec.Body)
		return string(b)
	}
	category := cat.Categories()[0]
	plain := get("/", "")
	inCategory := get("/?category="+category, "")
	if plain == inCategory {
		t.Fatal("the category page is the whole catalog")
	}
	swedish := get("/", "sv-SE,sv;q=0.9")
	if swedish == plain {
		t.Fatal("a Swedish browser is not offered the Swedish market")
	}
	kept := h.public.len()
	for i := range 2 * maxPublicPages {
		n := strconv.Itoa(i)
		if got := get("/?utm_source="+n, ""); got != plain {
			t.Fatalf("/?utm_source=%s is not the catalog every visitor gets", n)
		}
		if got := get("/?category="+category+"&x="+n, ""); got != inCategory {
			t.Fatalf("a category page with a made-up parameter differs")
		}
		al := fmt.Sprintf("sv-SE,sv;q=0.9,%s;q=0.%03d", []string{"de", "fr"}[i/999%2], 1+i%999)
		if got := get("/", al); got != swedish {
			t.Fatalf("Accept-Language %s is not offered what sv-SE is", al)
		}
		if got := get("/products/"+cat.Products("")[0].ID+"?ref="+n, "xx-"+n); len(got) == 0 {
			t.Fatal("an empty product page")
		}
		// The cache starts afresh when full, so its size is checked as
		// it goes, not only at the end.
		if grown := h.public.len() - kept; grown != 1 {
			t.Fatalf("after %d rounds of made-up query strings and headers, %d pages more are kept, want the one product page", i+1, grown)
		}
	}
}

// TestKeptKeyIsWhatThePageReads: a shopper's kept page is keyed by what
// the page reads, so made-up query strings and Accept-Language values
// share a key, and what changes the page does not.
func TestKeptKeyIsWhatThePageReads(t *testing.T) {
	h := newHandler(shop.DefaultCatalog())
	gb, _ := shop.LookupMarket("GB")
	s := &shopper{Market: gb, Locale: "en-GB"}
	key := func(target, acceptLanguage, variant string) string {
		req := httptest.NewRequest(http.MethodGet, "http://shop.test"+target, nil)
		req.Header.Set("Accept-Language", acceptLanguage)
		return h.keptKey("shopper", req, s, variant)
	}
	base := key("/", "en-GB", "")
	for _, same := range []string{key("/?utm=1", "en-GB", ""), key("/?a=b&c", "en-GB,en;q=0.5", ""), key("/", "en-GB;q=0.8", "")} {
		if same != base {
			t.Errorf("key %q, want %q", same, base)
		}
	}
	for _, other := range []string{key("/", "sv-SE", ""), key("/?category=mugs", "en-GB", "category=mugs"), key("/cart", "en-GB", "")} {
		if other == base {
			t.Errorf("key %q is the plain catalog's", other)
		}
	}
	s.MarketChosen = true
	if key("/", "sv-SE", "") != key("/", "de-DE", "") {
		t.Error("a shopper who chose a market is keyed by their browser's languages")
	}
}

// TestHostSpellingsDoNotFillTheKeptPages: the spellings of the shop's host
// that it answers to (any case, a trailing dot) share kept pages. Found by
// an independent review: each was a page of its own.
func TestHostSpellingsDoNotFillTheKeptPages(t *testing.T) {
	h := newHandler(shop.DefaultCatalog())
	e := echo.New()
	h.Routes(e, http.NotFoundHandler(), nil)
	get := func(host, target string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "http://x"+target, nil)
		req.Host = host
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	_, plain := get("shop.test", "/")
	kept := h.public.len()
	for mask := range 256 {
		b, j := []byte("shop.test"), 0
		for i := range b {
			if b[i] != '.' {
				if mask&(1<<j) != 0 {
					b[i] -= 'a' - 'A'
				}
				j++
			}
		}
		for _, suffix := range []string{"", "."} {
			host := string(b) + suffix
			if code, body := get(host, "/"); code != http.StatusOK || body != plain {
				t.Fatalf("Host %q: %d, or another page", host, code)
			}
		}
	}
	if n := h.public.len(); n != kept {
		t.Errorf("%d pages kept for spellings of one host, want %d", n, kept)
	}
}

// newHandler is a handler for http://shop.test with the catalog, and no
// checkout, database or simulator: enough for pages and sessions.
func newHandler(cat *shop.Catalog) *Handler {
	return New(Config{BaseURL: "http://shop.test", SessionKeys: SessionKeys([]string{"new-secret-0123456789"})},
		nil, nil, cat, slog.New(slog.DiscardHandler))
}
