package simulator_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
)

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestStateAndInspectorAreRedacted: what the simulator shows about its
// sessions (/_sim/state, the inspector, recorded requests and callbacks)
// holds no callback secret, token or personal data in full; secrets and
// tokens appear as a short suffix, enough to match them up. The REST API
// still returns whole tokens to an authenticated caller.
func TestStateAndInspectorAreRedacted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{CallbackBackoff: 10 * time.Millisecond})
	sink, sinkURL := newSink(t, 0)
	const secret = "5f0e2c9a7b1d4e8f3a6c0b9d2e7f1a4c8b3d6e0f9a2c5b8e1d4f7a0c3b6e9d2f"
	req := gbSession()
	req.MerchantURLs.Authorization = sinkURL + "/klarna/authorization?checkout=KS-1&secret=" + secret
	req.MerchantURLs.Notification = sinkURL + "/klarna/notification?checkout=KS-1&secret=" + secret
	ms, _, err := e.client.CreateSession(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	personal := map[string]string{"given name": "Augusta", "family name": "Byron-King", "e-mail": "ada.lovelace@example.com",
		"street": "12 Analytical Engine Road", "phone": "07700900123", "date of birth": "1815-12-10", "national id": "19151210-1234"}
	address := map[string]any{"given_name": personal["given name"], "family_name": personal["family name"], "email": personal["e-mail"],
		"street_address": personal["street"], "phone": personal["phone"], "postal_code": "W1 1AA", "city": "London", "country": "GB"}
	a := e.authorize(t, ms.ClientToken, "pay_later", "approve", map[string]any{"billing_address": address,
		"customer": map[string]any{"date_of_birth": personal["date of birth"], "national_identification_number": personal["national id"]}})
	waitFor(t, sink.got)
	o := orderFor(req)
	o.BillingAddress = &klarna.Address{GivenName: personal["given name"], FamilyName: personal["family name"], Email: personal["e-mail"],
		StreetAddress: personal["street"], Phone: personal["phone"], PostalCode: "W1 1AA", City: "London", Country: "GB"}
	if _, _, err := e.client.CreateOrder(t.Context(), a.AuthorizationToken, o); err != nil {
		t.Fatal(err)
	}

	shown := map[string]string{"state": get(t, e.srv.URL+"/_sim/state"), "inspector": get(t, e.srv.URL+"/_sim/")}
	for _, c := range recordedCallbacks(e.sim, 1) {
		shown["callback record"] += c.URL + " " + c.Body + "\n"
	}
	hidden := map[string]string{"callback secret": secret, "authorization token": a.AuthorizationToken, "client token": ms.ClientToken,
		"client token signature": ms.ClientToken[strings.LastIndex(ms.ClientToken, ".")+1:]}
	for k, v := range personal {
		hidden[k] = v
	}
	for where, text := range shown {
		for what, v := range hidden {
			if strings.Contains(text, v) {
				t.Errorf("the %s shows the %s", where, what)
			}
		}
	}
	for _, where := range []string{"state", "callback record"} {
		if !strings.Contains(shown[where], "…"+secret[len(secret)-4:]) {
			t.Errorf("the %s does not show the secret's suffix", where)
		}
	}
	if !strings.Contains(shown["state"], "…"+a.AuthorizationToken[len(a.AuthorizationToken)-4:]) {
		t.Error("the state does not show the token's suffix")
	}
	if !strings.Contains(shown["state"], "a…@example.com") || !strings.Contains(shown["state"], "London") {
		t.Error("the state does not show the masked e-mail and the city")
	}
	// The API itself answers in full to the merchant's credentials.
	s, _, err := e.client.GetSession(t.Context(), ms.SessionID)
	if err != nil || s.ClientToken != ms.ClientToken || s.AuthorizationToken != a.AuthorizationToken {
		t.Errorf("the API no longer returns whole tokens: %+v %v", s, err)
	}
}

