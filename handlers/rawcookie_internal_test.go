package handlers

import (
	"net/http"
	"strings"
	"testing"
)

// TestRawCookieIsWhatTheFullParseFinds: where the first cookie of the
// session's name is well-formed, rawCookie finds the value r.Cookie does;
// where it is not, rawCookie's value is one r.Cookie never returns, so it
// cannot be a kept session's key (only values r.Cookie returned are kept)
// and the full parse decides.
func TestRawCookieIsWhatTheFullParseFinds(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		raw   string // what rawCookie returns; "-" for nothing
		same  bool   // r.Cookie agrees
	}{
		{[]string{"fika=abc"}, "abc", true},
		{[]string{"a=1; fika=abc; b=2"}, "abc", true},
		{[]string{"  fika=abc  ;b=2"}, "abc", true},
		{[]string{"xfika=zzz; fika=abc"}, "abc", true},
		{[]string{"a=1", "fika=abc"}, "abc", true},
		{[]string{"fika=abc; fika=def"}, "abc", true},
		{[]string{"fika="}, "", true},
		{[]string{"a=1"}, "-", true},
		{[]string{"fika"}, "", true}, // a cookie with an empty value
		{[]string{"fika; fika=abc"}, "", true},
		{[]string{"fika =abc"}, "abc", true},
		{[]string{"fika	=def; fika=abc"}, "def", true},
		{[]string{"; ;fika=abc"}, "abc", true},
		{[]string{strings.Repeat("a=1; ", 100) + "fika=abc"}, "-", false}, // many cookies: the full parse decides
		{[]string{`fika="abc"`}, `"abc"`, false},                          // r.Cookie unquotes: abc
		{[]string{"fika=a\\b; fika=abc"}, "a\\b", false},
		{[]string{`fika=a"b; fika=abc`}, `a"b`, false},
	} {
		hd := http.Header{"Cookie": tc.lines}
		raw, ok := rawCookie(hd, "fika")
		if !ok {
			raw = "-"
		}
		if raw != tc.raw {
			t.Errorf("%q: rawCookie %q, want %q", tc.lines, raw, tc.raw)
		}
		full := "-"
		if ck, err := (&http.Request{Header: hd}).Cookie("fika"); err == nil {
			full = ck.Value
		}
		if (full == raw) != tc.same {
			t.Errorf("%q: rawCookie %q, r.Cookie %q", tc.lines, raw, full)
		}
	}
}
