// Command loadtest measures the shop on this machine, over loopback:
//
//	go run ./cmd/loadtest                 # page views, checkouts, page weight
//	go run ./cmd/loadtest -lighthouse     # plus Lighthouse (npm ci --prefix cmd/loadtest first)
//
// It builds and starts the real shop with its Klarna simulator, and a bare
// Echo handler as the machine's limit, and reports throughput, p50/p99
// latency, errors, duplicate or lost orders, the shop's peak memory, its
// start-up time and each page's weight. Every loop is bounded in time.
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

	"github.com/fikaandform/storefront/internal/reconcile"
	"github.com/fikaandform/storefront/internal/shopclient"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
)

func main() {
	bare := flag.String("serve-bare", "", "internal: serve the bare Echo handler on this address")
	bareBody := flag.String("bare-body", "", "internal: the file whose bytes the bare handler serves")
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
		serveBare(*bare, *bareBody)
		return
	}
	if err := run(*duration, *conns, *checkoutConns, *postgres, *lighthouse, *cpuOnly); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// serveBare is the baseline: Echo answering with the catalog page's own
// bytes (read once from a file), and nothing else: what the machine can do
// with the same response and the same router, framed as the shop frames
// its pages (with their length, not chunked).
func serveBare(addr, bodyFile string) {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	length := strconv.Itoa(len(body))
	e.GET("/", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentLength, length)
		return c.HTMLBlob(http.StatusOK, body)
	})
	e.Start(addr)
}

type result struct {
	name      string
	requests  int
	errors    int
	elapsed   time.Duration
	latencies []time.Duration
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

func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}}
}

