package klarna

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestRegionOf(t *testing.T) {
	t.Parallel()
	for country, want := range map[string]Region{
		"GB": RegionEU, "se": RegionEU, "DE": RegionEU, "NL": RegionEU, "CH": RegionEU, "NO": RegionEU,
		"US": RegionNA, "CA": RegionNA, "MX": RegionNA,
		"AU": RegionOC, "NZ": RegionOC,
	} {
		if got, ok := RegionOf(country); !ok || got != want {
			t.Errorf("RegionOf(%s) = %q, %v; want %q", country, got, ok, want)
		}
	}
	for _, country := range []string{"", "JP", "BR", "XX", "USA"} {
		if r, ok := RegionOf(country); ok {
			t.Errorf("RegionOf(%q) = %q, want none", country, r)
		}
	}
}

// TestClientsRouteEachCountry: each purchase country's calls reach its
// region's host with its region's credentials, and a country whose region
// has no account is refused before anything is sent.
func TestClientsRouteEachCountry(t *testing.T) {
	t.Parallel()
	type hit struct{ host, user, pass string }
	var mu sync.Mutex
	var hits []hit
	server := func(name string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, _ := r.BasicAuth()
			mu.Lock()
			hits = append(hits, hit{name, u, p})
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"incomplete"}`))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	cs, err := NewClients([]Account{
		{Region: RegionEU, Username: "eu-user", Password: "eu-pass", BaseURL: server("eu")},
		{Region: RegionNA, Username: "na-user", Password: "na-pass", BaseURL: server("na")},
	}, WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ country, host, user string }{
		{"GB", "eu", "eu-user"}, {"SE", "eu", "eu-user"}, {"DE", "eu", "eu-user"}, {"NL", "eu", "eu-user"}, {"US", "na", "na-user"},
	} {
		c, err := cs.For(tc.country)
		if err != nil {
			t.Fatalf("For(%s): %v", tc.country, err)
		}
		if _, _, err := c.GetSession(t.Context(), "s"); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		last := hits[len(hits)-1]
		mu.Unlock()
		if last.host != tc.host || last.user != tc.user || last.pass != tc.host+"-pass" {
			t.Errorf("%s went to %+v, want host %s as %s", tc.country, last, tc.host, tc.user)
		}
	}
	_, err = cs.For("AU")
	var re *RegionError
	if !errors.As(err, &re) || re.Region != RegionOC || re.Country != "AU" || !IsNoAccount(err) {
		t.Errorf("AU without an Oceania account: %v", err)
	}
	if _, err := cs.For("JP"); !errors.As(err, &re) || re.Region != "" {
		t.Errorf("a country Klarna does not serve: %v", err)
	}
	if got := cs.Regions(); len(got) != 2 || got[0] != RegionEU || got[1] != RegionNA {
		t.Errorf("Regions() = %v", got)
	}
	if !cs.Serves("us") || cs.Serves("NZ") {
		t.Error("Serves")
	}
}

// TestClientsUseEachRegionsKlarnaHost: without a base URL each account's
// client talks to its own region's host in the chosen environment.
func TestClientsUseEachRegionsKlarnaHost(t *testing.T) {
	t.Parallel()
	cs, err := NewClients([]Account{
		{Region: RegionEU, Username: "PK1_eu", Password: "klarna_test_api_ZXU"},
		{Region: RegionNA, Username: "PK2_na", Password: "klarna_test_api_bmE"},
		{Region: RegionOC, Username: "PK3_oc", Password: "klarna_test_api_b2M"},
	}, WithEnvironment(Production))
	if err != nil {
		t.Fatal(err)
	}
	for country, want := range map[string]string{
		"GB": "https://api.klarna.com/", "US": "https://api-na.klarna.com/", "AU": "https://api-oc.klarna.com/",
	} {
		c, _ := cs.For(country)
		if c.BaseURL() != want {
			t.Errorf("%s: %s, want %s", country, c.BaseURL(), want)
		}
	}
	if _, err := NewClients([]Account{{Region: RegionEU, Username: "a", Password: "b"}, {Region: RegionEU, Username: "c", Password: "d"}}); err == nil {
		t.Error("two accounts for one region accepted")
	}
	if _, err := NewClients([]Account{{Region: "mars", Username: "a", Password: "b"}}); err == nil {
		t.Error("unknown region accepted")
	}
	if _, err := NewClients([]Account{{Region: RegionNA, Username: "your_username", Password: "x"}}); err == nil {
		t.Error("placeholder credentials for Klarna's host accepted")
	}
}
