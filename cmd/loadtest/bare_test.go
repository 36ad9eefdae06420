package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestBareServesThePageAndTheShopsHeaders: the bare handler serves each
// page's bytes, framed with their length, and the catalog once more with
// the response headers the shop sent, every value as the shop sent it.
func TestBareServesThePageAndTheShopsHeaders(t *testing.T) {
	dir := t.TempDir()
	body := []byte("<!DOCTYPE html><p>catalog</p>")
	page, headers := filepath.Join(dir, "catalog.html"), filepath.Join(dir, "catalog.headers")
	if err := os.WriteFile(page, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(headers, []byte("Content-Type: text/html; charset=UTF-8\nVary: Accept-Language\nVary: Cookie\nX-Frame-Options: DENY"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr()
	go serveBare(addr, "catalog="+page, "catalog="+headers)
	waitUp("http://" + addr + "/catalog")
	for _, path := range []string{"/catalog", "/catalog-headers"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != string(body) || resp.ContentLength != int64(len(body)) {
			t.Errorf("%s: %d, %d bytes framed as %d", path, resp.StatusCode, len(got), resp.ContentLength)
		}
		if path == "/catalog-headers" {
			if v := resp.Header.Values("Vary"); !slices.Equal(v, []string{"Accept-Language", "Cookie"}) || resp.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("headers: %v", resp.Header)
			}
		}
	}
}

// TestServedPhaseCountsOnlyThePhase: the CPU a phase's setup takes (the
// shoppers filling their carts) is not counted as the phase's.
func TestServedPhaseCountsOnlyThePhase(t *testing.T) {
	burn := func(d time.Duration) {
		for start := time.Now(); time.Since(start) < d; {
		}
	}
	r := servedPhase(os.Getpid(), "idle", 2, 300*time.Millisecond, func(int) any { burn(300 * time.Millisecond); return nil },
		func(any) error { time.Sleep(10 * time.Millisecond); return nil })
	if r.cpuErr != nil || r.requests == 0 {
		t.Fatalf("%d requests, %v", r.requests, r.cpuErr)
	}
	if r.cpu > 200*time.Millisecond {
		t.Errorf("%d sleeping requests took %v of CPU: the setup's 600 ms were counted", r.requests, r.cpu)
	}
}
