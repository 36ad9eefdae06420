package i18n

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// forms are a message's texts by plural form ("other" alone for a plain
// message).
func forms(m *goi18n.Message) map[string]string {
	out := map[string]string{}
	for k, v := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestCatalogsComplete: every language has every English message, none
// empty, with the same placeholders, and the plural forms its language
// needs (one and other for these four); no language has a message English
// lacks. A page that gains a message without its translations fails here.
func TestCatalogsComplete(t *testing.T) {
	t.Parallel()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	en := c.messages[Fallback]
	if len(en) < 100 {
		t.Fatalf("only %d English messages", len(en))
	}
	for _, l := range Languages {
		msgs := c.messages[l.Code]
		for _, id := range c.IDs(Fallback) {
			m, ok := msgs[id]
			if !ok {
				t.Errorf("%s: %s is missing", l.Code, id)
				continue
			}
			want := forms(en[id])
			got := forms(m)
			if len(got) == 0 {
				t.Errorf("%s: %s is empty", l.Code, id)
			}
			_, plural := want["one"]
			if _, ok := got["one"]; plural && !ok {
				t.Errorf("%s: %s has no form for one", l.Code, id)
			}
			if _, ok := got["other"]; !ok {
				t.Errorf("%s: %s has no form for other", l.Code, id)
			}
			wantP := placeholders(want["other"])
			for form, text := range got {
				p, w := placeholders(text), wantP
				if form == "one" && !slices.Contains(p, "Count") {
					// The singular may say "one" in words ("every month").
					w = slices.DeleteFunc(slices.Clone(wantP), func(s string) bool { return s == "Count" })
				}
				if !slices.Equal(p, w) {
					t.Errorf("%s: %s (%s) has placeholders %v, English has %v", l.Code, id, form, p, w)
				}
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s: %s (%s) is blank", l.Code, id, form)
				}
			}
		}
		for id := range msgs {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: %s is not in English (a leftover?)", l.Code, id)
			}
		}
	}
}

// TestLanguageFiles: the files are the languages, no more, no fewer.
func TestLanguageFiles(t *testing.T) {
	t.Parallel()
	entries, err := fs.ReadDir(files, "locales")
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, e := range entries {
		got = append(got, strings.TrimSuffix(e.Name(), ".toml"))
	}
	for _, l := range Languages {
		want = append(want, l.Code)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("locales/ has %v, Languages lists %v", got, want)
	}
}

func TestPluralsAndNumbers(t *testing.T) {
	t.Parallel()
	c := MustLoad()
	for _, tt := range []struct {
		locale string
		count  int
		want   string
	}{
		{"en-GB", 1, "1 item in cart"},
		{"en-GB", 2, "2 items in cart"},
		{"en-GB", 1500, "1,500 items in cart"},
		{"sv-SE", 1, "1 vara i varukorgen"},
		{"sv-SE", 3, "3 varor i varukorgen"},
		{"sv-SE", 1500, "1\u00a0500 varor i varukorgen"},
		{"de-DE", 1500, "1.500 Artikel im Warenkorb"},
		{"nl-NL", 1, "1 artikel in je winkelwagen"},
		{"nl-NL", 0, "0 artikelen in je winkelwagen"},
	} {
		if got := c.For(tt.locale).T("layout.cart_count", "Count", tt.count); got != tt.want {
			t.Errorf("%s, %d: %q, want %q", tt.locale, tt.count, got, tt.want)
		}
	}
	if got := c.For("de-DE").T("plan.every_WEEK", "Count", 2); got != "alle 2 Wochen" {
		t.Errorf("German plural: %q", got)
	}
	if got := c.For("de-DE").Fixed(825, 2); got != "8,25" {
		t.Errorf("German decimal: %q", got)
	}
	if got := c.For("sv-SE").T("no.such.message"); got != "no.such.message" {
		t.Errorf("unknown id: %q", got)
	}
}

