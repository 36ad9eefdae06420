package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBuyerKeepsTheCookieAndToken: the buyer sends back exactly the session
// cookie the shop set (securecookie values end in '=' padding), follows a
// 303 with GET, and picks up the CSRF token of the page it lands on.
func TestBuyerKeepsTheCookieAndToken(t *testing.T) {
	const val = "MTc2NDI0MzM5M3xBQUFBfGFiYz0=" // base64 with padding
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" cookie="+r.Header.Get("Cookie")+" csrf="+r.Header.Get("X-CSRF-Token"))
		switch r.URL.Path {
		case "/add":
			http.SetCookie(w, &http.Cookie{Name: "fika", Value: val, Path: "/", MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
			http.Redirect(w, r, "/cart", http.StatusSeeOther)
		case "/cart":
			fmt.Fprint(w, `<input type="hidden" name="csrf" value="abc123">`)
		default:
			fmt.Fprint(w, `{}`)
		}
	}))
	defer srv.Close()
	b := newBuyer(srv.URL, "", 4)
	var v visit
	if _, err := b.do(&v, "POST", srv.URL+"/add", "application/x-www-form-urlencoded", []byte("a=1"), 200); err != nil {
		t.Fatal(err)
	}
	if _, err := b.do(&v, "POST", srv.URL+"/place", "application/json", []byte(`{}`), 200); err != nil {
		t.Fatal(err)
	}
	want := []string{"POST /add cookie= csrf=", "GET /cart cookie=fika=" + val + " csrf=", "POST /place cookie=fika=" + val + " csrf=abc123"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestBuyerReadsLargeHeaders: a response whose headers pass fasthttp's
// default 4 KiB (a full 4 KB session cookie beside the security headers)
// is read as a browser would read it, not failed.
func TestBuyerReadsLargeHeaders(t *testing.T) {
	cookie := strings.Repeat("A", 4000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", strings.Repeat("default-src 'self'; ", 60))
		http.SetCookie(w, &http.Cookie{Name: "fika", Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		fmt.Fprint(w, `<input type="hidden" name="csrf" value="abc123">`)
	}))
	defer srv.Close()
	b := newBuyer(srv.URL, "", 1)
	var v visit
	if _, err := b.do(&v, "GET", srv.URL+"/", "", nil, 200); err != nil {
		t.Fatal(err)
	}
	if v.cookie != "fika="+cookie || v.csrf != "abc123" {
		t.Errorf("kept cookie of %d bytes and token %q", len(v.cookie), v.csrf)
	}
}
