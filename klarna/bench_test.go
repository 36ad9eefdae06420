package klarna

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchServer answers create-session like Klarna, in process.
func benchServer(b *testing.B) *httptest.Server {
	body := []byte(fixture("merchant_session"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Klarna-Correlation-Id", "c")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkCreateSession measures one create-session round trip through the
// client. Compare with BenchmarkCreateSessionBaseline: the client's extra
// work (metadata, error handling, retry bookkeeping) should stay small.
func BenchmarkCreateSession(b *testing.B) {
	srv := benchServer(b)
	c, err := NewClient(WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: defaultTransport}))
	if err != nil {
		b.Fatal(err)
	}
	req := sampleSession()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.CreateSession(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateSessionBaseline does the same request by hand with
// net/http and encoding/json: the floor the client is measured against.
func BenchmarkCreateSessionBaseline(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{Transport: defaultTransport}
	req := sampleSession()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		payload, err := json.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/payments/v1/sessions", bytes.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		hr.SetBasicAuth("u", "p")
		hr.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(hr)
		if err != nil {
			b.Fatal(err)
		}
		var out MerchantSession
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(fmt.Errorf("status %d: %v", resp.StatusCode, err))
		}
	}
}