// hammer runs fn from n workers for d and collects latencies and errors.
func hammer(name string, n int, d time.Duration, setup func(worker int) any, fn func(state any) error) *result {
	states := make([]any, n)
	for i := range states {
		if setup != nil {
			states[i] = setup(i)
		}
	}
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
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return nil
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
		_, err := shopCPUPerCheckout(bin, simBin, dir, checkoutConns, d)
		return err
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
	// three-item cart sends theirs. The generator discards the page, so
	// that it spends as little of the machine as against the bare handler.
	pageClient := newClient(conns)
	withCart := func(int) any {
		s := shopclient.New(nil, 15*time.Second)
		s.Get(base + "/")
		s.Add(base, "stoneware-mug")
		s.Add(base, "house-blend")
		s.Add(base, "linen-notebook")
		s.Get(base + "/cart") // shows, and so clears, the "added" message
		return s.Cookie(base)
	}
	anonymous := func(int) any { return "" }
	view := func(path string) func(any) error {
		return func(st any) error {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			if c := st.(string); c != "" {
				req.Header.Set("Cookie", c)
			}
			resp, err := pageClient.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
			}
			return nil
		}
	}

	// The machine's limit: a bare Echo handler serving the catalog page's
	// own bytes (as a shopper with a cart gets it), measured in this run.
	page, err := pageFor(base, withCart(0).(string))
	if err != nil {
		return err
	}
	bodyFile := filepath.Join(dir, "catalog.html")
	if err := os.WriteFile(bodyFile, page, 0o644); err != nil {
		return err
	}
	self, _ := os.Executable()
	bareAddr := freeAddr()
	bareCmd := exec.Command(self, "-serve-bare", bareAddr, "-bare-body", bodyFile)
	if err := bareCmd.Start(); err != nil {
		return err
	}
	defer bareCmd.Process.Kill()
	waitUp("http://" + bareAddr + "/")
	client := newClient(conns)
	bareName := fmt.Sprintf("bare Echo handler (the catalog's %.1f KB)", kb(len(page)))
	bareLoad := func(any) error { return get(client, "http://"+bareAddr+"/") }
	bare := hammer(bareName+", before the pages", conns, d, nil, bareLoad)

	if f := profileTo("pages.pprof"); f != "" {
		go profile(debugAddr, f, d)
	}
	catalog := hammer("catalog page, shopper with a cart", conns, d, withCart, view("/"))
	catalogAnon := hammer("catalog page, visitor without a session", conns, d, anonymous, view("/"))
	product := hammer("product page, shopper with a cart", conns, d, withCart, view("/products/pour-over-kettle"))
	cart := hammer("cart page, shopper with a cart", conns, d, withCart, view("/cart"))
	// The machine's speed drifts between phases: the bare handler again,
	// and the pages are compared with the mean of both.
	bareAfter := hammer(bareName+", after the pages", conns, d, nil, bareLoad)
	bareCmd.Process.Kill()

	// Whole checkouts on SQLite, the built-in simulator in the shop's
	// process and the generator on the same two cores.
	if f := profileTo("checkout.pprof"); f != "" {
		go profile(debugAddr, f, d)
	}
	checkouts, firstErr := checkoutPhase("whole checkout, SQLite", base, "", checkoutConns, d)
	time.Sleep(2 * time.Second) // let Klarna's callbacks finish

	// Order management: operators capture and refund the orders just
	// placed, several at once, some two operators on the same order.
	om, err := manageOrders(base, dbPath, checkoutConns, d)
	if err != nil {
		return err
	}
	peak := peakRSS(shop.Process.Pid)
	rec, err := reconcileOrders(base+"/klarna-sim", dbPath)
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
	perCheckout, err := shopCPUPerCheckout(bin, simBin, dir, checkoutConns, d)
	if err != nil {
		return err
	}

	// PostgreSQL beside SQLite.
	var pg *result
	if postgres != "" {
		pgShop, pgBase, err := startShop(bin, dir, postgres)
		if err != nil {
			return fmt.Errorf("shop on PostgreSQL: %w", err)
		}
		pg, _ = checkoutPhase("whole checkout, PostgreSQL", pgBase, "", checkoutConns, d)
		pgShop.Process.Kill()
		pgShop.Wait()
	}

	fmt.Printf("\nmachine: %d cores; each phase %s; page views at %d connections, checkouts with %d shoppers\n\n", numCPU(), d, conns, checkoutConns)
	fmt.Printf("| phase | throughput | p50 | p99 | errors |\n|---|---|---|---|---|\n")
	for _, r := range []*result{bare, catalog, catalogAnon, product, cart, bareAfter} {
		fmt.Printf("| %s | %.0f req/s | %s | %s | %d |\n", r.name, r.throughput(), ms(r.pct(0.50)), ms(r.pct(0.99)), r.errors)
	}
	for _, r := range []*result{checkouts, pg} {
		if r != nil {
			fmt.Printf("| %s | %.0f checkouts/s | %s | %s | %d |\n", r.name, r.throughput(), ms(r.pct(0.50)), ms(r.pct(0.99)), r.errors)
		}
	}
	fmt.Printf("| %s | %.0f actions/s | %s | %s | %d |\n", om.name, om.throughput(), ms(om.pct(0.50)), ms(om.pct(0.99)), om.errors)

	ratio := func(r *result) float64 { return 200 * r.throughput() / (bare.throughput() + bareAfter.throughput()) }
	targets := []target{
		{"catalog page (shopper with a cart) vs bare Echo, same bytes (mean of the bare runs before and after)", ">= 75%", fmt.Sprintf("%.0f%%", ratio(catalog)), ratio(catalog) >= 75},
		{"catalog page p99 at " + strconv.Itoa(conns) + " connections", "< 10 ms", ms(catalog.pct(0.99)), catalog.pct(0.99) < 10*time.Millisecond},
		{"catalog page (no session) vs bare Echo", "reported", fmt.Sprintf("%.0f%%, p99 %s", ratio(catalogAnon), ms(catalogAnon.pct(0.99))), true},
		{"product page vs bare Echo", "reported", fmt.Sprintf("%.0f%%, p99 %s", ratio(product), ms(product.pct(0.99))), true},
		{"cart page vs bare Echo", "reported", fmt.Sprintf("%.0f%%, p99 %s", ratio(cart), ms(cart.pct(0.99))), true},
		{"whole checkouts per second, SQLite, 0 errors", ">= 1200/s", fmt.Sprintf("%.0f/s, %d errors", checkouts.throughput(), checkouts.errors),
			checkouts.throughput() >= 1200 && checkouts.errors == 0},
		{"shop's own CPU per checkout (simulator and generator excluded)", "< 1 ms", perCheckout, strings.HasPrefix(perCheckout, "0.")},
		{"reconciliation: duplicates, lost, mismatched", "0, 0, 0", fmt.Sprintf("%d, %d, %d", len(rec.Duplicates), len(rec.Lost), len(rec.Mismatched)), rec.OK()},
	}
	if pg != nil {
		targets = append(targets, target{"whole checkouts per second, PostgreSQL", "reported", fmt.Sprintf("%.0f/s, %d errors", pg.throughput(), pg.errors), pg.errors == 0})
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
	fmt.Printf("reconciled by content (amount, tax, every line) and money (captured, refunded): %s\n", rec)
	if firstErr != "" {
		fmt.Printf("first checkout error: %s\n", firstErr)
	}
	fmt.Printf("shop peak memory (VmHWM): %s\n", peak)
	fmt.Printf("ready (process start to /readyz 200): %s\n\n", ms(readyIn))
	fmt.Printf("| page | HTML | CSS+JS | total (images aside) | requests |\n|---|---|---|---|---|\n")
	for _, w := range weights {
		fmt.Printf("| %s | %.1f KB | %.1f KB | %.1f KB | %d |\n", w.path, kb(w.html), kb(w.assets), kb(w.html+w.assets), w.requests)
	}
	if !rec.OK() {
		return errors.New("reconciliation failed: the shop's orders and Klarna's differ")
	}
	return nil
}

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

