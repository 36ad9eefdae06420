// Command loadtest measures the shop on this machine, over loopback:
//
//	go run ./cmd/loadtest                 # page views, checkouts, page weight
//	go run ./cmd/loadtest -lighthouse     # plus Lighthouse (npm ci --prefix cmd/loadtest first)
//
// It builds and starts the real shop with its Klarna simulator, and a bare
// Echo handler serving each page's own bytes as the machine's limit, and
// reports throughput, p50/p99 latency, errors, the reconciliation of every
// phase's orders with Klarna's, the shop's peak memory, its start-up time
// and each page's weight. Every loop is bounded in time. It exits non-zero
// when a run is not sound (an error in any phase, an order out of place);
// the throughput targets are printed, met or not.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/internal/shopclient"
	"github.com/fikaandform/storefront/store"
)

func main() {
	bare := flag.String("serve-bare", "", "internal: serve the bare Echo handler on this address")
	bareBody := flag.String("bare-body", "", "internal: name=file,… : the bare handler serves each file's bytes at /name")
	bareHeaders := flag.String("bare-headers", "", "internal: name=file,… : the bare handler also serves /name-headers, the page with these response headers")
	duration := flag.Duration("duration", 10*time.Second, "length of each load phase")
	conns := flag.Int("conns", 64, "concurrent connections for page views")
	checkoutConns := flag.Int("checkout-conns", 32, "concurrent shoppers for checkouts")
	postgres := flag.String("postgres", os.Getenv("TEST_DATABASE_URL"), "PostgreSQL to measure checkouts on as well (empty: SQLite only)")
	lighthouse := flag.Bool("lighthouse", false, "also run Lighthouse on the catalog, product, cart and checkout pages")
	cpuOnly := flag.Bool("cpu-only", false, "measure only the CPU per checkout against the standalone simulator (one phase, for comparing a change back to back)")
	flag.StringVar(&generator, "generator", "fasthttp", "the checkout phases' HTTP client: fasthttp (lighter), or nethttp (internal/shopclient, as the tests drive the shop)")
	flag.StringVar(&profiles, "profiles", "", "write CPU profiles to this directory: pages.pprof (the shop, catalog page with a cart), checkout.pprof (the shop, checkouts with its built-in simulator), "+
		"checkout-shop.pprof, checkout-sim.pprof and checkout-generator.pprof (each process, checkouts against the standalone simulator)")
	flag.Parse()
	if profiles != "" {
		if err := os.MkdirAll(profiles, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
			os.Exit(1)
		}
	}
	if *bare != "" {
		serveBare(*bare, *bareBody, *bareHeaders)
		return
	}
	if err := run(*duration, *conns, *checkoutConns, *postgres, *lighthouse, *cpuOnly); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// serveBare is the baseline: Echo answering with each page's own bytes
// (read once from a file) at /<name>, and nothing else: what the machine
// can do with the same body through the same router, framed as the shop
// frames its pages (with their length, not chunked). Only the body is the
// page's: the bare handler sends 3 headers where the shop sends a dozen
// (its security headers, caching, Vary), and gets no cookie.
func serveBare(addr, bodies, headers string) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	pages := map[string][]byte{}
	for spec := range strings.SplitSeq(bodies, ",") {
		name, file, _ := strings.Cut(spec, "=")
		body, err := os.ReadFile(file)
		if err != nil {
			panic(err)
		}
		pages[name] = body
		length := strconv.Itoa(len(body))
		e.GET("/"+name, func(c echo.Context) error {
			c.Response().Header().Set(echo.HeaderContentLength, length)
			return c.HTMLBlob(http.StatusOK, body)
		})
	}
	// A page with the shop's own response headers too, set as the shop
	// sets its fixed ones (one shared slice each): the same bytes on the
	// wire but the date.
	for spec := range strings.SplitSeq(headers, ",") {
		if spec == "" {
			continue
		}
		name, file, _ := strings.Cut(spec, "=")
		raw, err := os.ReadFile(file)
		if err != nil {
			panic(err)
		}
		fixed := http.Header{}
		for line := range strings.SplitSeq(strings.TrimSpace(string(raw)), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			fixed[k] = append(fixed[k], v)
		}
		body := pages[name]
		fixed.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
		e.GET("/"+name+"-headers", func(c echo.Context) error {
			hd := c.Response().Header()
			for k, v := range fixed {
				hd[k] = v[:len(v):len(v)]
			}
			c.Response().WriteHeader(http.StatusOK)
			_, err := c.Response().Write(body)
			return err
		})
	}
	e.Start(addr)
}

type result struct {
	name      string
	requests  int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration
	// cpu is the serving process's CPU time during the phase (user and
	// system, from /proc), for the page phases; cpuErr if it could not
	// be read.
	cpu    time.Duration
	cpuErr error
}

