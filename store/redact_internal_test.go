package store

import (
	"context"
	"testing"
	"time"
)

// TestRecordedOrdersLoseTheirCallbackSecret: migration 00010 redacts the
// callback secret an order recorded before it kept in its copy of the
// order request (the notification URL), and leaves every other copy as it
// was; on SQLite and, when there is one, PostgreSQL.
func TestRecordedOrdersLoseTheirCallbackSecret(t *testing.T) {
	onBothDatabases(t, "t_redact", checkRedaction)
}

func checkRedaction(t *testing.T, m migrationDB) {
	ctx := context.Background()
	db := m.db
	p, err := migrationProvider(db, m.dialect)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	ph := m.ph
	const secret = "5ec2e7aa5ec2e7aa5ec2e7aa5ec2e7aa"
	withSecret := `{"merchant_urls":{"notification":"https://shop.example/klarna/notification?checkout=KS-A&secret=` + secret + `"}}`
	rows := map[string]string{"KS-A": withSecret, "KS-B": `{"order_lines":[]}`, "KS-C": ""}
	now := time.Now().UTC().Truncate(time.Second)
	for id, payload := range rows {
		if _, err := db.ExecContext(ctx, `INSERT INTO checkouts (id, session_id, client_token, market, locale, currency, cart, cart_hash, amount, tax_amount,
			session_payload, callback_secret, state, order_payload, created_at, updated_at, session_expires_at)
			VALUES (`+ph(1)+`, `+ph(2)+`, 'ct', 'GB', 'en-GB', 'GBP', 'mug:1', 'h', 1800, 300, '{}', `+ph(3)+`, 'placed', `+ph(4)+`, `+ph(5)+`, `+ph(5)+`, `+ph(5)+`)`,
			id, "sess-"+id, secret, payload, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"KS-A": `{"merchant_urls":{"notification":"https://shop.example/klarna/notification?checkout=KS-A&secret=REDACTED"}}`,
		"KS-B": rows["KS-B"], "KS-C": "",
	}
	for id, w := range want {
		var got string
		if err := db.QueryRowContext(ctx, `SELECT order_payload FROM checkouts WHERE id = `+ph(1), id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != w {
			t.Errorf("%s: %s, want %s", id, got, w)
		}
	}
	if _, err := p.DownTo(ctx, 9); err != nil {
		t.Errorf("down: %v", err)
	}
}
