package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/internal/reconcile"
	"github.com/fikaandform/storefront/store"
)

// TestFetchCountsOnlyWholePages: a page view counts when a whole 200
// arrived; a cut-off body, a redirect or another status is an error.
func TestFetchCountsOnlyWholePages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/whole":
			fmt.Fprint(w, strings.Repeat("x", 7000))
		case "/cut":
			// Says 7000 bytes, sends 22, and closes the connection.
			conn, buf, _ := w.(http.Hijacker).Hijack()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 7000\r\nContent-Type: text/html\r\n\r\n" + strings.Repeat("x", 22))
			buf.Flush()
			conn.Close()
		case "/moved":
			http.Redirect(w, r, "/whole", http.StatusFound)
		default:
			http.Error(w, "no", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	c := newClient(2)
	for path, ok := range map[string]bool{"/whole": true, "/cut": false, "/moved": false, "/down": false} {
		err := get(c, srv.URL+path)
		if (err == nil) != ok {
			t.Errorf("GET %s: %v", path, err)
		}
	}
}

func TestOrderKey(t *testing.T) {
	for redirect, want := range map[string]string{
		"http://127.0.0.1:8080/klarna-sim/redirect/7c1a-42": "klarna:7c1a-42",
		"http://127.0.0.1:9000/redirect/7c1a-42":            "klarna:7c1a-42",
		"/confirmation/KS-ABC":                              "ref:KS-ABC",
		"/confirmation/KS-ABC?from=klarna":                  "ref:KS-ABC",
		"/checkout?notice=failed":                           "?/checkout?notice=failed",
		"":                                                  "?",
	} {
		if got := orderKey(redirect); got != want {
			t.Errorf("orderKey(%q) = %q, want %q", redirect, got, want)
		}
	}
}

// TestToldAndBought: an order a shopper was told was placed must be on
// both sides, and each Klarna order must be what the shoppers bought.
func TestToldAndBought(t *testing.T) {
	placed := &placedOrders{}
	placed.add("http://shop/klarna-sim/redirect/k1")
	placed.add("/confirmation/KS-2")
	placed.add("http://shop/klarna-sim/redirect/k3")
	local := []reconcile.Order{{ID: "k1", Reference: "KS-1"}, {ID: "", Reference: "KS-2"}}
	remote := []reconcile.Order{{ID: "k1", Reference: "KS-1"}, {ID: "k2", Reference: "KS-2"}}
	got := strings.Join(told(placed, local, remote), "\n")
	want := "told placed, not in the shop: klarna:k3\ntold placed, not at Klarna: klarna:k3"
	if got != want {
		t.Errorf("problems:\n%s\nwant:\n%s", got, want)
	}

	mug := reconcile.Line{Type: "physical", Reference: "stoneware-mug", Quantity: 1}
	ship := reconcile.Line{Type: "shipping_fee", Reference: "shipping", Quantity: 1}
	for name, tc := range map[string]struct {
		lines []reconcile.Line
		ok    bool
	}{
		"one mug and shipping": {[]reconcile.Line{mug, ship}, true},
		"two mugs":             {[]reconcile.Line{{Type: "physical", Reference: "stoneware-mug", Quantity: 2}}, false},
		"a mug twice":          {[]reconcile.Line{mug, mug}, false},
		"something else":       {[]reconcile.Line{mug, {Type: "physical", Reference: "oak-board", Quantity: 1}}, false},
		"no mug":               {[]reconcile.Line{ship}, false},
	} {
		if p := oneUnitOf(reconcile.Order{ID: "k", Lines: tc.lines}, "stoneware-mug"); (p == "") != tc.ok {
			t.Errorf("%s: %q", name, p)
		}
	}
}

// TestNothingToReconcileIsNotSound: a run without orders reconciles
// nothing, and must not pass for one whose orders all match.
func TestNothingToReconcileIsNotSound(t *testing.T) {
	sim := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"orders":[]}`)
	}))
	defer sim.Close()
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := reconcilePhase(ctx, sim.URL, db, time.Time{}, &placedOrders{}, boughtProduct)
	if err != nil {
		t.Fatal(err)
	}
	if c.ok() || !strings.Contains(c.String(), "no orders to reconcile") {
		t.Errorf("an empty run reconciled as sound: %s", c)
	}
}

// TestCores: the cores a run may use are the CPUs it sees, capped by its
// cgroup's CPU quota (v1 or v2, its own cgroup or any above it).
func TestCores(t *testing.T) {
	write := func(root string, files map[string]string) {
		for name, content := range files {
			path := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, tc := range map[string]struct {
		files map[string]string
		cpus  int
		want  float64
	}{
		"no cgroup file": {map[string]string{}, 4, 4},
		"v2 in a namespace, two cores": {map[string]string{
			"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "200000 100000\n"}, 8, 2},
		"v2, no quota": {map[string]string{
			"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "max 100000\n"}, 2, 2},
		"v2 without a namespace, quota on a parent": {map[string]string{
			"proc/self/cgroup":                         "0::/system.slice/run-1.scope\n",
			"sys/fs/cgroup/system.slice/cpu.max":       "100000 100000\n",
			"sys/fs/cgroup/system.slice/run-1.scope/x": ""}, 2, 1},
		"v1 with a quota": {map[string]string{
			"proc/self/cgroup": "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n",
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us":  "150000\n",
			"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"}, 8, 1.5},
		"v1 without a quota": {map[string]string{
			"proc/self/cgroup":                    "1:cpu:/\n0::/\n",
			"sys/fs/cgroup/cpu/cpu.cfs_quota_us":  "-1\n",
			"sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}, 2, 2},
	} {
		root := t.TempDir()
		write(root, tc.files)
		if got := coresIn(root, tc.cpus); got != tc.want {
			t.Errorf("%s: %v cores, want %v", name, got, tc.want)
		}
	}
}
