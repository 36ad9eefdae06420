package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ordersAreaQueries are the orders area's lists and the index each must be
// served by, with arguments as the store binds them.
func ordersAreaQueries(now time.Time) []struct {
	name, query, index string
	args               []any
} {
	placed, review := string(StatePlaced), string(StatePendingReview)
	return []struct {
		name, query, index string
		args               []any
	}{
		{"Orders", ordersQuery, "checkouts_placed", []any{placed, review, string(StateRejected), 200}},
		{"AttentionExpiring", attentionExpiringQuery, "order_reads_open_expiry", []any{placed, now, 50}},
		{"AttentionUnread", attentionUnreadQuery, "checkouts_never_read", []any{placed, now, 50}},
		{"AttentionReview", attentionReviewQuery, "checkouts_state", []any{review, 50}},
		{"AttentionHold", attentionHoldQuery, "checkouts_hold", []any{placed, review, 50}},
		{"AttentionMismatch", attentionMismatchQuery, "order_reads_mismatch", []any{50}},
		{"Unread", unreadQuery, "checkouts_never_read", []any{placed, review, now, 20}},
		{"DueReads", dueReadsQuery, "checkouts_next_check", []any{placed, now, 20}},
	}
}

// TestOrdersAreaUsesItsIndexes: each of the orders area's lists is served
// by the index that holds what it looks for, never by the state index's
// every placed order, and no list sorts all it finds before its limit:
// SQLite, without statistics, took the state index and sorted every order
// (1.2 s for the orders list at 100,000 orders; BenchmarkOrdersArea). On
// PostgreSQL the plans are the generic ones a prepared statement gets,
// with sequential scans priced out so that only an index that cannot apply
// shows.
func TestOrdersAreaUsesItsIndexes(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	few := map[string]bool{"AttentionReview": true, "AttentionHold": true, "AttentionMismatch": true}
	t.Run("sqlite", func(t *testing.T) {
		s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "plan.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for _, tc := range ordersAreaQueries(now) {
			plan := sqlitePlan(t, s.db, tc.query, tc.args...)
			got := strings.Join(plan, "; ")
			bad := !strings.Contains(got, "INDEX "+tc.index)
			for _, step := range plan {
				// A scan of a partial index reads only what it holds; a
				// scan of a table, or of a whole index, reads everything.
				if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "INDEX "+tc.index) {
					bad = true
				}
				// Orders pending review, held or with a mismatch are few
				// and sorted; every other list stops at its limit instead
				// of sorting all it finds.
				if step == "USE TEMP B-TREE FOR ORDER BY" && !few[tc.name] {
					bad = true
				}
			}
			if bad {
				t.Errorf("%s: %s\nwant %s, no scan of everything and no sort of all it finds", tc.name, got, tc.index)
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := OpenPostgres(ctx, postgresSchemaURL(t, "t_orders_plan"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, set := range []string{"SET plan_cache_mode = force_generic_plan", "SET enable_seqscan = off"} {
			if _, err := conn.ExecContext(ctx, set); err != nil {
				t.Fatal(err)
			}
		}
		for i, tc := range ordersAreaQueries(now) {
			name := fmt.Sprintf("plan_%d", i)
			if _, err := conn.ExecContext(ctx, "PREPARE "+name+" AS "+s.q(tc.query)); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			params := make([]string, len(tc.args))
			for j, a := range tc.args {
				switch v := a.(type) {
				case string:
					params[j] = "'" + v + "'"
				case time.Time:
					params[j] = "'" + v.Format(time.RFC3339) + "'"
				default:
					params[j] = fmt.Sprint(v)
				}
			}
			rows, err := conn.QueryContext(ctx, "EXPLAIN EXECUTE "+name+"("+strings.Join(params, ", ")+")")
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, strings.TrimSpace(line))
			}
			rows.Close()
			got := strings.Join(plan, "\n")
			if !strings.Contains(got, " "+tc.index+" ") && !strings.Contains(got, " "+tc.index+"\n") && !strings.HasSuffix(got, " "+tc.index) {
				t.Errorf("%s: generic plan does not use %s:\n%s", tc.name, tc.index, got)
			}
		}
	})
}

