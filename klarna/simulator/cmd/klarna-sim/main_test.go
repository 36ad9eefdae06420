package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
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

// TestStandaloneIsLocalUnlessProtected: on an address other machines can
// reach, the standalone simulator needs credentials; it answers only to its
// own host names and the ones -hosts adds.
func TestStandaloneIsLocalUnlessProtected(t *testing.T) {
	if err := run(t.Context(), []string{"-addr", "0.0.0.0:0"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "-username") {
		t.Errorf("public address without credentials: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-hosts", " klarna-sim:8090 ,"}, &out, io.Discard)
	}()
	defer func() { cancel(); <-done }()
	re := regexp.MustCompile(`API base URL: (http://\S+)`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatal("did not start")
	}
	for host, want := range map[string]int{"": 200, "evil.example": 421, "localhost" + base[strings.LastIndex(base, ":"):]: 200,
		"klarna-sim:8090": 200, "KLARNA-SIM:8090": 200, "klarna-sim:8091": 421} {
		req, _ := http.NewRequest("GET", base+"/_sim/state", nil)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// TestRegionalCredentials: a regional host takes its own -<region>-username
// and -password; the others, and the root, take -username and -password.
func TestRegionalCredentials(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-username", "root", "-password", "rootpw", "-na-username", "na", "-na-password", "napw"}, &out, io.Discard)
	}()
	defer func() { cancel(); <-done }()
	re := regexp.MustCompile(`API base URL: (http://\S+)`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" || !strings.Contains(out.String(), "na "+base+"/na") {
		t.Fatalf("did not start, or no regional hosts printed:\n%s", out.String())
	}
	for _, tc := range []struct {
		prefix, user, pass string
		want               int
	}{
		{"/na", "na", "napw", 404}, {"/na", "root", "rootpw", 401}, {"/eu", "root", "rootpw", 404}, {"/eu", "na", "napw", 401}, {"", "root", "rootpw", 404},
	} {
		req, _ := http.NewRequest("GET", base+tc.prefix+"/payments/v1/sessions/unknown", nil)
		req.SetBasicAuth(tc.user, tc.pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s as %s: %d, want %d", tc.prefix, tc.user, resp.StatusCode, tc.want)
		}
	}
}
