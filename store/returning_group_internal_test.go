package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestTransitionRowInAGroup: RETURNING moves queued together, one of them
// refused by the unique token index and one losing, each get their own
// answer, and every returned row is the row read afterwards.
func TestTransitionRowInAGroup(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 8
	for i := range n {
		if err := s.CreateCheckout(ctx, testCheckout(fmt.Sprintf("KQ-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	s.gate <- struct{}{}
	rows := make([]*Checkout, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		q := len(s.queue)
		wg.Go(func() {
			tok := fmt.Sprintf("tok-%d", i)
			from := []State{StateOpen}
			switch i {
			case 3:
				tok = "tok-1" // KQ-1 takes it first in the group
			case 5:
				from = []State{StatePlaced} // loses
			}
			rows[i], errs[i] = s.TransitionRow(ctx, fmt.Sprintf("KQ-%d", i), from, StatePlacing, Changes{AuthorizationToken: &tok})
		})
		for len(s.queue) == q {
			time.Sleep(time.Millisecond)
		}
	}
	<-s.gate
	wg.Wait()
	for i := range n {
		read, err := s.Checkout(ctx, fmt.Sprintf("KQ-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 3:
			if !errors.Is(errs[i], ErrDuplicate) || rows[i] != nil || read.State != StateOpen {
				t.Errorf("duplicate: %v %v, row now %s", rows[i], errs[i], read.State)
			}
		case 5:
			if errs[i] != nil || rows[i] != nil || read.State != StateOpen {
				t.Errorf("loser: %v %v, row now %s", rows[i], errs[i], read.State)
			}
		default:
			if errs[i] != nil || rows[i] == nil {
				t.Fatalf("move %d: %v %v", i, rows[i], errs[i])
			}
			if fmt.Sprintf("%+v", *rows[i]) != fmt.Sprintf("%+v", *read) {
				t.Errorf("move %d returned\n%+v\nread\n%+v", i, *rows[i], *read)
			}
		}
	}
}
