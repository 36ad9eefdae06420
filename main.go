// Command storefront runs Fika & Form, a reference shop that takes payment
// with Klarna Payments. With no configuration it runs against the built-in
// Klarna simulator:
//
//	go run .
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on DEBUG_ADDR
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/joho/godotenv"
	"github.com/labstack/echo/v4"

	"storefront/checkout"
	"storefront/config"
	"storefront/handlers"
	"storefront/internal/logging"
	"storefront/klarna"
	"storefront/klarna/simulator"
	"storefront/metrics"
	"storefront/orders"
	"storefront/shop"
	"storefront/static"
	"storefront/store"
	"storefront/subscriptions"
	"storefront/vault"
)

func main() {
	// .env is optional; variables already in the environment win.
	_ = godotenv.Load()
	tuneGC()
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run starts the shop and blocks until ctx ends or SIGINT/SIGTERM arrives,
// then shuts down gracefully. Tests call it with their own getenv and
// "-addr 127.0.0.1:0".
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("storefront", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "listen address (default LISTEN_ADDR, else 127.0.0.1:$PORT with the simulator and :$PORT with Klarna)")
	health := fs.String("healthcheck", "", "check that the shop at this URL answers /healthz, then exit (for a container's HEALTHCHECK)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *health != "" {
		return healthcheck(ctx, *health)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	m := metrics.New()

	explicitAddr := *addr != "" || cfg.ListenAddrSet
	if *addr == "" {
		*addr = cfg.ListenAddr
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	defer ln.Close()
	baseURL := cfg.BaseURL
	if baseURL == "" {
		baseURL = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}

	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	hcfg := handlers.Config{
		BaseURL: baseURL, AdminPassword: cfg.AdminPassword, Secure: strings.HasPrefix(baseURL, "https://"),
		SessionKeys: handlers.SessionKeys(cfg.SessionSecrets), TrustProxy: cfg.TrustProxy, NoRateLimits: !cfg.RateLimits,
	}
	if cfg.Mode == config.ModeSimulator {
		hcfg.AllowedHosts = localHosts(*addr, explicitAddr, ln.Addr().(*net.TCPAddr))
	}
	var sim *simulator.Simulator
	simURL := ""
	switch {
	case cfg.Mode == config.ModeSimulator && cfg.KlarnaAPIURL == "":
		// The built-in simulator, with a regional host per account.
		simURL = baseURL + "/klarna-sim"
		regions := map[string]simulator.Credentials{}
		for _, a := range cfg.Accounts {
			regions[string(a.Region)] = simulator.Credentials{Username: a.Username, Password: a.Password}
		}
		sim, err = simulator.New(simulator.Config{
			// The root and the regions without an account take credentials
			// nobody is given: they answer 401, like a region where the
			// merchant has no account.
			BaseURL: simURL, Username: "sim_unused", Password: randomPassword(), Regions: regions,
			CallbackDelay:        durationEnv(getenv, "KLARNA_SIM_CALLBACK_DELAY", time.Second),
			PendingDecisionDelay: durationEnv(getenv, "KLARNA_SIM_PENDING_DECISION_DELAY", 0),
			PendingDecision:      getenv("KLARNA_SIM_PENDING_DECISION"),
			Faults:               getenv("KLARNA_SIM_FAULTS"),
			AllowedOrigins:       simulatorOrigins(baseURL, hcfg.AllowedHosts),
			Logger:               log.With("component", "simulator"),
		})
		if err != nil {
			return err
		}
		defer sim.Close()
		// The browser reaches the widget by the name it used for the shop
		// (localhost, 127.0.0.1, a LAN address): paths, not URLs.
		hcfg.Mode, hcfg.Simulator, hcfg.SimulatorBase = "Klarna simulator", true, simURL
		hcfg.InspectorURL, hcfg.WidgetScript = "/klarna-sim/_sim/", "/klarna-sim/kp/lib/v1/api.js"
		hcfg.OSM = handlers.OSM{Script: "/klarna-sim/web-sdk/v1/klarna.js", ClientID: simulatorClientID(cfg.KlarnaClientID)}
	case cfg.Mode == config.ModeSimulator:
		// A standalone simulator (klarna-sim): its widget, from its origin.
		standalone := strings.TrimRight(cfg.KlarnaAPIURL, "/")
		u, _ := url.Parse(standalone)
		hcfg.Mode, hcfg.Simulator = "Klarna simulator (standalone)", true
		hcfg.InspectorURL, hcfg.WidgetScript = standalone+"/_sim/", standalone+"/kp/lib/v1/api.js"
		hcfg.KlarnaHosts = handlers.SimulatorCSP(u.Scheme + "://" + u.Host)
		hcfg.OSM = handlers.OSM{Script: standalone + "/web-sdk/v1/klarna.js", ClientID: simulatorClientID(cfg.KlarnaClientID)}
	default:
		hcfg.Mode = "Klarna " + string(cfg.Mode)
		hcfg.WidgetScript = "https://x.klarnacdn.net/kp/lib/v1/api.js"
		hcfg.KlarnaHosts = handlers.KlarnaCSP(cfg.Mode == config.ModePlayground)
		hcfg.OSM = handlers.KlarnaOSM(cfg.KlarnaClientID, string(cfg.Mode))
	}

	accounts, err := cfg.KlarnaAccounts(simURL)
	if err != nil {
		return err
	}
	clients, err := klarna.NewClients(accounts, klarna.WithEnvironment(cfg.KlarnaEnvironment()),
		klarna.WithUserAgent("FikaAndForm/1.0"), klarna.WithLogger(log.With("component", "klarna")), klarna.WithObserver(m.KlarnaCall))
	if err != nil {
		return err
	}
	live := liveMarkets(clients)
	if len(live.codes) == 0 {
		return fmt.Errorf("no market can be offered: Klarna accounts in %v serve none of the shop's markets", clients.Regions())
	}
	hcfg.Markets, hcfg.MarketNotes, hcfg.MarketDetail = live.codes, live.notes, live.detail
	hcfg.ModeDetail = "regions " + strings.Join(live.regions, ", ")
	tokens, err := vault.New(cfg.TokenKeys)
	if err != nil {
		return fmt.Errorf("TOKEN_KEYS: %w", err)
	}
	catalog := shop.DefaultCatalog()
	// Order management after placement: captures, refunds, cancels.
	om := orders.NewForMarkets(orders.ByRegion(clients), db, orders.Policy{CaptureDigitalAtOrder: cfg.CaptureDigitalAtOrder},
		orders.Options{Logger: log.With("component", "orders")})
	svc := checkout.NewForMarkets(checkout.ByRegion(clients), db, catalog, baseURL, checkout.Options{
		Logger: log.With("component", "checkout"), Crash: crashHook(getenv), SessionsPerSecond: sessionQuota(cfg.Mode), Vault: tokens,
		Lease: cfg.PlacementLease, ReviewChecks: cfg.ReviewChecks(), Observer: m,
		AutoCapture: om.Policy().AutoCapture, AutoCaptured: om.Refresh,
	})
	subs := subscriptions.NewForMarkets(subscriptions.ByRegion(clients), db, catalog, tokens, subscriptions.Options{Logger: log.With("component", "subscriptions"), BaseURL: baseURL, Observer: m})
	hcfg.RequestMetrics = m.Middleware
	hcfg.LinkKeys = handlers.LinkKeys(cfg.SessionSecrets)
	h := handlers.New(hcfg, svc, db, catalog, log, handlers.WithOrders(om), handlers.WithSubscriptions(subs))

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	var simHandler http.Handler
	if sim != nil {
		simHandler = sim
	}
	h.Routes(e, static.Handler(), simHandler)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}

	if addr := cfg.DebugAddr; addr != "" {
		// Profiles on a separate listener, never on the public one; config
		// refuses a non-loopback address unless DEBUG_PUBLIC=true.
		dbg := &http.Server{Addr: addr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		go dbg.ListenAndServe()
		defer dbg.Close()
		fmt.Fprintf(stdout, "  profiles: http://%s/debug/pprof/\n", addr)
	}
	if cfg.MetricsAddr != "" {
		// Metrics on a listener of their own, like the profiles.
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("METRICS_ADDR: %w", err)
		}
		msrv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go msrv.Serve(mln)
		defer msrv.Close()
		fmt.Fprintf(stdout, "  metrics: http://%s/metrics\n", mln.Addr())
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "Fika & Form is open at %s\n  listening on %s\n  payments: %s\n", baseURL, ln.Addr(), hcfg.Mode)
	live.print(stdout)
	fmt.Fprintf(stdout, "  orders:   %s/admin\n", baseURL)
	if hcfg.InspectorURL != "" {
		inspector := hcfg.InspectorURL
		if strings.HasPrefix(inspector, "/") {
			inspector = baseURL + inspector
		}
		fmt.Fprintf(stdout, "  Klarna simulator inspector: %s\n", inspector)
	}
	if cfg.AdminPasswordGenerated {
		fmt.Fprintf(stdout, "  orders area login: admin / %s (set ADMIN_PASSWORD, or ADMIN_OPEN=true for an open demo)\n", cfg.AdminPassword)
	}
	if cfg.SessionSecretGenerated {
		fmt.Fprintln(stdout, "  note: no SESSION_SECRET set, so carts reset when the shop restarts")
	}
	if cfg.TokenKeysGenerated {
		fmt.Fprintln(stdout, "  note: no TOKEN_KEYS set, so stored subscription tokens are unreadable after a restart")
	}

	// Background work, now and then periodically: settle what a crash, a
	// lost answer or a refused write left unfinished and ask Klarna about
	// pending reviews (every RECOVERY_INTERVAL), and delete checkouts that
	// can no longer become orders (hourly; see store.DefaultPurgePolicy).
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	background.Go(func() { svc.RunRecovery(bgCtx, cfg.RecoveryInterval) })
	// Order actions whose answer was lost are sent again with their keys.
	background.Go(func() { om.RunRecovery(bgCtx, cfg.RecoveryInterval) })
	// Charge subscriptions whose period is due (every RENEWAL_INTERVAL).
	background.Go(func() { subs.RunRenewals(bgCtx, cfg.RenewalInterval) })
	background.Go(func() {
		every(bgCtx, time.Hour, func(ctx context.Context) {
			if n, err := db.Purge(ctx, time.Now(), store.DefaultPurgePolicy); err != nil {
				log.Error("purging old checkouts failed", "error", err)
			} else if n > 0 {
				log.Info("purged old checkouts", "count", n)
			}
		})
	})
	stopWork := func() { stopBackground(); background.Wait() }

	select {
	case err := <-serveErr:
		stopWork()
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	// In-flight placements finish (or stay placing for the next start to
	// settle) before the database closes.
	svc.Close(shutdownCtx)
	stopWork()
	return err
}

// localHosts are the Host values a simulator-mode shop answers to besides
// BASE_URL's: the loopback names on the port it listens on, and, when the
// operator explicitly listens on another address, that address (every
// interface's address for 0.0.0.0 or ::).
func localHosts(addr string, explicit bool, ln *net.TCPAddr) []string {
	port := strconv.Itoa(ln.Port)
	hosts := []string{net.JoinHostPort("localhost", port), net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port)}
	if !explicit || ln.IP.IsLoopback() {
		return hosts
	}
	if h, _, err := net.SplitHostPort(addr); err == nil && h != "" && net.ParseIP(h) == nil {
		hosts = append(hosts, net.JoinHostPort(h, port)) // a name, as given
	}
	if !ln.IP.IsUnspecified() {
		return append(hosts, net.JoinHostPort(ln.IP.String(), port))
	}
	ifaddrs, _ := net.InterfaceAddrs()
	for _, a := range ifaddrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() {
			hosts = append(hosts, net.JoinHostPort(ipn.IP.String(), port))
		}
	}
	return hosts
}

