// Package simtest runs a Klarna simulator on a loopback server for the
// length of a test.
package simtest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/fikaandform/storefront/klarna/simulator"
)

// Start serves a simulator with cfg on a new loopback server, whose URL
// becomes cfg.BaseURL, and stops both when the test ends. It returns the
// simulator and its URL.
func Start(t testing.TB, cfg simulator.Config) (*simulator.Simulator, string) {
	t.Helper()
	// The server must exist before the simulator, whose base URL is the
	// server's; requests reach the simulator once it is set.
	var sim *simulator.Simulator
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sim.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	if cfg.AllowedOrigins == nil {
		// Tests name any merchant host (http://shop.test); the allow-list
		// has tests of its own.
		cfg.AllowedOrigins = []string{"*"}
	}
	var err error
	if sim, err = simulator.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim, srv.URL
}
