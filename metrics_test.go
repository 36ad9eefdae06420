package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/internal/shopclient"
)

// TestMetrics scrapes /metrics on METRICS_ADDR after one checkout: the
// checkout, Klarna and HTTP series are there, and the public listener does
// not serve them.
func TestMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	env := map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/shop.db", "METRICS_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn", "KLARNA_SIM_CALLBACK_DELAY": "1ms"}
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })
	var shopURL, metricsURL string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && shopURL == ""; time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`open at (http://\S+)`).FindStringSubmatch(stdout.String()); m != nil {
			shopURL = m[1]
		}
	}
	if m := regexp.MustCompile(`metrics: (http://\S+)`).FindStringSubmatch(stdout.String()); m != nil {
		metricsURL = m[1]
	}
	if shopURL == "" || metricsURL == "" {
		t.Fatalf("start-up output: %s", stdout.String())
	}
	c := shopclient.New(nil, 10*time.Second)
	if status, err := c.Buy(shopURL, "oak-board"); err != nil || status != "placed" {
		t.Fatalf("checkout: %q %v", status, err)
	}
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`shop_checkouts_total{detail="GB",event="begun"} 1`,
		`shop_checkouts_total{detail="placed",event="placed"} 1`,
		`shop_klarna_calls_total{operation="create_session",outcome="ok"} 1`,
		`shop_klarna_calls_total{operation="create_order",outcome="ok"} 1`,
		`shop_klarna_call_duration_seconds_count{operation="create_order"} 1`,
		`shop_http_requests_total{method="POST",route="/checkout/place",status="200"} 1`,
		`shop_http_request_duration_seconds_count{method="GET",route="/checkout"}`,
		`shop_placements_in_flight 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), "KS-") {
		t.Error("an order reference made it into a label")
	}
	resp, err = http.Get(shopURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the public listener serves /metrics: %d", resp.StatusCode)
	}
}
