package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
)

// Migration 12 records when an order was first read through Order
// Management (first_read_at; NULL: never), and indexes the orders never
// read. The job that reads those orders, every recovery interval, and the
// orders area's list of them looked for the few among every order placed
// before their cut-off: once all of those had been read, each run walked
// them all (111 ms at 100,000 orders on SQLite, BenchmarkOrdersArea). An
// order leaves checkouts_never_read with its first read, in the row write
// RecordRead makes; orders read before the migration take their latest
// read's time. Only orders the unread queries can list are in the index:
// placed or pending review, with a Klarna order id.
//
// It is written in Go, not SQL, because PostgreSQL needs it done in steps
// that SQLite cannot take: in one transaction, adding the column would hold
// the whole table locked through the backfill and the index's build (1.8 s
// at 100,000 orders, 15 s at 300,000, measured in review), stalling every
// instance of a rolling deploy. On PostgreSQL each step commits alone, the
// backfill goes in batches, and the index is built concurrently; every step
// can run again after a failure. SQLite has one writer anyway and takes it
// in one transaction.
const (
	neverReadVersion = 12
	neverReadIndex   = `checkouts_never_read ON checkouts (placed_at) WHERE ` + neverReadCondition
)

// neverReadBatch is how many orders' reads each step of PostgreSQL's
// backfill marks (a variable for the tests).
var neverReadBatch = 5000

func neverReadMigration(dialect goose.Dialect) *goose.Migration {
	if dialect != goose.DialectPostgres {
		return goose.NewGoMigration(neverReadVersion,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				return execAll(ctx, tx,
					`ALTER TABLE checkouts ADD COLUMN first_read_at TIMESTAMP`,
					`UPDATE checkouts SET first_read_at = (SELECT r.read_at FROM order_reads r WHERE r.checkout_id = checkouts.id)
						WHERE EXISTS (SELECT 1 FROM order_reads r WHERE r.checkout_id = checkouts.id)`,
					`CREATE INDEX `+neverReadIndex)
			}},
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				return execAll(ctx, tx, `DROP INDEX checkouts_never_read`, `ALTER TABLE checkouts DROP COLUMN first_read_at`)
			}})
	}
	return goose.NewGoMigration(neverReadVersion,
		&goose.GoFunc{RunDB: neverReadPostgres},
		&goose.GoFunc{RunDB: func(ctx context.Context, db *sql.DB) error {
			return execAll(ctx, db, `DROP INDEX CONCURRENTLY IF EXISTS checkouts_never_read`,
				`ALTER TABLE checkouts DROP COLUMN IF EXISTS first_read_at`)
		}})
}

func neverReadPostgres(ctx context.Context, db *sql.DB) error {
	// Adding a nullable column changes only the catalog, but it waits for
	// every query on the table to end, and everything after it waits for
	// it: give up after a second and try again rather than queue the shop
	// behind a long report.
	if err := withLockTimeout(ctx, db, `ALTER TABLE checkouts ADD COLUMN IF NOT EXISTS first_read_at TIMESTAMP`); err != nil {
		return fmt.Errorf("adding first_read_at: %w", err)
	}
	// The backfill walks order_reads by its key, a batch per transaction:
	// only the rows of the batch are locked, for as long as it takes.
	after := ""
	for {
		var last sql.NullString
		if err := db.QueryRowContext(ctx, `SELECT max(checkout_id) FROM (SELECT checkout_id FROM order_reads WHERE checkout_id > $1
			ORDER BY checkout_id LIMIT $2) batch`, after, neverReadBatch).Scan(&last); err != nil {
			return fmt.Errorf("backfilling first_read_at: %w", err)
		}
		if !last.Valid {
			break
		}
		if _, err := db.ExecContext(ctx, `UPDATE checkouts c SET first_read_at = r.read_at FROM order_reads r
			WHERE r.checkout_id = c.id AND r.checkout_id > $1 AND r.checkout_id <= $2 AND c.first_read_at IS NULL`, after, last.String); err != nil {
			return fmt.Errorf("backfilling first_read_at: %w", err)
		}
		after = last.String
	}
	return buildIndexConcurrently(ctx, db, "checkouts_never_read", neverReadIndex)
}

