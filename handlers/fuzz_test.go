package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fikaandform/storefront/handlers"
)

// FuzzCallbacks sends arbitrary queries and bodies to Klarna's callback
// endpoints. Whatever arrives, the answer is a 4xx (or 200 for a well-formed
// call), never a 5xx, and no order is placed without the checkout's secret.
func FuzzCallbacks(f *testing.F) {
	f.Add("authorization", "checkout=KS-1&secret=abc", `{"authorization_token":"t","session_id":"s"}`)
	f.Add("notification", "checkout=KS-1&secret=abc", `{"order_id":"o","event_type":"FRAUD_RISK_ACCEPTED"}`)
	f.Add("authorization", "", ``)
	f.Add("notification", "checkout=%00&secret=%ff", `{"order_id":1}`)
	f.Add("authorization", "checkout=KS-1", `[]`)
	f.Add("notification", "secret=", `{"order_id":"o","event_type":"NOPE"}`)
	e := newEnv(f, options{limits: handlers.Limits{Callbacks: 1e6, Burst: 1e6}})
	f.Fuzz(func(t *testing.T, kind, query, body string) {
		if kind != "authorization" {
			kind = "notification"
		}
		v, err := url.ParseQuery(query)
		if err != nil {
			v = url.Values{"checkout": {query}}
		}
		query = v.Encode()
		resp, err := http.Post(e.srv.URL+"/klarna/"+kind+"?"+query, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q %q: %d", kind, query, body, resp.StatusCode)
		}
		if n := e.sim.Count("create_order"); n != 0 {
			t.Fatalf("an order was placed: %d", n)
		}
	})
}
