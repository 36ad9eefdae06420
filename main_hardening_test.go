package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/fikaandform/storefront/store"
)

// runShop starts run() with env and args and returns its printed URL; the
// shop stops when the test ends.
func runShop(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, &stdout, io.Discard) }()
	t.Cleanup(func() { cancel(); <-done })
	re := regexp.MustCompile(`open at (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("run: %v", err)
		default:
		}
	}
	t.Fatal("the shop did not start")
	return ""
}

// TestSimulatorModeIsLocal: with no address given, a shop in simulator mode
// listens on loopback only, and its simulator does not accept the old,
// documented default credentials.
func TestSimulatorModeIsLocal(t *testing.T) {
	base := runShop(t, map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "shop.db"), "LOG_LEVEL": "warn", "PORT": "0"})
	u, _ := url.Parse(base)
	if u.Hostname() != "localhost" {
		t.Errorf("printed URL %s", base)
	}
	resp, err := http.Get("http://127.0.0.1:" + u.Port() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	addrs, _ := net.InterfaceAddrs()
	tried := 0
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), u.Port()), time.Second); err == nil {
			conn.Close()
			t.Errorf("simulator mode answers on %s", ipn.IP)
		}
	}
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort("::1", u.Port()), time.Second); err == nil {
		conn.Close()
		t.Errorf("simulator mode answers on [::1] without being asked to")
	}
	t.Logf("checked %d non-loopback addresses", tried)

	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+u.Port()+"/klarna-sim/payments/v1/sessions/x", nil)
	req.SetBasicAuth("sim_merchant", "sim_password")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the simulator accepted the public default credentials: %d", resp.StatusCode)
	}
}

// TestRunPurgesExpiredCheckouts: the shop deletes, at start and then
// hourly, checkouts that can no longer become orders, so that replayed
// checkout pages do not pile up rows forever; orders stay.
func TestRunPurgesExpiredCheckouts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := store.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-72 * time.Hour)
	for _, c := range []struct {
		id    string
		state store.State
	}{{"KS-STALE", store.StateOpen}, {"KS-ORDER", store.StatePlaced}} {
		err := db.CreateCheckout(t.Context(), &store.Checkout{ID: c.id, SessionID: "s-" + c.id, Categories: "[]", Market: "GB", Locale: "en-GB", Currency: "GBP",
			Cart: "oak-board:1", SessionPayload: "{}", CallbackSecret: "x", State: c.state, CreatedAt: old, UpdatedAt: old, SessionExpiresAt: old.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	runShop(t, map[string]string{"DATABASE_URL": "sqlite:" + path, "LOG_LEVEL": "warn"}, "-addr", "127.0.0.1:0")
	db, err = store.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := db.Checkout(t.Context(), "KS-STALE"); errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an open checkout whose session expired a day ago was not purged")
		}
	}
	if _, err := db.Checkout(t.Context(), "KS-ORDER"); err != nil {
		t.Errorf("the order was purged: %v", err)
	}
}

// TestLocalHosts: in simulator mode the shop answers to the loopback names
// on its port, and to an address the operator explicitly listens on.
func TestLocalHosts(t *testing.T) {
	loop := []string{"localhost:8080", "127.0.0.1:8080", "[::1]:8080"}
	if got := localHosts("127.0.0.1:8080", false, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}); !slices.Equal(got, loop) {
		t.Errorf("default: %v", got)
	}
	got := localHosts("demo.lan:8080", true, &net.TCPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 8080})
	if !slices.Contains(got, "demo.lan:8080") || !slices.Contains(got, "192.0.2.2:8080") || !slices.Contains(got, "localhost:8080") {
		t.Errorf("explicit address: %v", got)
	}
	got = localHosts("0.0.0.0:8080", true, &net.TCPAddr{IP: net.IPv4zero, Port: 8080})
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !slices.Contains(got, net.JoinHostPort(ipn.IP.String(), "8080")) {
			t.Errorf("0.0.0.0 lacks the interface address %s: %v", ipn.IP, got)
		}
	}
	if got := simulatorOrigins("https://shop.example/", loop); !slices.Equal(got, []string{"https://shop.example", "http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"}) {
		t.Errorf("simulator origins: %v", got)
	}
}