// cpuMicros is the serving process's CPU time per answered request, in
// microseconds (0 when it was not measured).
func (r *result) cpuMicros() float64 {
	if r.requests == 0 {
		return 0
	}
	return float64(r.cpu.Microseconds()) / float64(r.requests)
}

// cpuPerRequest is cpuMicros for the table, or "" when it was not
// measured.
func (r *result) cpuPerRequest() string {
	if r.cpuMicros() == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f µs", r.cpuMicros())
}

// cpuAgainst compares r's server CPU per request with the mean of bares'.
func cpuAgainst(r *result, bares ...*result) string {
	sum := 0.0
	for _, b := range bares {
		sum += b.cpuMicros()
	}
	mean := sum / float64(len(bares))
	if mean == 0 || r.cpuMicros() == 0 {
		return "not measured"
	}
	return fmt.Sprintf("%.1f µs vs %.1f µs (%.2f×)", r.cpuMicros(), mean, r.cpuMicros()/mean)
}

// servedPhase sets n connections up, then runs a phase on them and records
// what it cost the process pid that served it. Unlike throughput, which
// moves with everything else on the machine (the generator, the other
// process), this is the server's own work per request. The setup
// (shoppers filling their carts) comes before the CPU is read: only the
// phase's own requests are counted.
func servedPhase(pid int, name string, n int, d time.Duration, setup func(worker int) any, fn func(state any) error) *result {
	states := prepare(n, setup)
	before, err := cpuTimes([]int{pid})
	r := hammerWith(name, states, d, fn)
	if err == nil {
		var after []time.Duration
		if after, err = cpuTimes([]int{pid}); err == nil {
			r.cpu = after[0] - before[0]
		}
	}
	r.cpuErr = err
	return r
}

func (r *result) throughput() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r *result) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newClient is the page views' client. It follows no redirect: a page
// view that is redirected is not the page.
func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// hammer runs fn from n workers for d and collects latencies and errors.
// It is closed-loop: each worker sends its next request when the last one
// is answered, so the latencies are those of answered requests at n
// concurrent requests (a stall delays n samples, not all that would have
// arrived meanwhile), and a failed request counts as an error, not a
// latency.
func hammer(name string, n int, d time.Duration, setup func(worker int) any, fn func(state any) error) *result {
	return hammerWith(name, prepare(n, setup), d, fn)
}

// prepare makes each of n connections' state (nil without setup).
func prepare(n int, setup func(worker int) any) []any {
	states := make([]any, n)
	for i := range states {
		if setup != nil {
			states[i] = setup(i)
		}
	}
	return states
}

// hammerWith runs fn on one connection per state for d.
func hammerWith(name string, states []any, d time.Duration, fn func(state any) error) *result {
	n := len(states)
	res := &result{name: name}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := fn(states[i]); err != nil {
					errs++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.requests += len(lat)
			res.errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func get(c *http.Client, u string) error {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return fetch(c, req)
}

// peakRSS is a process's peak resident memory, from /proc.
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return fmt.Sprintf("%.1f MB", float64(kb)/1024)
		}
	}
	return "unknown"
}

// profiles, when set, is the directory the phases' CPU profiles go to.
var profiles string

// profileTo names a profile file in the profiles directory ("" when none
// is asked for).
func profileTo(name string) string {
	if profiles == "" {
		return ""
	}
	return filepath.Join(profiles, name)
}

// simSessions is how many sessions the simulators keep: every order of a
// run must still be there to be reconciled (about a thousand checkouts a
// second for a phase, and the default of 10,000 was reached in 10 s).
const simSessions = 200000

// generator names the checkout phases' HTTP client (see buyer).
var generator string

// callbackDelay is how long after an approval the simulators send Klarna's
// authorization callback: the built-in simulator's default.
const callbackDelay = time.Second

// target is one of the performance goals, beside what was measured.
type target struct {
	name, goal, measured string
	met                  bool
}

