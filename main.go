// Command storefront runs Fika & Form, a reference shop that takes payment
// with Klarna Payments. With no configuration it runs against the built-in
// Klarna simulator:
//
//	go run .
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/joho/godotenv"

	"github.com/fikaandform/storefront/config"
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
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.healthcheck != "" {
		return healthcheck(ctx, f.healthcheck)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	a := newApp(cfg, stdout, stderr)
	defer a.close()
	if err := a.listen(f.addr); err != nil {
		return err
	}
	if err := a.openStore(ctx); err != nil {
		return err
	}
	if err := a.connectKlarna(); err != nil {
		return err
	}
	if err := a.buildServices(); err != nil {
		return err
	}
	a.buildServer()
	if err := a.startDiagnostics(); err != nil {
		return err
	}
	served := a.startServing()
	a.announce()
	stopBackground := a.startBackground(ctx)
	return a.serveUntilDone(ctx, served, stopBackground)
}

// flags are the command line's.
type flags struct {
	addr        string // listen address, overriding LISTEN_ADDR
	healthcheck string // a shop's URL to check instead of serving
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("github.com/fikaandform/storefront", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.addr, "addr", "", "listen address (default LISTEN_ADDR, else 127.0.0.1:$PORT with the simulator and :$PORT with Klarna)")
	fs.StringVar(&f.healthcheck, "healthcheck", "", "check that the shop at this URL answers /healthz, then exit (for a container's HEALTHCHECK)")
	err := fs.Parse(args)
	return f, err
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

// tuneGC trades memory the shop does not need for CPU it does: a page view
// allocates a few tens of kilobytes, so the default collector runs very
// often. Collect when the heap has grown 300% instead of 100%, but keep the
// process under a soft 64 MiB heap limit (more with the built-in simulator:
// see sessionHeap). GOGC and GOMEMLIMIT, the Go runtime's own variables
// (not the shop's settings, so not in config), take precedence. See
// docs/PERFORMANCE.md for the figures.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(shopHeap)
		heapLimitSet = true
	}
}

const (
	// shopHeap is the shop's soft heap limit.
	shopHeap = 64 << 20
	// sessionHeap is what the built-in simulator keeps per session (with
	// its order, about 13 KiB), added to the limit when it runs in the
	// same process: its 10,000 sessions under the shop's limit alone made
	// the collector run almost continuously once the simulator was full
	// (a tenth fewer checkouts a second in the load test).
	sessionHeap = 13 << 10
)

// heapLimitSet records that tuneGC set the heap limit (and the operator
// did not), so that the built-in simulator may raise it.
var heapLimitSet bool

// makeRoomForSimulator raises the soft heap limit by the built-in
// simulator's share for sessions sessions, when the limit is the shop's
// own.
func makeRoomForSimulator(sessions int) {
	if heapLimitSet {
		debug.SetMemoryLimit(shopHeap + int64(sessions)*sessionHeap)
	}
}
