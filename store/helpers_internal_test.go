package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// postgresSchemaURL is the URL of a schema of its own on the test
// PostgreSQL (TEST_DATABASE_URL, else the local server), dropped when the
// test ends; the test is skipped without PostgreSQL. prefix names the
// schema after the test.
func postgresSchemaURL(t testing.TB, prefix string) string {
	t.Helper()
	ctx := context.Background()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("pgx", url)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		t.Skipf("no PostgreSQL: %v", err)
	}
	schema := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	return url + "&search_path=" + schema
}

// sqlitePlan is SQLite's query plan for query with args, one step a line.
func sqlitePlan(t testing.TB, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// migrationDB is an empty database for a test of a migration: the database
// itself, its goose dialect, its placeholder prefix ("?" or "$", numbered
// by ph) and a way to open the store on it once the test has migrated it.
type migrationDB struct {
	db      *sql.DB
	dialect goose.Dialect
	param   string
	open    func() (*SQL, error)
}

func (m migrationDB) ph(n int) string { return fmt.Sprintf("%s%d", m.param, n) }

// onBothDatabases runs test on a new SQLite file and, when there is one, a
// PostgreSQL schema of its own (named after prefix).
func onBothDatabases(t *testing.T, prefix string, test func(t *testing.T, m migrationDB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		test(t, migrationDB{db: db, dialect: goose.DialectSQLite3, param: "?",
			open: func() (*SQL, error) { return OpenSQLite(context.Background(), path) }})
	})
	t.Run("postgres", func(t *testing.T) {
		url := postgresSchemaURL(t, prefix)
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		test(t, migrationDB{db: db, dialect: goose.DialectPostgres, param: "$",
			open: func() (*SQL, error) { return OpenPostgres(context.Background(), url) }})
	})
}