// run runs every phase, or with cpuOnly the CPU per checkout alone.
func run(d time.Duration, conns, checkoutConns int, postgres string, lighthouse, cpuOnly bool) error {
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, simBin, err := buildAll(dir)
	if err != nil {
		return err
	}
	if cpuOnly {
		cpu, err := shopCPUPerCheckout(bin, simBin, dir, checkoutConns, d)
		if err != nil {
			return err
		}
		fmt.Printf("reconciled: %s\n", cpu.rec)
		if !cpu.rec.ok() || cpu.errors > 0 {
			return fmt.Errorf("%d checkout errors; reconciled %v", cpu.errors, cpu.rec.ok())
		}
		return nil
	}

	// The shop, with a fresh SQLite database and its built-in simulator.
	dbPath := filepath.Join(dir, "shop.db")
	start := time.Now()
	debugAddr := freeAddr()
	shop, base, err := startShop(bin, dir, "sqlite:"+dbPath, "DEBUG_ADDR="+debugAddr)
	if err != nil {
		return err
	}
	defer shop.Process.Kill()
	readyIn := time.Since(start)

	// Page views. A visitor who only looks has no cookie; a shopper with a
	// three-item cart sends theirs, each worker its own session, checked
	// before it is measured (shopperWithCart). The generator discards the
	// page, so that it spends as little of the machine as against the bare
	// handler, but only after reading it whole (fetch).
	pageClient := newClient(conns)
	var setupErr atomic.Value
	withCart := func(int) any {
		cookie, err := shopperWithCart(base)
		if err != nil {
			setupErr.CompareAndSwap(nil, err.Error())
		}
		return cookie
	}
	anonymous := func(int) any { return "" }
	view := func(path string) func(any) error {
		return func(st any) error {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			if c := st.(string); c != "" {
				req.Header.Set("Cookie", c)
			}
			return fetch(pageClient, req)
		}
	}

	// The machine's limit: a bare Echo handler serving each page's own
	// bytes (as the shopper, or the visitor, gets them), measured in this
	// run just before the page; the catalog's again after the pages, as
	// the machine's speed drifts.
	cookie, err := shopperWithCart(base)
	if err != nil {
		return fmt.Errorf("a shopper with a cart: %w", err)
	}
	pages := []struct{ name, label, path, cookie string }{
		{"catalog", "catalog page", "/", cookie},
		{"visitor", "catalog page without a session", "/", ""},
		{"product", "product page", "/products/pour-over-kettle", cookie},
		{"cart", "cart page", "/cart", cookie},
	}
	var bodies, headerFiles []string
	sizes := map[string]int{}
	for _, pg := range pages {
		b, hd, err := pageFor(base, pg.path, pg.cookie)
		if err != nil {
			return err
		}
		if pg.name == "catalog" {
			var lines []string
			for k, vs := range hd {
				switch k {
				case "Date", "Content-Length", "Set-Cookie":
					continue // net/http's own, the body's, the shopper's
				}
				for _, v := range vs {
					lines = append(lines, k+": "+v)
				}
			}
			file := filepath.Join(dir, "catalog.headers")
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				return err
			}
			headerFiles = append(headerFiles, "catalog="+file)
		}
		file := filepath.Join(dir, pg.name+".html")
		if err := os.WriteFile(file, b, 0o644); err != nil {
			return err
		}
		bodies = append(bodies, pg.name+"="+file)
		sizes[pg.name] = len(b)
	}
	self, _ := os.Executable()
	bareAddr := freeAddr()
	bareCmd := exec.Command(self, "-serve-bare", bareAddr, "-bare-body", strings.Join(bodies, ","), "-bare-headers", strings.Join(headerFiles, ","))
	if err := bareCmd.Start(); err != nil {
		return err
	}
	defer bareCmd.Process.Kill()
	waitUp("http://" + bareAddr + "/catalog")
	client := newClient(conns)
	// bareAt hammers the bare handler's route for the page name.
	bareAt := func(name, route, when string) *result {
		label := map[string]string{"catalog": "the catalog's", "visitor": "the visitor's catalog's", "product": "the product page's", "cart": "the cart page's"}[name]
		return servedPhase(bareCmd.Process.Pid, fmt.Sprintf("bare Echo handler (%s %.1f KB)%s", label, kb(sizes[name]), when), conns, d, nil,
			func(any) error { return get(client, "http://"+bareAddr+route) })
	}
	bareFor := func(name, when string) *result { return bareAt(name, "/"+name, when) }
	page := func(label string, setup func(int) any, path string) *result {
		return servedPhase(shop.Process.Pid, label, conns, d, setup, view(path))
	}

	bare := bareFor("catalog", ", before the pages")
	if f := profileTo("pages.pprof"); f != "" {
		go profile(debugAddr, f, d)
	}
	catalog := page("catalog page, shopper with a cart", withCart, "/")
	bareVisitor := bareFor("visitor", "")
	catalogAnon := page("catalog page, visitor without a session", anonymous, "/")
	bareProduct := bareFor("product", "")
	product := page("product page, shopper with a cart", withCart, "/products/pour-over-kettle")
	bareCart := bareFor("cart", "")
	cart := page("cart page, shopper with a cart", withCart, "/cart")
	bareAfter := bareFor("catalog", ", after the pages")
	bareHeaders := bareAt("catalog", "/catalog-headers", " with the shop's response headers")
	bareCmd.Process.Kill()
	if e, _ := setupErr.Load().(string); e != "" {
		return fmt.Errorf("a page-view shopper's cart: %s", e)
	}

	// Whole checkouts on SQLite, the built-in simulator in the shop's
	// process and the generator on the same two cores.
	if f := profileTo("checkout.pprof"); f != "" {
		go profile(debugAddr, f, d)
	}
	placed := &placedOrders{}
	checkouts, firstErr := checkoutPhase("whole checkout, SQLite", base, "", checkoutConns, d, placed)
	time.Sleep(2 * time.Second) // let Klarna's callbacks finish

	// Order management: operators capture and refund the orders just
	// placed, several at once, some two operators on the same order.
	om, err := manageOrders(base, dbPath, checkoutConns, d)
	if err != nil {
		return err
	}
	peak := peakRSS(shop.Process.Pid)
	// One reconciliation, after order management: content and money.
	sqliteDB, err := store.OpenSQLite(context.Background(), dbPath)
	if err != nil {
		return err
	}
	rec, err := reconcilePhase(context.Background(), base+"/klarna-sim", sqliteDB, time.Time{}, placed, boughtProduct)
	sqliteDB.Close()
	if err != nil {
		return err
	}
	weights, err := pageWeights(base)
	if err != nil {
		return err
	}
	if lighthouse {
		if err := runLighthouse(base); err != nil {
			return err
		}
	}
	shop.Process.Kill()
	shop.Wait()

	// The shop's own CPU per checkout: the same checkouts against a
	// standalone simulator in its own process, and the shop process's CPU
	// time (from /proc) divided by the checkouts it served.
	cpu, err := shopCPUPerCheckout(bin, simBin, dir, checkoutConns, d)
	if err != nil {
		return err
	}

	// PostgreSQL beside SQLite.
	var pg *result
	var pgRec checked
	if postgres != "" {
		pgShop, pgBase, err := startShop(bin, dir, postgres)
		if err != nil {
			return fmt.Errorf("shop on PostgreSQL: %w", err)
		}
		// The database outlives the run: only this phase's orders are
		// reconciled with this shop's simulator.
		since, pgPlaced := time.Now(), &placedOrders{}
		pg, _ = checkoutPhase("whole checkout, PostgreSQL", pgBase, "", checkoutConns, d, pgPlaced)
		time.Sleep(callbackDelay + time.Second)
		pgDB, err := store.OpenPostgres(context.Background(), postgres)
		if err != nil {
			return err
		}
		pgRec, err = reconcilePhase(context.Background(), pgBase+"/klarna-sim", pgDB, since, pgPlaced, boughtProduct)
		pgDB.Close()
		if err != nil {
			return err
		}
		pgShop.Process.Kill()
		pgShop.Wait()
	}

	cores := effectiveCores()
	fmt.Printf("\nmachine: %.3g cores usable; each phase %s; page views at %d connections, checkouts with %d shoppers (closed loop)\n\n", cores, d, conns, checkoutConns)
	fmt.Printf("| phase | throughput | p50 | p99 | errors | server CPU per request |\n|---|---|---|---|---|---|\n")
	for _, r := range []*result{bare, catalog, bareVisitor, catalogAnon, bareProduct, product, bareCart, cart, bareAfter, bareHeaders} {
		fmt.Printf("| %s | %.0f req/s | %s | %s | %d | %s |\n", r.name, r.throughput(), ms(r.pct(0.50)), ms(r.pct(0.99)), r.errors, r.cpuPerRequest())
	}
	for _, r := range []*result{checkouts, pg} {
		if r != nil {
			fmt.Printf("| %s | %.0f checkouts/s | %s | %s | %d | |\n", r.name, r.throughput(), ms(r.pct(0.50)), ms(r.pct(0.99)), r.errors)
		}
	}
	fmt.Printf("| %s | %.0f actions/s | %s | %s | %d | |\n", om.name, om.throughput(), ms(om.pct(0.50)), ms(om.pct(0.99)), om.errors)

	// Each page against the bare handler serving its own bytes; the
	// catalog against the mean of the runs before and after the pages.
	ratio := func(r *result, bares ...*result) float64 {
		sum := 0.0
		for _, b := range bares {
			sum += b.throughput()
		}
		return 100 * r.throughput() * float64(len(bares)) / sum
	}
	clean := func(rs ...*result) bool {
		for _, r := range rs {
			if r.errors > 0 {
				return false
			}
		}
		return true
	}
	reported := func(r, b *result) target {
		return target{r.name + " vs bare Echo, its own bytes", "reported, 0 errors",
			fmt.Sprintf("%.0f%%, p99 %s, %d errors", ratio(r, b), ms(r.pct(0.99)), r.errors+b.errors), clean(r, b)}
	}
	catalogRatio := ratio(catalog, bare, bareAfter)
	targets := []target{
		{"catalog page (shopper with a cart) vs bare Echo, same bytes (mean of the bare runs before and after), 0 errors", ">= 75%",
			fmt.Sprintf("%.0f%%, %d errors", catalogRatio, catalog.errors+bare.errors+bareAfter.errors), catalogRatio >= 75 && clean(catalog, bare, bareAfter)},
		{"catalog page p99 at " + strconv.Itoa(conns) + " connections", "< 10 ms", ms(catalog.pct(0.99)), catalog.pct(0.99) < 10*time.Millisecond && clean(catalog)},
		{"catalog page (shopper with a cart): the shop's CPU per view vs the bare handler's (mean of its two runs)", "reported",
			cpuAgainst(catalog, bare, bareAfter), catalog.cpuErr == nil && bare.cpuErr == nil && bareAfter.cpuErr == nil},
		{"catalog page vs bare Echo sending the shop's response headers too (the same bytes on the wire but the date)", "reported, 0 errors",
			fmt.Sprintf("%.0f%%; CPU per view %s", ratio(catalog, bareHeaders), cpuAgainst(catalog, bareHeaders)), clean(catalog, bareHeaders) && bareHeaders.cpuErr == nil},
		reported(catalogAnon, bareVisitor),
		reported(product, bareProduct),
		reported(cart, bareCart),
		{fmt.Sprintf("whole checkouts per second, SQLite, 0 errors, on 2 cores (%.3g usable here)", cores), ">= 1200/s",
			fmt.Sprintf("%.0f/s, %d errors", checkouts.throughput(), checkouts.errors), cores == 2 && checkouts.throughput() >= 1200 && checkouts.errors == 0},
		{"shop's own CPU per checkout (simulator and generator excluded)", "< 1 ms", cpu.summary, cpu.perCheckout < 1 && cpu.errors == 0},
		{"order management, 0 errors", "0", strconv.Itoa(om.errors), om.errors == 0},
		{"reconciled, SQLite (after order management): duplicates, lost, mismatched, told-placed problems", "0, 0, 0, 0",
			fmt.Sprintf("%d, %d, %d, %d", len(rec.Duplicates), len(rec.Lost), len(rec.Mismatched), len(rec.problems)), rec.ok()},
		{"reconciled, standalone simulator (CPU phase)", "0, 0, 0, 0",
			fmt.Sprintf("%d, %d, %d, %d", len(cpu.rec.Duplicates), len(cpu.rec.Lost), len(cpu.rec.Mismatched), len(cpu.rec.problems)), cpu.rec.ok()},
	}
	if pg != nil {
		targets = append(targets,
			target{"whole checkouts per second, PostgreSQL, 0 errors", "reported", fmt.Sprintf("%.0f/s, %d errors", pg.throughput(), pg.errors), pg.errors == 0},
			target{"reconciled, PostgreSQL", "0, 0, 0, 0",
				fmt.Sprintf("%d, %d, %d, %d", len(pgRec.Duplicates), len(pgRec.Lost), len(pgRec.Mismatched), len(pgRec.problems)), pgRec.ok()})
	}
	fmt.Printf("\n| target | goal | measured | met |\n|---|---|---|---|\n")
	for _, t := range targets {
		met := "yes"
		if !t.met {
			met = "NO"
		}
		fmt.Printf("| %s | %s | %s | %s |\n", t.name, t.goal, t.measured, met)
	}
	fmt.Printf("\norder management: %d orders, %d captures and %d refunds confirmed, %d actions refused by the shop (a second operator on the same order, told nothing was done)\n",
		om.orders, om.captures, om.refunds, om.refusals)
	if om.firstErr != "" {
		fmt.Printf("first order management error: %s\n", om.firstErr)
	}
	fmt.Printf("reconciled by content (amount, tax, every line) and money (captured, refunded), SQLite: %s\n", rec)
	fmt.Printf("reconciled, standalone simulator: %s\n", cpu.rec)
	if pg != nil {
		fmt.Printf("reconciled, PostgreSQL: %s\n", pgRec)
	}
	if firstErr != "" {
		fmt.Printf("first checkout error: %s\n", firstErr)
	}
	fmt.Printf("shop peak memory (VmHWM): %s\n", peak)
	fmt.Printf("ready (process start to /readyz 200): %s\n\n", ms(readyIn))
	fmt.Printf("| page | HTML | CSS+JS | total (images aside) | requests |\n|---|---|---|---|---|\n")
	for _, w := range weights {
		fmt.Printf("| %s | %.1f KB | %.1f KB | %.1f KB | %d |\n", w.path, kb(w.html), kb(w.assets), kb(w.html+w.assets), w.requests)
	}

	// The exit status says whether the run is sound: every request
	// answered whole, every order where it belongs. Throughput targets are
	// printed above; they depend on the machine.
	var unsound []string
	for _, r := range []*result{bare, catalog, bareVisitor, catalogAnon, bareProduct, product, bareCart, cart, bareAfter, bareHeaders, checkouts, pg, om.result} {
		if r != nil && r.errors > 0 {
			unsound = append(unsound, fmt.Sprintf("%s: %d errors", r.name, r.errors))
		}
		if r != nil && r.cpuErr != nil {
			unsound = append(unsound, fmt.Sprintf("%s: %v", r.name, r.cpuErr))
		}
	}
	if cpu.errors > 0 {
		unsound = append(unsound, fmt.Sprintf("checkouts against the standalone simulator: %d errors", cpu.errors))
	}
	for name, c := range map[string]checked{"SQLite": rec, "standalone simulator": cpu.rec} {
		if !c.ok() {
			unsound = append(unsound, "reconciliation failed, "+name)
		}
	}
	if pg != nil && !pgRec.ok() {
		unsound = append(unsound, "reconciliation failed, PostgreSQL")
	}
	if len(unsound) > 0 {
		return errors.New("the run is not sound: " + strings.Join(unsound, "; "))
	}
	return nil
}

