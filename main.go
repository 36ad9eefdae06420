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
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
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
	"storefront/orders"
	"storefront/shop"
	"storefront/static"
	"storefront/store"
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
	addr := fs.String("addr", "", "listen address (default :$PORT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := slog.New(logging.Handler{Handler: slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})})

	if *addr == "" {
		*addr = ":" + strconv.Itoa(cfg.Port)
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
	apiURL, err := cfg.KlarnaBaseURL()
	if err != nil {
		return err
	}
	var sim *simulator.Simulator
	if cfg.Mode == config.ModeSimulator {
		simBase := baseURL + "/klarna-sim"
		sim, err = simulator.New(simulator.Config{
			BaseURL: simBase, Username: cfg.KlarnaUsername, Password: cfg.KlarnaPassword,
			CallbackDelay:        durationEnv(getenv, "KLARNA_SIM_CALLBACK_DELAY", time.Second),
			PendingDecisionDelay: durationEnv(getenv, "KLARNA_SIM_PENDING_DECISION_DELAY", 0),
			PendingDecision:      getenv("KLARNA_SIM_PENDING_DECISION"),
			Faults:               getenv("KLARNA_SIM_FAULTS"),
			Logger:               log.With("component", "simulator"),
		})
		if err != nil {
			return err
		}
		defer sim.Close()
		if apiURL == "" {
			apiURL = simBase
		}
		hcfg.Mode, hcfg.Simulator, hcfg.InspectorURL, hcfg.WidgetScript = "Klarna simulator", true, simBase+"/_sim/", sim.ScriptURL()
	} else {
		hcfg.Mode = "Klarna " + string(cfg.Mode)
		hcfg.WidgetScript = "https://x.klarnacdn.net/kp/lib/v1/api.js"
		hcfg.KlarnaHosts = handlers.KlarnaCSP(cfg.Mode == config.ModePlayground)
	}
	hcfg.ModeDetail = "region " + string(cfg.Region) + " · API " + apiURL

	client, err := klarna.NewClient(
		klarna.WithBaseURL(apiURL), klarna.WithCredentials(cfg.KlarnaUsername, cfg.KlarnaPassword),
		klarna.WithUserAgent("FikaAndForm/1.0"), klarna.WithLogger(log.With("component", "klarna")),
	)
	if err != nil {
		return err
	}
	tokens, err := vault.New(cfg.TokenKeys)
	if err != nil {
		return fmt.Errorf("TOKEN_KEYS: %w", err)
	}
	catalog := shop.DefaultCatalog()
	// Order management after placement: captures, refunds, cancels.
	om := orders.New(client, db, orders.Policy{CaptureDigitalAtOrder: cfg.CaptureDigitalAtOrder}, orders.Options{Logger: log.With("component", "orders")})
	svc := checkout.New(client, db, catalog, baseURL, checkout.Options{
		Logger: log.With("component", "checkout"), Crash: crashHook(getenv), SessionsPerSecond: sessionQuota(cfg.Mode), Vault: tokens,
		Lease: cfg.PlacementLease, ReviewChecks: cfg.ReviewChecks(),
		AutoCapture: om.Policy().AutoCapture, AutoCaptured: om.Refresh,
	})
	h := handlers.New(hcfg, svc, db, catalog, log, handlers.WithOrders(om))

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	var simHandler http.Handler
	if sim != nil {
		simHandler = sim
	}
	h.Routes(e, static.FS, simHandler)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}

	if addr := getenv("DEBUG_ADDR"); addr != "" {
		// Profiles on a separate listener, never on the public one.
		dbg := &http.Server{Addr: addr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		go dbg.ListenAndServe()
		defer dbg.Close()
		fmt.Fprintf(stdout, "  profiles: http://%s/debug/pprof/\n", addr)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "Fika & Form is open at %s\n  payments: %s (%s)\n  orders:   %s/admin\n", baseURL, hcfg.Mode, hcfg.ModeDetail, baseURL)
	if sim != nil {
		fmt.Fprintf(stdout, "  Klarna simulator inspector: %s\n", hcfg.InspectorURL)
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

	// Settle what a crash, a lost answer or a refused write left unfinished,
	// and ask Klarna about pending reviews: now, then every few seconds.
	recoverCtx, stopRecover := context.WithCancel(context.WithoutCancel(ctx))
	recovered := make(chan struct{})
	go func() {
		defer close(recovered)
		svc.RunRecovery(recoverCtx, cfg.RecoveryInterval)
	}()
	// Order actions whose answer was lost are sent again with their keys.
	omRecovered := make(chan struct{})
	go func() {
		defer close(omRecovered)
		om.RunRecovery(recoverCtx, cfg.RecoveryInterval)
	}()
	defer func() { <-omRecovered }()

	select {
	case err := <-serveErr:
		stopRecover()
		<-recovered
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
	stopRecover()
	<-recovered
	return err
}

func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
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
