package i18n

import (
	"sync"
	"sync/atomic"

	"golang.org/x/text/language"
)

// Matcher picks, among the locales the shop offers, the one that best
// fits a browser's Accept-Language.
type Matcher struct {
	offered []string
	m       language.Matcher
	// seen caches answers by header: browsers send few distinct ones.
	seen     sync.Map
	seenSize atomic.Int64
}

const maxSeen = 1000

// NewMatcher matches against the offered locales ("en-GB", "sv-SE", …).
// The first wins ties, so list the default market's first.
func NewMatcher(offered []string) *Matcher {
	tags := make([]language.Tag, len(offered))
	for i, o := range offered {
		tags[i] = language.Make(o)
	}
	return &Matcher{offered: offered, m: language.NewMatcher(tags)}
}

// ambiguous reports a match by language alone where several regions
// speak it: a browser that says only "en" is not asking for the United
// States rather than Britain or Australia, but one that says "sv" can only
// mean Sweden.
func (m *Matcher) ambiguous(prefs []language.Tag, i int) bool {
	base, _ := language.Make(m.offered[i]).Base()
	for _, p := range prefs {
		if b, _ := p.Base(); b == base {
			if _, conf := p.Region(); conf == language.Exact {
				return false
			}
			break
		}
	}
	n := 0
	for _, o := range m.offered {
		if b, _ := language.Make(o).Base(); b == base {
			n++
		}
	}
	return n > 1
}

// Match returns the best offered locale for an Accept-Language header
// ("sv-SE,sv;q=0.9,en;q=0.8"), or "" when none fits at least by language
// (a French browser in an English, Swedish, German and Dutch shop).
func (m *Matcher) Match(acceptLanguage string) string {
	if acceptLanguage == "" || len(m.offered) == 0 || len(acceptLanguage) > 256 {
		return ""
	}
	if v, ok := m.seen.Load(acceptLanguage); ok {
		return v.(string)
	}
	out := ""
	if prefs, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(prefs) > 0 {
		if _, i, conf := m.m.Match(prefs...); conf >= language.High && !m.ambiguous(prefs, i) {
			out = m.offered[i]
		}
	}
	if m.seenSize.Add(1) > maxSeen {
		m.seen.Clear()
		m.seenSize.Store(0)
	}
	m.seen.Store(acceptLanguage, out)
	return out
}