// boughtProduct is what every checkout of the load test buys, one of.
const boughtProduct = "stoneware-mug"

// startShop starts the shop on a free port with a database, in simulator
// mode (its built-in simulator unless extra names another), and waits until
// it is ready.
func startShop(bin, dir, databaseURL string, extra ...string) (*exec.Cmd, string, error) {
	addr := freeAddr()
	shop := exec.Command(bin, "-addr", addr)
	shop.Dir = dir
	shop.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "RATE_LIMITS=off", "LOG_LEVEL=error", "BASE_URL=http://"+addr,
		"SESSION_SECRET=loadtest-secret-0123456789abcdef0123456789", "KLARNA_ENV=simulator", "KLARNA_SIM_CALLBACK_DELAY="+callbackDelay.String(), "KLARNA_SIM_MAX_SESSIONS="+strconv.Itoa(simSessions), "PORT=", "ADMIN_OPEN=true",
		"KLARNA_API_URL=", "LISTEN_ADDR=")
	shop.Env = append(shop.Env, extra...)
	stdout, _ := shop.StdoutPipe()
	if err := shop.Start(); err != nil {
		return nil, "", err
	}
	go io.Copy(io.Discard, bufio.NewReader(stdout))
	base := "http://" + addr
	waitUp(base + "/readyz")
	return shop, base, nil
}

