package etag

import "testing"

func TestMatch(t *testing.T) {
	const tag = `"abc123"`
	for header, want := range map[string]bool{
		`"abc123"`: true, `W/"abc123"`: true, `"x", "abc123"`: true, ` "x" ,W/"abc123" `: true, `*`: true,
		``: false, `"abc"`: false, `"abc1234"`: false, `abc123`: false, `"x"`: false, `"abc123`: false,
	} {
		if got := Match(header, tag); got != want {
			t.Errorf("If-None-Match %q against %s: %v, want %v", header, tag, got, want)
		}
	}
}