// BenchmarkOrdersArea times the orders area's two reads beside 100,000
// orders of a month, most read through Order Management and one in twenty
// rejected: the list of the newest 200, every attention list, and the job
// that reads the orders never read, before and after it has read them all.
func BenchmarkOrdersArea(b *testing.B) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "shop.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// An order read, as RecordRead marks it.
	read := func(tx *sql.Tx, id string, at time.Time) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_reads (checkout_id, klarna_order_id, status, order_amount, captured_amount,
			refunded_amount, remaining_amount, klarna_created_at, read_at, expires_at) VALUES (?, ?, 'CAPTURED', 1800, 1800, 0, 0, ?, ?, ?)`,
			id, "order-"+strings.TrimPrefix(id, "KS-"), at, at, at.Add(28*24*time.Hour)); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE checkouts SET first_read_at = ? WHERE id = ?`, at, id); err != nil {
			b.Fatal(err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-30 * 24 * time.Hour)
	for i := range 100_000 {
		at := start.Add(time.Duration(i) * 26 * time.Second)
		c := &Checkout{ID: fmt.Sprintf("KS-%d", i), SessionID: fmt.Sprintf("session-%d", i), Market: "GB", Locale: "en-GB", Currency: "GBP",
			Cart: "stoneware-mug:1", ClientToken: strings.Repeat("t", 640), Categories: strings.Repeat("c", 446),
			SessionPayload: strings.Repeat("p", 1092), OrderPayload: strings.Repeat("o", 955), CallbackSecret: fmt.Sprintf("%064d", i),
			CreatedAt: at, UpdatedAt: at, SessionExpiresAt: at, BrowserID: fmt.Sprintf("browser-%d", i), State: StatePlaced,
			PlacedAt: &at, KlarnaOrderID: fmt.Sprintf("order-%d", i), Version: 1, Kind: KindCheckout}
		if _, err := tx.ExecContext(ctx, insertCheckout, checkoutArgs(c)...); err != nil {
			b.Fatal(err)
		}
		switch {
		case i%20 == 5:
			// One in twenty rejected by Klarna: placed, never read.
			if _, err := tx.ExecContext(ctx, `UPDATE checkouts SET state = ? WHERE id = ?`, string(StateRejected), c.ID); err != nil {
				b.Fatal(err)
			}
		case i%10 != 0:
			read(tx, c.ID, at)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	unreadJob := func(b *testing.B, want int) {
		for range b.N {
			if o, err := s.Unread(ctx, now.Add(-21*24*time.Hour), 20); err != nil || len(o) != want {
				b.Fatal(len(o), err)
			}
		}
	}
	b.Run("unread-job", func(b *testing.B) { unreadJob(b, 20) })
	b.Run("orders-list", func(b *testing.B) {
		for range b.N {
			if o, err := s.Orders(ctx, 200); err != nil || len(o) != 200 {
				b.Fatal(len(o), err)
			}
		}
	})
	b.Run("attention", func(b *testing.B) {
		q := AttentionQuery{ExpiresBefore: now.Add(7 * 24 * time.Hour), PlacedBefore: now.Add(-21 * 24 * time.Hour),
			PendingBefore: now.Add(-time.Minute), FailedSince: now.Add(-14 * 24 * time.Hour), Limit: 50}
		for range b.N {
			if _, err := s.Attention(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Every order read: what the job meets once it has caught up, every
	// recovery interval.
	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100_000; i += 10 {
		read(tx, fmt.Sprintf("KS-%d", i), start.Add(time.Duration(i)*26*time.Second))
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.Run("unread-job-all-read", func(b *testing.B) { unreadJob(b, 0) })
}

// TestCheckoutUpdatesStayHeapOnly: on PostgreSQL, a change that moves no
// indexed column (here the release of an approval: open to open, only the
// version and updated_at change) is a heap-only update, with no new entry
// in any index. An index keyed on updated_at, even a partial one, would
// make every such change write every index of the table (the first draft
// of migration 00011 did, found by review).
func TestCheckoutUpdatesStayHeapOnly(t *testing.T) {
	ctx := context.Background()
	s, err := OpenPostgres(ctx, postgresSchemaURL(t, "t_hot"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Room on each page for the new versions of its rows.
	if _, err := s.db.ExecContext(ctx, "ALTER TABLE checkouts SET (fillfactor = 50)"); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		c := testCheckout(fmt.Sprintf("KS-HOT-%d", i))
		if err := s.CreateCheckout(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := range n {
		q, args, err := transition(fmt.Sprintf("KS-HOT-%d", i), []State{StateOpen}, StateOpen, Changes{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
			t.Fatal(err)
		}
	}
	var updates, hot int64
	if err := tx.QueryRowContext(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables
		WHERE schemaname = current_schema() AND relname = 'checkouts'`).Scan(&updates, &hot); err != nil {
		t.Fatal(err)
	}
	if updates != n || hot < n*9/10 {
		t.Errorf("%d updates, %d of them heap-only; want %d, nearly all heap-only", updates, hot, n)
	}
}