// checkoutPhase runs whole checkouts (browse, add, checkout, approve,
// place) for d; sim is the simulator's widget root ("" for the shop's
// built-in one).
func checkoutPhase(name, base, sim string, workers int, d time.Duration, placed *placedOrders) (*result, string) {
	transport := &http.Transport{MaxIdleConnsPerHost: workers * 2, MaxConnsPerHost: workers * 2, DisableCompression: true}
	fast := newBuyer(base, sim, workers*2)
	var failures atomic.Int32
	var firstErr atomic.Value
	r := hammer(name, workers, d, nil, func(any) error {
		var status, redirect string
		var err error
		if generator == "nethttp" {
			s := shopclient.New(transport, 15*time.Second)
			s.Simulator = sim
			var answer map[string]string
			answer, err = s.Purchase(base, boughtProduct)
			status, redirect = answer["status"], answer["redirect_url"]
		} else {
			status, redirect, err = fast.buy(boughtProduct)
		}
		if err == nil && status != "placed" {
			err = fmt.Errorf("place: %s", status)
		}
		if err == nil {
			placed.add(redirect)
		}
		if err != nil && failures.Add(1) == 1 {
			firstErr.Store(err.Error())
		}
		return err
	})
	first, _ := firstErr.Load().(string)
	return r, first
}

