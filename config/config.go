// Package config reads the shop's settings from the environment, checks them
// once, and reports every problem together.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"storefront/klarna"
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
	Mode    Mode
	Region  klarna.Region
	// KlarnaUsername and KlarnaPassword are the API credentials. In
	// simulator mode they default to the simulator's own.
	KlarnaUsername string
	KlarnaPassword string
	// KlarnaAPIURL overrides the region's base URL in every mode.
	KlarnaAPIURL string
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
	// CaptureDigitalAtOrder has Klarna capture an order when it creates it
	// if the order holds digital goods only, delivered at once
	// (CAPTURE_DIGITAL_AT_ORDER, default false: every order is captured by
	// an operator when it ships). See orders.Policy.
	CaptureDigitalAtOrder bool
}

// Simulator credentials used when none are configured.
const (
	SimulatorUsername = "sim_merchant"
	SimulatorPassword = "sim_password"
)

const minSecretLength = 32

// Load reads the configuration through getenv (os.Getenv in production, a
// map in tests). It returns every problem at once, joined.
func Load(getenv func(string) string) (*Config, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }

	c := &Config{
		KlarnaUsername: env("KLARNA_USERNAME"),
		KlarnaPassword: env("KLARNA_PASSWORD"),
		KlarnaAPIURL:   env("KLARNA_API_URL"),
		DatabaseURL:    env("DATABASE_URL"),
		AdminPassword:  env("ADMIN_PASSWORD"),
		BaseURL:        strings.TrimRight(env("BASE_URL"), "/"),
	}

	c.Port = 8080
	if v := env("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			bad("PORT=%q is not a port number (0-65535; 0 picks a free port)", v)
		}
		c.Port = p
	}

	switch m := Mode(strings.ToLower(env("KLARNA_ENV"))); m {
	case "":
		c.Mode = ModeSimulator
		if c.KlarnaUsername != "" || c.KlarnaPassword != "" {
			c.Mode = ModePlayground
		}
	case ModeSimulator, ModePlayground, ModeProduction:
		c.Mode = m
	default:
		bad("KLARNA_ENV=%q: want simulator, playground or production", m)
	}

	c.Region = klarna.RegionEU
	if v := strings.ToLower(env("KLARNA_REGION")); v != "" {
		switch klarna.Region(v) {
		case klarna.RegionEU, klarna.RegionNA, klarna.RegionOC:
			c.Region = klarna.Region(v)
		default:
			bad("KLARNA_REGION=%q: want eu, na or oc", v)
		}
	}

	if c.KlarnaAPIURL != "" {
		if u, err := url.Parse(c.KlarnaAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("KLARNA_API_URL=%q is not an absolute http(s) URL", c.KlarnaAPIURL)
		}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("BASE_URL=%q is not an absolute http(s) URL", c.BaseURL)
		case c.Mode == ModeProduction && u.Scheme != "https":
			bad("BASE_URL must be https in production: Klarna only calls https callbacks")
		}
	} else if c.Mode != ModeSimulator {
		bad("BASE_URL is required with Klarna's %s: it is where Klarna sends callbacks and shoppers", c.Mode)
	}

	if c.Mode == ModeSimulator {
		if c.KlarnaUsername == "" {
			c.KlarnaUsername, c.KlarnaPassword = SimulatorUsername, SimulatorPassword
		}
	} else if err := klarna.CheckCredentials(c.KlarnaUsername, c.KlarnaPassword); err != nil {
		bad("KLARNA_USERNAME/KLARNA_PASSWORD: %s", strings.TrimPrefix(err.Error(), "klarna: credentials for Klarna's API: "))
	}

	c.SessionSecrets, c.SessionSecretGenerated = c.secretList(env, "SESSION_SECRET", "", bad)
	c.TokenKeys, c.TokenKeysGenerated = c.secretList(env, "TOKEN_KEYS", ": it encrypts subscription customer tokens", bad)

	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:data/shop.db"
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("DATABASE_URL=%q: want sqlite:<path> or postgres://...", c.DatabaseURL)
	}

	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		bad("ADMIN_PASSWORD needs at least 8 characters")
	}
	if c.AdminPassword != "" && looksPlaceholder(c.AdminPassword) && c.Mode != ModeSimulator {
		bad("ADMIN_PASSWORD looks like a placeholder")
	}
	switch strings.ToLower(env("ADMIN_OPEN")) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		if c.Mode != ModeSimulator {
			bad("ADMIN_OPEN=true is only allowed with the simulator: the orders area shows every order")
		}
		c.AdminOpen = true
	default:
		bad("ADMIN_OPEN=%q: want true or false", env("ADMIN_OPEN"))
	}
	switch {
	case c.AdminPassword == "" && c.Mode != ModeSimulator:
		bad("ADMIN_PASSWORD is required outside simulator mode: the orders area shows every order")
	case c.AdminPassword == "" && !c.AdminOpen:
		// Protected even in a demo, unless explicitly opted out.
		b := make([]byte, 9)
		rand.Read(b)
		c.AdminPassword = hex.EncodeToString(b)
		c.AdminPasswordGenerated = true
	case c.AdminOpen:
		c.AdminPassword = ""
	}

	switch strings.ToLower(env("RATE_LIMITS")) {
	case "", "on", "true":
		c.RateLimits = true
	case "off", "false":
	default:
		bad("RATE_LIMITS=%q: want on or off", env("RATE_LIMITS"))
	}

	switch strings.ToLower(env("TRUST_PROXY")) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		c.TrustProxy = true
	default:
		bad("TRUST_PROXY=%q: want true or false", env("TRUST_PROXY"))
	}

	c.PlacementLease = durationSetting(env, "PLACEMENT_LEASE", time.Minute, 2*time.Second, bad)
	c.RecoveryInterval = durationSetting(env, "RECOVERY_INTERVAL", 10*time.Second, 100*time.Millisecond, bad)
	c.ReviewCheckAfter = durationSetting(env, "REVIEW_CHECK_AFTER", 15*time.Minute, time.Second, bad)

	c.LogLevel = slog.LevelInfo
	if v := env("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			bad("LOG_LEVEL=%q: want debug, info, warn or error", v)
		}
	}

	switch strings.ToLower(env("CAPTURE_DIGITAL_AT_ORDER")) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		c.CaptureDigitalAtOrder = true
	default:
		bad("CAPTURE_DIGITAL_AT_ORDER=%q: want true or false", env("CAPTURE_DIGITAL_AT_ORDER"))
	}

	if len(problems) > 0 {
		return nil, errors.New("configuration problems:\n  - " + strings.Join(problems, "\n  - "))
	}
	return c, nil
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

