package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pressly/goose/v3"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestLookupsUseTheirIndexes runs the store's own lookup queries and
// checks, for each, that SQLite answers it from an index rather than a scan
// of every checkout, and that those on a shopper's path plan the statement
// once: a partial index whose condition mentions a column the query binds
// makes SQLite plan the statement again on every run, to see whether the
// index applies. The recovery queries, which bind the state and run once
// per interval, are let off (see migration 00009).
func TestLookupsUseTheirIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plan.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name, query string
		args        []any
		index       string // "" when any index will do
		shopper     bool   // on a shopper's path: planned once
	}{
		{"OpenCheckoutFor", openCheckoutForQuery, []any{"browser"}, "checkouts_browser_created", true},
		{"PaidCheckoutFor", paidCheckoutForQuery, []any{"browser"}, "checkouts_browser_created", true},
		{"PendingCallbacks", pendingCallbacksQuery, []any{now, "open", 10}, "", false},
		{"Orders", ordersQuery, []any{"placed", "pending_review", "rejected", 50}, "", false},
		{"InState", inStateQuery, []any{"placing", 10}, "checkouts_state", false},
		{"Unclaimed", unclaimedQuery, []any{"placing", now, 10}, "checkouts_state", false},
		{"DueChecks", dueChecksQuery, []any{"pending_review", now, 10}, "", false},
		{"DueReads", dueReadsQuery, []any{"placed", now, 10}, "checkouts_next_check", false},
		{"SubscriptionsIn", subscriptionsInQuery, []any{"pending", 10}, "checkouts_subscription", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(sqlitePlan(t, s.db, tc.query, tc.args...), "; ")
			if !strings.Contains(got, "USING INDEX "+tc.index) || strings.Contains(got, "SCAN checkouts") {
				t.Errorf("plan: %s\nwant a search using index %q", got, tc.index)
			}
			if raceDetector {
				return // re-planning is counted in the run without it
			}
			if n := replans(t, path, tc.query, tc.args, 20); tc.shopper && n > 1 {
				t.Errorf("planned again %d times in 20 runs", n)
			} else {
				t.Logf("planned again %d times in 20 runs", n)
			}
		})
	}
}

// replans runs query n times on a connection of its own, with its
// arguments bound afresh each time as database/sql does, and returns how
// often SQLite prepared it again (SQLITE_STMTSTATUS_REPREPARE).
func replans(t *testing.T, path, query string, args []any, n int) int32 {
	t.Helper()
	tls := libc.NewTLS()
	defer tls.Close()
	cpath, err := libc.CString(path)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, cpath)
	// The C API's out-parameters: Go's heap does not move, so their
	// addresses stay valid through the calls.
	pdb, pst := new(uintptr), new(uintptr)
	if rc := sqlite3.Xsqlite3_open_v2(tls, cpath, uintptr(unsafe.Pointer(pdb)), sqlite3.SQLITE_OPEN_READONLY, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("open: %d", rc)
	}
	db := *pdb
	defer sqlite3.Xsqlite3_close(tls, db)
	cq, err := libc.CString(query)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, cq)
	if rc := sqlite3.Xsqlite3_prepare_v2(tls, db, cq, -1, uintptr(unsafe.Pointer(pst)), 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("prepare: %d %s", rc, libc.GoString(sqlite3.Xsqlite3_errmsg(tls, db)))
	}
	st := *pst
	defer sqlite3.Xsqlite3_finalize(tls, st)
	for range n {
		for i, a := range args {
			switch v := a.(type) {
			case int:
				sqlite3.Xsqlite3_bind_int64(tls, st, int32(i+1), int64(v))
			case string:
				cs, err := libc.CString(v)
				if err != nil {
					t.Fatal(err)
				}
				sqlite3.Xsqlite3_bind_text(tls, st, int32(i+1), cs, -1, sqlite3.SQLITE_TRANSIENT)
				libc.Xfree(tls, cs)
			default:
				t.Fatalf("argument %T", a)
			}
		}
		for {
			rc := sqlite3.Xsqlite3_step(tls, st)
			if rc == sqlite3.SQLITE_DONE {
				break
			}
			if rc != sqlite3.SQLITE_ROW {
				t.Fatalf("step: %d %s", rc, libc.GoString(sqlite3.Xsqlite3_errmsg(tls, db)))
			}
		}
		sqlite3.Xsqlite3_reset(tls, st)
	}
	return sqlite3.Xsqlite3_stmt_status(tls, st, sqlite3.SQLITE_STMTSTATUS_REPREPARE, 0)
}

// TestOrdersWithoutPlacingTimeStayListed: an order recorded before
// migration 00009 without a placing time (the shop did so when it could
// not prepare an order's details) is still in the orders list after it,
// which now asks for placed_at. It is given Klarna's creation time when the
// shop has read the order, else the time its checkout began, never the
// time of a later change (the authorization's expiry is reckoned from it).
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
	began := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	atKlarna, changed := began.Add(5*time.Minute), began.Add(2*time.Hour)
	for _, id := range []string{"KS-OLD", "KS-READ"} {
		if _, err := db.ExecContext(ctx, `INSERT INTO checkouts (id, session_id, client_token, market, locale, currency, cart, cart_hash, amount, tax_amount,
			session_payload, callback_secret, state, klarna_order_id, created_at, updated_at, session_expires_at)
			VALUES (?, ?, 'ct', 'GB', 'en-GB', 'GBP', 'mug:1', 'h', 1800, 300, '{}', 's', 'placed', ?, ?, ?, ?)`,
			id, "sess-"+id, "order-"+id, began, changed, began); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO order_reads (checkout_id, klarna_order_id, status, order_amount, captured_amount, refunded_amount,
		remaining_amount, klarna_created_at, read_at) VALUES ('KS-READ', 'order-KS-READ', 'AUTHORIZED', 1800, 0, 0, 1800, ?, ?)`, atKlarna, changed); err != nil {
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
	want := map[string]time.Time{"KS-OLD": began, "KS-READ": atKlarna}
	if len(orders) != len(want) {
		t.Fatalf("%d orders after the migration, want %d", len(orders), len(want))
	}
	for _, o := range orders {
		if o.PlacedAt == nil || !o.PlacedAt.Equal(want[o.ID]) {
			t.Errorf("%s placed at %v, want %v", o.ID, o.PlacedAt, want[o.ID])
		}
	}
}