// buildAll builds the shop and the standalone simulator into dir.
func buildAll(dir string) (bin, simBin string, err error) {
	fmt.Println("building the shop and the simulator…")
	bin, simBin = filepath.Join(dir, "github.com/fikaandform/storefront"), filepath.Join(dir, "klarna-sim")
	for out, pkg := range map[string]string{bin: ".", simBin: "./klarna/simulator/cmd/klarna-sim"} {
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return "", "", fmt.Errorf("building %s: %w", pkg, err)
		}
	}
	return bin, simBin, nil
}

// shopCPUPerCheckout runs checkouts against a shop whose Klarna is a
// standalone simulator process, and divides the shop process's CPU time
// (user and system, from /proc) by the checkouts it served. Klarna's
// authorization callback comes a second after each approval, as with the
// built-in simulator in the throughput phase, and its handling is counted.
func shopCPUPerCheckout(bin, simBin, dir string, workers int, d time.Duration) (cpuResult, error) {
	simAddr := freeAddr()
	simDebug := freeAddr()
	sim := exec.Command(simBin, "-addr", simAddr, "-allow-origins", "*", "-callback-delay", callbackDelay.String(), "-debug-addr", simDebug,
		"-max-sessions", strconv.Itoa(simSessions))
	if err := sim.Start(); err != nil {
		return cpuResult{}, err
	}
	defer sim.Process.Kill()
	simURL := "http://" + simAddr
	waitUp(simURL + "/_sim/state")
	debugAddr := freeAddr()
	shop, base, err := startShop(bin, dir, "sqlite:"+filepath.Join(dir, "cpu.db"), "KLARNA_API_URL="+simURL, "DEBUG_ADDR="+debugAddr)
	if err != nil {
		return cpuResult{}, err
	}
	defer func() { shop.Process.Kill(); shop.Wait() }()
	if f := profileTo("checkout-shop.pprof"); f != "" {
		go profile(debugAddr, f, d)
	}
	if f := profileTo("checkout-sim.pprof"); f != "" {
		go profile(simDebug, f, d)
	}
	if gen := profileTo("checkout-generator.pprof"); gen != "" {
		f, err := os.Create(gen)
		if err != nil {
			return cpuResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return cpuResult{}, err
		}
		defer pprof.StopCPUProfile()
	}
	pids := []int{shop.Process.Pid, sim.Process.Pid, os.Getpid()}
	before, err := cpuTimes(pids)
	if err != nil {
		return cpuResult{}, err
	}
	ioBefore := ioCounts(shop.Process.Pid)
	placed := &placedOrders{}
	r, first := checkoutPhase("whole checkout, standalone simulator", base, simURL, workers, d, placed)
	genAfter, err := cpuTimes(pids[2:])
	if err != nil {
		return cpuResult{}, err
	}
	time.Sleep(callbackDelay + time.Second) // the last callbacks arrive and are handled
	after, err := cpuTimes(pids[:2])
	if err != nil {
		return cpuResult{}, err
	}
	used, simUsed, genUsed := after[0]-before[0], after[1]-before[1], genAfter[0]-before[2]
	ioAfter := ioCounts(shop.Process.Pid)
	if r.requests == 0 {
		return cpuResult{}, fmt.Errorf("no checkout against the standalone simulator: %s", first)
	}
	db, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "cpu.db"))
	if err != nil {
		return cpuResult{}, err
	}
	defer db.Close()
	rec, err := reconcilePhase(context.Background(), simURL, db, time.Time{}, placed, boughtProduct)
	if err != nil {
		return cpuResult{}, err
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(r.requests) }
	fmt.Printf("CPU per checkout against the standalone simulator: shop %.2f ms, simulator %.2f ms, load generator %.2f ms (%d checkouts)\n",
		per(used), per(simUsed), per(genUsed), r.requests)
	if n := float64(r.requests); n > 0 && ioAfter != nil && ioBefore != nil {
		// System calls and bytes do not move with the machine's speed as CPU
		// time does: a change to what the shop writes shows here first.
		fmt.Printf("the shop's I/O per checkout: %.1f read and %.1f write system calls (sockets and files), %.1f KB read, %.1f KB written, %.1f KB to disk\n",
			float64(ioAfter["syscr"]-ioBefore["syscr"])/n, float64(ioAfter["syscw"]-ioBefore["syscw"])/n,
			float64(ioAfter["rchar"]-ioBefore["rchar"])/n/1024, float64(ioAfter["wchar"]-ioBefore["wchar"])/n/1024,
			float64(ioAfter["write_bytes"]-ioBefore["write_bytes"])/n/1024)
	}
	return cpuResult{
		perCheckout: per(used),
		summary:     fmt.Sprintf("%.2f ms (%d checkouts at %.0f/s, %d errors)", per(used), r.requests, r.throughput(), r.errors),
		errors:      r.errors,
		rec:         rec,
	}, nil
}

