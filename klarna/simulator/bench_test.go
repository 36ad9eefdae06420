package simulator_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/fikaandform/storefront/klarna"
	"github.com/fikaandform/storefront/klarna/simulator"
)

// BenchmarkCheckout measures a whole checkout against the simulator over
// loopback: create session, authorize (test-data path), create order. Run
// with -cpu 2 and read checkouts/s: the simulator must never be what limits
// the shop's load tests.
func BenchmarkCheckout(b *testing.B) {
	e := newEnv(b, simulator.Config{DisableCallbacks: true})
	c, _ := klarna.NewClient(klarna.WithBaseURL(e.srv.URL), klarna.WithCredentials("PK_test", "secret"),
		klarna.WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}))
	ctx := context.Background()
	req := gbSession()
	order := orderFor(req)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ms, _, err := c.CreateSession(ctx, req)
			if err != nil {
				b.Error(err)
				return
			}
			a, err := e.sim.Authorize(ms.SessionID, "pay_later", simulator.OutcomeApprove)
			if err != nil {
				b.Error(err)
				return
			}
			if _, _, err := c.CreateOrder(ctx, a.AuthorizationToken, order); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkouts/s")
}
