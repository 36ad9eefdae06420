// Package i18n holds the shop's languages: one message catalog per language
// (locales/*.toml, embedded, read with go-i18n for CLDR plural rules),
// numbers and dates in a locale's format, and the match of a browser's
// Accept-Language against the locales the shop offers.
//
// Message ids are dotted ("cart.title"); a message takes its arguments as
// name/value pairs (T("cart.added", "Count", 2, "Name", "Mug")), and
// "Count" also picks the plural form. English is the fallback, and a test
// fails when any other language lacks a message or its placeholders.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

//go:embed locales/*.toml
var files embed.FS

// Language is one of the shop's languages.
type Language struct {
	Code string // ISO 639-1, as in lang="sv"
	Name string // in the language itself: "Svenska"
}

// Languages are the languages the shop speaks, English (the fallback)
// first. Each has locales/<code>.toml.
var Languages = []Language{
	{"en", "English"},
	{"sv", "Svenska"},
	{"de", "Deutsch"},
	{"nl", "Nederlands"},
}

// Fallback is the language whose messages stand in for a missing one.
const Fallback = "en"

// Catalog is every language's messages, loaded once.
type Catalog struct {
	bundle *goi18n.Bundle
	// messages are the parsed files by language, for the completeness
	// tests and for plain messages that need no template.
	messages map[string]map[string]*goi18n.Message
	mu       sync.Mutex
	locales  map[string]*Localizer
}

// Load reads the embedded message files.
func Load() (*Catalog, error) { return load(files) }

// MustLoad is Load for callers that start up with it: the files are
// embedded and tested, so it fails only on a broken build.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

func load(fsys fs.FS) (*Catalog, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{bundle: b, messages: map[string]map[string]*goi18n.Message{}, locales: map[string]*Localizer{}}
	for _, l := range Languages {
		name := path.Join("locales", l.Code+".toml")
		mf, err := b.LoadMessageFileFS(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		byID := map[string]*goi18n.Message{}
		for _, m := range mf.Messages {
			byID[m.ID] = m
		}
		c.messages[l.Code] = byID
	}
	return c, nil
}

// IDs lists every message id of a language, sorted.
func (c *Catalog) IDs(lang string) []string {
	var ids []string
	for id := range c.messages[lang] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// For returns the localizer of a locale ("sv-SE", "en-US"): the locale's
// language for words, its region for the format of dates. An unknown
// language speaks English.
func (c *Catalog) For(locale string) *Localizer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.locales[locale]; ok {
		return l
	}
	lang, region, _ := strings.Cut(locale, "-")
	if _, ok := c.messages[lang]; !ok {
		lang = Fallback
	}
	tag := language.Make(lang + "-" + region)
	l := &Localizer{
		locale: locale, lang: lang, region: strings.ToUpper(region),
		loc:     goi18n.NewLocalizer(c.bundle, lang, Fallback),
		printer: message.NewPrinter(tag),
		plain:   map[string]string{},
		known:   map[string]bool{},
	}
	for id, m := range c.messages[lang] {
		if !strings.Contains(m.Other, "{{") && m.One == "" && m.Other != "" {
			l.plain[id] = m.Other
		}
	}
	for id, m := range c.messages[Fallback] {
		l.known[id] = true
		if _, ok := c.messages[lang][id]; !ok && !strings.Contains(m.Other, "{{") && m.One == "" {
			l.plain[id] = m.Other
		}
	}
	l.dates = datesFor(l)
	c.locales[locale] = l
	return l
}

// Localizer speaks one locale.
type Localizer struct {
	locale, lang, region string
	loc                  *goi18n.Localizer
	printer              *message.Printer
	// plain are the messages without placeholders or plural forms, looked
	// up without go-i18n's template machinery (every page shows dozens).
	plain map[string]string
	known map[string]bool
	dates dateFormat
	// done caches messages with arguments by id and arguments: pages say
	// the same few ("3 items in cart") over and over, and go-i18n runs a
	// template each time.
	done     sync.Map
	doneSize atomic.Int64
}

// maxDone bounds the cache of messages with arguments; past it the cache
// starts over.
const maxDone = 10_000

// Locale is the locale, as given to For.
func (l *Localizer) Locale() string { return l.locale }

// Lang is the language code, for the lang attribute.
func (l *Localizer) Lang() string { return l.lang }

// Has reports whether a message id exists (in this language or English).
func (l *Localizer) Has(id string) bool { return l.known[id] }

// T returns a message with its arguments, given as name/value pairs.
// Integers are printed in the locale's format, and "Count" also picks
// the plural form. An unknown id returns the id itself, which the tests
// catch.
func (l *Localizer) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := l.plain[id]; ok {
			return s
		}
	}
	key, cacheable := cacheKey(id, args)
	if cacheable {
		if v, ok := l.done.Load(key); ok {
			return v.(string)
		}
	}
	s := l.localize(id, args)
	if cacheable {
		if l.doneSize.Add(1) > maxDone {
			l.done.Clear()
			l.doneSize.Store(0)
		}
		l.done.Store(key, s)
	}
	return s
}

// cacheKey joins a message id and its arguments, when they are all
// strings and integers (and short enough to be worth keeping). Two calls
// share a key only if they would format the same message: each argument
// is written with its type (an integer is formatted with grouping, a
// string as given) and each string with its length, so no value can pass
// for another or move the arguments after it.
func cacheKey(id string, args []any) (string, bool) {
	var b strings.Builder
	b.Grow(len(id) + 32)
	b.WriteString(id)
	for _, a := range args {
		switch v := a.(type) {
		case string:
			b.WriteString("\x00s")
			b.WriteString(strconv.Itoa(len(v)))
			b.WriteByte(':')
			b.WriteString(v)
		case int:
			b.WriteString("\x00i")
			b.WriteString(strconv.Itoa(v))
		case int64:
			b.WriteString("\x00i")
			b.WriteString(strconv.FormatInt(v, 10))
		default:
			return "", false
		}
	}
	return b.String(), b.Len() <= 512
}

func (l *Localizer) localize(id string, args []any) string {
	data := make(map[string]any, len(args)/2)
	var count any
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		v := args[i+1]
		if k == "Count" {
			count = v
		}
		switch n := v.(type) {
		case int:
			v = l.Number(int64(n))
		case int64:
			v = l.Number(n)
		}
		data[k] = v
	}
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if s == "" && err != nil {
		return id
	}
	return s
}

// Number prints an integer with the locale's digit grouping.
func (l *Localizer) Number(n int64) string {
	if n > -1000 && n < 1000 {
		return fmt.Sprint(n)
	}
	return l.printer.Sprint(number.Decimal(n))
}

// Fixed prints n/10^decimals with that many decimals, in the locale's
// format: Fixed(825, 2) is "8.25" in English and "8,25" in Swedish.
func (l *Localizer) Fixed(n int64, decimals int) string {
	f := float64(n)
	for range decimals {
		f /= 10
	}
	return l.printer.Sprint(number.Decimal(f, number.Scale(decimals)))
}
