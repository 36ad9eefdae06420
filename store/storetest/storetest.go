// Package storetest gives tests a PostgreSQL store in a throwaway schema.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/fikaandform/storefront/store"
)

// PostgresTestURL is the server tests use: TEST_DATABASE_URL, or the local
// PostgreSQL of the development and CI machines.
func PostgresTestURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// PostgresForTest opens a PostgreSQL store in a fresh schema that is dropped
// after the test. Without a server it skips the caller's PostgreSQL part, or
// fails under CI=true, where PostgreSQL must be tested.
func PostgresForTest(t testing.TB) *store.SQL {
	t.Helper()
	schema := NewPostgresSchema(t)
	if schema == "" {
		return nil
	}
	s, err := store.OpenPostgres(context.Background(), PostgresSchemaURL(schema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// NewPostgresSchema creates an empty schema for one test and returns its
// name, or "" when no server answers outside CI.
func NewPostgresSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", PostgresTestURL())
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s: %v", PostgresTestURL(), err)
		}
		t.Logf("PostgreSQL part skipped: %v", err)
		return ""
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	return schema
}

// PostgresSchemaURL is the test server's URL with search_path set to schema.
func PostgresSchemaURL(schema string) string {
	u, _ := url.Parse(PostgresTestURL())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
