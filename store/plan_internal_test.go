package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
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
