package checkout_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/klarna/simulator"
	"github.com/fikaandform/storefront/store"
)

// BenchmarkPlacement is one whole checkout on SQLite against the simulator
// over loopback: open the Klarna session, authorize (test-data path), place
// the order through the guarded path.
func BenchmarkPlacement(b *testing.B) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(b.TempDir(), "shop.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	f := setupFull(b, st, simulator.Config{})
	c := cart(b, f.cat, "stoneware-mug:2,house-blend:1|FIKA10")
	gb := market("GB")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		co, _, err := f.svc.Begin(ctx, "", c, gb, "en-GB")
		if err != nil {
			b.Fatal(err)
		}
		a, err := f.sim.Authorize(co.SessionID, "pay_later", simulator.OutcomeApprove)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.svc.Place(ctx, co.SessionID, a.AuthorizationToken, checkout.FromBrowser, ""); err != nil {
			b.Fatal(err)
		}
	}
}
