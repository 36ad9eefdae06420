package config

import (
	"strings"
	"testing"

	"github.com/fikaandform/storefront/klarna"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsToSimulator(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeSimulator || c.Port != 8080 || c.Region != "eu" || !c.SessionSecretGenerated || c.DatabaseURL != "sqlite:data/shop.db" {
		t.Errorf("defaults: %+v", c)
	}
	if !c.AdminPasswordGenerated || len(c.AdminPassword) < 16 || c.AdminOpen {
		t.Errorf("the orders area must be protected by default: %+v", c)
	}
	open, err := Load(env(map[string]string{"ADMIN_OPEN": "true"}))
	if err != nil || !open.AdminOpen || open.AdminPassword != "" {
		t.Errorf("explicit opt-out: %+v %v", open, err)
	}
	if c.KlarnaUsername != SimulatorUsername {
		t.Errorf("simulator credentials: %q", c.KlarnaUsername)
	}
	if len(c.Accounts) != 3 {
		t.Fatalf("simulator accounts: %+v", c.Accounts)
	}
	if _, err := c.KlarnaAccounts(""); err == nil {
		t.Error("simulator mode without a simulator URL gave accounts")
	}
	if ka, _ := c.KlarnaAccounts("http://localhost:8080/klarna-sim"); ka[1].Region != "na" || ka[1].BaseURL != "http://localhost:8080/klarna-sim/na" {
		t.Errorf("simulator accounts should use the mounted simulator's regional hosts: %+v", ka)
	}
}

func TestCredentialsMeanPlayground(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"KLARNA_USERNAME": "PK123_abc", "KLARNA_PASSWORD": "klarna_test_api_Zm9vYmFy", "KLARNA_REGION": "na",
		"BASE_URL": "https://shop.example.com/", "SESSION_SECRET": secretA + "," + secretB,
		"ADMIN_PASSWORD": "s3cure-admin-pw", "TOKEN_KEYS": secretC,
	}))
	if err != nil {
		t.Fatal(err)
	}
	ka, _ := c.KlarnaAccounts("")
	if len(ka) != 1 || ka[0].Region != "na" || ka[0].BaseURL != "" || c.KlarnaEnvironment() != "playground" {
		t.Errorf("one North America account on Klarna's host: %+v", ka)
	}
	u, _ := klarna.BaseURL(c.KlarnaEnvironment(), ka[0].Region)
	if c.Mode != ModePlayground || u != "https://api-na.playground.klarna.com/" || c.BaseURL != "https://shop.example.com" || len(c.SessionSecrets) != 2 {
		t.Errorf("playground: %+v %s", c, u)
	}
}

func TestEveryProblemReportedAtOnce(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"KLARNA_ENV": "production", "KLARNA_REGION": "mars", "PORT": "http", "KLARNA_USERNAME": "your_username",
		"KLARNA_PASSWORD": "", "BASE_URL": "http://shop.example.com", "SESSION_SECRET": "changeme-changeme-changeme-changeme-1",
		"DATABASE_URL": "mysql://x", "LOG_LEVEL": "loud", "ADMIN_OPEN": "true",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"KLARNA_REGION", "PORT", "username looks like a placeholder", "password is empty", "https in production",
		"SESSION_SECRET looks like a placeholder", "DATABASE_URL", "LOG_LEVEL", "ADMIN_PASSWORD is required", "TOKEN_KEYS is required", "ADMIN_OPEN=true is only allowed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestAPIURLOverride(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"KLARNA_API_URL": "http://127.0.0.1:8090"}))
	if err != nil {
		t.Fatal(err)
	}
	if ka, _ := c.KlarnaAccounts("http://ignored"); len(ka) != 3 || ka[0].BaseURL != "http://127.0.0.1:8090/eu" || ka[2].BaseURL != "http://127.0.0.1:8090/oc" {
		t.Errorf("a standalone simulator's regional hosts: %+v", ka)
	}
	if _, err := Load(env(map[string]string{"KLARNA_API_URL": "ftp://x", "SESSION_SECRET": "short"})); err == nil || !strings.Contains(err.Error(), "KLARNA_API_URL") || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("bad override: %v", err)
	}
}
