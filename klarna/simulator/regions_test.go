package simulator_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
)

func usSession() *klarna.SessionRequest {
	return &klarna.SessionRequest{
		PurchaseCountry: "US", PurchaseCurrency: "USD", Locale: "en-US", OrderAmount: 2165, OrderTaxAmount: 165,
		OrderLines: []klarna.OrderLine{
			{Type: klarna.LinePhysical, Name: "Mug", Quantity: 2, UnitPrice: 1000, TotalAmount: 2000},
			{Type: klarna.LineSalesTax, Name: "Sales Tax", Quantity: 1, UnitPrice: 165, TotalAmount: 165},
		},
		MerchantURLs: &klarna.MerchantURLs{Confirmation: "https://shop.example/confirm"},
	}
}

func auSession() *klarna.SessionRequest {
	return &klarna.SessionRequest{
		PurchaseCountry: "AU", PurchaseCurrency: "AUD", Locale: "en-AU", OrderAmount: 1100, OrderTaxAmount: 100,
		OrderLines: []klarna.OrderLine{{Type: klarna.LinePhysical, Name: "Mug", Quantity: 1, UnitPrice: 1100, TaxRate: klarna.Int64(1000), TotalAmount: 1100, TotalTaxAmount: klarna.Int64(100)}},
	}
}

// regional returns a client for one of e's regional hosts.
func (e *env) regional(t *testing.T, region, user, pass string) *klarna.Client {
	t.Helper()
	c, err := klarna.NewClient(klarna.WithBaseURL(e.sim.RegionURL(region)), klarna.WithCredentials(user, pass), klarna.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRegionalHosts: each region's host takes its own credentials only,
// makes sessions for its own countries only, and knows only what it made.
func TestRegionalHosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{Regions: map[string]simulator.Credentials{
		"eu": {Username: "eu-user", Password: "eu-pass"}, "na": {Username: "na-user", Password: "na-pass"}, "oc": {Username: "oc-user", Password: "oc-pass"},
	}})
	eu, na, oc := e.regional(t, "eu", "eu-user", "eu-pass"), e.regional(t, "na", "na-user", "na-pass"), e.regional(t, "oc", "oc-user", "oc-pass")
	ctx := t.Context()

	gb, _, err := eu.CreateSession(ctx, gbSession())
	if err != nil {
		t.Fatalf("GB on the Europe host: %v", err)
	}
	if _, _, err := na.CreateSession(ctx, usSession()); err != nil {
		t.Fatalf("US on the North America host: %v", err)
	}
	if _, _, err := oc.CreateSession(ctx, auSession()); err != nil {
		t.Fatalf("AU on the Oceania host: %v", err)
	}
	regions := map[string]string{}
	for _, s := range e.sim.Snapshot().Sessions {
		regions[s.Country] = s.Region
	}
	if regions["GB"] != "eu" || regions["US"] != "na" || regions["AU"] != "oc" {
		t.Errorf("sessions made on %v", regions)
	}

	// A misrouted market: the right credentials for the host, the wrong host
	// for the country.
	_, _, err = eu.CreateSession(ctx, usSession())
	var ke *klarna.Error
	if !errors.As(err, &ke) || ke.StatusCode != http.StatusBadRequest || ke.ErrorCode != "BAD_VALUE" || !strings.Contains(ke.ErrorMessages[0], "purchase_country") || ke.CorrelationID == "" {
		t.Errorf("US session on the Europe host: %v", err)
	}
	// Another region's credentials: 401, as Klarna answers.
	if _, _, err := e.regional(t, "na", "eu-user", "eu-pass").CreateSession(ctx, usSession()); !errors.As(err, &ke) || ke.StatusCode != http.StatusUnauthorized {
		t.Errorf("Europe's credentials on the North America host: %v", err)
	}
	if _, _, err := e.regional(t, "eu", "PK_test", "secret").GetSession(ctx, gb.SessionID); !errors.As(err, &ke) || ke.StatusCode != http.StatusUnauthorized {
		t.Errorf("the root's credentials on the Europe host: %v", err)
	}
	// What one region made is unknown to another, and known to the root.
	if _, _, err := na.GetSession(ctx, gb.SessionID); !klarna.IsNotFound(err) {
		t.Errorf("reading a Europe session on the North America host: %v", err)
	}
	if _, _, err := e.client.GetSession(ctx, gb.SessionID); err != nil {
		t.Errorf("reading it at the root: %v", err)
	}
	a := e.authorize(t, gb.ClientToken, "pay_later", simulator.OutcomeApprove, nil)
	if _, _, err := na.CreateOrder(ctx, a.AuthorizationToken, orderFor(gbSession())); !klarna.IsNotFound(err) {
		t.Errorf("create order on the wrong region's host: %v", err)
	}
	o, _, err := eu.CreateOrder(ctx, a.AuthorizationToken, orderFor(gbSession()))
	if err != nil {
		t.Fatalf("create order on the session's own host: %v", err)
	}
	if _, _, err := na.GetOrder(ctx, o.OrderID); !klarna.IsNotFound(err) {
		t.Errorf("reading the order on the wrong region's host: %v", err)
	}
	if _, _, err := eu.GetOrder(ctx, o.OrderID); err != nil {
		t.Errorf("reading the order on its own host: %v", err)
	}
}

