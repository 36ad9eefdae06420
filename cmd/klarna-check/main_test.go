package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
)

var regional = map[string]simulator.Credentials{
	"eu": {Username: "PK_eu", Password: "eu-secret"}, "na": {Username: "PK_na", Password: "na-secret"}, "oc": {Username: "PK_oc", Password: "oc-secret"},
}

func runCheck(t *testing.T, env map[string]string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), nil, func(k string) string { return env[k] }, &out, &out)
	return out.String(), err
}

// row returns the table row of a market.
func row(out, market string) string {
	m := regexp.MustCompile(`(?m)^` + market + ` .*$`).FindString(out)
	return strings.Join(strings.Fields(m), " ")
}

// TestCheckAgainstTheSimulator: every offered market goes through create,
// read, update and cancel on its own regional host; a market without
// credentials is listed as not offered.
func TestCheckAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	sim, simURL := simtest.Start(t, simulator.Config{Username: "root", Password: "root-secret", Regions: regional})
	out, err := runCheck(t, map[string]string{"KLARNA_ENV": "simulator", "KLARNA_API_URL": simURL,
		"KLARNA_EU_USERNAME": "PK_eu", "KLARNA_EU_PASSWORD": "eu-secret", "KLARNA_NA_USERNAME": "PK_na", "KLARNA_NA_PASSWORD": "na-secret"})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for market, region := range map[string]string{"GB": "eu", "SE": "eu", "DE": "eu", "NL": "eu", "US": "na"} {
		want := market + " " + region + " " + simURL + "/" + region + "/ OK (session "
		if r := row(out, market); !strings.HasPrefix(r, want) || !strings.HasSuffix(r, "OK OK OK (404 as expected)") {
			t.Errorf("%s: %q", market, r)
		}
	}
	if r := row(out, "AU"); r != "AU oc - not offered - - -" || !strings.Contains(out, "  AU: not offered: no credentials for region oc (Oceania); set KLARNA_OC_USERNAME and KLARNA_OC_PASSWORD") {
		t.Errorf("AU: %q\n%s", r, out)
	}
	if !strings.Contains(out, "5 market(s) ready, 0 failed, 1 not offered.") {
		t.Errorf("summary:\n%s", out)
	}
	for _, op := range []string{simulator.OpCreateSession, simulator.OpUpdateSession, simulator.OpCancelAuthorization} {
		if n := sim.Count(op); n != 5 {
			t.Errorf("%s ran %d times, want 5", op, n)
		}
	}
	for _, r := range sim.Snapshot().Requests {
		if r.Region == "" || (r.Status >= 400 && r.Operation != simulator.OpCancelAuthorization) {
			t.Errorf("%s on %q: %d", r.Operation, r.Region, r.Status)
		}
	}
}

// TestCheckReportsWhatFails: wrong credentials, and a market sent to
// another region's host, are each reported with their kind and Klarna's
// correlation id, and the command fails.
func TestCheckReportsWhatFails(t *testing.T) {
	t.Parallel()
	_, simURL := simtest.Start(t, simulator.Config{Username: "root", Password: "root-secret", Regions: regional})
	out, err := runCheck(t, map[string]string{"KLARNA_ENV": "simulator", "KLARNA_API_URL": simURL,
		"KLARNA_EU_USERNAME": "PK_eu", "KLARNA_EU_PASSWORD": "eu-secret",
		"KLARNA_NA_USERNAME": "PK_na", "KLARNA_NA_PASSWORD": "typo",
		// Oceania's calls sent to the Europe host, with Europe's credentials.
		"KLARNA_OC_USERNAME": "PK_eu", "KLARNA_OC_PASSWORD": "eu-secret", "KLARNA_OC_API_URL": simURL + "/eu"})
	if err == nil {
		t.Fatalf("the check passed:\n%s", out)
	}
	if r := row(out, "US"); r != "US na "+simURL+"/na/ credentials_refused (below) - - credentials_refused (below)" {
		t.Errorf("US with a wrong password: %q", r)
	}
	if r := row(out, "AU"); r != "AU oc "+simURL+"/eu/ market_not_enabled (below) - - OK (404 as expected)" {
		t.Errorf("AU on the Europe host: %q", r)
	}
	corr := `.*\(correlation id [0-9a-f-]{36}\)$`
	for _, want := range []string{
		`(?m)^  US create session: credentials_refused: klarna: create_session: 401 UNAUTHORIZED` + corr,
		`(?m)^  US cancel: credentials_refused: klarna: cancel_authorization: 401` + corr,
		`(?m)^  AU create session: market_not_enabled: klarna: create_session: 400 BAD_VALUE: Bad value: purchase_country` + corr,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no line %s in:\n%s", want, out)
		}
	}
	if r := row(out, "GB"); !strings.HasSuffix(r, "OK OK OK (404 as expected)") {
		t.Errorf("GB: %q", r)
	}
	if !strings.Contains(out, "4 market(s) ready, 2 failed, 0 not offered.") {
		t.Errorf("details and summary:\n%s", out)
	}
}

// TestCheckWithoutAStandaloneSimulator: in simulator mode without
// KLARNA_API_URL the command checks a simulator of its own.
func TestCheckWithoutAStandaloneSimulator(t *testing.T) {
	t.Parallel()
	out, err := runCheck(t, map[string]string{"KLARNA_ENV": "simulator"})
	if err != nil || !strings.Contains(out, "a Klarna simulator started for this check") || !strings.Contains(out, "6 market(s) ready") {
		t.Errorf("%v\n%s", err, out)
	}
}
