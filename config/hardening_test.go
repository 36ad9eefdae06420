package config

import (
	"maps"
	"strings"
	"testing"
)

// Secrets as openssl rand -hex 32 makes them.
const (
	secretA = "9f2c4e1ab7d05836c2e9f14a7b3d8e60a1c5f9027e4b6d3c8a0f1e2d7c9b5a43"
	secretB = "3b8e0d6f2a9c4175e8d2b0f6a3c97e15d4b2a8f0c6e1937d5a2f8c0b4e6d1a97"
	secretC = "e47a1d9c3f0b6e2815a7c4d0f9b3e6a2c8d1f5b0e9a4c7d3f6b2a8e1c5d0f973"
)

// production is a valid playground configuration that tests vary.
func production(over map[string]string) func(string) string {
	m := map[string]string{
		"KLARNA_ENV": "playground", "KLARNA_USERNAME": "PK123_abc", "KLARNA_PASSWORD": "klarna_test_api_Zm9vYmFy",
		"BASE_URL": "https://shop.example.com", "SESSION_SECRET": secretA, "TOKEN_KEYS": secretB, "ADMIN_PASSWORD": "v8#Qm2!zKp4@Lt",
	}
	maps.Copy(m, over)
	return env(m)
}

// TestNoSilentSimulatorWithPublicBaseURL: a public BASE_URL without
// KLARNA_ENV and without credentials (a secret that was not mounted) is
// refused instead of starting a demo that takes no payment.
func TestNoSilentSimulatorWithPublicBaseURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"https://shop.example.com", "http://shop.example.com", "http://192.0.2.10:8080", "https://localhost:8443"} {
		_, err := Load(env(map[string]string{"BASE_URL": base}))
		if err == nil || !strings.Contains(err.Error(), "KLARNA_ENV=simulator") {
			t.Errorf("BASE_URL=%s without KLARNA_ENV or credentials: %v", base, err)
		}
	}
	for _, e := range []map[string]string{
		{"BASE_URL": "http://localhost:8080"},
		{"BASE_URL": "http://127.0.0.1:8080"},
		{"BASE_URL": "https://shop.example.com", "KLARNA_ENV": "simulator"},
	} {
		if c, err := Load(env(e)); err != nil || c.Mode != ModeSimulator {
			t.Errorf("%v: %v", e, err)
		}
	}
}

// TestWeakSecretsRefused: outside the simulator, SESSION_SECRET and
// TOKEN_KEYS must look random and be distinct.
func TestWeakSecretsRefused(t *testing.T) {
	t.Parallel()
	if _, err := Load(production(nil)); err != nil {
		t.Fatalf("good configuration refused: %v", err)
	}
	for name, over := range map[string]map[string]string{
		"32 × a":                {"SESSION_SECRET": strings.Repeat("a", 32)},
		"40 × k as a token key": {"TOKEN_KEYS": strings.Repeat("k", 40)},
		"a repeated pattern":    {"SESSION_SECRET": strings.Repeat("q7x", 12)},
		"hex digits in order":   {"SESSION_SECRET": "0123456789abcdef0123456789abcdef"},
		"the alphabet":          {"TOKEN_KEYS": "abcdefghijklmnopqrstuvwxyz0123456789"},
		"low entropy":           {"SESSION_SECRET": strings.Repeat("a", 30) + "bcdefghijk"},
		"reused across":         {"TOKEN_KEYS": secretA},
		"reused within":         {"SESSION_SECRET": secretA + "," + secretA},
		"old key reused":        {"SESSION_SECRET": secretA + "," + secretC, "TOKEN_KEYS": secretB + "," + secretC},
	} {
		if _, err := Load(production(over)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "openssl rand -hex 32") {
			t.Errorf("%s: the message does not say how to make a good one: %v", name, err)
		}
	}
	// The simulator keeps accepting demo values.
	if _, err := Load(env(map[string]string{"SESSION_SECRET": strings.Repeat("a", 32), "TOKEN_KEYS": strings.Repeat("a", 32)})); err != nil {
		t.Errorf("simulator: %v", err)
	}
}

// TestWeakAdminPasswordRefused: outside the simulator the orders area needs
// a password that is long and not a common one.
func TestWeakAdminPasswordRefused(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"password", "Password1234!", "adminadmin2024", "aaaaaaaaaaaaaaaa", "qwertyuiop12", "123456789012",
		"Summer2024!!", "short-pw1", "correcthorsebatterystaple", "FikaAndForm2025"} {
		if _, err := Load(production(map[string]string{"ADMIN_PASSWORD": pw})); err == nil || !strings.Contains(err.Error(), "ADMIN_PASSWORD") {
			t.Errorf("ADMIN_PASSWORD=%q: %v", pw, err)
		}
	}
	for _, pw := range []string{"v8#Qm2!zKp4@Lt", "s3cure-admin-pw", "tram-violet-oxide-ninth"} {
		if _, err := Load(production(map[string]string{"ADMIN_PASSWORD": pw})); err != nil {
			t.Errorf("ADMIN_PASSWORD=%q refused: %v", pw, err)
		}
	}
	// A demo may keep a simple one.
	if _, err := Load(env(map[string]string{"ADMIN_PASSWORD": "password"})); err != nil {
		t.Errorf("simulator: %v", err)
	}
}

// TestDebugAddrLoopbackOnly: profiles are served on loopback unless the
// operator explicitly opts in to a public address.
func TestDebugAddrLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.2:6060", "[::]:6060", "localhost"} {
		if _, err := Load(env(map[string]string{"DEBUG_ADDR": addr})); err == nil || !strings.Contains(err.Error(), "DEBUG_ADDR") {
			t.Errorf("DEBUG_ADDR=%s: %v", addr, err)
		}
	}
	for _, e := range []map[string]string{
		{"DEBUG_ADDR": "127.0.0.1:6060"}, {"DEBUG_ADDR": "[::1]:6060"}, {"DEBUG_ADDR": "localhost:6060"},
		{"DEBUG_ADDR": "0.0.0.0:6060", "DEBUG_PUBLIC": "true"},
	} {
		if _, err := Load(env(e)); err != nil {
			t.Errorf("%v: %v", e, err)
		}
	}
}

// TestSimulatorCredentialsAreNotPublic: the built-in simulator's API
// credentials are made up per process, not a documented default that
// anyone who reaches the shop could use.
func TestSimulatorCredentialsAreNotPublic(t *testing.T) {
	t.Parallel()
	a, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Load(env(nil))
	if a.KlarnaPassword == "sim_password" || len(a.KlarnaPassword) < 20 || a.KlarnaPassword == b.KlarnaPassword {
		t.Errorf("simulator password %q, then %q", a.KlarnaPassword, b.KlarnaPassword)
	}
	c, _ := Load(env(map[string]string{"KLARNA_USERNAME": "me", "KLARNA_PASSWORD": "mine", "KLARNA_ENV": "simulator"}))
	if c.KlarnaUsername != "me" || c.KlarnaPassword != "mine" {
		t.Errorf("configured simulator credentials replaced: %q %q", c.KlarnaUsername, c.KlarnaPassword)
	}
}
