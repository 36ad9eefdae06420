// Package config reads the shop's settings from the environment, checks them
// once, and reports every problem together. Every setting the shop reads is
// here: the rest of the program takes a *Config and never an environment
// variable.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/fikaandform/storefront/klarna"
)

// Mode is where Klarna calls go.
type Mode string

// Modes.
const (
	ModeSimulator  Mode = "simulator"
	ModePlayground Mode = "playground"
	ModeProduction Mode = "production"
)

// Config is the validated configuration.
type Config struct {
	Port    int
	BaseURL string // public URL; empty means "http://localhost:<port>" once listening
	// ListenAddr is the address to listen on: LISTEN_ADDR, or by default
	// 127.0.0.1:$PORT in simulator mode (a demo is not for the network)
	// and :$PORT otherwise. ListenAddrSet is true when LISTEN_ADDR was given.
	ListenAddr    string
	ListenAddrSet bool
	Mode          Mode
	// Region is KLARNA_REGION: the region of KLARNA_USERNAME and
	// KLARNA_PASSWORD (default eu).
	Region klarna.Region
	// KlarnaUsername and KlarnaPassword are KLARNA_USERNAME and
	// KLARNA_PASSWORD, the credentials of Region. In simulator mode without
	// any credentials they are made up for this process, which only the
	// shop's own client knows. Accounts holds every region's.
	KlarnaUsername string
	KlarnaPassword string
	// KlarnaCredentialsGenerated is true when they were made up at start.
	KlarnaCredentialsGenerated bool
	// KlarnaAPIURL is KLARNA_API_URL: in simulator mode the root of a
	// standalone simulator (its regional hosts are <url>/eu, /na and /oc);
	// otherwise the host of the one configured region (a proxy).
	KlarnaAPIURL string
	// KlarnaSimPublicURL is KLARNA_SIM_PUBLIC_URL: the address browsers
	// reach that standalone simulator at, when the shop reaches it by
	// another (a private network name behind a proxy). Default:
	// KlarnaAPIURL.
	KlarnaSimPublicURL string
	// Accounts are the Klarna accounts the shop has, one per region, in
	// the order of klarna.Regions: a market is offered only when its
	// region has one.
	Accounts []Account
	// SessionSecrets sign and encrypt the cookie session; the first signs,
	// all verify (rotation). Generated per process in simulator mode when
	// unset.
	SessionSecrets []string
	// SessionSecretGenerated is true when SessionSecrets was made up at start.
	SessionSecretGenerated bool
	DatabaseURL            string
	AdminPassword          string
	// AdminPasswordGenerated is true when the password was made up at start
	// (simulator mode without ADMIN_PASSWORD); main prints it.
	AdminPasswordGenerated bool
	// AdminOpen leaves the orders area without a password: an explicit
	// opt-out (ADMIN_OPEN=true), allowed only with the simulator.
	AdminOpen bool
	LogLevel  slog.Level
	// TokenKeys encrypt Klarna customer tokens at rest; the first encrypts,
	// all decrypt (rotation). Generated per process in simulator mode when
	// unset.
	TokenKeys          []string
	TokenKeysGenerated bool
	// RateLimits turns the per-client limits off (RATE_LIMITS=off), for a
	// load test from one address or a shop behind its own limiter.
	RateLimits bool
	// TrustProxy takes the client address from X-Forwarded-For, for a shop
	// behind a reverse proxy.
	TrustProxy bool
	// PlacementLease is how long an order placement belongs to the instance
	// that started it before recovery elsewhere may take it over
	// (PLACEMENT_LEASE, default 60s). RecoveryInterval is how often recovery
	// runs (RECOVERY_INTERVAL, default 10s).
	PlacementLease   time.Duration
	RecoveryInterval time.Duration
	// ReviewCheckAfter is how long after an order went to fraud review the
	// shop first asks Klarna about it, in case the notification is lost
	// (REVIEW_CHECK_AFTER, default 15m); later checks double the wait, up
	// to 8 hours.
	ReviewCheckAfter time.Duration
	// RenewalInterval is how often the renewal job looks for subscriptions
	// due (RENEWAL_INTERVAL, default 1m).
	RenewalInterval time.Duration
	// LogFormat is "text" (default) or "json" (LOG_FORMAT), for a log
	// collector.
	LogFormat string
	// MetricsAddr serves Prometheus metrics on a listener of its own
	// (METRICS_ADDR, off when empty), never on the shop's public one.
	MetricsAddr string
	// DebugAddr serves Go profiles (pprof) on a separate listener. It must
	// be a loopback address unless DebugPublic (DEBUG_PUBLIC=true) says
	// otherwise.
	DebugAddr   string
	DebugPublic bool
	// CaptureDigitalAtOrder has Klarna capture an order when it creates it
	// if the order holds digital goods only, delivered at once
	// (CAPTURE_DIGITAL_AT_ORDER, default false: every order is captured by
	// an operator when it ships). See orders.Policy.
	CaptureDigitalAtOrder bool
	// Simulator tunes the built-in Klarna simulator (KLARNA_SIM_*).
	Simulator SimulatorSettings
	// CrashAt is for the crash tests only (STOREFRONT_TEST_CRASH_AT): the
	// step of an order placement at which the process kills itself, as a
	// power cut would (see CrashSteps). Empty, as in every real
	// deployment, nothing happens.
	CrashAt string
	// KlarnaClientID is KLARNA_CLIENT_ID, the client identifier Klarna's
	// on-site messaging needs; without it, and outside the simulator, the
	// shop shows no placements.
	KlarnaClientID string
}

