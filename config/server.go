package config

import (
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// readServer reads where the shop listens and the public URL it answers
// to: PORT, BASE_URL (read with the mode) and LISTEN_ADDR.
func (c *Config) readServer(s *settings) {
	c.Port = 8080
	if v := s.get("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			s.bad("PORT=%q is not a port number (0-65535; 0 picks a free port)", v)
		}
		c.Port = p
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			s.bad("BASE_URL=%q is not an absolute http(s) URL", c.BaseURL)
		case c.Mode != ModeSimulator && u.Scheme != "https":
			s.bad("BASE_URL must be https in %s: Klarna calls back and sends shoppers only to https URLs (for a test, a tunnel gives one)", c.Mode)
		}
	} else if c.Mode != ModeSimulator {
		s.bad("BASE_URL is required with Klarna's %s: it is where Klarna sends callbacks and shoppers", c.Mode)
	}
	c.readListenAddr(s)
}

// readListenAddr reads LISTEN_ADDR (host:port, or a host alone, which takes
// PORT). Unset, simulator mode listens on loopback only: its inspector and
// control endpoints are for the person running the demo.
func (c *Config) readListenAddr(s *settings) {
	v := s.get("LISTEN_ADDR")
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
		s.bad("LISTEN_ADDR=%q: want host:port (127.0.0.1:8080, 0.0.0.0:8080, [::]:8080) or a host", v)
		return
	}
	c.ListenAddr = net.JoinHostPort(host, port)
}

// readDiagnostics reads the listeners an operator looks through, each apart
// from the shop's public one: METRICS_ADDR, DEBUG_ADDR and DEBUG_PUBLIC.
func (c *Config) readDiagnostics(s *settings) {
	if v := s.get("METRICS_ADDR"); v != "" {
		if _, _, err := net.SplitHostPort(v); err != nil {
			s.bad("METRICS_ADDR=%q is not host:port (%v)", v, err)
		}
		c.MetricsAddr = v
	}
	c.readDebugAddr(s)
}

// readDebugAddr reads DEBUG_ADDR: profiles show memory contents and stacks,
// so the address must be loopback unless DEBUG_PUBLIC=true says otherwise.
func (c *Config) readDebugAddr(s *settings) {
	c.DebugPublic = s.flag("DEBUG_PUBLIC")
	v := s.get("DEBUG_ADDR")
	if v == "" {
		return
	}
	host, port, err := net.SplitHostPort(v)
	if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 {
		s.bad("DEBUG_ADDR=%q: want host:port, e.g. 127.0.0.1:6060", v)
		return
	}
	if !IsLoopbackHost(host) && !c.DebugPublic {
		s.bad("DEBUG_ADDR=%q is reachable from the network (profiles expose memory and stacks): use 127.0.0.1:%s, or set DEBUG_PUBLIC=true if you really mean it", v, port)
		return
	}
	c.DebugAddr = v
}

// readLogging reads LOG_LEVEL and LOG_FORMAT.
func (c *Config) readLogging(s *settings) {
	switch v := strings.ToLower(s.get("LOG_FORMAT")); v {
	case "", "text":
		c.LogFormat = "text"
	case "json":
		c.LogFormat = "json"
	default:
		s.bad("LOG_FORMAT=%q: want text or json", v)
	}
	c.LogLevel = slog.LevelInfo
	if v := s.get("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			s.bad("LOG_LEVEL=%q: want debug, info, warn or error", v)
		}
	}
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

func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
