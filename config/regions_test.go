package config

import (
	"strings"
	"testing"
)

// TestCredentialsPerRegion: KLARNA_USERNAME/KLARNA_PASSWORD with
// KLARNA_REGION configure one region; KLARNA_EU_…, KLARNA_NA_… and
// KLARNA_OC_… add the others, each with its own credentials.
func TestCredentialsPerRegion(t *testing.T) {
	t.Parallel()
	c, err := Load(production(map[string]string{
		"KLARNA_REGION": "na", "KLARNA_USERNAME": "PK_na_1", "KLARNA_PASSWORD": "klarna_test_api_bmE",
		"KLARNA_EU_USERNAME": "PK_eu_1", "KLARNA_EU_PASSWORD": "klarna_test_api_ZXU",
		"KLARNA_OC_USERNAME": "PK_oc_1", "KLARNA_OC_PASSWORD": "klarna_test_api_b2M", "KLARNA_OC_API_URL": "https://proxy.example/oc",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range c.Accounts {
		got[string(a.Region)] = a.Username + " " + a.Password + " " + a.APIURL
	}
	want := map[string]string{"eu": "PK_eu_1 klarna_test_api_ZXU ", "na": "PK_na_1 klarna_test_api_bmE ", "oc": "PK_oc_1 klarna_test_api_b2M https://proxy.example/oc"}
	if len(got) != 3 || got["eu"] != want["eu"] || got["na"] != want["na"] || got["oc"] != want["oc"] || c.Accounts[0].Region != "eu" {
		t.Errorf("accounts %v, want %v in the order eu, na, oc", got, want)
	}
	if c.Account("na").Settings != "KLARNA_USERNAME/KLARNA_PASSWORD (KLARNA_REGION=na)" || c.Account("eu").Settings != "KLARNA_EU_USERNAME/KLARNA_EU_PASSWORD" {
		t.Errorf("settings named: %q, %q", c.Account("na").Settings, c.Account("eu").Settings)
	}

	// One region only: the others have no account (their markets are not
	// offered).
	one, err := Load(production(map[string]string{"KLARNA_USERNAME": "", "KLARNA_PASSWORD": "", "KLARNA_EU_USERNAME": "PK_eu_1", "KLARNA_EU_PASSWORD": "klarna_test_api_ZXU"}))
	if err != nil || len(one.Accounts) != 1 || one.Account("na") != nil {
		t.Errorf("one region: %+v %v", one, err)
	}
	// Credentials alone choose the playground, whichever variables hold them.
	if c, err := Load(env(map[string]string{"KLARNA_OC_USERNAME": "PK_oc_1", "KLARNA_OC_PASSWORD": "klarna_test_api_b2M", "BASE_URL": "https://shop.example",
		"SESSION_SECRET": secretA, "TOKEN_KEYS": secretB, "ADMIN_PASSWORD": "v8#Qm2!zKp4@Lt"})); err != nil || c.Mode != ModePlayground {
		t.Errorf("regional credentials without KLARNA_ENV: %v", err)
	}
	// With the simulator, explicit credentials rehearse a real account:
	// only their regions are offered.
	if c, err := Load(env(map[string]string{"KLARNA_ENV": "simulator", "KLARNA_NA_USERNAME": "me", "KLARNA_NA_PASSWORD": "mine"})); err != nil || len(c.Accounts) != 1 || c.Account("na") == nil {
		t.Errorf("simulator with North America credentials only: %+v %v", c, err)
	}

	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"one region twice": {map[string]string{"KLARNA_EU_USERNAME": "PK_eu_2", "KLARNA_EU_PASSWORD": "klarna_test_api_eHl6"}, "both configure region eu"},
		"placeholder in one region": {map[string]string{"KLARNA_NA_USERNAME": "your_username", "KLARNA_NA_PASSWORD": "x1"},
			"KLARNA_NA_USERNAME/KLARNA_NA_PASSWORD: username looks like a placeholder"},
		"half a pair": {map[string]string{"KLARNA_OC_USERNAME": "PK_oc_1"}, "KLARNA_OC_USERNAME/KLARNA_OC_PASSWORD: password is empty"},
		"one username in two regions": {map[string]string{"KLARNA_NA_USERNAME": "PK123_abc", "KLARNA_NA_PASSWORD": "klarna_test_api_other"},
			"regions eu and na have the same username"},
		"one proxy for two regions": {map[string]string{"KLARNA_API_URL": "https://proxy.example", "KLARNA_NA_USERNAME": "PK_na_1", "KLARNA_NA_PASSWORD": "klarna_test_api_bmE"},
			"KLARNA_API_URL replaces the host of one region"},
		"a host for a region without credentials": {map[string]string{"KLARNA_NA_API_URL": "https://proxy.example/na"}, "KLARNA_NA_API_URL is set, but region na has no credentials"},
		"a malformed regional host":               {map[string]string{"KLARNA_EU_API_URL": "ftp://x"}, "KLARNA_EU_API_URL"},
		"no credentials at all":                   {map[string]string{"KLARNA_USERNAME": "", "KLARNA_PASSWORD": ""}, "KLARNA_EU_USERNAME and KLARNA_EU_PASSWORD"},
	} {
		_, err := Load(production(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestHTTPSOutsideSimulator: Klarna calls back and redirects only to https,
// so playground and production refuse a BASE_URL that is not https; the
// simulator takes http.
func TestHTTPSOutsideSimulator(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"playground", "production"} {
		for _, base := range []string{"http://shop.example.com", "http://localhost:8080", "http://127.0.0.1:8080"} {
			_, err := Load(production(map[string]string{"KLARNA_ENV": mode, "BASE_URL": base}))
			if err == nil || !strings.Contains(err.Error(), "BASE_URL must be https in "+mode) {
				t.Errorf("%s with BASE_URL=%s: %v", mode, base, err)
			}
		}
		if _, err := Load(production(map[string]string{"KLARNA_ENV": mode, "BASE_URL": "https://shop.example.com"})); err != nil {
			t.Errorf("%s with https: %v", mode, err)
		}
	}
	if _, err := Load(env(map[string]string{"KLARNA_ENV": "simulator", "BASE_URL": "http://localhost:8080"})); err != nil {
		t.Errorf("simulator with http: %v", err)
	}
}
