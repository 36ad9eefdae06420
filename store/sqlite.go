package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQL is a Store on database/sql, for SQLite and PostgreSQL alike: the
// queries are written with ? placeholders and rebound for PostgreSQL.
type SQL struct {
	db       *sql.DB
	postgres bool
	// idle is the pool's idle size, restored after a flush (see refused).
	idle int
	// stmts caches prepared statements by query text: parsing SQL was a
	// tenth of a placement's CPU.
	stmts sync.Map
	// gate lets one of this process's writes at a time into SQLite (nil
	// for PostgreSQL). SQLite takes one writer anyway, and a writer that
	// finds the file locked sleeps in SQLite's busy handler, in steps of
	// up to 100 ms: under load the waits, not the writes, were the time.
	// A Go channel wakes the next writer the moment the last one is done.
	// Other processes on the same file still meet busy_timeout.
	gate chan struct{}
	// queue holds SQLite writes waiting for the gate; whoever gets it
	// writes everything queued in one transaction (commitQueued).
	queue chan *pendingWrite
}

// writing waits for this process's turn to write (see gate) and returns
// the function that ends it.
func (s *SQL) writing(ctx context.Context) (done func(), err error) {
	if s.gate == nil {
		return func() {}, nil
	}
	select {
	case s.gate <- struct{}{}:
		return func() { <-s.gate }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("store: waiting to write: %w", ctx.Err())
	}
}

// prepared returns the cached prepared statement for a query, preparing it
// the first time. database/sql prepares it again on each connection that
// runs it, and after a connection is replaced.
func (s *SQL) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if v, ok := s.stmts.Load(query); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

// errRow is a row whose query could not even be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// queryRow runs a query expected to return at most one row.
func (s *SQL) queryRow(ctx context.Context, query string, args ...any) scanner {
	st, err := s.prepared(ctx, s.q(query))
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a query returning rows.
func (s *SQL) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// q rewrites ? placeholders as $1, $2... for PostgreSQL.
func (s *SQL) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// OpenSQLite opens (creating if needed) a SQLite database file and migrates
// it. path may be ":memory:" for tests.
func OpenSQLite(ctx context.Context, path string) (*SQL, error) {
	return openSQLite(ctx, "sqlite", path)
}

// openSQLite opens with a given database/sql driver name: tests wrap the
// SQLite driver to make it misbehave.
func openSQLite(ctx context.Context, driverName, path string) (*SQL, error) {
	dsn := path
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("store: creating %s: %w", filepath.Dir(path), err)
		}
		dsn = "file:" + path
	} else {
		dsn = "file::memory:?cache=shared"
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	// WAL lets readers run beside the writer; busy_timeout makes concurrent
	// writers wait for each other instead of failing. Memory-mapped I/O
	// stays off (mmap_size 0, SQLite's default): a connection that begins
	// a read after another one wrote unmaps its whole mapping
	// (pagerBeginReadTransaction), so under the shop's steady writes a
	// mapping bought nothing over pread (docs/PERFORMANCE.md).
	dsn += sep + "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=mmap_size(0)&_pragma=cache_size(-16384)&_txlock=immediate"
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	// SQLite has one writer at a time; a small pool keeps readers parallel
	// without piling up writers on the busy timeout.
	conns := 4
	if path == ":memory:" {
		conns = 1
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := migrate(ctx, db, goose.DialectSQLite3); err != nil {
		db.Close()
		return nil, err
	}
	return &SQL{db: db, idle: conns, gate: make(chan struct{}, 1), queue: make(chan *pendingWrite, 4096)}, nil
}

func migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, opts ...goose.ProviderOption) error {
	p, err := migrationProvider(db, dialect, opts...)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrating: %w", err)
	}
	return markReadOrders(ctx, db)
}

// migrationProvider has every migration: the SQL files, and those written
// in Go (migrate_never_read.go, migrate_browser_index.go).
func migrationProvider(db *sql.DB, dialect goose.Dialect, opts ...goose.ProviderOption) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, db, sub, append(opts, goose.WithGoMigrations(neverReadMigration(dialect), browserIndexMigration(dialect)))...)
	if err != nil {
		return nil, fmt.Errorf("store: preparing migrations: %w", err)
	}
	return p, nil
}

