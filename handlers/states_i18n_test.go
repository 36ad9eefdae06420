package handlers_test

import (
	"testing"

	"github.com/fikaandform/storefront/i18n"
	"github.com/fikaandform/storefront/store"
)

// TestEveryChargeStateHasWords: the subscription page names a period's
// state through the message "charges.state.<state>", built at run time, so
// the literal-id checks cannot see it: every state the store knows has its
// words in every language.
func TestEveryChargeStateHasWords(t *testing.T) {
	t.Parallel()
	c := i18n.MustLoad()
	for _, lang := range i18n.Languages {
		l := c.For(lang.Code)
		for _, st := range []store.PeriodStatus{store.PeriodOpen, store.PeriodClaimed, store.PeriodCharged, store.PeriodDeclined, store.PeriodFailed, store.PeriodUnknown} {
			if !l.Has("charges.state." + string(st)) {
				t.Errorf("%s: no words for the charge state %q", lang.Code, st)
			}
		}
	}
}