// cpuResult is the CPU phase: the shop's CPU per checkout in ms, said in
// words, the phase's errors, and its reconciliation.
type cpuResult struct {
	perCheckout float64
	summary     string
	errors      int
	rec         checked
}

// profile writes the CPU profile of the process serving pprof on
// debugAddr, taken over most of a phase of length d, to file.
func profile(debugAddr, file string, d time.Duration) {
	secs := max(1, int(d.Seconds())-1)
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, secs))
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest: profile:", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest: profile:", err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
}

// cpuTimes are processes' user and system CPU time so far, from
// /proc/<pid>/stat (in clock ticks of 1/100 s on Linux). A process that
// cannot be read is an error, not a zero: a zero would pass any target.
func cpuTimes(pids []int) ([]time.Duration, error) {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil, fmt.Errorf("CPU time of process %d: %w", pid, err)
		}
		// Fields after the command name in parentheses: utime is the 14th
		// field of the line, stime the 15th.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 13 {
			return nil, fmt.Errorf("CPU time of process %d: %d fields in /proc/%d/stat", pid, len(f), pid)
		}
		ut, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("CPU time of process %d: %w", pid, err)
		}
		out[i] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out, nil
}

// ioCounts is a process's I/O counters from /proc/<pid>/io (nil if
// unreadable): syscr and syscw count read and write system calls of every
// kind, rchar and wchar their bytes, write_bytes what reached the disk.
func ioCounts(pid int) map[string]int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return nil
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			out[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
func kb(n int) float64          { return float64(n) / 1024 }

func waitUp(u string) time.Time {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Now()
			}
		}
	}
	panic("server did not start: " + u)
}