// Close closes the prepared statements and the database.
func (s *SQL) Close() error {
	s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

// Ping checks the database answers. database/sql replaces a dead pooled
// connection while handing one out, but not when the ping itself finds it
// dead: after the database restarted, each ping would fail on the next
// dead connection left idle in the pool. Each failed ping discards its
// connection, so trying again while the idle ones are used up answers for
// the database, not for the pool.
func (s *SQL) Ping(ctx context.Context) error {
	err := s.db.PingContext(ctx)
	for i := 0; i < s.idle && errors.Is(err, driver.ErrBadConn); i++ {
		err = s.db.PingContext(ctx)
	}
	return err
}

// CheckWrite writes a heartbeat row: it fails while the database refuses
// writes.
func (s *SQL) CheckWrite(ctx context.Context) error {
	_, err := s.exec(ctx, `INSERT INTO heartbeats (name, at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET at = excluded.at`, "readyz", time.Now().UTC())
	if err != nil {
		return fmt.Errorf("store: database refuses writes: %w", err)
	}
	return nil
}

// exec runs a write. On SQLite it joins the queue of this process's writes
// (see commitQueued); on PostgreSQL it runs at once. When the database
// refuses a write for a reason a new connection can cure, the idle
// connections are dropped and the write is tried once more on a fresh one:
// SQLite opens a file read-only when it cannot write it (and a read during
// that time leaves such a connection in the pool), and the connection stays
// read-only after the file becomes writable again; without this the shop
// would need a restart to write again. A refused write changed nothing, so
// trying it again is safe.
func (s *SQL) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.write(ctx, query, nil, args)
}

// execScan runs a write that returns a row (RETURNING), as exec does, and
// hands the row to scan before the write is committed.
func (s *SQL) execScan(ctx context.Context, query string, scan func(scanner) error, args ...any) error {
	_, err := s.write(ctx, query, scan, args)
	return err
}

