package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fikaandform/storefront/store"
)

// TestLogsHoldNoSecretsOrPersonalData runs a whole checkout, with personal
// data entered in the Klarna widget, at log level debug, and searches the
// captured logs for every token, secret and personal detail involved.
func TestLogsHoldNoSecretsOrPersonalData(t *testing.T) {
	var logs syncBuffer
	dir := t.TempDir()
	env := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "shop.db"), "LOG_LEVEL": "debug", "KLARNA_SIM_CALLBACK_DELAY": "0s", "ADMIN_OPEN": "true"}
	inst := startWithLogs(t, env, &logs)
	b := newBrowserless(t)
	b.get(inst.URL + "/")
	b.add(inst.URL, "oak-board")
	page := b.get(inst.URL + "/checkout")
	clientToken := regexp.MustCompile(`data-client-token="([^"]+)"`).FindStringSubmatch(page)[1]

	// The shopper types personal data into the (simulated) Klarna widget.
	const email, street, name = "ada.lovelace@example.com", "12 Analytical Engine Road", "Augusta"
	body, _ := json.Marshal(map[string]any{"client_token": clientToken, "payment_method_category": "pay_later", "outcome": "approve",
		"data": map[string]any{"billing_address": map[string]any{"email": email, "street_address": street, "given_name": name, "family_name": "King"}}})
	resp, err := http.Post(inst.URL+"/klarna-sim/browser/authorize", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	var auth struct {
		AuthorizationToken string `json:"authorization_token"`
	}
	json.NewDecoder(resp.Body).Decode(&auth)
	resp.Body.Close()
	if auth.AuthorizationToken == "" {
		t.Fatal("no authorization")
	}
	time.Sleep(300 * time.Millisecond) // let Klarna's callback arrive as well
	if status, out := b.place(inst.URL, auth.AuthorizationToken); status != 200 {
		t.Fatalf("place: %d %v", status, out)
	}
	b.get(inst.URL + "/admin")

	// The callback secret, from the shop's database (the simulator's state
	// shows only its last characters).
	db, err := store.OpenSQLite(t.Context(), filepath.Join(dir, "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	orders, err := db.Orders(t.Context(), 1)
	db.Close()
	if err != nil || len(orders) != 1 || len(orders[0].CallbackSecret) != 64 {
		t.Fatalf("no order with a callback secret in the database: %v", err)
	}
	secret := orders[0].CallbackSecret

	captured := logs.String()
	if !strings.Contains(captured, "level=DEBUG") && !strings.Contains(captured, "klarna call") {
		t.Fatalf("logs look empty:\n%s", captured)
	}
	for what, v := range map[string]string{
		"authorization token": auth.AuthorizationToken, "client token": clientToken, "client token signature": clientToken[strings.LastIndex(clientToken, ".")+1:],
		"callback secret": secret, "e-mail": email, "street": street, "given name": name,
	} {
		if strings.Contains(captured, v) {
			for _, line := range strings.Split(captured, "\n") {
				if strings.Contains(line, v) {
					t.Errorf("the logs contain the %s: %s", what, strings.ReplaceAll(line, v, "<"+what+">"))
					break
				}
			}
		}
	}
}
