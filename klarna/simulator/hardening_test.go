package simulator_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"storefront/klarna"
	"storefront/klarna/simulator"
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
	for _, c := range e.sim.Callbacks() {
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
