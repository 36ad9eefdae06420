package config

import (
	"strings"

	"github.com/fikaandform/storefront/klarna"
)

const minSecretLength = 32

// readSecrets reads SESSION_SECRET and TOKEN_KEYS: required and random
// with Klarna, made up for this process with the simulator.
func (c *Config) readSecrets(s *settings) {
	c.SessionSecrets, c.SessionSecretGenerated = c.secretList(s, "SESSION_SECRET", "")
	c.TokenKeys, c.TokenKeysGenerated = c.secretList(s, "TOKEN_KEYS", ": it encrypts subscription customer tokens")
	if c.Mode != ModeSimulator {
		checkReuse(s, c.SessionSecrets, c.TokenKeys)
	}
}

// secretList reads a comma-separated list of secrets (the first one in use,
// all accepted, for rotation). Each needs minSecretLength characters, and
// placeholders and weak values (secretWeakness) are refused outside
// simulator mode. With the simulator an unset list is one random secret for
// this process (generated is true); with Klarna it is required, and why
// says what for.
func (c *Config) secretList(s *settings, name, why string) (secrets []string, generated bool) {
	v := s.get(name)
	switch {
	case v == "" && c.Mode == ModeSimulator:
		return []string{randomHex(32)}, true
	case v == "":
		s.bad("%s is required with Klarna's %s%s (openssl rand -hex 32)", name, c.Mode, why)
		return nil, false
	}
	for _, secret := range strings.Split(v, ",") {
		secret = strings.TrimSpace(secret)
		switch {
		case len(secret) < minSecretLength:
			s.bad("%s: each needs at least %d characters (openssl rand -hex 32)", name, minSecretLength)
		case looksPlaceholder(secret) && c.Mode != ModeSimulator:
			s.bad("%s looks like a placeholder; generate one with: openssl rand -hex 32", name)
		case c.Mode != ModeSimulator && secretWeakness(secret) != "":
			s.bad("%s: a value %s; generate one with: openssl rand -hex 32", name, secretWeakness(secret))
		default:
			secrets = append(secrets, secret)
		}
	}
	return secrets, false
}

// checkReuse refuses a secret listed twice, within SESSION_SECRET or
// TOKEN_KEYS or across them: one leaked value must not open both the
// cookies and the stored customer tokens.
func checkReuse(s *settings, sessionSecrets, tokenKeys []string) {
	seen := map[string]string{}
	for _, l := range []struct {
		name   string
		values []string
	}{{"SESSION_SECRET", sessionSecrets}, {"TOKEN_KEYS", tokenKeys}} {
		for _, v := range l.values {
			switch prev, ok := seen[v]; {
			case ok && prev == l.name:
				s.bad("%s lists the same secret twice; each needs its own (openssl rand -hex 32)", l.name)
			case ok:
				s.bad("SESSION_SECRET and TOKEN_KEYS share a secret: give each its own (openssl rand -hex 32)")
			}
			seen[v] = l.name
		}
	}
}

// readAdmin reads ADMIN_PASSWORD and ADMIN_OPEN. The orders area shows
// every order: it needs a strong password with Klarna, and even in a demo
// it gets a generated one unless ADMIN_OPEN=true opts out.
func (c *Config) readAdmin(s *settings) {
	c.AdminPassword = s.get("ADMIN_PASSWORD")
	switch {
	case c.AdminPassword == "":
	case c.Mode != ModeSimulator && looksPlaceholder(c.AdminPassword):
		s.bad("ADMIN_PASSWORD looks like a placeholder")
	case c.Mode != ModeSimulator && passwordWeakness(c.AdminPassword) != "":
		s.bad("ADMIN_PASSWORD %s; choose a long random one, e.g. openssl rand -base64 18", passwordWeakness(c.AdminPassword))
	case len(c.AdminPassword) < 8:
		s.bad("ADMIN_PASSWORD needs at least 8 characters")
	}
	if c.AdminOpen = s.flag("ADMIN_OPEN"); c.AdminOpen && c.Mode != ModeSimulator {
		s.bad("ADMIN_OPEN=true is only allowed with the simulator: the orders area shows every order")
	}
	switch {
	case c.AdminPassword == "" && c.Mode != ModeSimulator:
		s.bad("ADMIN_PASSWORD is required outside simulator mode: the orders area shows every order")
	case c.AdminPassword == "" && !c.AdminOpen:
		// Protected even in a demo, unless explicitly opted out.
		c.AdminPassword = randomHex(9)
		c.AdminPasswordGenerated = true
	case c.AdminOpen:
		c.AdminPassword = ""
	}
}

func looksPlaceholder(s string) bool { return klarna.LooksLikePlaceholder(s) }
