package config

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
)

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

// SimulatorSettings tune the built-in Klarna simulator; they have no effect
// with Klarna or a standalone simulator.
type SimulatorSettings struct {
	// CallbackDelay is how long after an approval the simulator sends
	// Klarna's authorization callback (KLARNA_SIM_CALLBACK_DELAY, default
	// 1s).
	CallbackDelay time.Duration
	// PendingDecisionDelay decides orders pending review automatically
	// after this long (KLARNA_SIM_PENDING_DECISION_DELAY); zero, the
	// default, leaves the decision to the inspector. PendingDecision is
	// that decision: accept (when empty), reject or stop
	// (KLARNA_SIM_PENDING_DECISION).
	PendingDecisionDelay time.Duration
	PendingDecision      string
	// Faults are faults to inject, in the syntax of simulator.ParseFaults
	// (KLARNA_SIM_FAULTS).
	Faults string
	// MaxSessions bounds the sessions, with their orders, the simulator
	// keeps in memory; the oldest are forgotten past it
	// (KLARNA_SIM_MAX_SESSIONS, default 10,000).
	MaxSessions int
}

// readMode reads KLARNA_ENV, and BASE_URL, which decides the mode with the
// credentials when KLARNA_ENV is unset: credentials mean the playground,
// none the simulator, except at a public URL, where the shop refuses to
// guess.
func (c *Config) readMode(s *settings) {
	c.BaseURL = strings.TrimRight(s.get("BASE_URL"), "/")
	switch m := Mode(strings.ToLower(s.get("KLARNA_ENV"))); m {
	case "":
		c.Mode = ModeSimulator
		if credentialsGiven(s) {
			c.Mode = ModePlayground
		} else if publicURL(c.BaseURL) {
			// Credentials that were not mounted must not turn a real shop
			// into a demo whose orders "succeed" without payment.
			s.bad("BASE_URL=%q is public, but KLARNA_ENV is not set and there are no Klarna credentials: the shop will not fall back to the simulator "+
				"there. Set KLARNA_ENV=playground or production with KLARNA_USERNAME and KLARNA_PASSWORD, or KLARNA_ENV=simulator to run a demo on purpose", c.BaseURL)
		}
	case ModeSimulator, ModePlayground, ModeProduction:
		c.Mode = m
	default:
		s.bad("KLARNA_ENV=%q: want simulator, playground or production", m)
	}
}

// readKlarna reads the Klarna accounts: KLARNA_REGION, KLARNA_USERNAME,
// KLARNA_PASSWORD and KLARNA_API_URL, and each region's
// KLARNA_<REGION>_USERNAME, _PASSWORD and _API_URL.
func (c *Config) readKlarna(s *settings) {
	c.KlarnaUsername, c.KlarnaPassword = s.get("KLARNA_USERNAME"), s.get("KLARNA_PASSWORD")
	c.Region = klarna.RegionEU
	if v := strings.ToLower(s.get("KLARNA_REGION")); v != "" {
		switch klarna.Region(v) {
		case klarna.RegionEU, klarna.RegionNA, klarna.RegionOC:
			c.Region = klarna.Region(v)
		default:
			s.bad("KLARNA_REGION=%q: want eu, na or oc", v)
		}
	}
	c.KlarnaAPIURL = s.get("KLARNA_API_URL")
	if c.KlarnaAPIURL != "" && !absoluteHTTP(c.KlarnaAPIURL) {
		s.bad("KLARNA_API_URL=%q is not an absolute http(s) URL", c.KlarnaAPIURL)
	}
	c.KlarnaSimPublicURL = s.get("KLARNA_SIM_PUBLIC_URL")
	switch {
	case c.KlarnaSimPublicURL == "":
		c.KlarnaSimPublicURL = c.KlarnaAPIURL
	case !absoluteHTTP(c.KlarnaSimPublicURL):
		s.bad("KLARNA_SIM_PUBLIC_URL=%q is not an absolute http(s) URL", c.KlarnaSimPublicURL)
	case c.Mode != ModeSimulator || c.KlarnaAPIURL == "":
		s.bad("KLARNA_SIM_PUBLIC_URL is for a standalone simulator: it needs KLARNA_ENV=simulator and KLARNA_API_URL")
	}
	regions := regionalSettings(s)
	if c.Mode == ModeSimulator && !credentialsGiven(s) {
		c.simulatorAccounts()
	} else {
		c.configuredAccounts(s, regions)
	}
	c.checkAccounts(s)
	c.regionalAPIURLs(s, regions)
}

// regional is one region's KLARNA_<REGION>_USERNAME, _PASSWORD and
// _API_URL.
type regional struct {
	Region                     klarna.Region
	Username, Password, APIURL string
}

func regionalSettings(s *settings) []regional {
	var out []regional
	for _, r := range klarna.Regions {
		p := "KLARNA_" + strings.ToUpper(string(r)) + "_"
		out = append(out, regional{Region: r, Username: s.get(p + "USERNAME"), Password: s.get(p + "PASSWORD"), APIURL: s.get(p + "API_URL")})
	}
	return out
}

// credentialsGiven reports whether any Klarna username or password is set,
// for any region.
func credentialsGiven(s *settings) bool {
	if s.get("KLARNA_USERNAME") != "" || s.get("KLARNA_PASSWORD") != "" {
		return true
	}
	for _, r := range regionalSettings(s) {
		if r.Username != "" || r.Password != "" {
			return true
		}
	}
	return false
}

