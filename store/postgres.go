package store

import (
	"context"
	"database/sql"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// OpenPostgres connects to PostgreSQL (a postgres:// URL) and migrates it
// with the same embedded migrations as SQLite. Several shop instances may
// share one database: every state change is a compare-and-set in SQL.
func OpenPostgres(ctx context.Context, url string) (*SQL, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store: opening PostgreSQL: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connecting to PostgreSQL: %w", err)
	}
	// Instances that start together take turns at the migrations: an
	// advisory lock held for the session, so that two never apply the same
	// step at once.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300)) // try each second, for five minutes
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: preparing the migration lock: %w", err)
	}
	if err := migrate(ctx, db, goose.DialectPostgres, goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, err
	}
	return &SQL{db: db, postgres: true, idle: 10}, nil
}
