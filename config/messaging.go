package config

import "strings"

// clientID reads KLARNA_CLIENT_ID, the merchant's client identifier for
// Klarna's on-site messaging (Merchant portal → Payment settings → Client
// identifier): "klarna_test_client_…" for the playground,
// "klarna_live_client_…" for production, or an older UUID. It refuses one
// that names the other environment, which Klarna would ignore silently.
func clientID(mode Mode, v string, bad func(string, ...any)) string {
	switch {
	case v == "":
	case strings.ContainsAny(v, " \t\"<>'&"):
		bad("KLARNA_CLIENT_ID=%q is not a client identifier", v)
	case mode == ModeProduction && strings.HasPrefix(v, "klarna_test_client_"):
		bad("KLARNA_CLIENT_ID is a playground (test) client identifier, but KLARNA_ENV is production")
	case mode == ModePlayground && strings.HasPrefix(v, "klarna_live_client_"):
		bad("KLARNA_CLIENT_ID is a production (live) client identifier, but KLARNA_ENV is playground")
	}
	return v
}

// readMessaging reads KLARNA_CLIENT_ID for on-site messaging.
func (c *Config) readMessaging(s *settings) {
	c.KlarnaClientID = clientID(c.Mode, s.get("KLARNA_CLIENT_ID"), s.bad)
}
