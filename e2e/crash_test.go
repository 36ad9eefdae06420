package e2e

import (
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/internal/reconcile"
	"github.com/fikaandform/storefront/internal/shopclient"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
	"github.com/fikaandform/storefront/store"
)

// TestCrashDuringPlacement kills the shop (SIGKILL) at each step of an order
// placement, restarts it on the same database, and checks that it converges:
// the authorized checkout ends as exactly one local order matching exactly
// one Klarna order. Klarna is a simulator outside the shop's process, so it
// survives the crash like the real one.
func TestCrashDuringPlacement(t *testing.T) {
	for _, tc := range []struct {
		step   string
		refuse bool // Klarna refuses to repeat create order for a spent token
	}{{"received", false}, {"placing", false}, {"ordered", false}, {"ordered", true}, {"recorded", false}} {
		step := tc.step
		name := step
		if tc.refuse {
			name += "/klarna-refuses-replay"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim, simURL := simtest.Start(t, simulator.Config{DisableCallbacks: true, ReplayOrders: !tc.refuse})

			dir, addr := t.TempDir(), freeAddr(t)
			// A short lease, so that the restarted shop may take the placement
			// over within the test's patience (60 s in production).
			lease := []string{"KLARNA_API_URL=" + simURL, "PLACEMENT_LEASE=2s", "RECOVERY_INTERVAL=200ms"}
			a, cmd := launch(t, dir, addr, append(lease, "STOREFRONT_TEST_CRASH_AT="+step)...)
			c := newClient(t, a.URL)
			c.add("pour-over-kettle")
			page := c.get("/checkout")
			ref := regexp.MustCompile(`<small>(KS-[A-Z0-9]+)</small>`).FindStringSubmatch(page)
			if ref == nil {
				t.Fatal("no checkout reference on the page")
			}
			sess := sim.Snapshot().Sessions[0].ID
			auth, err := sim.Authorize(sess, "pay_later", simulator.OutcomeApprove)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.placeOnce(auth.AuthorizationToken); err == nil {
				t.Fatal("the shop answered although it should have crashed")
			}
			select {
			case <-a.exited:
			case <-time.After(10 * time.Second):
				t.Fatal("the shop did not die")
			}
			if cmd.ProcessState.ExitCode() != -1 {
				t.Fatalf("exit: %v, want killed by a signal", cmd.ProcessState)
			}

			// Restart on the same database; Recover runs at start.
			a2, _ := launch(t, dir, addr, lease...)
			c.base = a2.URL
			if step == "received" {
				// Nothing was stored: the shopper's browser (or Klarna's
				// callback) delivers the token again.
				if status, err := c.placeOnce(auth.AuthorizationToken); err != nil || status != "placed" {
					t.Fatalf("re-post: %q %v", status, err)
				}
			}
			var state string
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				body := c.get("/confirmation/" + ref[1])
				if m := regexp.MustCompile(`data-state="(\w+)"`).FindStringSubmatch(body); m != nil {
					state = m[1]
				}
				if state == "placed" {
					break
				}
			}
			orders := sim.Snapshot().Orders
			body := c.get("/confirmation/" + ref[1])
			if state != "placed" || len(orders) != 1 || (!tc.refuse && !strings.Contains(body, orders[0].ID)) {
				t.Fatalf("after restart: state %q, Klarna orders %d", state, len(orders))
			}
			if sim.Count(simulator.OpCreateOrder) > 2 {
				t.Errorf("create order called %d times", sim.Count(simulator.OpCreateOrder))
			}
			// Content, not counts: the order the shop recorded is Klarna's.
			db, err := store.OpenSQLite(t.Context(), filepath.Join(dir, "shop.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			mine, err := db.Orders(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			local, err := reconcile.Local(mine)
			if err != nil {
				t.Fatal(err)
			}
			if r := reconcile.Compare(local, reconcile.FromSimulator(sim.Orders())); !r.OK() || r.Local != 1 {
				t.Errorf("reconciliation: %s", r)
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// client is a browser without JavaScript on one shop address.
type client struct {
	t    *testing.T
	base string
	c    *shopclient.Client
}

func newClient(t *testing.T, base string) *client {
	c := &client{t: t, base: base, c: shopclient.New(nil, 15*time.Second)}
	c.get("/")
	return c
}

func (c *client) get(path string) string {
	c.t.Helper()
	body, err := c.c.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	return body
}

func (c *client) add(product string) {
	c.t.Helper()
	if err := c.c.Add(c.base, product); err != nil {
		c.t.Fatal(err)
	}
}

// placeOnce posts the authorization token as the checkout script does; an
// error means the shop did not answer.
func (c *client) placeOnce(token string) (string, error) {
	_, out, err := c.c.Place(c.base, token)
	return out["status"], err
}
