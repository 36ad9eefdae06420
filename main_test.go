package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestRun starts the whole shop with a fake environment, waits for it to be
// ready, buys nothing, and shuts it down.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "shop.db"), "LOG_LEVEL": "warn"}[k]
	}
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, getenv, &stdout, &stderr) }()

	var base string
	re := regexp.MustCompile(`open at (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no URL printed; stderr: %s", stderr.String())
	}
	for _, p := range []string{"/healthz", "/readyz", "/", "/klarna-sim/kp/lib/v1/api.js"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	if !strings.Contains(stdout.String(), "Klarna simulator") {
		t.Errorf("mode not printed: %s", stdout.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no graceful shutdown")
	}
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"KLARNA_ENV": "production", "KLARNA_USERNAME": "changeme"}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "configuration problems") {
		t.Errorf("err = %v", err)
	}
}
