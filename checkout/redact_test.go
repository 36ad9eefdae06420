package checkout_test

import (
	"strings"
	"testing"

	"github.com/fikaandform/storefront/checkout"
	"github.com/fikaandform/storefront/klarna/simulator"
)

// An order's copy of its request, which the orders area shows, keeps no
// callback secret: Klarna's notification URL in it carries one.
func TestOrderCopyKeepsNoCallbackSecret(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	c, _, err := f.svc.Begin(ctx, "", cart(t, f.cat, "stoneware-mug:1"), market("GB"), "en-GB")
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.sim.Authorize(c.SessionID, "pay_later", simulator.OutcomeApprove)
	if err != nil {
		t.Fatal(err)
	}
	placed, err := f.svc.Place(ctx, c.SessionID, a.AuthorizationToken, checkout.FromBrowser, "")
	if err != nil {
		t.Fatal(err)
	}
	if placed.CallbackSecret == "" || placed.OrderPayload == "" {
		t.Fatalf("secret %q, order copy %q", placed.CallbackSecret, placed.OrderPayload)
	}
	for name, copy := range map[string]string{"order": placed.OrderPayload, "session": placed.SessionPayload} {
		if strings.Contains(copy, placed.CallbackSecret) || !strings.Contains(copy, "secret=REDACTED") {
			t.Errorf("the %s copy: %s", name, copy)
		}
	}
}
