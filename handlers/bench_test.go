package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkPages serves pages through the real router with a shopper's
// cookie (a three-item cart), as the load test does, without the network.
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, options{})
	s := e.shopper(b)
	s.get("/")
	for _, p := range []string{"stoneware-mug", "house-blend", "linen-notebook"} {
		s.post("/cart/add", url.Values{"product": {p}})
	}
	s.get("/cart") // shows, and so clears, the "added" message
	u, _ := url.Parse(e.srv.URL)
	cookies := s.c.Jar.Cookies(u)
	handler := e.srv.Config.Handler
	for _, path := range []string{"/", "/products/pour-over-kettle", "/cart"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Host = u.Host // the shop answers only to its own host
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
		})
	}
}