// Load reads the configuration through getenv (os.Getenv in production, a
// map in tests). It returns every problem at once, joined.
func Load(getenv func(string) string) (*Config, error) {
	s := &settings{getenv: getenv}
	c := &Config{}
	// The mode comes first: it decides what the other settings require.
	c.readMode(s)
	c.readServer(s)
	c.readKlarna(s)
	c.readSecrets(s)
	c.readDatabase(s)
	c.readAdmin(s)
	c.readLimits(s)
	c.readBackground(s)
	c.readDiagnostics(s)
	c.readLogging(s)
	c.readOrders(s)
	c.readMessaging(s)
	c.readSimulator(s)
	c.readTesting(s)
	if err := s.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// readDatabase reads DATABASE_URL: SQLite by default, or PostgreSQL.
func (c *Config) readDatabase(s *settings) {
	c.DatabaseURL = s.get("DATABASE_URL")
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:data/shop.db"
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		s.bad("DATABASE_URL=%q: want sqlite:<path> or postgres://...", c.DatabaseURL)
	}
}

// SQLitePath returns the file of a sqlite: DATABASE_URL.
func (c *Config) SQLitePath() (string, bool) {
	p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:")
	return p, ok
}

// readLimits reads RATE_LIMITS and TRUST_PROXY, which decide how clients
// are told apart and limited.
func (c *Config) readLimits(s *settings) {
	switch v := strings.ToLower(s.get("RATE_LIMITS")); v {
	case "", "on", "true":
		c.RateLimits = true
	case "off", "false":
	default:
		s.bad("RATE_LIMITS=%q: want on or off", s.get("RATE_LIMITS"))
	}
	c.TrustProxy = s.flag("TRUST_PROXY")
}

// readBackground reads how often the background work runs and how long a
// placement is one instance's alone.
func (c *Config) readBackground(s *settings) {
	c.PlacementLease = s.duration("PLACEMENT_LEASE", time.Minute, 2*time.Second)
	c.RecoveryInterval = s.duration("RECOVERY_INTERVAL", 10*time.Second, 100*time.Millisecond)
	c.ReviewCheckAfter = s.duration("REVIEW_CHECK_AFTER", 15*time.Minute, time.Second)
	c.RenewalInterval = s.duration("RENEWAL_INTERVAL", time.Minute, 100*time.Millisecond)
}

// ReviewChecks is the schedule of checks on an order pending review: the
// first after ReviewCheckAfter, each next one twice as late, at most 8 hours
// apart.
func (c *Config) ReviewChecks() []time.Duration {
	var out []time.Duration
	for d := c.ReviewCheckAfter; ; d *= 2 {
		if d >= 8*time.Hour {
			return append(out, 8*time.Hour)
		}
		out = append(out, d)
	}
}

// readOrders reads the order management policy.
func (c *Config) readOrders(s *settings) {
	c.CaptureDigitalAtOrder = s.flag("CAPTURE_DIGITAL_AT_ORDER")
}

// CrashSteps are the steps of an order placement at which the crash tests
// may stop the process (STOREFRONT_TEST_CRASH_AT): the order was received,
// is placing (Klarna not yet called), was ordered (Klarna answered, nothing
// recorded) or recorded. They are the steps checkout.Options.Crash is
// called with.
var CrashSteps = []string{"received", "placing", "ordered", "recorded"}

// readTesting reads STOREFRONT_TEST_CRASH_AT, which only the crash tests
// set.
func (c *Config) readTesting(s *settings) {
	v := s.get("STOREFRONT_TEST_CRASH_AT")
	if v == "" {
		return
	}
	for _, step := range CrashSteps {
		if v == step {
			c.CrashAt = v
			return
		}
	}
	s.bad("STOREFRONT_TEST_CRASH_AT=%q: want one of %s (it is for the crash tests only)", v, strings.Join(CrashSteps, ", "))
}

// settings reads environment variables and collects what is wrong with
// them, so that every problem is reported at once.
type settings struct {
	getenv   func(string) string
	problems []string
}

// get returns a variable without surrounding spaces.
func (s *settings) get(name string) string { return strings.TrimSpace(s.getenv(name)) }

// bad records a problem.
func (s *settings) bad(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// flag reads a true/false setting, false when unset.
func (s *settings) flag(name string) bool {
	switch strings.ToLower(s.get(name)) {
	case "", "false", "0", "no":
		return false
	case "true", "1", "yes":
		return true
	}
	s.bad("%s=%q: want true or false", name, s.get(name))
	return false
}

// duration reads a Go duration ("45s", "2m") of at least minimum.
func (s *settings) duration(name string, def, minimum time.Duration) time.Duration {
	v := s.get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < minimum {
		s.bad("%s=%q: want a duration of at least %s, such as %s", name, v, minimum, def)
		return def
	}
	return d
}

// err joins the problems found, or is nil.
func (s *settings) err() error {
	if len(s.problems) == 0 {
		return nil
	}
	return errors.New("configuration problems:\n  - " + strings.Join(s.problems, "\n  - "))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
