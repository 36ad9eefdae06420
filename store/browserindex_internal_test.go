package store

import (
	"context"
	"slices"
	"testing"
)

// TestBrowserIndexMigration: migration 13 replaces the index of a
// browser's open checkouts with one of all its checkouts, and takes it back
// on the way down; on SQLite and, when there is one, PostgreSQL.
func TestBrowserIndexMigration(t *testing.T) {
	onBothDatabases(t, "t_browser", func(t *testing.T, m migrationDB) {
		ctx := context.Background()
		p, err := migrationProvider(m.db, m.dialect)
		if err != nil {
			t.Fatal(err)
		}
		indexes := func() []string {
			q := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'checkouts'`
			if m.param == "$" {
				q = `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'checkouts'::regclass AND i.indisvalid`
			}
			rows, err := m.db.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var name string
				rows.Scan(&name)
				out = append(out, name)
			}
			return out
		}
		check := func(when string, has, lacks string) {
			t.Helper()
			if got := indexes(); !slices.Contains(got, has) || slices.Contains(got, lacks) {
				t.Errorf("%s: indexes %v, want %s and not %s", when, got, has, lacks)
			}
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		check("up", "checkouts_browser_created", "checkouts_browser_open")
		if _, err := p.DownTo(ctx, browserIndexVersion-1); err != nil {
			t.Fatal(err)
		}
		check("down", "checkouts_browser_open", "checkouts_browser_created")
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		check("up again", "checkouts_browser_created", "checkouts_browser_open")
	})
}
