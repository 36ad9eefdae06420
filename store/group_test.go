package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/fikaandform/storefront/store"
)

// TestGroupCommitKeepsEachWriteOwnAnswer: many writers at once share SQLite
// transactions (group commit), yet each gets its own answer. Duplicate ids
// are refused one by one without undoing their neighbours, a
// compare-and-set has one winner, and a writer whose context ends while
// waiting either wrote or did not, and is told which.
func TestGroupCommitKeepsEachWriteOwnAnswer(t *testing.T) {
	ctx := t.Context()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// 200 writers on 50 ids: exactly one insert per id succeeds.
	const writers, ids = 200, 50
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() { errs[i] = s.CreateCheckout(ctx, newCheckout(fmt.Sprintf("KG-%d", i%ids))) })
	}
	wg.Wait()
	created := map[string]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			created[fmt.Sprintf("KG-%d", i%ids)]++
		case !errors.Is(err, ErrDuplicate):
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	for i := range ids {
		id := fmt.Sprintf("KG-%d", i)
		if created[id] != 1 {
			t.Errorf("%s created %d times", id, created[id])
		}
		if _, err := s.Checkout(ctx, id); err != nil {
			t.Errorf("%s not kept: %v", id, err)
		}
	}

	// 100 writers race to move each of the 50 checkouts to placing: one
	// winner each, and the winners' changes are the ones kept.
	won := make([]bool, 2*ids)
	for i := range 2 * ids {
		wg.Go(func() {
			token := fmt.Sprintf("tok-%d", i)
			id := fmt.Sprintf("KG-%d", i%ids)
			if i%2 == 0 { // half of them read the row back in the same statement
				row, err := s.TransitionRow(ctx, id, []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &token})
				if err != nil {
					t.Errorf("transition %d: %v", i, err)
				}
				if row != nil && (row.AuthorizationToken != token || row.State != StatePlacing) {
					t.Errorf("transition %d returned %+v", i, *row)
				}
				won[i] = row != nil
				return
			}
			ok, err := s.Transition(ctx, id, []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &token})
			if err != nil {
				t.Errorf("transition %d: %v", i, err)
			}
			won[i] = ok
		})
	}
	wg.Wait()
	for i := range ids {
		a, b := won[i], won[i+ids]
		if a == b {
			t.Errorf("KG-%d: winners %v and %v, want exactly one", i, a, b)
			continue
		}
		want := fmt.Sprintf("tok-%d", i)
		if b {
			want = fmt.Sprintf("tok-%d", i+ids)
		}
		c, _ := s.Checkout(ctx, fmt.Sprintf("KG-%d", i))
		if c.State != StatePlacing || c.AuthorizationToken != want {
			t.Errorf("KG-%d: %s with %q, want placing with %q", i, c.State, c.AuthorizationToken, want)
		}
	}

	// Writers that give up while others write: whatever each is told is
	// what happened.
	for i := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("KC-%d", i)
			cctx, cancel := context.WithTimeout(ctx, time.Duration(i%5)*100*time.Microsecond)
			defer cancel()
			err := s.CreateCheckout(cctx, newCheckout(id))
			_, found := s.Checkout(ctx, id)
			if (err == nil) != (found == nil) {
				t.Errorf("%s: told %v, but kept: %v", id, err, found == nil)
			}
		})
	}
	wg.Wait()
}
