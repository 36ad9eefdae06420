// Command klarna-sim runs the Klarna simulator on its own port, so that an
// integration in any language can test against it:
//
//	go run ./klarna/simulator/cmd/klarna-sim -addr 127.0.0.1:8090
//
// Point your Klarna client's base URL at the printed URL and load the widget
// script from <url>/kp/lib/v1/api.js. The inspector is at <url>/_sim/.
//
// The root serves every region. Klarna's regional hosts are <url>/eu,
// <url>/na and <url>/oc: each takes only its own region's countries and its
// own credentials (-eu-username/-eu-password and so on, else -username and
// -password), as api, api-na and api-oc.klarna.com do.
//
// The simulator calls back and redirects only to the origins in
// -allow-origins (or KLARNA_SIM_ALLOW_ORIGINS), by default this machine's
// loopback names on any port; it answers only to its own host name and the
// loopback names; and on an address other than loopback it needs -username
// and -password, because whoever knows them gets real-looking tokens.
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
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fikaandform/storefront/klarna/simulator"
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
	regionUser, regionPass := map[string]*string{}, map[string]*string{}
	for _, r := range []string{simulator.RegionEU, simulator.RegionNA, simulator.RegionOC} {
		regionUser[r] = fs.String(r+"-username", "", "API username the "+r+" regional host requires (default -username)")
		regionPass[r] = fs.String(r+"-password", "", "API password the "+r+" regional host requires (default -password)")
	}
	delay := fs.Duration("callback-delay", 0, "delay before the authorization callback")
	decide := fs.Duration("pending-decision-delay", 0, "decide pending orders automatically after this long (0: from the inspector)")
	decision := fs.String("pending-decision", "accept", "automatic decision: accept, reject or stop")
	faults := fs.String("faults", "", "faults to inject, e.g. create_order=503*1,get_session=latency:2s,capture=lost*1")
	lifetime := fs.Duration("order-lifetime", simulator.DefaultOrderAuthorizationLifetime, "how long an order can be captured (its expires_at)")
	requireKey := fs.Bool("require-idempotency-key", false, "refuse Order Management and Customer Token writes without Klarna-Idempotency-Key")
	allow := fs.String("allow-origins", os.Getenv("KLARNA_SIM_ALLOW_ORIGINS"),
		"comma-separated origins that callbacks and redirects may go to, e.g. https://shop.example,http://localhost:* (default: loopback, any port; * allows anywhere)")
	maxSessions := fs.Int("max-sessions", simulator.DefaultMaxSessions, "sessions, with their orders, kept in memory; the oldest are forgotten past it")
	debug := fs.String("debug-addr", "", "serve Go profiles (pprof) on this loopback address, e.g. 127.0.0.1:6061")
	hosts := fs.String("hosts", "", "comma-separated further host[:port] names to answer to, e.g. klarna-sim:8090 for the shops in a compose network")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *debug != "" {
		if err := serveProfiles(*debug); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	if !tcp.IP.IsLoopback() && (*user == "" || *pass == "") {
		ln.Close()
		return fmt.Errorf("listening on %s, which other machines can reach: set -username and -password, or listen on 127.0.0.1", *addr)
	}
	base := *public
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	origins := splitList(*allow)
	regions := map[string]simulator.Credentials{}
	for r, u := range regionUser {
		if *u != "" || *regionPass[r] != "" {
			regions[r] = simulator.Credentials{Username: *u, Password: *regionPass[r]}
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	sim, err := simulator.New(simulator.Config{
		BaseURL: base, Username: *user, Password: *pass, Regions: regions, CallbackDelay: *delay,
		PendingDecisionDelay: *decide, PendingDecision: *decision, Faults: *faults, AllowedOrigins: origins, Logger: logger,
		OrderAuthorizationLifetime: *lifetime, RequireIdempotencyKey: *requireKey, MaxSessions: *maxSessions,
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	srv := &http.Server{Handler: hostCheck(sim, base, tcp.Port, splitList(*hosts)), ReadHeaderTimeout: 10 * time.Second}
	shown := *allow
	if shown == "" {
		shown = "this machine only (loopback, any port)"
	}
	fmt.Fprintf(stdout, "Klarna simulator listening on %s\n  API base URL: %s (every region)\n  regional hosts: eu %s · na %s · oc %s\n  widget script: %s\n  inspector: %s/_sim/\n  callbacks and redirects to: %s\n",
		ln.Addr(), base, sim.RegionURL("eu"), sim.RegionURL("na"), sim.RegionURL("oc"), sim.ScriptURL(), base, shown)
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

// serveProfiles serves pprof on a loopback address only: profiles show
// what the process holds.
func serveProfiles(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return fmt.Errorf("-debug-addr %s: profiles are served on loopback only", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	go (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	return nil
}

// hostCheck answers 421 to requests for another host name, so that a web
// page cannot reach the simulator by pointing its own name at this address
// (DNS rebinding). The public URL's host and the loopback names on the
// listening port are the simulator's, and the names in -hosts (how other
// machines on a private network reach it).
func hostCheck(next http.Handler, base string, port int, extra []string) http.Handler {
	allowed := map[string]bool{}
	if u, err := url.Parse(base); err == nil {
		allowed[strings.ToLower(u.Host)] = true
	}
	for _, h := range extra {
		allowed[strings.ToLower(h)] = true
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		allowed[net.JoinHostPort(h, strconv.Itoa(port))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			http.Error(w, "This simulator does not answer to that host name.", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// splitList reads a comma-separated flag, ignoring blanks around names.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
