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
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"storefront/internal/reconcile"
	"storefront/internal/shopclient"
	"storefront/klarna/simulator"
	"storefront/store"
)

func main() {
	bare := flag.String("serve-bare", "", "internal: serve the bare Echo handler on this address")
	duration := flag.Duration("duration", 10*time.Second, "length of each load phase")
	conns := flag.Int("conns", 64, "concurrent connections for page views")
	checkoutConns := flag.Int("checkout-conns", 32, "concurrent shoppers for checkouts")
	lighthouse := flag.Bool("lighthouse", false, "also run Lighthouse on the catalog, product, cart and checkout pages")
	flag.Parse()
	if *bare != "" {
		serveBare(*bare)
		return
	}
	if err := run(*duration, *conns, *checkoutConns, *lighthouse); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// serveBare is the baseline: Echo answering a constant, nothing else.
func serveBare(addr string) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
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

// checkout is one whole purchase over HTTP: browse, add, open the checkout
// (Klarna session), authorize through the simulator's test-data path, place.
func checkout(base string, transport http.RoundTripper) error {
	s := shopclient.New(transport, 15*time.Second)
	status, err := s.Buy(base, "stoneware-mug")
	if err != nil {
		return err
	}
	if status != "placed" {
		return fmt.Errorf("place: %s", status)
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

func run(d time.Duration, conns, checkoutConns int, lighthouse bool) error {
	dir, err := os.MkdirTemp("", "loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Println("building the shop…")
	bin := filepath.Join(dir, "storefront")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building: %w", err)
	}

	// The machine's limit: a bare Echo handler, measured in the same run.
	self, _ := os.Executable()
	bareAddr := freeAddr()
	bareCmd := exec.Command(self, "-serve-bare", bareAddr)
	if err := bareCmd.Start(); err != nil {
		return err
	}
	defer bareCmd.Process.Kill()
	waitUp("http://" + bareAddr + "/")
	client := newClient(conns)
	bare := hammer("bare Echo handler", conns, d, nil, func(any) error { return get(client, "http://"+bareAddr+"/") })
	bareCmd.Process.Kill()

	// The shop, with a fresh SQLite database.
	addr := freeAddr()
	dbPath := filepath.Join(dir, "shop.db")
	shop := exec.Command(bin, "-addr", addr)
	shop.Dir = dir
	shop.Env = append(os.Environ(), "DATABASE_URL=sqlite:"+dbPath, "RATE_LIMITS=off", "LOG_LEVEL=error", "BASE_URL=http://"+addr,
		"SESSION_SECRET=loadtest-secret-0123456789abcdef0123456789", "KLARNA_ENV=simulator", "KLARNA_SIM_CALLBACK_DELAY=1s", "PORT=", "ADMIN_OPEN=true")
	stdout, _ := shop.StdoutPipe()
	start := time.Now()
	if err := shop.Start(); err != nil {
		return err
	}
	defer shop.Process.Kill()
	go io.Copy(io.Discard, bufio.NewReader(stdout))
	base := "http://" + addr
	ready := waitUp(base + "/readyz")
	readyIn := ready.Sub(start)

	// Page views with realistic cookies: each connection has its own
	// session with a three-item cart. The generator sends the cookie as a
	// header and discards the page, so that it spends as little of the
	// machine as it does against the bare handler.
	pageClient := newClient(conns)
	setup := func(int) any {
		s := shopclient.New(nil, 15*time.Second)
		s.Get(base + "/")
		s.Add(base, "stoneware-mug")
		s.Add(base, "house-blend")
		s.Add(base, "linen-notebook")
		s.Get(base + "/cart") // shows, and so clears, the "added" message
		return s.Cookie(base)
	}
	view := func(path string) func(any) error {
		return func(st any) error {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			req.Header.Set("Cookie", st.(string))
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
	catalog := hammer("catalog page", conns, d, setup, view("/"))
	product := hammer("product page", conns, d, setup, view("/products/pour-over-kettle"))
	cart := hammer("cart page", conns, d, setup, view("/cart"))

	// Whole checkouts.
	checkoutTransport := &http.Transport{MaxIdleConnsPerHost: checkoutConns * 2, MaxConnsPerHost: checkoutConns * 2, DisableCompression: true}
	var failures atomic.Int32
	var firstErr atomic.Value
	checkouts := hammer("whole checkout", checkoutConns, d, nil, func(any) error {
		err := checkout(base, checkoutTransport)
		if err != nil && failures.Add(1) == 1 {
			firstErr.Store(err.Error())
		}
		return err
	})
	time.Sleep(2 * time.Second) // let Klarna's callbacks finish

	// Order management: operators capture and refund the orders just
	// placed, several at once, some two operators on the same order.
	om, err := manageOrders(base, dbPath, checkoutConns, d)
	if err != nil {
		return err
	}
	peak := peakRSS(shop.Process.Pid)
	rec, err := reconcileOrders(base, dbPath)
	if err != nil {
		return err
	}

	weights, err := pageWeights(base)
	if err != nil {
		return err
	}

	fmt.Printf("\nmachine: %d cores; each phase %s; page views at %d connections, checkouts with %d shoppers\n\n", numCPU(), d, conns, checkoutConns)
	fmt.Printf("| phase | throughput | p50 | p99 | errors |\n|---|---|---|---|---|\n")
	for _, r := range []*result{bare, catalog, product, cart} {
		fmt.Printf("| %s | %.0f req/s | %s | %s | %d |\n", r.name, r.throughput(), ms(r.pct(0.50)), ms(r.pct(0.99)), r.errors)
	}
	fmt.Printf("| %s | %.0f checkouts/s | %s | %s | %d |\n", checkouts.name, checkouts.throughput(), ms(checkouts.pct(0.50)), ms(checkouts.pct(0.99)), checkouts.errors)
	fmt.Printf("| %s | %.0f actions/s | %s | %s | %d |\n", om.name, om.throughput(), ms(om.pct(0.50)), ms(om.pct(0.99)), om.errors)
	fmt.Printf("\ncatalog page throughput: %.0f%% of the bare handler's\n", 100*catalog.throughput()/bare.throughput())
	fmt.Printf("order management: %d orders, %d captures and %d refunds confirmed, %d actions refused by the shop (a second operator on the same order, told nothing was done)\n",
		om.orders, om.captures, om.refunds, om.refusals)
	if om.firstErr != "" {
		fmt.Printf("first order management error: %s\n", om.firstErr)
	}
	fmt.Printf("reconciled by content (amount, tax, every line) and money (captured, refunded): %s\n", rec)
	if v := firstErr.Load(); v != nil {
		fmt.Printf("first checkout error: %s\n", v)
	}
	fmt.Printf("shop peak memory (VmHWM): %s\n", peak)
	fmt.Printf("ready (process start to /readyz 200): %s\n\n", ms(readyIn))
	fmt.Printf("| page | HTML | CSS+JS | total (images aside) | requests |\n|---|---|---|---|---|\n")
	for _, w := range weights {
		fmt.Printf("| %s | %.1f KB | %.1f KB | %.1f KB | %d |\n", w.path, kb(w.html), kb(w.assets), kb(w.html+w.assets), w.requests)
	}
	if lighthouse {
		if err := runLighthouse(base); err != nil {
			return err
		}
	}
	if !rec.OK() {
		return errors.New("reconciliation failed: the shop's orders and Klarna's differ")
	}
	return nil
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
func reconcileOrders(base, dbPath string) (reconcile.Report, error) {
	resp, err := http.Get(base + "/klarna-sim/_sim/state")
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
	fmt.Printf("\n| page | performance | accessibility | best practices | SEO |\n|---|---|---|---|---|\n")
	for _, path := range []string{"/", "/products/pour-over-kettle", "/cart", "/checkout"} {
		cmd := exec.Command(bin, base+path, "--quiet", "--output=json", "--output-path=stdout", "--only-categories=performance,accessibility,best-practices,seo",
			"--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync",
			"--extra-headers="+string(headers), "--form-factor=desktop", "--screenEmulation.disabled", "--throttling-method=simulate")
		cmd.Env = append(os.Environ(), "CHROME_PATH=/usr/bin/chromium")
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("lighthouse %s: %w", path, err)
		}
		var rep struct {
			Categories map[string]struct {
				Score float64 `json:"score"`
			} `json:"categories"`
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			return fmt.Errorf("lighthouse %s: %w", path, err)
		}
		score := func(k string) int { return int(rep.Categories[k].Score*100 + 0.5) }
		fmt.Printf("| %s | %d | %d | %d | %d |\n", path, score("performance"), score("accessibility"), score("best-practices"), score("seo"))
	}
	return nil
}