// TestPlaygroundTestIdentities: Klarna's documented playground e-mails
// decide an authorization in the simulator as in the playground, beside the
// simulator's own tags.
func TestPlaygroundTestIdentities(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ctx := t.Context()
	approved := simulator.AuthorizeResult{Approved: true, ShowForm: true}
	declined := simulator.AuthorizeResult{}
	dialog := simulator.AuthorizeResult{Dialog: true}
	for _, tc := range []struct {
		session *klarna.SessionRequest
		email   string
		want    simulator.AuthorizeResult
	}{
		{gbSession(), "customer@email.uk", approved},
		{gbSession(), "customer@email.gb", approved},
		{gbSession(), "customer+denied@email.uk", declined},
		{gbSession(), "customer+gb@klarna.com", approved},
		{gbSession(), "customer+uk+denied@klarna.com", declined},
		{usSession(), "customer@email.us", approved},
		{usSession(), "customer+us+denied@klarna.com", declined},
		{usSession(), "customer+new_user@email.us", approved},
		{gbSession(), "customer@email.de", dialog},       // another market's identity
		{gbSession(), "customer+us@klarna.com", dialog},  // likewise
		{gbSession(), "customer@example.com", dialog},    // not test data
		{gbSession(), "anna+decline@email.uk", declined}, // the simulator's own tag wins
	} {
		ms, _, err := e.client.CreateSession(ctx, tc.session)
		if err != nil {
			t.Fatal(err)
		}
		got := e.authorize(t, ms.ClientToken, "pay_later", "", map[string]any{"billing_address": map[string]any{"email": tc.email}})
		got.AuthorizationToken = ""
		if got.Approved != tc.want.Approved || got.ShowForm != tc.want.ShowForm || got.Dialog != tc.want.Dialog {
			t.Errorf("%s in %s: %+v, want %+v", tc.email, tc.session.PurchaseCountry, got, tc.want)
		}
	}

	// Pending review, decided after the minutes in the e-mail (the
	// simulator's clock), in the US and the UK only.
	order := func(s *klarna.SessionRequest, email string) *klarna.Order {
		t.Helper()
		ms, _, err := e.client.CreateSession(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		a := e.authorize(t, ms.ClientToken, "pay_later", "", map[string]any{"billing_address": map[string]any{"email": email}})
		o, _, err := e.client.CreateOrder(ctx, a.AuthorizationToken, orderFor(s))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	fraud := func(id string) string {
		st, _, err := e.client.GetOrderStatus(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return string(st.FraudStatus)
	}
	rejected := order(usSession(), "customer+pend-reject-05@email.us")
	accepted := order(gbSession(), "customer+gb+pend-accept-10@klarna.com")
	if rejected.FraudStatus != klarna.FraudPending || accepted.FraudStatus != klarna.FraudPending {
		t.Fatalf("pending identities: %s, %s", rejected.FraudStatus, accepted.FraudStatus)
	}
	e.sim.Advance(4 * time.Minute)
	if got := fraud(rejected.OrderID); got != "PENDING" {
		t.Errorf("decided before its 5 minutes: %s", got)
	}
	e.sim.Advance(2 * time.Minute)
	if got, other := fraud(rejected.OrderID), fraud(accepted.OrderID); got != "REJECTED" || other != "PENDING" {
		t.Errorf("after 6 minutes: %s and %s, want REJECTED and PENDING", got, other)
	}
	e.sim.Advance(5 * time.Minute)
	if got := fraud(accepted.OrderID); got != "ACCEPTED" {
		t.Errorf("after 11 minutes: %s, want ACCEPTED", got)
	}
	de := &klarna.SessionRequest{PurchaseCountry: "DE", PurchaseCurrency: "EUR", Locale: "de-DE", OrderAmount: 1190, OrderTaxAmount: 190,
		OrderLines: []klarna.OrderLine{{Name: "Mug", Quantity: 1, UnitPrice: 1190, TaxRate: klarna.Int64(1900), TotalAmount: 1190, TotalTaxAmount: klarna.Int64(190)}}}
	if o := order(de, "customer+pend-accept-05@email.de"); o.FraudStatus != klarna.FraudAccepted {
		t.Errorf("pending identity outside the US and UK: %s, want ACCEPTED", o.FraudStatus)
	}
}

// TestWidgetFollowsTheBrowsersHost: the widget's images come from the host
// the browser used, so that a page opened as 127.0.0.1 rather than
// localhost loads them from its own origin.
func TestWidgetFollowsTheBrowsersHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	ms, _, err := e.client.CreateSession(t.Context(), gbSession())
	if err != nil {
		t.Fatal(err)
	}
	port := e.srv.URL[strings.LastIndex(e.srv.URL, ":")+1:]
	for host, want := range map[string]string{
		"127.0.0.1:" + port: e.srv.URL + "/assets/badges/",
		"localhost:" + port: "http://localhost:" + port + "/assets/badges/",
	} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/browser/load", strings.NewReader(`{"client_token":"`+ms.ClientToken+`"}`))
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Categories []struct {
				AssetURL string `json:"asset_url"`
			} `json:"categories"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if len(out.Categories) == 0 || !strings.HasPrefix(out.Categories[0].AssetURL, want) {
			t.Errorf("Host %s: %+v, want asset URLs under %s", host, out, want)
		}
		req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/_sim/", nil)
		req.Host = host
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if origin := strings.TrimSuffix(want, "/assets/badges/"); !strings.Contains(string(page), `href="`+origin+`/kp/lib/v1/sim.css"`) {
			t.Errorf("Host %s: the inspector's stylesheet is not on %s", host, origin)
		}
	}
}
