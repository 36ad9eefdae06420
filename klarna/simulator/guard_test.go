package simulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOriginAllowList(t *testing.T) {
	t.Parallel()
	l, err := parseOrigins([]string{"https://shop.example", "http://127.0.0.1:8080", "http://localhost:*", "http://[::1]:9000"})
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{
		"https://shop.example/confirm?o={order.id}":  true,
		"https://SHOP.example:443/x":                 true,
		"http://shop.example/x":                      false,
		"https://shop.example:8443/x":                false,
		"https://shop.example.evil.example/":         false,
		"http://127.0.0.1:8080/klarna/authorization": true,
		"http://127.0.0.1:8081/":                     false,
		"http://localhost:1234/":                     true,
		"http://[0:0::1]:9000/":                      true,
		"http://127.0.0.1:8080@evil.example/":        false,
		"http://user@127.0.0.1:8080/":                false,
		"ftp://shop.example/":                        false,
	} {
		if got := l.allows(u); got != want {
			t.Errorf("%s: %v, want %v", u, got, want)
		}
	}
	def, _ := parseOrigins(nil)
	if !def.allows("http://127.0.0.1:5555/cb") || !def.allows("https://localhost/cb") || def.allows("http://10.0.0.1/cb") {
		t.Error("the default list is not loopback only")
	}
	for _, bad := range []string{"shop.example", "https://shop.example/path", "https://u@shop.example", "gopher://x"} {
		if _, err := parseOrigins([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestRedirectAndCallbacksStayOnTheList: even an order whose URLs got past
// the check (made before the list changed) is neither redirected to nor
// called back outside it.
func TestRedirectAndCallbacksStayOnTheList(t *testing.T) {
	t.Parallel()
	hits := make(chan struct{}, 4)
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits <- struct{}{} }))
	defer outside.Close()
	s, err := New(Config{BaseURL: "http://sim.test", AllowedOrigins: []string{"https://shop.example"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.orders["o-evil"] = &order{ID: "o-evil", Confirmation: "https://evil.example/thanks"}
	s.orders["o-good"] = &order{ID: "o-good", Confirmation: "https://shop.example/thanks"}
	s.mu.Unlock()
	for id, want := range map[string]int{"o-evil": http.StatusForbidden, "o-good": http.StatusFound} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", "/redirect/"+id, nil))
		if w.Code != want || (want == http.StatusForbidden && w.Header().Get("Location") != "") {
			t.Errorf("redirect %s: %d to %q", id, w.Code, w.Header().Get("Location"))
		}
	}
	s.deliverLater(0, "notification", outside.URL+"/cb?secret=0123456789abcdef", []byte(`{}`), "", "o-evil")
	select {
	case <-hits:
		t.Error("a callback went to an origin outside the list")
	case <-time.After(100 * time.Millisecond):
	}
	if c := s.Callbacks(); len(c) != 1 || !strings.Contains(c[0].Error, "allow-list") || strings.Contains(c[0].URL, "0123456789abcdef") {
		t.Errorf("records: %+v", c)
	}
}

// TestInspectorScriptRunsUnderCSP: the inspector's script carries the nonce
// of the policy the embedding server set, or of its own policy.
func TestInspectorScriptRunsUnderCSP(t *testing.T) {
	t.Parallel()
	s, err := New(Config{BaseURL: "http://sim.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := httptest.NewRecorder()
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-abc123'")
	s.ServeHTTP(w, httptest.NewRequest("GET", "/_sim/", nil))
	if !strings.Contains(w.Body.String(), `/_sim/inspector.js" nonce="abc123"`) {
		t.Errorf("the embedding server's nonce is not used:\n%s", w.Body.String())
	}
	w = httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/_sim/", nil))
	csp := w.Header().Get("Content-Security-Policy")
	i := strings.Index(csp, "'nonce-")
	if i < 0 || !strings.Contains(w.Body.String(), `nonce="`+csp[i+7:i+7+32]+`"`) {
		t.Errorf("standalone policy %q", csp)
	}
}