// buildIndexConcurrently builds an index on PostgreSQL without locking its
// table against writes, and checks that the build left it valid.
// definition is what follows CREATE INDEX: "name ON table (…) …".
func buildIndexConcurrently(ctx context.Context, db *sql.DB, name, definition string) error {
	// A concurrent build that failed leaves an invalid index behind, which
	// IF NOT EXISTS would keep: drop it first. The index is looked for on
	// the checkouts table itself, whatever the search path.
	valid, found, err := indexValid(ctx, db, name)
	if err != nil {
		return err
	}
	if found && !valid {
		if _, err := db.ExecContext(ctx, `DROP INDEX CONCURRENTLY `+name); err != nil {
			return fmt.Errorf("dropping an invalid %s: %w", name, err)
		}
	}
	// A concurrent build waits for every transaction older than it, on any
	// table (a pg_dump, a long report). Waiting without end would hang this
	// start, and the instances queued behind the migration lock give up
	// after five minutes: give up sooner, with the reason; the next start
	// builds it again.
	if err := withSetting(ctx, db, "statement_timeout", "4min", func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `CREATE INDEX CONCURRENTLY IF NOT EXISTS `+definition)
		return err
	}); err != nil {
		return fmt.Errorf("building %s (it waits for every older transaction in the database: a pg_dump or a long report?): %w", name, err)
	}
	if valid, found, err := indexValid(ctx, db, name); err != nil {
		return err
	} else if !found || !valid {
		return fmt.Errorf("building %s: the index is not valid after its build; the next start builds it again", name)
	}
	return nil
}

// indexValid finds an index among the indexes of the checkouts table the
// shop uses, and says whether it is valid.
func indexValid(ctx context.Context, db *sql.DB, name string) (valid, found bool, err error) {
	err = db.QueryRowContext(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = 'checkouts'::regclass AND c.relname = $1`, name).Scan(&valid)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, false, nil
	case err != nil:
		return false, false, fmt.Errorf("looking for %s: %w", name, err)
	}
	return valid, true, nil
}

// withLockTimeout runs a statement that needs the table to itself, on one
// connection with a short lock_timeout, trying again for about 40 seconds:
// while it waits for the lock every other query on the table waits behind
// it, so each wait is kept to a second.
func withLockTimeout(ctx context.Context, db *sql.DB, statement string) error {
	return withSetting(ctx, db, "lock_timeout", "1s", func(conn *sql.Conn) error {
		for attempt := 1; ; attempt++ {
			_, err := conn.ExecContext(ctx, statement)
			if err == nil || attempt == 20 || !lockTimedOut(err) {
				return err
			}
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
}

// withSetting runs fn on one connection with a PostgreSQL setting changed
// for it, and reset before the connection goes back to the pool.
func withSetting(ctx context.Context, db *sql.DB, setting, value string, fn func(*sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET "+setting+" = '"+value+"'"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "RESET "+setting)
	return fn(conn)
}

// lockTimedOut reports a statement that gave up waiting for a lock
// (lock_not_available).
func lockTimedOut(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func execAll(ctx context.Context, e execer, statements ...string) error {
	for _, s := range statements {
		if _, err := e.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// markReadOrders marks the orders still in checkouts_never_read that have
// been read: reads recorded by an instance older than migration 12 (during
// a rolling deploy, or after a rollback to it), which do not mark their
// order. The queries leave such orders out anyway, but they would stay in
// the index, and every run of the unread job would walk past them. It runs
// after the migrations at each start; it walks only the index, the orders
// not marked read.
func markReadOrders(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `UPDATE checkouts SET first_read_at = (SELECT r.read_at FROM order_reads r WHERE r.checkout_id = checkouts.id)
		WHERE `+neverReadCondition+` AND EXISTS (SELECT 1 FROM order_reads r WHERE r.checkout_id = checkouts.id)`); err != nil {
		return fmt.Errorf("store: marking orders read by an older instance: %w", err)
	}
	return nil
}
