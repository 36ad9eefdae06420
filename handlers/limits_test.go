package handlers

import (
	"fmt"
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an address":       "not an address",
		"2001:db8:1:3:3:4:5:6": "2001:db8:1:3::/64",
	} {
		if got := clientKey(ip); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", ip, got, want)
		}
	}
}

// TestLoginGuardGlobalLimit: many clients together cannot exceed the
// shop-wide allowance of failed logins, and allowances come back with time.
func TestLoginGuardGlobalLimit(t *testing.T) {
	t.Parallel()
	g := newLoginGuard(LoginLimits{PerClient: 1, PerClientBurst: 3, Global: 0.5, GlobalBurst: 10})
	now := time.Now()
	for i := range 10 {
		key := fmt.Sprintf("198.51.100.%d", i)
		if g.retryAfter(key, now) != 0 {
			t.Fatalf("client %d throttled before the global limit", i)
		}
		g.failed(key, now)
	}
	if w := g.retryAfter("203.0.113.1", now); w <= 0 || w > 2*time.Second {
		t.Errorf("a fresh client after the shop-wide limit: wait %v", w)
	}
	if g.retryAfter("203.0.113.1", now.Add(3*time.Second)) != 0 {
		t.Error("the shop-wide allowance does not come back")
	}
	for range 3 {
		g.failed("192.0.2.1", now.Add(time.Minute))
	}
	if w := g.retryAfter("192.0.2.1", now.Add(time.Minute)); w <= 0 || w > time.Second {
		t.Errorf("one client after its burst: wait %v", w)
	}
}