// simulatorOrigins are where the built-in simulator may call back and
// redirect: the shop's BASE_URL and its local names, never another host.
func simulatorOrigins(baseURL string, hosts []string) []string {
	out := []string{baseURL}
	if u, err := url.Parse(baseURL); err == nil {
		out[0] = u.Scheme + "://" + u.Host
	}
	for _, h := range hosts {
		out = append(out, "http://"+h)
	}
	return out
}

// every runs fn now and then every period until ctx ends.
func every(ctx context.Context, period time.Duration, fn func(context.Context)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// healthcheck asks a running shop's /healthz and reports whether it said
// ok: a container image without a shell or curl uses the binary itself.
func healthcheck(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", base, resp.StatusCode)
	}
	return nil
}

// newLogger writes text or JSON (LOG_FORMAT) at the configured level, with
// the request id on every line written while serving a request.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(logging.Handler{Handler: slog.NewJSONHandler(w, opts)})
	}
	return slog.New(logging.Handler{Handler: slog.NewTextHandler(w, opts)})
}

func openStore(ctx context.Context, cfg *config.Config) (*store.SQL, error) {
	if path, ok := cfg.SQLitePath(); ok {
		return store.OpenSQLite(ctx, path)
	}
	return store.OpenPostgres(ctx, cfg.DatabaseURL)
}

