package main

import (
	"context"
	"io"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fikaandform/storefront/internal/reconcile"
	"github.com/fikaandform/storefront/internal/shopclient"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/store/storetest"
)

// instance is one running shop started with run().
type instance struct {
	URL string
	// Listen is the address the process listens on, as a URL; it differs
	// from URL when BASE_URL names a proxy.
	Listen string
	stop   context.CancelFunc
	done   chan error
}

func start(t *testing.T, env map[string]string) *instance {
	t.Helper()
	return startWithLogs(t, env, io.Discard)
}

// startWithLogs is start, with the shop's logs written to logs.
func startWithLogs(t *testing.T, env map[string]string, logs io.Writer) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, logs)
	}()
	re := regexp.MustCompile(`open at (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			inst := &instance{URL: m[1], stop: cancel, done: done}
			if l := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(stdout.String()); l != nil {
				inst.Listen = "http://" + l[1]
			}
			t.Cleanup(func() { cancel(); <-done })
			return inst
		}
		select {
		case err := <-done:
			t.Fatalf("run: %v", err)
		default:
		}
	}
	t.Fatal("instance did not start")
	return nil
}

// browserless is a shopper without JavaScript that fails the test when the
// shop cannot be reached.
type browserless struct {
	t *testing.T
	c *shopclient.Client
}

func newBrowserless(t *testing.T) *browserless {
	return &browserless{t: t, c: shopclient.New(nil, 30*time.Second)}
}

func (b *browserless) get(u string) string {
	body, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	return body
}

func (b *browserless) add(base, product string) {
	if err := b.c.Add(base, product); err != nil {
		b.t.Fatal(err)
	}
}

// place may run on another goroutine, so it reports with Errorf.
func (b *browserless) place(base, token string) (int, map[string]string) {
	status, out, err := b.c.Place(base, token)
	if err != nil {
		b.t.Errorf("placing: %v", err)
	}
	return status, out
}

// TestTwoInstancesOnePostgres runs two shops on one PostgreSQL database with
// the same SESSION_SECRET. The shopper's cart and checkout are on instance A;
// Klarna's authorization callback goes to instance B; the browser's post
// then arrives at A. Exactly one order results.
func TestTwoInstancesOnePostgres(t *testing.T) {
	schema := storetest.NewPostgresSchema(t)
	if schema == "" {
		t.Skip("no PostgreSQL")
	}
	sim, klarnaURL := simtest.Start(t, simulator.Config{CallbackBackoff: 50 * time.Millisecond})
	env := map[string]string{
		"DATABASE_URL": storetest.PostgresSchemaURL(schema), "KLARNA_API_URL": klarnaURL, "LOG_LEVEL": "warn",
		"SESSION_SECRET": "shared-secret-0123456789abcdef-0123456789abcdef",
	}
	b := start(t, env)
	envA := map[string]string{}
	for k, v := range env {
		envA[k] = v
	}
	envA["BASE_URL"] = b.URL // Klarna's callbacks reach instance B
	a := start(t, envA)

	shopper := newBrowserless(t)
	shopper.get(a.URL + "/")
	shopper.add(a.URL, "wool-throw")
	shopper.get(b.URL + "/checkout") // the same cookie works on B
	st := sim.Snapshot()
	if len(st.Sessions) != 1 {
		t.Fatalf("sessions at Klarna: %d", len(st.Sessions))
	}
	auth, err := sim.Authorize(st.Sessions[0].ID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	// Wait for Klarna's callback to B to have placed the order.
	for deadline := time.Now().Add(10 * time.Second); sim.Count(simulator.OpCreateOrder) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	calls := sim.Callbacks()
	if len(calls) == 0 || calls[0].Status != 200 || !strings.HasPrefix(calls[0].URL, b.URL+"/klarna/authorization") {
		t.Fatalf("Klarna's callback did not reach instance B: %+v", calls)
	}
	status, out := shopper.place(a.URL, auth.AuthorizationToken)
	if status != 200 || out["status"] != "placed" {
		t.Fatalf("browser post on A: %d %v", status, out)
	}
	if n := sim.Count(simulator.OpCreateOrder); n != 1 {
		t.Errorf("create order called %d times", n)
	}
	if n := len(sim.Snapshot().Orders); n != 1 {
		t.Errorf("%d orders at Klarna", n)
	}
	reconciled(t, storetest.PostgresSchemaURL(schema), sim)
}

// reconciled compares the orders in a shop's database with Klarna's, by
// content.
func reconciled(t *testing.T, databaseURL string, sim *simulator.Simulator) reconcile.Report {
	t.Helper()
	var db store.Store
	var err error
	if path, ok := strings.CutPrefix(databaseURL, "sqlite:"); ok {
		db, err = store.OpenSQLite(t.Context(), path)
	} else {
		db, err = store.OpenPostgres(t.Context(), databaseURL)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orders, err := db.Orders(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	local, err := reconcile.Local(orders)
	if err != nil {
		t.Fatal(err)
	}
	r := reconcile.Compare(local, reconcile.FromSimulator(sim.Orders()))
	if !r.OK() {
		t.Errorf("reconciliation: %s", r)
	}
	return r
}

// TestDecisionWhileTheShopIsDown: an order awaits Klarna's fraud review;
// the shop goes down, Klarna decides and its notifications find nobody;
// the shop comes back and, within the bounded wait, asks Klarna and records
// the decision.
func TestDecisionWhileTheShopIsDown(t *testing.T) {
	for _, decision := range []string{"accept", "reject"} {
		t.Run(decision, func(t *testing.T) {
			sim, klarnaURL := simtest.Start(t, simulator.Config{CallbackAttempts: 2, CallbackBackoff: 20 * time.Millisecond})
			dbURL := "sqlite:" + t.TempDir() + "/shop.db"
			env := map[string]string{"DATABASE_URL": dbURL, "KLARNA_API_URL": klarnaURL, "LOG_LEVEL": "warn",
				"SESSION_SECRET": "down-secret-0123456789abcdef-0123456789abcdef", "REVIEW_CHECK_AFTER": "1s", "RECOVERY_INTERVAL": "200ms"}
			first := start(t, env)
			shopper := newBrowserless(t)
			shopper.get(first.URL + "/")
			shopper.add(first.URL, "oak-board")
			shopper.get(first.URL + "/checkout")
			auth, _ := sim.Authorize(sim.Snapshot().Sessions[0].ID, "pay_later", simulator.OutcomePending)
			if _, out := shopper.place(first.URL, auth.AuthorizationToken); out["status"] != "placed" {
				t.Fatalf("place: %v", out)
			}
			orderID := sim.Snapshot().Orders[0].ID
			first.stop()
			<-first.done
			first.done <- nil // for the cleanup
			if err := sim.Decide(orderID, decision); err != nil {
				t.Fatal(err)
			}
			if !storetest.Eventually(5*time.Second, func() bool { return len(sim.Callbacks()) >= 2 }) {
				t.Fatal("Klarna did not try to notify")
			}
			for _, c := range sim.Callbacks() {
				if c.Kind == "notification" && c.Status == 200 {
					t.Fatal("the notification reached a shop that was down")
				}
			}
			start(t, env)
			db, err := store.OpenSQLite(t.Context(), strings.TrimPrefix(dbURL, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			want := map[string]store.State{"accept": store.StatePlaced, "reject": store.StateRejected}[decision]
			ok := storetest.Eventually(10*time.Second, func() bool {
				orders, err := db.Orders(t.Context(), 10)
				return err == nil && len(orders) == 1 && orders[0].State == want
			})
			if !ok {
				t.Fatalf("the order did not end %s after the shop came back", want)
			}
		})
	}
}

// TestShutdownDrainsPlacement stops the shop (as SIGTERM does) while an
// order placement waits on a slow Klarna: the request still completes with
// the order, and run returns.
func TestShutdownDrainsPlacement(t *testing.T) {
	sim, klarnaURL := simtest.Start(t, simulator.Config{DisableCallbacks: true})
	inst := start(t, map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/shop.db", "KLARNA_API_URL": klarnaURL, "LOG_LEVEL": "warn"})
	shopper := newBrowserless(t)
	shopper.get(inst.URL + "/")
	shopper.add(inst.URL, "brass-pen")
	shopper.get(inst.URL + "/checkout")
	auth, _ := sim.Authorize(sim.Snapshot().Sessions[0].ID, "pay_later", simulator.OutcomeApprove)
	sim.InjectFault(simulator.Fault{Operation: simulator.OpCreateOrder, Kind: simulator.FaultLatency, Latency: time.Second, Times: 1})
	result := make(chan map[string]string, 1)
	go func() { _, out := shopper.place(inst.URL, auth.AuthorizationToken); result <- out }()
	time.Sleep(300 * time.Millisecond) // the placement is now waiting on Klarna
	inst.stop()
	out := <-result
	if out["status"] != "placed" {
		t.Errorf("in-flight placement during shutdown: %v", out)
	}
	select {
	case err := <-inst.done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
		inst.done <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown did not finish")
	}
}

// TestDeploymentLayout runs the layout of deploy/compose.yaml without
// containers: two shop processes on one PostgreSQL behind a round-robin
// reverse proxy, and one Klarna (a standalone simulator) whose callbacks
// come back through the proxy. Twenty shoppers pay at once; every order is
// placed once and matches Klarna's, line for line.
func TestDeploymentLayout(t *testing.T) {
	schema := storetest.NewPostgresSchema(t)
	if schema == "" {
		t.Skip("no PostgreSQL")
	}
	sim, klarnaURL := simtest.Start(t, simulator.Config{CallbackDelay: 5 * time.Millisecond, CallbackBackoff: 20 * time.Millisecond})
	var backends []*url.URL
	var next atomic.Int64
	simTarget := mustParse(t, klarnaURL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		if rest, ok := strings.CutPrefix(r.In.URL.Path, "/klarna-sim/"); ok {
			// The Caddyfile's handle_path: browsers reach the simulator
			// through the proxy, the shops directly.
			r.SetURL(simTarget)
			r.Out.URL.Path, r.Out.URL.RawPath = "/"+rest, ""
			return
		}
		r.SetURL(backends[next.Add(1)%int64(len(backends))])
		r.Out.Host = r.In.Host // the shops answer only to their public host
		r.SetXForwarded()
	}})
	t.Cleanup(proxy.Close)
	env := map[string]string{
		"DATABASE_URL": storetest.PostgresSchemaURL(schema), "KLARNA_API_URL": klarnaURL, "LOG_LEVEL": "warn", "BASE_URL": proxy.URL,
		"SESSION_SECRET": "deploy-secret-0123456789abcdef-0123456789abcdef", "TRUST_PROXY": "true", "RATE_LIMITS": "off",
		"KLARNA_SIM_PUBLIC_URL": proxy.URL + "/klarna-sim",
	}
	for range 2 {
		inst := start(t, env)
		// start reports BASE_URL; the process itself listens elsewhere.
		backends = append(backends, mustParse(t, inst.Listen))
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			shopper := newBrowserless(t)
			shopper.get(proxy.URL + "/")
			shopper.add(proxy.URL, []string{"wool-throw", "oak-board", "brass-pen"}[i%3])
			page := shopper.get(proxy.URL + "/checkout")
			widget := proxy.URL + "/klarna-sim/kp/lib/v1/api.js"
			if !strings.Contains(page, `src="`+widget+`"`) {
				t.Errorf("shopper %d: the checkout does not load the widget from %s", i, widget)
			} else if js := shopper.get(widget); !strings.Contains(js, "Klarna") {
				t.Errorf("shopper %d: the widget through the proxy: %.80q", i, js)
			}
			ref := regexp.MustCompile(`<small>(KS-[A-Z0-9]+)</small>`).FindStringSubmatch(page)
			if ref == nil {
				t.Errorf("shopper %d: no checkout", i)
				return
			}
			var sid string
			for _, s := range sim.Snapshot().Sessions {
				if strings.Contains(string(s.Data), ref[1]) {
					sid = s.ID
				}
			}
			auth, err := sim.Authorize(sid, "pay_later", simulator.OutcomeApprove)
			if err != nil {
				t.Errorf("shopper %d: %v", i, err)
				return
			}
			if status, out := shopper.place(proxy.URL, auth.AuthorizationToken); status != 200 || (out["status"] != "placed" && out["status"] != "in_progress") {
				t.Errorf("shopper %d: %d %v", i, status, out)
			}
		})
	}
	wg.Wait()
	storetest.Eventually(5*time.Second, func() bool { return len(sim.Orders()) == 20 })
	if r := reconciled(t, storetest.PostgresSchemaURL(schema), sim); r.Local != 20 || r.Klarna != 20 {
		t.Errorf("orders: %s", r)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