// durationSetting reads a Go duration ("45s", "2m"), at least minimum.
func durationSetting(env func(string) string, name string, def, minimum time.Duration, bad func(string, ...any)) time.Duration {
	v := env(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < minimum {
		bad("%s=%q: want a duration of at least %s, such as %s", name, v, minimum, def)
		return def
	}
	return d
}

func looksPlaceholder(s string) bool { return klarna.LooksLikePlaceholder(s) }

// secretList reads a comma-separated list of secrets (the first one in use,
// all accepted, for rotation). Each needs minSecretLength characters, and
// placeholders are refused outside simulator mode. With the simulator an
// unset list is one random secret for this process (generated is true);
// with Klarna it is required, and why says what for.
func (c *Config) secretList(env func(string) string, name, why string, bad func(string, ...any)) (secrets []string, generated bool) {
	v := env(name)
	switch {
	case v == "" && c.Mode == ModeSimulator:
		b := make([]byte, 32)
		rand.Read(b)
		return []string{hex.EncodeToString(b)}, true
	case v == "":
		bad("%s is required with Klarna's %s%s (openssl rand -hex 32)", name, c.Mode, why)
		return nil, false
	}
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		switch {
		case len(s) < minSecretLength:
			bad("%s: each needs at least %d characters (openssl rand -hex 32)", name, minSecretLength)
		case looksPlaceholder(s) && c.Mode != ModeSimulator:
			bad("%s looks like a placeholder; generate one with: openssl rand -hex 32", name)
		default:
			secrets = append(secrets, s)
		}
	}
	return secrets, false
}

// KlarnaBaseURL is the API base URL in use: the override, the region's
// Klarna URL, or empty in simulator mode (the app mounts the simulator).
func (c *Config) KlarnaBaseURL() (string, error) {
	if c.KlarnaAPIURL != "" {
		return c.KlarnaAPIURL, nil
	}
	if c.Mode == ModeSimulator {
		return "", nil
	}
	return klarna.BaseURL(klarna.Environment(c.Mode), c.Region)
}

// SQLitePath returns the file of a sqlite: DATABASE_URL.
func (c *Config) SQLitePath() (string, bool) {
	p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:")
	return p, ok
}
