package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/fikaandform/storefront/store"
)

// benchCheckout is a checkout the size of the shop's: its client token,
// payment categories and session payload as Klarna and the shop make them.
func benchCheckout(id string) *Checkout {
	c := newCheckout(id)
	c.ClientToken = strings.Repeat("t", 640)
	c.Categories = strings.Repeat("c", 446)
	c.SessionPayload = strings.Repeat("p", 1092)
	c.CallbackSecret = strings.Repeat("s", 64)
	c.BrowserID = "browser-" + id
	return c
}

// BenchmarkCheckoutStatements times the statements of one checkout's life
// on SQLite, one at a time, beside 10,000 others: create, read, the move
// to placing, and the recording of the order with its row returned.
func BenchmarkCheckoutStatements(b *testing.B) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "shop.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 10_000 {
		if err := s.CreateCheckout(ctx, benchCheckout(fmt.Sprintf("KS-old-%d", i))); err != nil {
			b.Fatal(err)
		}
	}
	created := 0
	b.Run("create", func(b *testing.B) {
		for range b.N {
			created++
			if err := s.CreateCheckout(ctx, benchCheckout(fmt.Sprintf("KS-new-%d", created))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		for i := range b.N {
			if _, err := s.Checkout(ctx, fmt.Sprintf("KS-old-%d", i%10_000)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("open-for-browser", func(b *testing.B) {
		for i := range b.N {
			if _, err := s.OpenCheckoutFor(ctx, fmt.Sprintf("browser-KS-old-%d", i%10_000)); err != nil {
				b.Fatal(err)
			}
		}
	})
	placed, open := 0, 10_000
	b.Run("place-and-record", func(b *testing.B) {
		for range b.N {
			if placed == open {
				// Every open checkout is placed: open more, untimed.
				b.StopTimer()
				for range 1_000 {
					if err := s.CreateCheckout(ctx, benchCheckout(fmt.Sprintf("KS-old-%d", open))); err != nil {
						b.Fatal(err)
					}
					open++
				}
				b.StartTimer()
			}
			id := fmt.Sprintf("KS-old-%d", placed)
			placed++
			tok, oid, now := "tok-"+id, "order-"+id, time.Now()
			if ok, err := s.Transition(ctx, id, []State{StateOpen}, StatePlacing, Changes{AuthorizationToken: &tok}); !ok || err != nil {
				b.Fatal(ok, err)
			}
			if row, err := s.TransitionRow(ctx, id, []State{StatePlacing}, StatePlaced, Changes{KlarnaOrderID: &oid, PlacedAt: &now}); row == nil || err != nil {
				b.Fatal(row, err)
			}
		}
	})
}
