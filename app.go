package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on DEBUG_ADDR
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/config"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/internal/logging"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/metrics"
	"github.com/fikaandform/storefront/orders"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/static"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/subscriptions"
	"github.com/fikaandform/storefront/vault"
)

// app is the shop as run builds it, one step at a time: each step fills in
// what the next needs, and registers what must be closed at the end.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	metrics *metrics.Metrics
	stdout  io.Writer // the start-up output

	ln      net.Listener
	baseURL string // BASE_URL, or http://localhost:<port> once listening
	// web is what the handlers are told: the mode, the widget, the hosts
	// and markets. Each step fills in its part.
	web handlers.Config

	db      *store.SQL
	sim     *simulator.Simulator // the built-in simulator; nil otherwise
	clients *klarna.Clients
	markets markets

	catalog  *shop.Catalog
	checkout *checkout.Service
	orders   *orders.Service
	subs     *subscriptions.Service
	server   *http.Server

	closers []func() // undone by close, last first
}

// newApp starts an app with its logger and metrics.
func newApp(cfg *config.Config, stdout, stderr io.Writer) *app {
	return &app{cfg: cfg, log: newLogger(cfg, stderr), metrics: metrics.New(), stdout: stdout}
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

// onClose registers fn to run when the app closes.
func (a *app) onClose(fn func()) { a.closers = append(a.closers, fn) }

// close undoes the steps taken, in reverse order.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// listen opens the shop's listener on addr (the -addr flag), else
// LISTEN_ADDR, and settles the URL the shop is reached at.
func (a *app) listen(addr string) error {
	explicit := addr != "" || a.cfg.ListenAddrSet
	if addr == "" {
		addr = a.cfg.ListenAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	a.ln = ln
	a.onClose(func() { ln.Close() })
	tcp := ln.Addr().(*net.TCPAddr)
	a.baseURL = a.cfg.BaseURL
	if a.baseURL == "" {
		a.baseURL = "http://localhost:" + strconv.Itoa(tcp.Port)
	}
	a.web = handlers.Config{
		BaseURL: a.baseURL, AdminPassword: a.cfg.AdminPassword, Secure: strings.HasPrefix(a.baseURL, "https://"),
		SessionKeys: handlers.SessionKeys(a.cfg.SessionSecrets), TrustProxy: a.cfg.TrustProxy, NoRateLimits: !a.cfg.RateLimits,
	}
	if a.cfg.Mode == config.ModeSimulator {
		a.web.AllowedHosts = localHosts(addr, explicit, tcp)
	}
	return nil
}

// openStore opens the database of DATABASE_URL, migrated.
func (a *app) openStore(ctx context.Context) error {
	var err error
	if path, ok := a.cfg.SQLitePath(); ok {
		a.db, err = store.OpenSQLite(ctx, path)
	} else {
		a.db, err = store.OpenPostgres(ctx, a.cfg.DatabaseURL)
	}
	if err != nil {
		return err
	}
	a.onClose(func() { a.db.Close() })
	return nil
}

// buildServices builds the checkout, order management and subscriptions,
// each calling Klarna through the client of a market's region.
func (a *app) buildServices() error {
	tokens, err := vault.New(a.cfg.TokenKeys)
	if err != nil {
		return fmt.Errorf("TOKEN_KEYS: %w", err)
	}
	a.catalog = shop.DefaultCatalog()
	a.orders = orders.NewForMarkets(orders.ByRegion(a.clients), a.db, orders.Policy{CaptureDigitalAtOrder: a.cfg.CaptureDigitalAtOrder},
		orders.Options{Logger: a.log.With("component", "orders")})
	urls := handlers.NewURLs(a.baseURL)
	a.checkout = checkout.NewForMarkets(checkout.ByRegion(a.clients), a.db, a.catalog, urls, checkout.Options{
		Logger: a.log.With("component", "checkout"), Crash: crashHook(a.cfg.CrashAt), SessionsPerSecond: sessionQuota(a.cfg.Mode), Vault: tokens,
		Lease: a.cfg.PlacementLease, ReviewChecks: a.cfg.ReviewChecks(), Observer: a.metrics,
		AutoCapture: a.orders.Policy().AutoCapture, AutoCaptured: a.orders.Refresh,
	})
	a.subs = subscriptions.NewForMarkets(subscriptions.ByRegion(a.clients), a.db, a.catalog, tokens,
		subscriptions.Options{Logger: a.log.With("component", "subscriptions"), URLs: urls, Observer: a.metrics})
	return nil
}

// sessionQuota is Klarna's documented create-session rate limit per
// merchant (docs/KLARNA.md, "Payments API v1"); the shop stays under it
// rather than collect 429s.
func sessionQuota(m config.Mode) float64 {
	switch m {
	case config.ModePlayground:
		return 5
	case config.ModeProduction:
		return 40
	}
	return 0 // the simulator has no quota
}

// buildServer mounts the handlers, the static files and the simulator on
// the shop's HTTP server.
func (a *app) buildServer() {
	a.web.RequestMetrics = a.metrics.Middleware
	a.web.LinkKeys = handlers.LinkKeys(a.cfg.SessionSecrets)
	h := handlers.New(a.web, a.checkout, a.db, a.catalog, a.log, handlers.WithOrders(a.orders), handlers.WithSubscriptions(a.subs))
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	var sim http.Handler // a nil *Simulator must stay a nil interface
	if a.sim != nil {
		sim = a.sim
	}
	h.Routes(e, static.Handler(), sim)
	a.server = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
}

// startDiagnostics serves profiles (DEBUG_ADDR) and metrics (METRICS_ADDR),
// each on a listener of its own, never on the public one; config refuses a
// non-loopback DEBUG_ADDR unless DEBUG_PUBLIC=true.
func (a *app) startDiagnostics() error {
	if addr := a.cfg.DebugAddr; addr != "" {
		dbg := &http.Server{Addr: addr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		go dbg.ListenAndServe()
		a.onClose(func() { dbg.Close() })
		fmt.Fprintf(a.stdout, "  profiles: http://%s/debug/pprof/\n", addr)
	}
	if a.cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("METRICS_ADDR: %w", err)
		}
		srv := &http.Server{Handler: a.metrics.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		a.onClose(func() { srv.Close() })
		fmt.Fprintf(a.stdout, "  metrics: http://%s/metrics\n", ln.Addr())
	}
	return nil
}

// startServing serves the shop on its listener; the channel receives why
// serving stopped.
func (a *app) startServing() <-chan error {
	served := make(chan error, 1)
	go func() { served <- a.server.Serve(a.ln) }()
	return served
}

// announce prints where the shop is open, how it pays, and what the person
// running it must know.
func (a *app) announce() {
	w, cfg := a.stdout, a.cfg
	fmt.Fprintf(w, "Fika & Form is open at %s\n  listening on %s\n  payments: %s\n", a.baseURL, a.ln.Addr(), a.web.Mode)
	a.markets.print(w)
	fmt.Fprintf(w, "  orders:   %s/admin\n", a.baseURL)
	if inspector := a.web.InspectorURL; inspector != "" {
		if strings.HasPrefix(inspector, "/") {
			inspector = a.baseURL + inspector
		}
		fmt.Fprintf(w, "  Klarna simulator inspector: %s\n", inspector)
	}
	if cfg.AdminPasswordGenerated {
		fmt.Fprintf(w, "  orders area login: admin / %s (set ADMIN_PASSWORD, or ADMIN_OPEN=true for an open demo)\n", cfg.AdminPassword)
	}
	if cfg.SessionSecretGenerated {
		fmt.Fprintln(w, "  note: no SESSION_SECRET set, so carts reset when the shop restarts")
	}
	if cfg.TokenKeysGenerated {
		fmt.Fprintln(w, "  note: no TOKEN_KEYS set, so stored subscription tokens are unreadable after a restart")
	}
}

// startBackground runs the background work, now and then periodically,
// until the returned stop is called (which waits for it): settle what a
// crash, a lost answer or a refused write left unfinished and ask Klarna
// about pending reviews (every RECOVERY_INTERVAL); send again the order
// actions whose answer was lost, with their keys; charge subscriptions
// whose period is due (every RENEWAL_INTERVAL); and delete checkouts that
// can no longer become orders (hourly; see store.DefaultPurgePolicy).
func (a *app) startBackground(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.checkout.RunRecovery(ctx, a.cfg.RecoveryInterval) })
	wg.Go(func() { a.orders.RunRecovery(ctx, a.cfg.RecoveryInterval) })
	wg.Go(func() { a.subs.RunRenewals(ctx, a.cfg.RenewalInterval) })
	wg.Go(func() { every(ctx, time.Hour, a.purge) })
	return func() { cancel(); wg.Wait() }
}

// purge deletes checkouts that can no longer become orders.
func (a *app) purge(ctx context.Context) {
	if n, err := a.db.Purge(ctx, time.Now(), store.DefaultPurgePolicy); err != nil {
		a.log.Error("purging old checkouts failed", "error", err)
	} else if n > 0 {
		a.log.Info("purged old checkouts", "count", n)
	}
}

// serveUntilDone waits until serving fails or ctx ends, then shuts down:
// the server stops accepting and lets requests finish (15 s), in-flight
// placements finish (or stay placing for the next start to settle), and
// the background work stops, all before the database closes.
func (a *app) serveUntilDone(ctx context.Context, served <-chan error, stopBackground func()) error {
	select {
	case err := <-served:
		stopBackground()
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := a.server.Shutdown(shutdownCtx)
	a.checkout.Close(shutdownCtx)
	stopBackground()
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

// crashHook serves the crash tests (e2e/crash_test.go): at the step of an
// order placement named by STOREFRONT_TEST_CRASH_AT (config.CrashAt) the
// process kills itself with SIGKILL, as a power cut would. Unset, it does
// nothing.
func crashHook(at string) func(string) {
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
