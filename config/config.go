// Package config reads the shop's settings from the environment, checks them
// once, and reports every problem together.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
	// KlarnaClientID is KLARNA_CLIENT_ID, the client identifier Klarna's
	// on-site messaging needs; without it, and outside the simulator, the
	// shop shows no placements.
	KlarnaClientID string
}

// SimulatorUsername is the simulator's API username when none is configured
// (other regions' are SimulatorUsername_na and SimulatorUsername_oc); the
// passwords are random per process.
const SimulatorUsername = "sim_merchant"

// Account is the shop's API account in one Klarna region: its credentials
// and, when set, where its calls go instead of Klarna's host.
type Account struct {
	Region             klarna.Region
	Username, Password string
	// APIURL is KLARNA_<REGION>_API_URL, or KLARNA_API_URL for the one
	// region outside simulator mode; empty means Klarna's host for the
	// region (or, in simulator mode, the simulator's regional host).
	APIURL string
	// Generated is true for simulator credentials made up at start.
	Generated bool
	// Settings names the variables the account came from, for messages.
	Settings string
}

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

	regional := regionalSettings(env)
	anyCredentials := c.KlarnaUsername != "" || c.KlarnaPassword != ""
	for _, r := range regional {
		anyCredentials = anyCredentials || r.Username != "" || r.Password != ""
	}
	switch m := Mode(strings.ToLower(env("KLARNA_ENV"))); m {
	case "":
		c.Mode = ModeSimulator
		if anyCredentials {
			c.Mode = ModePlayground
		} else if publicURL(c.BaseURL) {
			// Credentials that were not mounted must not turn a real shop
			// into a demo whose orders "succeed" without payment.
			bad("BASE_URL=%q is public, but KLARNA_ENV is not set and there are no Klarna credentials: the shop will not fall back to the simulator "+
				"there. Set KLARNA_ENV=playground or production with KLARNA_USERNAME and KLARNA_PASSWORD, or KLARNA_ENV=simulator to run a demo on purpose", c.BaseURL)
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

	if c.KlarnaAPIURL != "" && !absoluteHTTP(c.KlarnaAPIURL) {
		bad("KLARNA_API_URL=%q is not an absolute http(s) URL", c.KlarnaAPIURL)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("BASE_URL=%q is not an absolute http(s) URL", c.BaseURL)
		case c.Mode != ModeSimulator && u.Scheme != "https":
			bad("BASE_URL must be https in %s: Klarna calls back and sends shoppers only to https URLs (for a test, a tunnel gives one)", c.Mode)
		}
	} else if c.Mode != ModeSimulator {
		bad("BASE_URL is required with Klarna's %s: it is where Klarna sends callbacks and shoppers", c.Mode)
	}

	c.listenAddr(env, bad)

	c.accounts(regional, anyCredentials, bad)

	c.SessionSecrets, c.SessionSecretGenerated = c.secretList(env, "SESSION_SECRET", "", bad)
	c.TokenKeys, c.TokenKeysGenerated = c.secretList(env, "TOKEN_KEYS", ": it encrypts subscription customer tokens", bad)
	if c.Mode != ModeSimulator {
		checkReuse(c.SessionSecrets, c.TokenKeys, bad)
	}

	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:data/shop.db"
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("DATABASE_URL=%q: want sqlite:<path> or postgres://...", c.DatabaseURL)
	}

	switch {
	case c.AdminPassword == "":
	case c.Mode != ModeSimulator && looksPlaceholder(c.AdminPassword):
		bad("ADMIN_PASSWORD looks like a placeholder")
	case c.Mode != ModeSimulator && passwordWeakness(c.AdminPassword) != "":
		bad("ADMIN_PASSWORD %s; choose a long random one, e.g. openssl rand -base64 18", passwordWeakness(c.AdminPassword))
	case len(c.AdminPassword) < 8:
		bad("ADMIN_PASSWORD needs at least 8 characters")
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
		c.AdminPassword = randomHex(9)
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
	c.RenewalInterval = durationSetting(env, "RENEWAL_INTERVAL", time.Minute, 100*time.Millisecond, bad)
	c.debugAddr(env, bad)

	switch v := strings.ToLower(env("LOG_FORMAT")); v {
	case "", "text":
		c.LogFormat = "text"
	case "json":
		c.LogFormat = "json"
	default:
		bad("LOG_FORMAT=%q: want text or json", v)
	}
	if v := env("METRICS_ADDR"); v != "" {
		if _, _, err := net.SplitHostPort(v); err != nil {
			bad("METRICS_ADDR=%q is not host:port (%v)", v, err)
		}
		c.MetricsAddr = v
	}

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
	c.KlarnaClientID = clientID(c.Mode, env("KLARNA_CLIENT_ID"), bad)

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

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// publicURL reports whether a BASE_URL is meant for others to reach: https,
// or a host other than this machine's loopback names.
func publicURL(raw string) bool {
	if raw == "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false // reported as malformed elsewhere
	}
	return u.Scheme == "https" || !IsLoopbackHost(u.Hostname())
}

