package handlers

import (
	"testing"
	"time"
)

// TestBrowserIDsGrowWithTime: a later browser session sorts after an
// earlier one (so its checkouts' index entries go at the end), and two
// sessions of the same second still differ.
func TestBrowserIDsGrowWithTime(t *testing.T) {
	t0 := time.Unix(1_795_000_000, 0)
	a, b, c := newBrowserID(t0), newBrowserID(t0), newBrowserID(t0.Add(time.Second))
	if a == b || len(a) != len(c) || !(a < c && b < c) {
		t.Errorf("ids %q %q (same second), %q (a second later)", a, b, c)
	}
	// The time part keeps its nine digits (to the year 4147), so the order holds.
	if late := newBrowserID(time.Unix(1<<32-1, 0)); len(late) != len(a) {
		t.Errorf("%q is %d characters, %q %d", late, len(late), a, len(a))
	}
}