// TestControlEndpointsRefuseCrossSite: the control endpoints take only
// same-origin JSON, so a page on another site (a text/plain or form post,
// which needs no preflight) cannot reset the simulator, inject faults, move
// its clock or decide orders.
func TestControlEndpointsRefuseCrossSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{})
	send := func(method, path, ctype, body string, headers ...string) int {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ms, _, err := e.client.CreateSession(t.Context(), gbSession())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, method, path, ctype, body string
		headers                         []string
	}{
		{"text/plain reset", "POST", "/_sim/reset", "text/plain", "", nil},
		{"form reset", "POST", "/_sim/reset", "application/x-www-form-urlencoded", "x=1", nil},
		{"text/plain faults", "POST", "/_sim/faults", "text/plain", `{"spec":"get_session=503"}`, nil},
		{"text/plain clock", "POST", "/_sim/clock", "text/plain", `{"advance":"49h"}`, nil},
		{"form decide", "POST", "/_sim/orders/x/decide", "application/x-www-form-urlencoded", "decision=accept", nil},
		{"cross-site JSON faults", "POST", "/_sim/faults", "application/json", `{"spec":"get_session=503"}`, []string{"Sec-Fetch-Site", "cross-site"}},
		{"same-site JSON clock", "POST", "/_sim/clock", "application/json", `{"advance":"49h"}`, []string{"Sec-Fetch-Site", "same-site"}},
		{"foreign Origin reset", "POST", "/_sim/reset", "application/json", "", []string{"Origin", "http://evil.example"}},
		{"cross-site clear faults", "DELETE", "/_sim/faults", "", "", []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		if got := send(tt.method, tt.path, tt.ctype, tt.body, tt.headers...); got != http.StatusForbidden && got != http.StatusUnsupportedMediaType {
			t.Errorf("%s: %d", tt.name, got)
		}
	}
	if _, _, err := e.client.GetSession(t.Context(), ms.SessionID); err != nil {
		t.Fatalf("a refused request changed the simulator: %v", err)
	}
	// The inspector's own requests, and tools such as curl, still work.
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, h := range [][]string{{"Sec-Fetch-Site", "same-origin"}, {"Origin", "http://" + host}, nil} {
		if got := send("POST", "/_sim/faults", "application/json", `{"spec":"get_session=503*1"}`, h...); got != http.StatusNoContent {
			t.Errorf("same-origin JSON %v: %d", h, got)
		}
	}
	if got := send("DELETE", "/_sim/faults", "", "", "Sec-Fetch-Site", "same-origin"); got != http.StatusNoContent {
		t.Errorf("same-origin clear faults: %d", got)
	}
}

// TestMerchantURLsOnAllowList: the simulator calls back and redirects only
// to allowed origins, so a caller cannot make it POST into the local
// network or redirect shoppers to another site.
func TestMerchantURLsOnAllowList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.Config{}) // allows https://shop.example and loopback
	for field, urls := range map[string]*klarna.MerchantURLs{
		"merchant_urls.authorization": {Authorization: "http://10.0.0.1/admin/reset"},
		"merchant_urls.notification":  {Notification: "http://169.254.169.254/latest/meta-data"},
		"merchant_urls.confirmation":  {Confirmation: "https://evil.example/phish?o={order.id}"},
		"merchant_urls.push":          {Push: "http://127.0.0.1@evil.example/"},
	} {
		req := gbSession()
		req.MerchantURLs = urls
		_, _, err := e.client.CreateSession(t.Context(), req)
		if ke := klarnaErr(t, err); ke.StatusCode != 400 || ke.ErrorCode != "BAD_VALUE" || !strings.Contains(strings.Join(ke.ErrorMessages, " "), field) {
			t.Errorf("%s: %+v", field, ke)
		}
	}
	ms, _, err := e.client.CreateSession(t.Context(), gbSession())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.UpdateSession(t.Context(), ms.SessionID, &klarna.SessionUpdate{MerchantURLs: &klarna.MerchantURLs{Authorization: "http://192.0.2.7:8080/cb"}})
	if ke := klarnaErr(t, err); ke.StatusCode != 400 {
		t.Errorf("update session: %+v", ke)
	}
	a, err := e.sim.Authorize(ms.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	o := orderFor(gbSession())
	o.MerchantURLs = &klarna.MerchantURLs{Confirmation: "https://evil.example/thanks"}
	_, _, err = e.client.CreateOrder(t.Context(), a.AuthorizationToken, o)
	if ke := klarnaErr(t, err); ke.StatusCode != 400 || !strings.Contains(strings.Join(ke.ErrorMessages, " "), "merchant_urls.confirmation") {
		t.Errorf("create order: %+v", ke)
	}
	if n := len(e.sim.Snapshot().Orders); n != 0 {
		t.Errorf("%d orders made with a foreign confirmation URL", n)
	}
}