// IsLoopbackHost reports whether a host name or address (without port)
// stays on this machine: localhost, *.localhost, 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listenAddr reads LISTEN_ADDR (host:port, or a host alone, which takes
// PORT). Unset, simulator mode listens on loopback only: its inspector and
// control endpoints are for the person running the demo.
func (c *Config) listenAddr(env func(string) string, bad func(string, ...any)) {
	v := env("LISTEN_ADDR")
	if v == "" {
		host := ""
		if c.Mode == ModeSimulator {
			host = "127.0.0.1"
		}
		c.ListenAddr = net.JoinHostPort(host, strconv.Itoa(c.Port))
		return
	}
	c.ListenAddrSet = true
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		// A host alone: "0.0.0.0", "::", "192.0.2.1".
		host, port = strings.Trim(v, "[]"), strconv.Itoa(c.Port)
	}
	if p, perr := strconv.Atoi(port); perr != nil || p < 0 || p > 65535 || strings.ContainsAny(host, "/ ") {
		bad("LISTEN_ADDR=%q: want host:port (127.0.0.1:8080, 0.0.0.0:8080, [::]:8080) or a host", v)
		return
	}
	c.ListenAddr = net.JoinHostPort(host, port)
}

// debugAddr reads DEBUG_ADDR: profiles show memory contents and stacks, so
// the address must be loopback unless DEBUG_PUBLIC=true says otherwise.
func (c *Config) debugAddr(env func(string) string, bad func(string, ...any)) {
	switch strings.ToLower(env("DEBUG_PUBLIC")) {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		c.DebugPublic = true
	default:
		bad("DEBUG_PUBLIC=%q: want true or false", env("DEBUG_PUBLIC"))
	}
	v := env("DEBUG_ADDR")
	if v == "" {
		return
	}
	host, port, err := net.SplitHostPort(v)
	if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 {
		bad("DEBUG_ADDR=%q: want host:port, e.g. 127.0.0.1:6060", v)
		return
	}
	if !IsLoopbackHost(host) && !c.DebugPublic {
		bad("DEBUG_ADDR=%q is reachable from the network (profiles expose memory and stacks): use 127.0.0.1:%s, or set DEBUG_PUBLIC=true if you really mean it", v, port)
		return
	}
	c.DebugAddr = v
}

// checkReuse refuses a secret listed twice, within SESSION_SECRET or
// TOKEN_KEYS or across them: one leaked value must not open both the
// cookies and the stored customer tokens.
func checkReuse(sessionSecrets, tokenKeys []string, bad func(string, ...any)) {
	seen := map[string]string{}
	for _, l := range []struct {
		name   string
		values []string
	}{{"SESSION_SECRET", sessionSecrets}, {"TOKEN_KEYS", tokenKeys}} {
		for _, v := range l.values {
			switch prev, ok := seen[v]; {
			case ok && prev == l.name:
				bad("%s lists the same secret twice; each needs its own (openssl rand -hex 32)", l.name)
			case ok:
				bad("SESSION_SECRET and TOKEN_KEYS share a secret: give each its own (openssl rand -hex 32)")
			}
			seen[v] = l.name
		}
	}
}

// secretList reads a comma-separated list of secrets (the first one in use,
// all accepted, for rotation). Each needs minSecretLength characters, and
// placeholders and weak values (secretWeakness) are refused outside
// simulator mode. With the simulator an unset list is one random secret for
// this process (generated is true); with Klarna it is required, and why
// says what for.
func (c *Config) secretList(env func(string) string, name, why string, bad func(string, ...any)) (secrets []string, generated bool) {
	v := env(name)
	switch {
	case v == "" && c.Mode == ModeSimulator:
		return []string{randomHex(32)}, true
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
		case c.Mode != ModeSimulator && secretWeakness(s) != "":
			bad("%s: a value %s; generate one with: openssl rand -hex 32", name, secretWeakness(s))
		default:
			secrets = append(secrets, s)
		}
	}
	return secrets, false
}

// regional is one region's KLARNA_<REGION>_USERNAME, _PASSWORD and
// _API_URL.
type regional struct {
	Region                     klarna.Region
	Username, Password, APIURL string
}

func regionalSettings(env func(string) string) []regional {
	var out []regional
	for _, r := range klarna.Regions {
		p := "KLARNA_" + strings.ToUpper(string(r)) + "_"
		out = append(out, regional{Region: r, Username: env(p + "USERNAME"), Password: env(p + "PASSWORD"), APIURL: env(p + "API_URL")})
	}
	return out
}

