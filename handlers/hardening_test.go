package handlers_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// do sends a request to the test shop and returns the status and body.
func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestHostHeaderChecked: a request naming another host (DNS rebinding) is
// refused with 421; the shop's own names, and health checks, pass.
func TestHostHeaderChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	port := strings.TrimPrefix(e.srv.URL[strings.LastIndex(e.srv.URL, ":"):], ":")
	for host, want := range map[string]int{
		"evil.example": 421, "evil.example:" + port: 421, "127.0.0.1:1": 421,
		"127.0.0.1:" + port: 200, "localhost:" + port: 200, "LOCALHOST:" + port: 200, "[::1]:" + port: 200,
	} {
		for _, path := range []string{"/", "/cart", "/admin", "/klarna/authorization?checkout=x&secret=y"} {
			method := http.MethodGet
			if strings.HasPrefix(path, "/klarna/") {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader("{}"))
			req.Host = host
			resp, _ := do(t, req)
			if got := resp.StatusCode; (want == 421) != (got == 421) {
				t.Errorf("%s %s with Host %q: %d", method, path, host, got)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.Host = "10.0.0.7:8080"
		if resp, _ := do(t, req); resp.StatusCode != 200 {
			t.Errorf("%s probed by address: %d", path, resp.StatusCode)
		}
	}
}
