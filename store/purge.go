package store

import (
	"context"
	"fmt"
	"time"
)

// PurgePolicy says when a checkout that never became an order may be
// deleted. Placing checkouts and orders are never deleted.
type PurgePolicy struct {
	// OpenAfterExpiry: an open checkout goes this long after its Klarna
	// session expired. Any authorization made just before the expiry has
	// run out too (Klarna keeps one 60 minutes), so nothing can still
	// place it.
	OpenAfterExpiry time.Duration
	// FailedAfter: a failed checkout is kept this long after it failed,
	// for the orders area and for support questions, then goes.
	FailedAfter time.Duration
}

// DefaultPurgePolicy keeps an open checkout one day past its session's
// expiry, and a failed one 30 days.
var DefaultPurgePolicy = PurgePolicy{OpenAfterExpiry: 24 * time.Hour, FailedAfter: 30 * 24 * time.Hour}

const purgeBatch = 500

// Purge deletes the checkouts the policy lets go, as of now, in batches so
// that no statement holds the table for long, and returns how many went.
// Each DELETE re-checks the state, so a checkout that moves on meanwhile
// (open to placing) is kept.
func (s *SQL) Purge(ctx context.Context, now time.Time, p PurgePolicy) (int64, error) {
	if p.OpenAfterExpiry <= 0 || p.FailedAfter <= 0 {
		return 0, fmt.Errorf("store: purge policy needs positive durations, got %+v", p)
	}
	expired, failed := now.Add(-p.OpenAfterExpiry).UTC(), now.Add(-p.FailedAfter).UTC()
	const which = `((state = ? AND session_expires_at < ?) OR (state = ? AND updated_at < ?))`
	q := s.q(`DELETE FROM checkouts WHERE ` + which + ` AND id IN (SELECT id FROM checkouts WHERE ` + which + ` LIMIT ?)`)
	args := []any{string(StateOpen), expired, string(StateFailed), failed}
	var total int64
	for {
		done, err := s.writing(ctx)
		if err != nil {
			return total, fmt.Errorf("store: purging checkouts: %w", err)
		}
		res, err := s.db.ExecContext(ctx, q, append(append(append([]any{}, args...), args...), purgeBatch)...)
		done()
		if err != nil {
			return total, fmt.Errorf("store: purging checkouts: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: purging checkouts: %w", err)
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}