// accounts sets Accounts: KLARNA_USERNAME and KLARNA_PASSWORD for
// KLARNA_REGION, and KLARNA_<REGION>_USERNAME and _PASSWORD for each
// region. In simulator mode without any credentials every region gets
// credentials made up for this process; otherwise only the regions
// configured have an account, with Klarna as in the simulator.
func (c *Config) accounts(regions []regional, anyCredentials bool, bad func(string, ...any)) {
	if c.Mode == ModeSimulator && !anyCredentials {
		// The built-in simulator hands out real-looking tokens to whoever
		// knows its credentials: never publish them.
		for _, r := range klarna.Regions {
			user := SimulatorUsername
			if r != c.Region {
				user += "_" + string(r)
			}
			a := Account{Region: r, Username: user, Password: "sim_" + randomHex(16), Generated: true, Settings: "made up for this process"}
			if r == c.Region {
				c.KlarnaUsername, c.KlarnaPassword, c.KlarnaCredentialsGenerated = a.Username, a.Password, true
			}
			c.Accounts = append(c.Accounts, a)
		}
	} else {
		legacy := c.KlarnaUsername != "" || c.KlarnaPassword != ""
		for _, r := range regions {
			name := "KLARNA_" + strings.ToUpper(string(r.Region))
			own := r.Username != "" || r.Password != ""
			switch {
			case own && legacy && r.Region == c.Region:
				bad("KLARNA_USERNAME/KLARNA_PASSWORD (KLARNA_REGION=%s) and %s_USERNAME/%s_PASSWORD both configure region %s: keep one", c.Region, name, name, c.Region)
			case own:
				c.Accounts = append(c.Accounts, Account{Region: r.Region, Username: r.Username, Password: r.Password, Settings: name + "_USERNAME/" + name + "_PASSWORD"})
			case legacy && r.Region == c.Region:
				c.Accounts = append(c.Accounts, Account{Region: r.Region, Username: c.KlarnaUsername, Password: c.KlarnaPassword,
					Settings: "KLARNA_USERNAME/KLARNA_PASSWORD (KLARNA_REGION=" + string(c.Region) + ")"})
			}
		}
	}
	if len(c.Accounts) == 0 && c.Mode != ModeSimulator {
		bad("KLARNA_USERNAME/KLARNA_PASSWORD: username is empty, password is empty; set them (with KLARNA_REGION), or KLARNA_EU_USERNAME and KLARNA_EU_PASSWORD, KLARNA_NA_… and KLARNA_OC_… for each region you sell in")
	}
	usernames := map[string]klarna.Region{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if c.Mode != ModeSimulator {
			if err := klarna.CheckCredentials(a.Username, a.Password); err != nil {
				bad("%s: %s", a.Settings, strings.TrimPrefix(err.Error(), "klarna: credentials for Klarna's API: "))
			}
			if other, ok := usernames[a.Username]; ok && a.Username != "" {
				bad("regions %s and %s have the same username: Klarna's credentials work in their own region only (each region's portal gives its own)", other, a.Region)
			}
			usernames[a.Username] = a.Region
		}
		if c.KlarnaAPIURL != "" && c.Mode != ModeSimulator {
			a.APIURL = c.KlarnaAPIURL
		}
	}
	if c.KlarnaAPIURL != "" && c.Mode != ModeSimulator && len(c.Accounts) > 1 {
		bad("KLARNA_API_URL replaces the host of one region, but %d regions are configured: set KLARNA_EU_API_URL, KLARNA_NA_API_URL or KLARNA_OC_API_URL instead", len(c.Accounts))
	}
	for _, r := range regions {
		if r.APIURL == "" {
			continue
		}
		name := "KLARNA_" + strings.ToUpper(string(r.Region)) + "_API_URL"
		a := c.Account(r.Region)
		switch {
		case !absoluteHTTP(r.APIURL):
			bad("%s=%q is not an absolute http(s) URL", name, r.APIURL)
		case a == nil:
			bad("%s is set, but region %s has no credentials", name, r.Region)
		default:
			a.APIURL = r.APIURL
		}
	}
}

// Account returns the account of a region, or nil without one.
func (c *Config) Account(r klarna.Region) *Account {
	for i := range c.Accounts {
		if c.Accounts[i].Region == r {
			return &c.Accounts[i]
		}
	}
	return nil
}

// KlarnaAccounts are the accounts as the Klarna client takes them, each
// with the base URL its calls go to: the account's APIURL; in simulator
// mode the regional host of the simulator at KLARNA_API_URL, or else at
// simulatorURL (the built-in one); otherwise empty, which is Klarna's host
// for the region in the environment of Mode.
func (c *Config) KlarnaAccounts(simulatorURL string) ([]klarna.Account, error) {
	root := strings.TrimRight(c.KlarnaAPIURL, "/")
	if root == "" {
		root = strings.TrimRight(simulatorURL, "/")
	}
	var out []klarna.Account
	for _, a := range c.Accounts {
		k := klarna.Account{Region: a.Region, Username: a.Username, Password: a.Password, BaseURL: a.APIURL}
		if k.BaseURL == "" && c.Mode == ModeSimulator {
			if root == "" {
				return nil, errors.New("config: simulator mode needs the simulator's URL")
			}
			k.BaseURL = root + "/" + string(a.Region)
		}
		out = append(out, k)
	}
	return out, nil
}

// KlarnaEnvironment is the Klarna environment of Mode (playground for the
// simulator, whose clients never use it).
func (c *Config) KlarnaEnvironment() klarna.Environment {
	if c.Mode == ModeProduction {
		return klarna.Production
	}
	return klarna.Playground
}

func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// SQLitePath returns the file of a sqlite: DATABASE_URL.
func (c *Config) SQLitePath() (string, bool) {
	p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:")
	return p, ok
}
