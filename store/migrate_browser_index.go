package store

import (
	"context"
	"database/sql"

	"github.com/pressly/goose/v3"
)

// Migration 13 indexes every checkout of a browser by its creation, where
// checkouts_browser_open held only the open ones. A browser that comes back
// without its checkout's reference (an older cookie: two requests raced to
// save the session, or a cookie was restored) must find a checkout of the
// same cart that is being placed or is already an order, not only an open
// one, or it would be offered to pay for that cart again
// (checkout.BeginFor). The new index costs less to keep than the old one:
// a checkout's browser and creation never change, so its entry is written
// once, where the partial index took an entry in and out with the state.
//
// Written in Go for PostgreSQL's sake: the index is built concurrently,
// without locking checkouts against the shop's writes, and the old one is
// dropped the same way. SQLite takes it in one transaction.
const (
	browserIndexVersion = 13
	browserIndex        = `checkouts_browser_created ON checkouts (browser_id, created_at)`
	browserOpenIndex    = `checkouts_browser_open ON checkouts (browser_id, created_at) WHERE state = 'open'`
)

func browserIndexMigration(dialect goose.Dialect) *goose.Migration {
	if dialect != goose.DialectPostgres {
		return goose.NewGoMigration(browserIndexVersion,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				return execAll(ctx, tx, `CREATE INDEX `+browserIndex, `DROP INDEX checkouts_browser_open`)
			}},
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				return execAll(ctx, tx, `CREATE INDEX `+browserOpenIndex, `DROP INDEX checkouts_browser_created`)
			}})
	}
	return goose.NewGoMigration(browserIndexVersion,
		&goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
			if err := buildIndexConcurrently(ctx, db, "checkouts_browser_created", browserIndex); err != nil {
				return err
			}
			return execAll(ctx, db, `DROP INDEX CONCURRENTLY IF EXISTS checkouts_browser_open`)
		}},
		&goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
			if err := buildIndexConcurrently(ctx, db, "checkouts_browser_open", browserOpenIndex); err != nil {
				return err
			}
			return execAll(ctx, db, `DROP INDEX CONCURRENTLY IF EXISTS checkouts_browser_created`)
		}})
}