func TestDates(t *testing.T) {
	t.Parallel()
	c := MustLoad()
	d := time.Date(2026, time.March, 5, 14, 7, 0, 0, time.UTC)
	for _, tt := range []struct{ locale, long, short, dateTime string }{
		{"en-GB", "5 March 2026", "5 Mar 2026", "5 Mar 2026, 14:07 UTC"},
		{"en-US", "March 5, 2026", "Mar 5, 2026", "Mar 5, 2026, 2:07 PM UTC"},
		{"en-SE", "5 March 2026", "5 Mar 2026", "5 Mar 2026, 14:07 UTC"},
		{"sv-SE", "5 mars 2026", "5 mars 2026", "5 mars 2026, 14:07 UTC"},
		{"de-DE", "5. März 2026", "05.03.2026", "05.03.2026, 14:07 UTC"},
		{"nl-NL", "5 maart 2026", "5 mrt. 2026", "5 mrt. 2026, 14:07 UTC"},
	} {
		l := c.For(tt.locale)
		if got := l.Date(d); got != tt.long {
			t.Errorf("%s Date: %q, want %q", tt.locale, got, tt.long)
		}
		if got := l.ShortDate(d); got != tt.short {
			t.Errorf("%s ShortDate: %q, want %q", tt.locale, got, tt.short)
		}
		if got := l.DateTime(d); got != tt.dateTime {
			t.Errorf("%s DateTime: %q, want %q", tt.locale, got, tt.dateTime)
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	m := NewMatcher([]string{"en-GB", "sv-SE", "en-SE", "de-DE", "en-DE", "nl-NL", "en-NL", "en-US", "en-AU"})
	for header, want := range map[string]string{
		"sv-SE,sv;q=0.9,en;q=0.8": "sv-SE",
		"sv":                      "sv-SE",
		"de-AT,de;q=0.9":          "de-DE",
		"nl-BE":                   "nl-NL",
		"en-US,en;q=0.9":          "en-US",
		"en-AU":                   "en-AU",
		"en-IE":                   "en-GB",
		"en":                      "", // English, but which country?
		"fr-FR,fr;q=0.9":          "",
		"fr-FR,fr;q=0.9,en;q=0.5": "",
		"":                        "",
		"not a header;;;":         "",
	} {
		if got := m.Match(header); got != want {
			t.Errorf("Match(%q) = %q, want %q", header, got, want)
		}
	}
}

// TestCachedMessagesAreTheUncachedOnes: T keeps a formatted message by its
// id and arguments. Calls that format differently must not share what is
// kept: an integer (grouped) and the same digits as a string (as given),
// or arguments whose pairs a NUL inside a value would shift. Whichever
// call comes first, each gets what it would get from an empty cache.
func TestCachedMessagesAreTheUncachedOnes(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() *Localizer {
		l := c.For("en-GB")
		l.done.Clear()
		l.doneSize.Store(0)
		return l
	}
	pairs := []struct {
		id          string
		first, then []any
	}{
		{"layout.cart_count", []any{"Count", 1500}, []any{"Count", "1500"}},
		{"layout.cart_count", []any{"Count", "1500"}, []any{"Count", 1500}},
		{"fulfilment.shipped_detail", []any{"Date", "1 May\x00Amount\x00£5", "Amount", "£9"}, []any{"Date", "1 May", "Amount", "£5\x00Amount\x00£9"}},
	}
	for _, p := range pairs {
		want := fresh().T(p.id, p.then...)
		l := fresh()
		l.T(p.id, p.first...)
		if got := l.T(p.id, p.then...); got != want {
			t.Errorf("%s %v after %v: kept %q, formatted %q", p.id, p.then, p.first, got, want)
		}
	}
	if a, b := fresh().T("layout.cart_count", "Count", 1500), fresh().T("layout.cart_count", "Count", "1500"); a == b {
		t.Fatalf("the test needs an integer and a string to format differently: both %q", a)
	}
}
