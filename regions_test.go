package main

import (
	"context"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/internal/shopclient"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
)

// startPrinting runs the shop with env and returns its URL and what it
// printed at start.
func startPrinting(t *testing.T, env map[string]string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, io.Discard)
	}()
	t.Cleanup(func() { cancel(); <-done })
	re := regexp.MustCompile(`open at (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil && strings.Contains(stdout.String(), "orders:") {
			return m[1], stdout.String()
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("run: %v", err)
		default:
		}
	}
	t.Fatal("the shop did not start")
	return "", ""
}

// checkoutIn opens a checkout in a market as a shopper without JavaScript
// and returns the page.
func checkoutIn(t *testing.T, base, market string) string {
	t.Helper()
	c := shopclient.New(nil, 10*time.Second)
	if _, err := c.Get(base + "/"); err != nil {
		t.Fatal(err)
	}
	resp, err := c.HTTP.PostForm(base+"/market", url.Values{"market": {market}, "return": {"/"}, "csrf": {c.CSRF}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := c.Get(base + "/"); err != nil { // the page carries the new session's token
		t.Fatal(err)
	}
	if err := c.Add(base, "stoneware-mug"); err != nil {
		t.Fatal(err)
	}
	page, _ := c.Get(base + "/checkout")
	return page
}

func latestSession(sim *simulator.Simulator) simulator.SessionInfo {
	var latest simulator.SessionInfo
	for _, ss := range sim.Snapshot().Sessions {
		if latest.ID == "" || ss.CreatedAt.After(latest.CreatedAt) {
			latest = ss
		}
	}
	return latest
}

// TestRegionRouting runs the whole shop against a simulator whose regional
// hosts each take their own credentials: every market's session is made on
// its region's host with its region's credentials; a region whose
// credentials are wrong shows the shopper a fitting message and the
// operator a banner; a region without credentials is not offered, and the
// start-up output says why.
func TestRegionRouting(t *testing.T) {
	t.Parallel()
	creds := map[string]simulator.Credentials{
		"eu": {Username: "PK_eu", Password: "eu-secret"}, "na": {Username: "PK_na", Password: "na-secret"}, "oc": {Username: "PK_oc", Password: "oc-secret"},
	}
	sim, simURL := simtest.Start(t, simulator.Config{Username: "root", Password: "root-secret", Regions: creds, DisableCallbacks: true})
	env := map[string]string{
		"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "shop.db"), "LOG_LEVEL": "warn", "KLARNA_ENV": "simulator", "KLARNA_API_URL": simURL, "ADMIN_OPEN": "true",
		"KLARNA_EU_USERNAME": "PK_eu", "KLARNA_EU_PASSWORD": "eu-secret", "KLARNA_NA_USERNAME": "PK_na", "KLARNA_NA_PASSWORD": "na-secret",
		"KLARNA_OC_USERNAME": "PK_oc", "KLARNA_OC_PASSWORD": "oc-secret",
	}
	base, printed := startPrinting(t, env)
	for _, want := range []string{"DE, GB, NL, SE via eu (" + simURL + "/eu/)", "US via na (" + simURL + "/na/)", "AU via oc (" + simURL + "/oc/)"} {
		if !strings.Contains(printed, want) {
			t.Errorf("start-up output lacks %q:\n%s", want, printed)
		}
	}
	for market, region := range map[string]string{"GB": "eu", "SE": "eu", "DE": "eu", "NL": "eu", "US": "na", "AU": "oc"} {
		page := checkoutIn(t, base, market)
		if !strings.Contains(page, `data-testid="klarna-checkout"`) {
			t.Errorf("%s: no checkout: %.300s", market, page)
			continue
		}
		if s := latestSession(sim); s.Country != market || s.Region != region {
			t.Errorf("%s: session for %s made on %q, want %s", market, s.Country, s.Region, region)
		}
	}

	// North America's password is wrong, Oceania has none.
	env["DATABASE_URL"] = "sqlite:" + filepath.Join(t.TempDir(), "shop.db")
	env["KLARNA_NA_PASSWORD"] = "typo"
	delete(env, "KLARNA_OC_USERNAME")
	delete(env, "KLARNA_OC_PASSWORD")
	base, printed = startPrinting(t, env)
	if !strings.Contains(printed, "not offered: AU (Australia): no Klarna credentials for region oc") || strings.Contains(printed, "AU via oc") {
		t.Errorf("start-up output does not say why AU is not offered:\n%s", printed)
	}
	if page := checkoutIn(t, base, "US"); !strings.Contains(page, `data-class="credentials_refused"`) || !strings.Contains(page, "problem on our side") {
		t.Errorf("US with a wrong password: %.600s", page)
	}
	if page := checkoutIn(t, base, "AU"); !strings.Contains(page, `data-testid="klarna-checkout"`) || strings.Contains(page, `value="AU"`) {
		t.Errorf("AU without credentials is offered, or the default market's checkout is not shown")
	}
	admin, _ := shopclient.New(nil, 10*time.Second).Get(base + "/admin")
	if !strings.Contains(admin, `data-testid="attention-credentials_refused"`) || !strings.Contains(admin, "KLARNA_NA_USERNAME") || !strings.Contains(admin, "AU (Australia)") {
		t.Errorf("the orders area does not show the problem and the market not offered")
	}
}