// simulatorAccounts gives every region credentials made up for this
// process: the built-in simulator hands out real-looking tokens to whoever
// knows its credentials, so they are never published.
func (c *Config) simulatorAccounts() {
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
}

// configuredAccounts sets Accounts from KLARNA_USERNAME and KLARNA_PASSWORD
// for KLARNA_REGION, and KLARNA_<REGION>_USERNAME and _PASSWORD for each
// region: only the regions configured have an account, with Klarna as in
// the simulator.
func (c *Config) configuredAccounts(s *settings, regions []regional) {
	legacy := c.KlarnaUsername != "" || c.KlarnaPassword != ""
	for _, r := range regions {
		name := "KLARNA_" + strings.ToUpper(string(r.Region))
		own := r.Username != "" || r.Password != ""
		switch {
		case own && legacy && r.Region == c.Region:
			s.bad("KLARNA_USERNAME/KLARNA_PASSWORD (KLARNA_REGION=%s) and %s_USERNAME/%s_PASSWORD both configure region %s: keep one", c.Region, name, name, c.Region)
		case own:
			c.Accounts = append(c.Accounts, Account{Region: r.Region, Username: r.Username, Password: r.Password, Settings: name + "_USERNAME/" + name + "_PASSWORD"})
		case legacy && r.Region == c.Region:
			c.Accounts = append(c.Accounts, Account{Region: r.Region, Username: c.KlarnaUsername, Password: c.KlarnaPassword,
				Settings: "KLARNA_USERNAME/KLARNA_PASSWORD (KLARNA_REGION=" + string(c.Region) + ")"})
		}
	}
}

// checkAccounts refuses, outside simulator mode, no account at all,
// placeholder credentials and one username in two regions, and points the
// one region at KLARNA_API_URL when it is set.
func (c *Config) checkAccounts(s *settings) {
	if len(c.Accounts) == 0 && c.Mode != ModeSimulator {
		s.bad("KLARNA_USERNAME/KLARNA_PASSWORD: username is empty, password is empty; set them (with KLARNA_REGION), or KLARNA_EU_USERNAME and KLARNA_EU_PASSWORD, KLARNA_NA_… and KLARNA_OC_… for each region you sell in")
	}
	usernames := map[string]klarna.Region{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if c.Mode != ModeSimulator {
			if err := klarna.CheckCredentials(a.Username, a.Password); err != nil {
				s.bad("%s: %s", a.Settings, strings.TrimPrefix(err.Error(), "klarna: credentials for Klarna's API: "))
			}
			if other, ok := usernames[a.Username]; ok && a.Username != "" {
				s.bad("regions %s and %s have the same username: Klarna's credentials work in their own region only (each region's portal gives its own)", other, a.Region)
			}
			usernames[a.Username] = a.Region
		}
		if c.KlarnaAPIURL != "" && c.Mode != ModeSimulator {
			a.APIURL = c.KlarnaAPIURL
		}
	}
	if c.KlarnaAPIURL != "" && c.Mode != ModeSimulator && len(c.Accounts) > 1 {
		s.bad("KLARNA_API_URL replaces the host of one region, but %d regions are configured: set KLARNA_EU_API_URL, KLARNA_NA_API_URL or KLARNA_OC_API_URL instead", len(c.Accounts))
	}
}

// regionalAPIURLs points each region with a KLARNA_<REGION>_API_URL at it.
func (c *Config) regionalAPIURLs(s *settings, regions []regional) {
	for _, r := range regions {
		if r.APIURL == "" {
			continue
		}
		name := "KLARNA_" + strings.ToUpper(string(r.Region)) + "_API_URL"
		a := c.Account(r.Region)
		switch {
		case !absoluteHTTP(r.APIURL):
			s.bad("%s=%q is not an absolute http(s) URL", name, r.APIURL)
		case a == nil:
			s.bad("%s is set, but region %s has no credentials", name, r.Region)
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

// readSimulator reads KLARNA_SIM_*, the built-in simulator's settings.
func (c *Config) readSimulator(s *settings) {
	sim := &c.Simulator
	sim.CallbackDelay = time.Second
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"KLARNA_SIM_CALLBACK_DELAY", &sim.CallbackDelay}, {"KLARNA_SIM_PENDING_DECISION_DELAY", &sim.PendingDecisionDelay}} {
		v := s.get(d.name)
		if v == "" {
			continue
		}
		if t, err := time.ParseDuration(v); err != nil || t < 0 {
			s.bad("%s=%q: want a duration such as 500ms or 2m, or 0", d.name, v)
		} else {
			*d.to = t
		}
	}
	switch v := strings.ToLower(s.get("KLARNA_SIM_PENDING_DECISION")); v {
	case "", "accept", "reject", "stop":
		sim.PendingDecision = v
	default:
		s.bad("KLARNA_SIM_PENDING_DECISION=%q: want accept, reject or stop", v)
	}
	sim.MaxSessions = simulator.DefaultMaxSessions
	if v := s.get("KLARNA_SIM_MAX_SESSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			s.bad("KLARNA_SIM_MAX_SESSIONS=%q: want a number of sessions from 1 to 1000000", v)
		} else {
			sim.MaxSessions = n
		}
	}
	sim.Faults = s.get("KLARNA_SIM_FAULTS")
	if _, err := simulator.ParseFaults(sim.Faults); err != nil {
		s.bad("KLARNA_SIM_FAULTS: %s", strings.TrimPrefix(err.Error(), "simulator: "))
	}
}