func durationEnv(getenv func(string) string, key string, def time.Duration) time.Duration {
	v := getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return def
	}
	return d
}

// crashHook serves the crash tests (e2e/crash_test.go): with
// STOREFRONT_TEST_CRASH_AT=<step> the process kills itself with SIGKILL at
// that step of an order placement, as a power cut would. Unset, it does
// nothing.
func crashHook(getenv func(string) string) func(string) {
	at := getenv("STOREFRONT_TEST_CRASH_AT")
	if at == "" {
		return nil
	}
	return func(step string) {
		if step == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never return into the placement
		}
	}
}

// sessionQuota is Klarna's documented create-session rate limit per
// merchant; the shop stays under it rather than collect 429s.
func sessionQuota(m config.Mode) float64 {
	switch m {
	case config.ModePlayground:
		return 5
	case config.ModeProduction:
		return 40
	}
	return 0 // the simulator has no quota
}

// tuneGC trades memory the shop does not need for CPU it does: a page view
// allocates a few tens of kilobytes, so the default collector runs very
// often. Collect when the heap has grown 300% instead of 100%, but keep the
// process under a soft 64 MiB heap limit. GOGC and GOMEMLIMIT in the
// environment take precedence. See docs/PERFORMANCE.md for the figures.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(64 << 20)
	}
}