func (s *SQL) write(ctx context.Context, query string, scan func(scanner) error, args []any) (sql.Result, error) {
	st, err := s.prepared(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	w := &pendingWrite{ctx: ctx, st: st, args: args, scan: scan, done: make(chan struct{})}
	if s.gate == nil {
		s.execOne(ctx, w)
		return w.res, w.err
	}
	for queued := false; !queued; {
		select {
		case s.queue <- w:
			queued = true
		case s.gate <- struct{}{}:
			// The gate is free while this write cannot join the queue:
			// the queue is full, perhaps of writes whose callers gave up
			// while something else held the gate. Write what is there.
			s.drainQueue()
		case <-ctx.Done():
			return nil, fmt.Errorf("store: waiting to write: %w", ctx.Err())
		}
	}
	for {
		select {
		case <-w.done:
			return w.res, w.err
		case s.gate <- struct{}{}:
			// This goroutine writes for everyone queued, itself included
			// unless an earlier turn already did.
			s.drainQueue()
		case <-ctx.Done():
			if w.state.CompareAndSwap(writeWaiting, writeAbandoned) {
				return nil, fmt.Errorf("store: waiting to write: %w", ctx.Err())
			}
			<-w.done // already being written: its outcome is the answer
			return w.res, w.err
		}
	}
}

// execOne runs one write on its own, trying it once more on a fresh
// connection when the database refused it (see exec).
func (s *SQL) execOne(ctx context.Context, w *pendingWrite) {
	s.runAlone(ctx, w)
	if w.err != nil && refused(w.err) {
		s.db.SetMaxIdleConns(0) // closes the idle connections
		s.db.SetMaxIdleConns(s.idle)
		s.runAlone(ctx, w)
	}
}

// runAlone runs one write outside a group, with its caller's context, in a
// transaction of its own that is committed only after the statement
// answered: its caller is told the truth. In autocommit the statement is
// committed before its answer is in hand, and a context ending in between
// is reported as an error for a write that was made (modernc's driver
// reports the context's error whenever the context ended during the call;
// on PostgreSQL the row a RETURNING write sends back can be lost so). A
// commit is reported truthfully by both. PostgreSQL's plain writes, which
// return nothing to lose, run as they are: a transaction would cost two
// more round trips.
func (s *SQL) runAlone(ctx context.Context, w *pendingWrite) {
	if w.scan == nil && s.postgres {
		w.run(ctx, w.st)
		return
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		w.res, w.err = nil, err
		return
	}
	w.run(ctx, tx.StmtContext(ctx, w.st))
	if w.err != nil {
		tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		w.res, w.err = nil, err
	}
}

// pendingWrite is one statement waiting in the write queue.
type pendingWrite struct {
	ctx   context.Context
	st    *sql.Stmt
	args  []any
	scan  func(scanner) error // for a statement that returns a row; nil: exec
	state atomic.Int32        // writeWaiting, then writeTaken or writeAbandoned
	res   sql.Result
	err   error
	final bool // res and err are its answer (set by the gate holder only)
	done  chan struct{}
}

// run runs the write's statement st (w.st, or w.st in a transaction) and
// records its outcome. A returned row is scanned while the statement is
// still the caller's: no row is ErrNotFound.
func (w *pendingWrite) run(ctx context.Context, st *sql.Stmt) {
	if w.scan == nil {
		w.res, w.err = st.ExecContext(ctx, w.args...)
		return
	}
	w.res, w.err = nil, w.scan(st.QueryRowContext(ctx, w.args...))
}

const (
	writeWaiting int32 = iota
	writeTaken
	writeAbandoned // its caller gave up before it was taken: never written
)

// maxGroup bounds how many queued writes share one transaction.
const maxGroup = 64

// drainQueue runs commitQueued for the caller, who took the gate, and
// gives the gate back even if a write panics.
func (s *SQL) drainQueue() {
	defer func() { <-s.gate }()
	s.commitQueued()
}

// commitQueued writes what is queued, up to maxGroup statements, in one
// SQLite transaction (group commit); the caller holds the gate. Each write
// costs SQLite a transaction: its pages appended to the WAL, a commit
// frame, and the locks around them. Under load the queue holds the writes
// of many shoppers at once, and one commit for all of them is most of the
// saving. Every statement still stands alone as a compare-and-set: a
// constraint it breaks undoes that statement only (SQLite's statement
// journal) and is its caller's error.
//
// In the shared transaction a statement runs to the end even if its
// caller's context ends: interrupting it could roll back everyone's
// writes. Any failure other than a constraint, or a failed commit, rolls
// everything back; each write is then run on its own with its caller's
// context (interrupting a lone statement undoes only that statement, and
// a refused database is retried as for a single write), and a caller who
// gave up meanwhile is told so without running anything. A panic gives
// every write without an answer an error before it goes on up.
func (s *SQL) commitQueued() {
	var group []*pendingWrite
	// With no more than this writer's own write queued, let the other
	// runnable goroutines (shoppers a few steps behind) run first: on a
	// busy CPU-bound shop some of them reach their write meanwhile and
	// share this commit. Go's scheduler comes back at once when nothing
	// else is runnable. Measured on 2 cores: 37.2 → 35.3 write system
	// calls and 56 → 52 KB to disk per checkout, 4% less shop CPU.
	if len(s.queue) < 2 {
		runtime.Gosched()
	}
	for len(group) < maxGroup {
		select {
		case w := <-s.queue:
			if w.state.CompareAndSwap(writeWaiting, writeTaken) {
				group = append(group, w)
			}
			continue
		default:
		}
		break
	}
	defer func() {
		p := recover()
		for _, w := range group {
			if p != nil && !w.final {
				w.res, w.err = nil, fmt.Errorf("store: write not made: %v", p)
			}
			close(w.done)
		}
		if p != nil {
			panic(p)
		}
	}()
	if len(group) > 1 && s.execGroup(group) == nil {
		for _, w := range group {
			w.final = true
		}
		return
	}
	for _, w := range group {
		if err := w.ctx.Err(); err != nil {
			w.res, w.err = nil, fmt.Errorf("store: waiting to write: %w", err)
		} else {
			s.execOne(w.ctx, w)
		}
		w.final = true
	}
}

// execGroup runs a group of writes in one transaction and records each
// one's result; an error means nothing was committed.
func (s *SQL) execGroup(group []*pendingWrite) error {
	ctx := context.WithoutCancel(group[0].ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for _, w := range group {
		w.run(context.WithoutCancel(w.ctx), tx.StmtContext(ctx, w.st))
		if w.err != nil && !constraint(w.err) && !errors.Is(w.err, ErrNotFound) {
			tx.Rollback()
			return w.err
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return err
	}
	return nil
}

// constraint reports a statement refused by a constraint (a unique index,
// a check): SQLite undoes that statement and the transaction goes on.
func constraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// refused reports a write refused by the database, its file or its disk
// rather than by the data: read-only, I/O error, disk full, cannot open.
func refused(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	// PostgreSQL: a read-only transaction (a standby, or
	// default_transaction_read_only), a full disk.
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "25006" || pe.Code == "53100")
}

// duplicate reports a unique index or primary key refusing a row: another
// checkout already has this id, Klarna order id or authorization token.
func duplicate(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

const columns = `id, session_id, client_token, categories, market, locale, currency, cart, cart_hash, amount, tax_amount, session_payload,
 callback_secret, state, authorization_token, klarna_order_id, fraud_status, payment_method, redirect_url, order_payload,
 last_error, correlation_id, created_at, updated_at, session_expires_at, placed_at,
 subscription_status, subscription_plan, subscription_next, customer_token,
 version, claimed_by, claimed_until, hold, next_check_at, checks, kind, subscription_id, browser_id, callback_token, callback_at`

// The queries that look checkouts up by something other than their keys,
// each served by an index (migration 00009 made most of them partial, so
// that a checkout's moves rewrite fewer of them). TestLookupsUseTheirIndexes
// checks that each uses an index, and that those on a shopper's path are
// planned once, not on every run.
const (
	// 'open' is written out, not bound: SQLite matches a bound value
	// against the partial index's condition only by planning the statement
	// again for every run, and this lookup is on every checkout page.
	openCheckoutForQuery  = `SELECT ` + columns + ` FROM checkouts WHERE browser_id = ? AND state = 'open' ORDER BY created_at DESC LIMIT 1`
	paidCheckoutForQuery  = `SELECT ` + columns + ` FROM checkouts WHERE browser_id = ? AND state IN ('placing', 'placed', 'pending_review', 'rejected') ORDER BY created_at DESC LIMIT 1`
	pendingCallbacksQuery = `SELECT ` + columns + ` FROM checkouts WHERE callback_token <> '' AND callback_at < ? AND state = ? ORDER BY callback_at LIMIT ?`
	// Every order has its placing time; saying so lets both databases give
	// the newest first from the partial index checkouts_placed and stop at
	// the limit. The state is compared as an expression so that no
	// database takes the state index instead: SQLite, without statistics,
	// did, and sorted every order ever placed, whole rows and all, for
	// each page of the orders area (1.2 s at 100,000 orders).
	ordersQuery    = `SELECT ` + columns + ` FROM checkouts WHERE (state || '') IN (?,?,?) AND placed_at IS NOT NULL ORDER BY placed_at DESC, id LIMIT ?`
	inStateQuery   = `SELECT ` + columns + ` FROM checkouts WHERE state = ? ORDER BY updated_at LIMIT ?`
	unclaimedQuery = `SELECT ` + columns + ` FROM checkouts WHERE state = ? AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY updated_at LIMIT ?`
	dueChecksQuery = `SELECT ` + columns + ` FROM checkouts WHERE state = ? AND next_check_at IS NOT NULL AND next_check_at <= ? ORDER BY next_check_at LIMIT ?`
	// Placed orders are most orders: the state is compared as an
	// expression so that SQLite searches the few with a read due
	// (checkouts_next_check) rather than every placed order by state.
	dueReadsQuery = `SELECT ` + columns + ` FROM checkouts WHERE (state || '') = ? AND next_check_at IS NOT NULL AND next_check_at <= ? ORDER BY next_check_at LIMIT ?`
	// subscription_status <> '' is the partial index's own condition: with
	// it the index serves every st from one plan (on PostgreSQL, a generic
	// plan would otherwise scan). A checkout without a subscription is
	// never asked for.
	subscriptionsInQuery = `SELECT ` + columns + ` FROM checkouts WHERE subscription_status = ? AND subscription_status <> '' ORDER BY updated_at LIMIT ?`
)

// CreateCheckout inserts a new checkout.
func (s *SQL) CreateCheckout(ctx context.Context, c *Checkout) error {
	if c.Version == 0 {
		c.Version = 1
	}
	if c.Kind == "" {
		c.Kind = KindCheckout
	}
	_, err := s.exec(ctx, insertCheckout, checkoutArgs(c)...)
	if duplicate(err) {
		return fmt.Errorf("store: creating checkout %s: %w (%w)", c.ID, ErrDuplicate, err)
	}
	if err != nil {
		return fmt.Errorf("store: creating checkout %s: %w", c.ID, err)
	}
	return nil
}

// insertCheckout and checkoutArgs write a whole checkouts row.
var insertCheckout = `INSERT INTO checkouts (` + columns + `) VALUES (?` + strings.Repeat(",?", strings.Count(columns, ",")) + `)`

func checkoutArgs(c *Checkout) []any {
	return []any{c.ID, c.SessionID, c.ClientToken, c.Categories, c.Market, c.Locale, c.Currency, c.Cart, c.CartHash, c.Amount, c.TaxAmount, c.SessionPayload,
		c.CallbackSecret, string(c.State), c.AuthorizationToken, c.KlarnaOrderID, c.FraudStatus, c.PaymentMethod, c.RedirectURL, c.OrderPayload,
		c.LastError, c.CorrelationID, c.CreatedAt.UTC(), c.UpdatedAt.UTC(), c.SessionExpiresAt.UTC(), utcPtr(c.PlacedAt),
		string(c.Subscription.Status), c.Subscription.Plan, utcPtr(c.Subscription.Next), c.Subscription.CustomerToken,
		c.Version, c.ClaimedBy, utcPtr(c.ClaimedUntil), c.Hold, utcPtr(c.NextCheckAt), c.Checks, c.Kind, c.SubscriptionID, c.BrowserID,
		c.CallbackToken, utcPtr(c.CallbackAt)}
}

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

type scanner interface{ Scan(...any) error }

func scan(r scanner) (*Checkout, error) {
	var c Checkout
	var state, subStatus string
	var placed, next, claimed, check, callback sql.NullTime
	err := r.Scan(&c.ID, &c.SessionID, &c.ClientToken, &c.Categories, &c.Market, &c.Locale, &c.Currency, &c.Cart, &c.CartHash, &c.Amount, &c.TaxAmount,
		&c.SessionPayload, &c.CallbackSecret, &state, &c.AuthorizationToken, &c.KlarnaOrderID, &c.FraudStatus, &c.PaymentMethod,
		&c.RedirectURL, &c.OrderPayload, &c.LastError, &c.CorrelationID, &c.CreatedAt, &c.UpdatedAt, &c.SessionExpiresAt, &placed,
		&subStatus, &c.Subscription.Plan, &next, &c.Subscription.CustomerToken,
		&c.Version, &c.ClaimedBy, &claimed, &c.Hold, &check, &c.Checks, &c.Kind, &c.SubscriptionID, &c.BrowserID, &c.CallbackToken, &callback)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.State = State(state)
	c.PlacedAt = timePtr(placed)
	c.Subscription.Status = SubscriptionStatus(subStatus)
	c.Subscription.Next = timePtr(next)
	c.ClaimedUntil = timePtr(claimed)
	c.NextCheckAt = timePtr(check)
	c.CallbackAt = timePtr(callback)
	return &c, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}

// Checkout finds a checkout by its id.
func (s *SQL) Checkout(ctx context.Context, id string) (*Checkout, error) {
	c, err := scan(s.queryRow(ctx, `SELECT `+columns+` FROM checkouts WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: reading checkout %s: %w", id, err)
	}
	return c, err
}

// CheckoutBySession finds a checkout by Klarna's session id.
func (s *SQL) CheckoutBySession(ctx context.Context, sessionID string) (*Checkout, error) {
	c, err := scan(s.queryRow(ctx, `SELECT `+columns+` FROM checkouts WHERE session_id = ?`, sessionID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: reading checkout for session: %w", err)
	}
	return c, err
}

// OpenCheckoutFor finds a browser's newest open checkout.
func (s *SQL) OpenCheckoutFor(ctx context.Context, browserID string) (*Checkout, error) {
	return s.browserCheckout(ctx, openCheckoutForQuery, browserID, "open")
}

// PaidCheckoutFor finds a browser's newest checkout that is being placed
// or is an order.
func (s *SQL) PaidCheckoutFor(ctx context.Context, browserID string) (*Checkout, error) {
	return s.browserCheckout(ctx, paidCheckoutForQuery, browserID, "paid")
}

// browserCheckout is the one checkout a browser lookup finds, or
// ErrNotFound (always, for no browser).
func (s *SQL) browserCheckout(ctx context.Context, query, browserID, what string) (*Checkout, error) {
	if browserID == "" {
		return nil, ErrNotFound
	}
	c, err := scan(s.queryRow(ctx, query, browserID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("store: reading the %s checkout of a browser: %w", what, err)
	}
	return c, err
}

// NoteCallback implements Store.
func (s *SQL) NoteCallback(ctx context.Context, id, token string, at time.Time) error {
	var when any = at.UTC()
	if token == "" {
		when = nil
	}
	if _, err := s.exec(ctx, `UPDATE checkouts SET callback_token = ?, callback_at = ? WHERE id = ? AND state = ?`, token, when, id, string(StateOpen)); err != nil {
		return fmt.Errorf("store: noting the callback of %s: %w", id, err)
	}
	return nil
}

// PendingCallbacks implements Store.
func (s *SQL) PendingCallbacks(ctx context.Context, before time.Time, limit int) ([]*Checkout, error) {
	return s.list(ctx, pendingCallbacksQuery,
		before.UTC(), string(StateOpen), limit)
}

// transition is the UPDATE of Transition and TransitionRow.
func transition(id string, from []State, to State, ch Changes) (string, []any, error) {
	if len(from) == 0 {
		return "", nil, errors.New("store: transition needs at least one source state")
	}
	set := []string{"state = ?", "updated_at = ?", "version = version + 1"}
	args := []any{string(to), time.Now().UTC()}
	add := func(col string, v *string) {
		if v != nil {
			set = append(set, col+" = ?")
			args = append(args, *v)
		}
	}
	add("authorization_token", ch.AuthorizationToken)
	add("klarna_order_id", ch.KlarnaOrderID)
	add("fraud_status", ch.FraudStatus)
	add("payment_method", ch.PaymentMethod)
	add("redirect_url", ch.RedirectURL)
	add("order_payload", ch.OrderPayload)
	add("last_error", ch.LastError)
	add("correlation_id", ch.CorrelationID)
	add("hold", ch.Hold)
	add("claimed_by", ch.ClaimedBy)
	if ch.PlacedAt != nil {
		set = append(set, "placed_at = ?")
		args = append(args, ch.PlacedAt.UTC())
	}
	addTime := func(col string, v **time.Time) {
		if v != nil {
			set = append(set, col+" = ?")
			args = append(args, utcPtr(*v))
		}
	}
	addTime("claimed_until", ch.ClaimedUntil)
	addTime("next_check_at", ch.NextCheckAt)
	if ch.Checks != nil {
		set = append(set, "checks = ?")
		args = append(args, *ch.Checks)
	}
	q := `UPDATE checkouts SET ` + strings.Join(set, ", ") + ` WHERE id = ? AND state IN (?` + strings.Repeat(",?", len(from)-1) + `)`
	args = append(args, id)
	for _, f := range from {
		args = append(args, string(f))
	}
	if ch.AtVersion != 0 {
		q += ` AND version = ?`
		args = append(args, ch.AtVersion)
	}
	return q, args, nil
}

// Transition is the compare-and-set on a checkout's state.
func (s *SQL) Transition(ctx context.Context, id string, from []State, to State, ch Changes) (bool, error) {
	q, args, err := transition(id, from, to, ch)
	if err != nil {
		return false, err
	}
	res, err := s.exec(ctx, q, args...)
	if duplicate(err) {
		return false, fmt.Errorf("store: moving checkout %s to %s: %w (%w)", id, to, ErrDuplicate, err)
	}
	if err != nil {
		return false, fmt.Errorf("store: moving checkout %s to %s: %w", id, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: moving checkout %s to %s: %w", id, to, err)
	}
	return n == 1, nil
}

// TransitionRow is Transition that also returns the checkout as the move
// left it (UPDATE … RETURNING): the caller needs no read after it. A move
// that did not happen returns nil and no error.
func (s *SQL) TransitionRow(ctx context.Context, id string, from []State, to State, ch Changes) (*Checkout, error) {
	q, args, err := transition(id, from, to, ch)
	if err != nil {
		return nil, err
	}
	var c *Checkout
	err = s.execScan(ctx, q+` RETURNING `+columns, func(r scanner) error {
		var err error
		c, err = scan(r)
		return err
	}, args...)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case duplicate(err):
		return nil, fmt.Errorf("store: moving checkout %s to %s: %w (%w)", id, to, ErrDuplicate, err)
	case err != nil:
		return nil, fmt.Errorf("store: moving checkout %s to %s: %w", id, to, err)
	}
	return c, nil
}

// Reprice replaces the cart of a checkout that is still open at version.
func (s *SQL) Reprice(ctx context.Context, id string, version int64, r Repricing) (bool, error) {
	res, err := s.exec(ctx, `UPDATE checkouts SET cart = ?, cart_hash = ?, session_payload = ?, amount = ?, tax_amount = ?,
		session_expires_at = ?, updated_at = ?, version = version + 1 WHERE id = ? AND state = ? AND version = ?`,
		r.Cart, r.CartHash, r.SessionPayload, r.Amount, r.TaxAmount, r.SessionExpiresAt.UTC(), time.Now().UTC(), id, string(StateOpen), version)
	if err != nil {
		return false, fmt.Errorf("store: repricing checkout %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: repricing checkout %s: %w", id, err)
	}
	return n == 1, nil
}

func (s *SQL) list(ctx context.Context, q string, args ...any) ([]*Checkout, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing checkouts: %w", err)
	}
	defer rows.Close()
	var out []*Checkout
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: listing checkouts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Orders lists placed, pending and rejected orders, newest first.
func (s *SQL) Orders(ctx context.Context, limit int) ([]*Checkout, error) {
	return s.list(ctx, ordersQuery,
		string(StatePlaced), string(StatePendingReview), string(StateRejected), limit)
}

// InState lists checkouts in a state, oldest update first.
func (s *SQL) InState(ctx context.Context, st State, limit int) ([]*Checkout, error) {
	return s.list(ctx, inStateQuery, string(st), limit)
}

// Unclaimed lists checkouts in a state whose lease has ended, oldest first.
func (s *SQL) Unclaimed(ctx context.Context, st State, now time.Time, limit int) ([]*Checkout, error) {
	return s.list(ctx, unclaimedQuery,
		string(st), now.UTC(), limit)
}

// DueChecks lists pending reviews whose next check is due.
func (s *SQL) DueChecks(ctx context.Context, now time.Time, limit int) ([]*Checkout, error) {
	return s.list(ctx, dueChecksQuery,
		string(StatePendingReview), now.UTC(), limit)
}

// SetSubscription records a subscription by compare-and-set on its status.
func (s *SQL) SetSubscription(ctx context.Context, id string, from []SubscriptionStatus, sub Subscription) (bool, error) {
	if len(from) == 0 {
		return false, errors.New("store: subscription update needs at least one source state")
	}
	args := []any{string(sub.Status), sub.Plan, utcPtr(sub.Next), sub.CustomerToken, time.Now().UTC(), id}
	for _, f := range from {
		args = append(args, string(f))
	}
	res, err := s.exec(ctx, `UPDATE checkouts SET subscription_status = ?, subscription_plan = ?, subscription_next = ?, customer_token = ?,
		updated_at = ?, version = version + 1 WHERE id = ? AND subscription_status IN (?`+strings.Repeat(",?", len(from)-1)+`)`, args...)
	if err != nil {
		return false, fmt.Errorf("store: recording subscription of %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: recording subscription of %s: %w", id, err)
	}
	return n == 1, nil
}

// SubscriptionsIn lists checkouts whose subscription is in a state.
func (s *SQL) SubscriptionsIn(ctx context.Context, st SubscriptionStatus, limit int) ([]*Checkout, error) {
	return s.list(ctx, subscriptionsInQuery, string(st), limit)
}
