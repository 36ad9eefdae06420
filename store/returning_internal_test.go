package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// lateCancel is a SQLite driver that, after a RETURNING statement has run
// its first step (the UPDATE is made, the row is waiting), calls a hook:
// the test cancels the caller's context there, as a shopper closing the
// tab at that moment does.
type lateCancel struct{ base driver.Driver }

var afterReturning atomic.Pointer[func()]

func (d lateCancel) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	return lcConn{c}, nil
}

type lcConn struct{ driver.Conn }

func (c lcConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return lcStmt{st, strings.Contains(q, "RETURNING")}, nil
}

func (c lcConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, o)
}

type lcStmt struct {
	driver.Stmt
	returning bool
}

func (s lcStmt) ExecContext(ctx context.Context, a []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, a)
}

func (s lcStmt) QueryContext(ctx context.Context, a []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, a)
	if err == nil && s.returning {
		return lcRows{rows}, nil
	}
	return rows, err
}

// lcRows calls the hook as the row is fetched: the UPDATE is made by then
// (SQLite makes every change of a RETURNING statement in its first step).
type lcRows struct{ driver.Rows }

func (r lcRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if f := afterReturning.Load(); f != nil {
		(*f)()
		time.Sleep(50 * time.Millisecond) // database/sql's awaitDone queues to close the rows
	}
	return err
}

func init() {
	db, _ := sql.Open("sqlite", "")
	sql.Register("sqlite-late-cancel-test", lateCancel{base: db.Driver()})
	db.Close()
}

// TestTransitionRowCancelledAfterTheUpdateIsNotAnError: a move whose
// caller's context ends after SQLite made the UPDATE but before the
// returned row was read is committed. TransitionRow must then say so (or
// at least not report an error for a committed move): the checkout treats
// an error as "not recorded" and never counts the order as won, so a
// subscription's customer token is never made. A plain write (exec) had
// the same window on SQLite: the statement runs to its end under the
// interrupt, yet the driver reports the context's error for it; it is
// closed the same way (see TestGroupCommitKeepsEachWriteOwnAnswer).
func TestTransitionRowCancelledAfterTheUpdateIsNotAnError(t *testing.T) {
	ctx := context.Background()
	s, err := openSQLite(ctx, "sqlite-late-cancel-test", filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkLateCancel(t, s)
}

func testCheckout(id string) *Checkout {
	now := time.Now().Truncate(time.Second)
	return &Checkout{ID: id, SessionID: "sess-" + id, ClientToken: "ct", Categories: "[]", Market: "GB", Locale: "en-GB", Currency: "GBP",
		Cart: "stoneware-mug:1", CartHash: "h1", Amount: 1800, TaxAmount: 300, SessionPayload: "{}", CallbackSecret: "s",
		State: StateOpen, CreatedAt: now, UpdatedAt: now, SessionExpiresAt: now.Add(48 * time.Hour)}
}

func init() {
	db, _ := sql.Open("pgx", "")
	sql.Register("pgx-late-cancel-test", lateCancel{base: db.Driver()})
	db.Close()
}

// TestTransitionRowCancelledAfterTheUpdateIsNotAnErrorPostgres: the same
// on PostgreSQL, where autocommit commits the UPDATE whatever happens to
// the rows the client has not read yet.
func TestTransitionRowCancelledAfterTheUpdateIsNotAnErrorPostgres(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("pgx-late-cancel-test", postgresSchemaURL(t, "t_returning"))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, goose.DialectPostgres); err != nil {
		t.Fatal(err)
	}
	s := &SQL{db: db, postgres: true, idle: 2}
	defer s.Close()
	checkLateCancel(t, s)
}

// checkLateCancel moves a checkout with a context that ends while the
// returned row is read, and checks that TransitionRow tells what the
// database holds.
func checkLateCancel(t *testing.T, s *SQL) {
	ctx := context.Background()
	if err := s.CreateCheckout(ctx, testCheckout("KC-1")); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := func() { cancel() }
	afterReturning.Store(&f)
	defer afterReturning.Store(nil)

	order := "order-kc1"
	row, err := s.TransitionRow(cctx, "KC-1", []State{StatePlacing, StateOpen}, StatePlaced, Changes{KlarnaOrderID: &order})
	afterReturning.Store(nil)

	after, rerr := s.Checkout(ctx, "KC-1")
	if rerr != nil {
		t.Fatal(rerr)
	}
	moved := after.State == StatePlaced
	t.Logf("TransitionRow: row=%v err=%v; row in the database: state %s version %d", row != nil, err, after.State, after.Version)
	if moved && err != nil {
		t.Errorf("the move was committed but TransitionRow reported %v", err)
	}
	if moved && row == nil && err == nil {
		t.Errorf("the move was committed but TransitionRow reported that it lost")
	}
	if !moved && row != nil {
		t.Errorf("TransitionRow returned a row for a move that was not committed")
	}
}
