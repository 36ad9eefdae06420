package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// TestLeanIndexesAnswerTheirQueries checks that the partial indexes of
// migration 00009 are the ones SQLite uses for the queries they exist for:
// a partial index serves only a query whose condition implies the index's
// own, and an edit of the query could quietly turn the lookup into a scan
// of every checkout.
func TestLeanIndexesAnswerTheirQueries(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		query string
		args  []any
		index string
	}{
		{`SELECT ` + columns + ` FROM checkouts WHERE browser_id = ? AND state = 'open' ORDER BY created_at DESC LIMIT 1`, []any{"b"}, "checkouts_browser_open"},
		{`SELECT ` + columns + ` FROM checkouts WHERE subscription_status = ? AND subscription_status <> '' ORDER BY updated_at LIMIT ?`, []any{"pending", 10}, "checkouts_subscription"},
	} {
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, "; "); !strings.Contains(got, "USING INDEX "+tc.index) {
			t.Errorf("%s\nplan: %s\nwant it to use %s", tc.query, got, tc.index)
		}
	}
}

// TestOrdersWithoutPlacingTimeStayListed: an order recorded before
// migration 00009 without a placing time (the shop did so when it could
// not prepare an order's details) is still in the orders list after it,
// which now asks for placed_at.
func TestOrdersWithoutPlacingTimeStayListed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := db.ExecContext(ctx, `INSERT INTO checkouts (id, session_id, client_token, market, locale, currency, cart, cart_hash, amount, tax_amount,
		session_payload, callback_secret, state, klarna_order_id, created_at, updated_at, session_expires_at)
		VALUES ('KS-OLD', 'sess', 'ct', 'GB', 'en-GB', 'GBP', 'mug:1', 'h', 1800, 300, '{}', 's', 'placed', 'order-1', ?, ?, ?)`, now, now, now); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	orders, err := s.Orders(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 1 || orders[0].ID != "KS-OLD" || orders[0].PlacedAt == nil || !orders[0].PlacedAt.Equal(now) {
		t.Fatalf("orders after the migration: %+v", orders)
	}
}