// pageFor fetches the catalog page as a shopper with this cookie sees it.
func pageFor(base, cookie string) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// checkoutPhase runs whole checkouts (browse, add, checkout, approve,
// place) for d; sim is the simulator's widget root ("" for the shop's
// built-in one).
func checkoutPhase(name, base, sim string, workers int, d time.Duration) (*result, string) {
	transport := &http.Transport{MaxIdleConnsPerHost: workers * 2, MaxConnsPerHost: workers * 2, DisableCompression: true}
	fast := newBuyer(base, sim, workers*2)
	var failures atomic.Int32
	var firstErr atomic.Value
	r := hammer(name, workers, d, nil, func(any) error {
		var status string
		var err error
		if generator == "nethttp" {
			s := shopclient.New(transport, 15*time.Second)
			s.Simulator = sim
			status, err = s.Buy(base, "stoneware-mug")
		} else {
			status, err = fast.buy("stoneware-mug")
		}
		if err == nil && status != "placed" {
			err = fmt.Errorf("place: %s", status)
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
func shopCPUPerCheckout(bin, simBin, dir string, workers int, d time.Duration) (string, error) {
	simAddr := freeAddr()
	simDebug := freeAddr()
	sim := exec.Command(simBin, "-addr", simAddr, "-allow-origins", "*", "-callback-delay", callbackDelay.String(), "-debug-addr", simDebug,
		"-max-sessions", strconv.Itoa(simSessions))
	if err := sim.Start(); err != nil {
		return "", err
	}
	defer sim.Process.Kill()
	simURL := "http://" + simAddr
	waitUp(simURL + "/_sim/state")
	debugAddr := freeAddr()
	shop, base, err := startShop(bin, dir, "sqlite:"+filepath.Join(dir, "cpu.db"), "KLARNA_API_URL="+simURL, "DEBUG_ADDR="+debugAddr)
	if err != nil {
		return "", err
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
			return "", err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return "", err
		}
		defer pprof.StopCPUProfile()
	}
	before, simBefore, genBefore := cpuTime(shop.Process.Pid), cpuTime(sim.Process.Pid), cpuTime(os.Getpid())
	ioBefore := ioCounts(shop.Process.Pid)
	r, first := checkoutPhase("whole checkout, standalone simulator", base, simURL, workers, d)
	genUsed := cpuTime(os.Getpid()) - genBefore
	time.Sleep(callbackDelay + time.Second) // the last callbacks arrive and are handled
	used, simUsed := cpuTime(shop.Process.Pid)-before, cpuTime(sim.Process.Pid)-simBefore
	ioAfter := ioCounts(shop.Process.Pid)
	if r.requests == 0 {
		return "", fmt.Errorf("no checkout against the standalone simulator: %s", first)
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
	return fmt.Sprintf("%.2f ms (%d checkouts at %.0f/s, %d errors)", per(used), r.requests, r.throughput(), r.errors), nil
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

// cpuTime is a process's user and system CPU time so far, from
// /proc/<pid>/stat (in clock ticks of 1/100 s on Linux).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name in parentheses: utime is the 14th
	// field of the line, stime the 15th.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
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

// reconcileOrders compares the shop's orders with Klarna's (the
// simulator's) by content: amount, tax and every line, one to one.
func reconcileOrders(sim, dbPath string) (reconcile.Report, error) {
	resp, err := http.Get(sim + "/_sim/state")
	if err != nil {
		return reconcile.Report{}, err
	}
	var st struct {
		Orders []simulator.OrderRecord `json:"orders"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		return reconcile.Report{}, err
	}
	db, err := store.OpenSQLite(context.Background(), dbPath)
	if err != nil {
		return reconcile.Report{}, err
	}
	defer db.Close()
	orders, err := db.Orders(context.Background(), 1_000_000)
	if err != nil {
		return reconcile.Report{}, err
	}
	local, err := reconcile.Local(orders)
	if err != nil {
		return reconcile.Report{}, err
	}
	money, err := db.MoneyTotals(context.Background())
	if err != nil {
		return reconcile.Report{}, err
	}
	return reconcile.Compare(reconcile.WithMoney(local, money), reconcile.FromSimulator(st.Orders)), nil
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

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
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
