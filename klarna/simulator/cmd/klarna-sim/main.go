// Command klarna-sim runs the Klarna simulator on its own port, so that an
// integration in any language can test against it:
//
//	go run ./klarna/simulator/cmd/klarna-sim -addr 127.0.0.1:8090
//
// Point your Klarna client's base URL at the printed URL and load the widget
// script from <url>/kp/lib/v1/api.js. The inspector is at <url>/_sim/.
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
	"os"
	"os/signal"
	"syscall"
	"time"

	"storefront/klarna/simulator"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("klarna-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	public := fs.String("public-url", "", "URL browsers use to reach the simulator (default http://<addr>)")
	user := fs.String("username", "", "API username to require (empty: accept any credentials)")
	pass := fs.String("password", "", "API password to require")
	delay := fs.Duration("callback-delay", 0, "delay before the authorization callback")
	decide := fs.Duration("pending-decision-delay", 0, "decide pending orders automatically after this long (0: from the inspector)")
	decision := fs.String("pending-decision", "accept", "automatic decision: accept, reject or stop")
	faults := fs.String("faults", "", "faults to inject, e.g. create_order=503*1,get_session=latency:2s,capture=lost*1")
	lifetime := fs.Duration("order-lifetime", simulator.DefaultOrderAuthorizationLifetime, "how long an order can be captured (its expires_at)")
	requireKey := fs.Bool("require-idempotency-key", false, "refuse Order Management and Customer Token writes without Klarna-Idempotency-Key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	base := *public
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	sim, err := simulator.New(simulator.Config{
		BaseURL: base, Username: *user, Password: *pass, CallbackDelay: *delay,
		PendingDecisionDelay: *decide, PendingDecision: *decision, Faults: *faults, Logger: logger,
		OrderAuthorizationLifetime: *lifetime, RequireIdempotencyKey: *requireKey,
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Klarna simulator listening on %s\n  API base URL: %s\n  widget script: %s\n  inspector: %s/_sim/\n", ln.Addr(), base, sim.ScriptURL(), base)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
