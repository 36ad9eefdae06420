package config

import (
	"strings"
	"testing"
	"time"
)

// TestSimulatorSettings: the built-in simulator's settings have defaults,
// take valid values, and a bad value is reported instead of replaced by
// the default.
func TestSimulatorSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Simulator, (SimulatorSettings{CallbackDelay: time.Second, MaxSessions: 10000}); got != want {
		t.Errorf("defaults: %+v, want %+v", got, want)
	}
	c, err = Load(env(map[string]string{
		"KLARNA_SIM_CALLBACK_DELAY": "0s", "KLARNA_SIM_PENDING_DECISION_DELAY": "5m", "KLARNA_SIM_PENDING_DECISION": "Reject",
		"KLARNA_SIM_FAULTS": "create_order=503*1,get_session=latency:2s", "KLARNA_SIM_MAX_SESSIONS": "50000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := SimulatorSettings{PendingDecisionDelay: 5 * time.Minute, PendingDecision: "reject", Faults: "create_order=503*1,get_session=latency:2s", MaxSessions: 50000}
	if got := c.Simulator; got != want {
		t.Errorf("set: %+v, want %+v", got, want)
	}
	for name, bad := range map[string]string{
		"KLARNA_SIM_CALLBACK_DELAY":         "soon",
		"KLARNA_SIM_PENDING_DECISION_DELAY": "-1s",
		"KLARNA_SIM_PENDING_DECISION":       "maybe",
		"KLARNA_SIM_FAULTS":                 "create_order=teapot",
		"KLARNA_SIM_MAX_SESSIONS":           "0",
	} {
		_, err := Load(env(map[string]string{name: bad}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, bad, err)
		}
	}
}

// TestCrashAt: the crash tests' hook takes the steps of a placement only.
func TestCrashAt(t *testing.T) {
	t.Parallel()
	for _, step := range CrashSteps {
		c, err := Load(env(map[string]string{"STOREFRONT_TEST_CRASH_AT": step}))
		if err != nil || c.CrashAt != step {
			t.Errorf("%s: %q %v", step, c.CrashAt, err)
		}
	}
	if c, err := Load(env(nil)); err != nil || c.CrashAt != "" {
		t.Errorf("unset: %q %v", c.CrashAt, err)
	}
	if _, err := Load(env(map[string]string{"STOREFRONT_TEST_CRASH_AT": "shipped"})); err == nil || !strings.Contains(err.Error(), "STOREFRONT_TEST_CRASH_AT") {
		t.Errorf("an unknown step: %v", err)
	}
}

// TestStandaloneSimulatorPublicURL: browsers may reach a standalone
// simulator at another address than the shop does (compose: klarna-sim:8090
// for the shop, the proxy's https address for browsers).
func TestStandaloneSimulatorPublicURL(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"KLARNA_API_URL": "http://klarna-sim:8090"}))
	if err != nil || c.KlarnaSimPublicURL != "http://klarna-sim:8090" {
		t.Errorf("default: %q %v", c.KlarnaSimPublicURL, err)
	}
	c, err = Load(env(map[string]string{"KLARNA_API_URL": "http://klarna-sim:8090", "KLARNA_SIM_PUBLIC_URL": "https://localhost:8443/klarna-sim"}))
	if err != nil || c.KlarnaSimPublicURL != "https://localhost:8443/klarna-sim" {
		t.Errorf("set: %q %v", c.KlarnaSimPublicURL, err)
	}
	for name, vars := range map[string]map[string]string{
		"not a URL":             {"KLARNA_API_URL": "http://klarna-sim:8090", "KLARNA_SIM_PUBLIC_URL": "klarna-sim"},
		"no standalone":         {"KLARNA_SIM_PUBLIC_URL": "https://localhost:8443/klarna-sim"},
		"not in simulator mode": {"KLARNA_ENV": "playground", "KLARNA_USERNAME": "PK_1", "KLARNA_PASSWORD": "klarna_test_api_x", "KLARNA_API_URL": "https://proxy.example", "KLARNA_SIM_PUBLIC_URL": "https://x.example"},
	} {
		if _, err := Load(env(vars)); err == nil || !strings.Contains(err.Error(), "KLARNA_SIM_PUBLIC_URL") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
