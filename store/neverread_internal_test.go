package store

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// TestOrdersNeverRead: migration 12 marks the orders already read, the
// unread job and the orders area then find exactly the orders never read,
// a read through RecordRead takes an order out, and a read an instance
// older than the migration recorded (an order_reads row, no mark) keeps it
// out as well. On both databases.
func TestOrdersNeverRead(t *testing.T) {
	onBothDatabases(t, "t_never_read", checkNeverRead)
}

func checkNeverRead(t *testing.T, m migrationDB) {
	ctx := context.Background()
	db, dialect, open := m.db, m.dialect, m.open
	p, err := migrationProvider(db, dialect)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	ph := m.ph
	now := time.Now().UTC().Truncate(time.Second)
	placed := now.Add(-30 * 24 * time.Hour)
	insertIn := func(id string, state State, at time.Time) {
		t.Helper()
		if _, err := db.ExecContext(ctx, `INSERT INTO checkouts (id, session_id, client_token, market, locale, currency, cart, cart_hash, amount, tax_amount,
			session_payload, callback_secret, state, klarna_order_id, created_at, updated_at, session_expires_at, placed_at)
			VALUES (`+ph(1)+`, `+ph(2)+`, 'ct', 'GB', 'en-GB', 'GBP', 'mug:1', 'h', 1800, 300, '{}', 's', `+ph(5)+`, `+ph(3)+`, `+ph(4)+`, `+ph(4)+`, `+ph(4)+`, `+ph(4)+`)`,
			id, "sess-"+id, "order-"+id, at, string(state)); err != nil {
			t.Fatal(err)
		}
	}
	insert := func(id string, at time.Time) { insertIn(id, StatePlaced, at) }
	// What an instance older than migration 12 records for a read.
	oldRead := func(id string, at time.Time) {
		t.Helper()
		if _, err := db.ExecContext(ctx, `INSERT INTO order_reads (checkout_id, klarna_order_id, status, order_amount, captured_amount,
			refunded_amount, remaining_amount, read_at) VALUES (`+ph(1)+`, `+ph(2)+`, 'AUTHORIZED', 1800, 0, 0, 1800, `+ph(3)+`)`,
			id, "order-"+id, at); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"KS-NEVER", "KS-READ-1", "KS-READ-2", "KS-READ-3", "KS-READ-4", "KS-READ-5"} {
		insert(id, placed.Add(time.Duration(i)*time.Minute))
	}
	readAt := placed.Add(time.Hour)
	for _, id := range []string{"KS-READ-1", "KS-READ-2", "KS-READ-3", "KS-READ-4", "KS-READ-5"} {
		oldRead(id, readAt)
	}
	// Rejected, and pending Klarna's review: neither read.
	insertIn("KS-REJECTED", StateRejected, placed.Add(-2*time.Minute))
	insertIn("KS-REVIEW", StatePendingReview, placed.Add(-3*time.Minute))
	// PostgreSQL's backfill goes in batches: make it take several.
	defer func(n int) { neverReadBatch = n }(neverReadBatch)
	neverReadBatch = 2
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if dialect == goose.DialectPostgres {
		// Each step of PostgreSQL's migration may run again after a
		// failure part way, including a concurrent build that left its
		// index invalid.
		if _, err := db.ExecContext(ctx, `UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'checkouts_never_read'::regclass`); err != nil {
			t.Fatal(err)
		}
		if err := neverReadPostgres(ctx, db); err != nil {
			t.Fatalf("the migration run again: %v", err)
		}
		if valid, found, err := indexValid(ctx, db, "checkouts_never_read"); err != nil || !found || !valid {
			t.Fatalf("after running again over an invalid index: valid %v, found %v, %v", valid, found, err)
		}
	}
	firstRead := func(id string) *time.Time {
		t.Helper()
		var at sql.NullTime
		if err := db.QueryRowContext(ctx, `SELECT first_read_at FROM checkouts WHERE id = `+ph(1), id).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return timePtr(at)
	}
	for _, id := range []string{"KS-READ-1", "KS-READ-5"} {
		if at := firstRead(id); at == nil || !at.Equal(readAt) {
			t.Errorf("%s, read before the migration: first read %v, want %v", id, at, readAt)
		}
	}
	if at := firstRead("KS-NEVER"); at != nil {
		t.Errorf("an order never read: first read %v", at)
	}

	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cutoff := now.Add(-21 * 24 * time.Hour)
	// The job reads orders placed or pending review; the orders area lists
	// the placed ones (those pending review have a list of their own).
	unread := func() []string {
		t.Helper()
		list, err := s.Unread(ctx, cutoff, 20)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ID)
		}
		attention, err := s.Attention(ctx, AttentionQuery{ExpiresBefore: now, PlacedBefore: cutoff, PendingBefore: now, FailedSince: now, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, a := range attention {
			if a.Reason == AttentionExpiring && a.Estimated {
				listed = append(listed, a.CheckoutID)
			}
		}
		if want := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "KS-REVIEW" }); !slices.Equal(want, listed) {
			t.Errorf("the unread job finds %q, the orders area lists %q", ids, listed)
		}
		return ids
	}
	if got := unread(); !slices.Equal(got, []string{"KS-REVIEW", "KS-NEVER"}) {
		t.Errorf("never read: %q, want KS-REVIEW, KS-NEVER", got)
	}
	// A read recorded by an older instance during a rolling deploy: its
	// order is not listed, and leaves the index with its next read here,
	// even one that changes nothing.
	insert("KS-OLD-INSTANCE", placed.Add(-time.Minute))
	oldRead("KS-OLD-INSTANCE", now)
	if got := unread(); !slices.Equal(got, []string{"KS-REVIEW", "KS-NEVER"}) {
		t.Errorf("after an older instance's read: %q, want KS-REVIEW, KS-NEVER", got)
	}
	same := &KlarnaRead{CheckoutID: "KS-OLD-INSTANCE", KlarnaOrderID: "order-KS-OLD-INSTANCE", Status: "AUTHORIZED", OrderAmount: 1800, Remaining: 1800, ReadAt: now.Add(time.Minute)}
	if err := s.RecordRead(ctx, same, nil, nil); err != nil {
		t.Fatal(err)
	}
	if at := firstRead("KS-OLD-INSTANCE"); at == nil || !at.Equal(same.ReadAt) {
		t.Errorf("an older instance's read, read again here: first read %v, want %v", at, same.ReadAt)
	}
	// Read by an older instance after a rollback, or during a deploy,
	// and never read here: marked when the shop next starts.
	insert("KS-ROLLBACK", placed.Add(-4*time.Minute))
	oldRead("KS-ROLLBACK", now)
	restarted, err := open()
	if err != nil {
		t.Fatal(err)
	}
	restarted.Close()
	if at := firstRead("KS-ROLLBACK"); at == nil || !at.Equal(now) {
		t.Errorf("an order an older instance read, after a restart: first read %v, want %v", at, now)
	}
	if at := firstRead("KS-NEVER"); at != nil {
		t.Errorf("an order never read, after a restart: first read %v", at)
	}
	if err := s.RecordRead(ctx, &KlarnaRead{CheckoutID: "KS-REVIEW", KlarnaOrderID: "order-KS-REVIEW", Status: "AUTHORIZED",
		FraudStatus: "PENDING", OrderAmount: 1800, Remaining: 1800, ReadAt: now}, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Placed after the cut-off: not yet the job's.
	insert("KS-RECENT", now.Add(-time.Hour))
	var version int64
	if err := db.QueryRowContext(ctx, `SELECT version FROM checkouts WHERE id = `+ph(1), "KS-NEVER").Scan(&version); err != nil {
		t.Fatal(err)
	}
	read := &KlarnaRead{CheckoutID: "KS-NEVER", KlarnaOrderID: "order-KS-NEVER", Status: "AUTHORIZED", OrderAmount: 1800, Remaining: 1800, ReadAt: now}
	if err := s.RecordRead(ctx, read, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := unread(); len(got) != 0 {
		t.Errorf("after reading it: %q, want none", got)
	}
	if at := firstRead("KS-NEVER"); at == nil || !at.Equal(now) {
		t.Errorf("first read %v, want %v", at, now)
	}
	// A second read keeps the first read's time.
	read.ReadAt, read.Status = now.Add(time.Hour), "CAPTURED"
	if err := s.RecordRead(ctx, read, nil, nil); err != nil {
		t.Fatal(err)
	}
	if at := firstRead("KS-NEVER"); at == nil || !at.Equal(now) {
		t.Errorf("after a second read, first read %v, want %v", at, now)
	}
	var after int64
	if err := db.QueryRowContext(ctx, `SELECT version FROM checkouts WHERE id = `+ph(1), "KS-NEVER").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != version+2 {
		t.Errorf("version %d after two reads that changed what the shop knows, want %d", after, version+2)
	}
	if _, err := p.DownTo(ctx, 11); err != nil {
		t.Errorf("down: %v", err)
	}
}
