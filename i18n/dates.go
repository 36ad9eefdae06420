package i18n

import (
	"strconv"
	"strings"
	"time"
)

// dateFormat is how a locale writes dates and times, after CLDR's
// patterns for it: the order of day, month and year, and the clock. Month
// names come from the message catalog (date.month.N, date.mon.N), so a
// missing one fails the same test as any other message.
type dateFormat struct {
	long, short string // {d} day, {dd} day of two digits, {MMMM} month, {MMM} short month, {MM} month of two digits, {yyyy} year
	clock       string // Go layout for the time of day
	months      [12]string
	mons        [12]string
}

// patterns by locale, then by language. en-US writes the month first and
// a 12-hour clock; other English locales (en-GB, en-AU, and English in
// Sweden, Germany and the Netherlands) day first.
var patterns = map[string]dateFormat{
	"en-US": {long: "{MMMM} {d}, {yyyy}", short: "{MMM} {d}, {yyyy}", clock: "3:04 PM"},
	"en":    {long: "{d} {MMMM} {yyyy}", short: "{d} {MMM} {yyyy}", clock: "15:04"},
	"sv":    {long: "{d} {MMMM} {yyyy}", short: "{d} {MMM} {yyyy}", clock: "15:04"},
	"de":    {long: "{d}. {MMMM} {yyyy}", short: "{dd}.{MM}.{yyyy}", clock: "15:04"},
	"nl":    {long: "{d} {MMMM} {yyyy}", short: "{d} {MMM} {yyyy}", clock: "15:04"},
}

func datesFor(l *Localizer) dateFormat {
	f, ok := patterns[l.lang+"-"+l.region]
	if !ok {
		f, ok = patterns[l.lang]
	}
	if !ok {
		f = patterns[Fallback]
	}
	for i := range 12 {
		f.months[i] = l.T("date.month." + strconv.Itoa(i+1))
		f.mons[i] = l.T("date.mon." + strconv.Itoa(i+1))
	}
	return f
}

func (f dateFormat) format(pattern string, t time.Time) string {
	two := func(n int) string {
		if n < 10 {
			return "0" + strconv.Itoa(n)
		}
		return strconv.Itoa(n)
	}
	return strings.NewReplacer(
		"{dd}", two(t.Day()), "{d}", strconv.Itoa(t.Day()),
		"{MMMM}", f.months[t.Month()-1], "{MMM}", f.mons[t.Month()-1], "{MM}", two(int(t.Month())),
		"{yyyy}", strconv.Itoa(t.Year()),
	).Replace(pattern)
}

// Date writes a date in full: "2 January 2026", "2 januari 2026",
// "2. Januar 2026", "January 2, 2026".
func (l *Localizer) Date(t time.Time) string { return l.dates.format(l.dates.long, t) }

// ShortDate writes a date briefly, for tables: "2 Jan 2026",
// "2 jan. 2026", "02.01.2026", "Jan 2, 2026".
func (l *Localizer) ShortDate(t time.Time) string { return l.dates.format(l.dates.short, t) }

// DateTime writes a short date with the time of day and its zone, in the
// time's own location: "2 Jan 2026, 14:05 UTC".
func (l *Localizer) DateTime(t time.Time) string {
	return l.ShortDate(t) + ", " + t.Format(l.dates.clock+" MST")
}