type weight struct {
	path         string
	html, assets int
	requests     int
}

var (
	linkRe = regexp.MustCompile(`<link[^>]+href="([^"]+)"`)
	srcRe  = regexp.MustCompile(`<(?:script|img)[^>]+src="([^"]+)"`)
)

// pageWeights fetches each page and what it links, as a browser would.
func pageWeights(base string) ([]weight, error) {
	s := shopclient.New(nil, 15*time.Second)
	s.Get(base + "/")
	s.Add(base, "stoneware-mug")
	var out []weight
	for _, path := range []string{"/", "/products/pour-over-kettle", "/cart", "/checkout"} {
		html, err := s.Get(base + path)
		if err != nil {
			return nil, err
		}
		w := weight{path: path, html: len(html), requests: 1}
		urls := map[string]bool{}
		for _, m := range linkRe.FindAllStringSubmatch(html, -1) {
			urls[m[1]] = true
		}
		for _, m := range srcRe.FindAllStringSubmatch(html, -1) {
			urls[m[1]] = true
		}
		for u := range urls {
			full := u
			if strings.HasPrefix(u, "/") {
				full = base + u
			}
			resp, err := s.HTTP.Get(full)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			w.requests++
			if strings.HasSuffix(u, ".css") || strings.HasSuffix(u, ".js") {
				w.assets += len(b)
			}
		}
		out = append(out, w)
	}
	return out, nil
}

// runLighthouse scores the four pages with the Lighthouse installed by
// `npm ci --prefix cmd/loadtest`, in the system Chromium.
func runLighthouse(base string) error {
	bin := filepath.Join("cmd", "loadtest", "node_modules", ".bin", "lighthouse")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("lighthouse is not installed: run npm ci --prefix cmd/loadtest")
	}
	// The checkout needs a cart: give Lighthouse a session cookie that has one.
	s := shopclient.New(nil, 15*time.Second)
	s.Get(base + "/")
	s.Add(base, "stoneware-mug")
	headers, _ := json.Marshal(map[string]string{"Cookie": s.Cookie(base)})
	fmt.Printf("\n| page | form factor | performance | accessibility | best practices | SEO | performance >= 95 |\n|---|---|---|---|---|---|---|\n")
	var low []string
	for _, path := range []string{"/", "/products/pour-over-kettle", "/cart", "/checkout"} {
		for _, form := range []string{"mobile", "desktop"} {
			args := []string{base + path, "--quiet", "--output=json", "--output-path=stdout", "--only-categories=performance,accessibility,best-practices,seo",
				"--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync",
				"--extra-headers=" + string(headers), "--throttling-method=simulate"}
			if form == "desktop" {
				// Lighthouse's desktop preset: a wide screen, a fast network.
				args = append(args, "--preset=desktop")
			} // mobile is Lighthouse's default: a phone's screen, slow 4G, a 4x slower CPU
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "CHROME_PATH=/usr/bin/chromium")
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("lighthouse %s (%s): %w", path, form, err)
			}
			var rep struct {
				Categories map[string]struct {
					Score float64 `json:"score"`
				} `json:"categories"`
			}
			if err := json.Unmarshal(out, &rep); err != nil {
				return fmt.Errorf("lighthouse %s (%s): %w", path, form, err)
			}
			score := func(k string) int { return int(rep.Categories[k].Score*100 + 0.5) }
			met := "yes"
			if score("performance") < 95 {
				met = "NO"
				low = append(low, path+" ("+form+")")
			}
			fmt.Printf("| %s | %s | %d | %d | %d | %d | %s |\n", path, form, score("performance"), score("accessibility"), score("best-practices"), score("seo"), met)
		}
	}
	if len(low) > 0 {
		fmt.Printf("Lighthouse performance below 95: %s\n", strings.Join(low, ", "))
	}
	return nil
}
