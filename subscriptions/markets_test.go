package subscriptions_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/handlers"
	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/klarna/simulator/simtest"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/store"
	"github.com/fikaandform/storefront/subscriptions"
	"github.com/fikaandform/storefront/vault"
)

// TestRenewalsUseTheMarketsRegion: a subscription's renewals and the
// cancellation of its customer token go to its market's regional host with
// that region's credentials, like its sign-up.
func TestRenewalsUseTheMarketsRegion(t *testing.T) {
	t.Parallel()
	creds := map[string]simulator.Credentials{"eu": {Username: "PK_eu", Password: "eu-secret"}, "na": {Username: "PK_na", Password: "na-secret"}}
	sim, _ := simtest.Start(t, simulator.Config{Username: "root", Password: "root-secret", Regions: creds, DisableCallbacks: true})
	var accounts []klarna.Account
	for r, c := range creds {
		accounts = append(accounts, klarna.Account{Region: klarna.Region(r), Username: c.Username, Password: c.Password, BaseURL: sim.RegionURL(r)})
	}
	cs, err := klarna.NewClients(accounts, klarna.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := vault.New([]string{vaultKey})
	st := sqliteStore(t)
	cat := shop.DefaultCatalog()
	clk := &clock{sim: sim}
	co := checkout.NewForMarkets(checkout.ByRegion(cs), st, cat, handlers.NewURLs("http://shop.test"), checkout.Options{Vault: v})
	subs := subscriptions.NewForMarkets(subscriptions.ByRegion(cs), st, cat, v, subscriptions.Options{Now: clk.now, URLs: handlers.NewURLs("http://shop.test")})
	ctx := context.Background()

	var ids []string
	for _, code := range []string{"GB", "US"} {
		m, _ := shop.LookupMarket(code)
		cart, _ := shop.DecodeCart("coffee-subscription:1", cat)
		c, _, err := co.Begin(ctx, "", cart, m, m.Locale())
		if err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		a, _ := sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
		placed, err := co.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
		if err != nil || placed.Subscription.Status != store.SubscriptionActive {
			t.Fatalf("%s sign-up: %v", code, err)
		}
		r, err := subs.Adopt(ctx, placed)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	clk.advance(32 * 24 * time.Hour)
	res, err := subs.Renew(ctx)
	if err != nil || res.Charged != 2 {
		t.Fatalf("renewals: %+v %v", res, err)
	}
	for _, id := range ids {
		if _, err := subs.Cancel(ctx, id, "shopper"); err != nil {
			t.Fatal(err)
		}
	}
	regions := map[string]int{}
	for _, r := range sim.Snapshot().Requests {
		if r.Operation == simulator.OpCreateTokenOrder || r.Operation == simulator.OpCancelCustomerToken {
			regions[r.Region]++
		}
		if r.Region == "" || r.Status == http.StatusUnauthorized || r.Status == http.StatusBadRequest || r.Status == http.StatusNotFound {
			t.Errorf("misrouted: %s on host %q answered %d", r.Operation, r.Region, r.Status)
		}
	}
	if regions["eu"] != 2 || regions["na"] != 2 {
		t.Errorf("token orders and cancellations per regional host: %v, want 2 on eu and 2 on na", regions)
	}
}
