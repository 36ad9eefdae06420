package handlers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fikaandform/storefront/i18n"
	"github.com/fikaandform/storefront/shop"
	"github.com/fikaandform/storefront/views"
)

// The shop speaks each market's language by default (GB, US and AU
// English, SE Swedish, DE German, NL Dutch) and English in every market
// beside it. A shopper's choice of language is kept in the session; it
// applies in every market that offers it, and otherwise the market's
// language does.

// localeFor is the locale a shopper sees a market in: the chosen language
// where the market offers it ("en" in Sweden is en-SE), else the market's
// own. The locale also goes to Klarna, so the widget speaks the page's
// language.
func localeFor(m shop.Market, lang string) string {
	if lang != "" && m.HasLocale(lang+"-"+m.Code) {
		return lang + "-" + m.Code
	}
	return m.Locale()
}

// setLanguage switches the language within the market. The cart stays as
// it is; only the locale changes (the next checkout opens a Klarna session
// in the new language).
func (h *Handler) setLanguage(c echo.Context) error {
	s := shopperOf(c)
	lang := c.FormValue("lang")
	if !s.Market.HasLocale(lang + "-" + s.Market.Code) {
		return echo.NewHTTPError(http.StatusBadRequest, "error.language_unknown")
	}
	s.Lang, s.dirty = lang, true
	if l := localeFor(s.Market, lang); l != s.Locale {
		s.Locale = l
		s.loc = h.i18n.For(l)
		s.setFlash(s.loc.T("flash.language", "Language", s.loc.T("language."+lang)))
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("return")))
}

// switcherKey names the switchers' entries for a page: they depend on the
// locale and the market only, so they are made once and shared (read-only).
type switcherKey struct{ locale, market string }

// languageOptions are the languages of the shopper's market, for the
// language switch.
func (h *Handler) languageOptions(s *shopper) []views.LanguageOption {
	key := switcherKey{s.Locale, s.Market.Code}
	if v, ok := h.languages.Load(key); ok {
		return v.([]views.LanguageOption)
	}
	var out []views.LanguageOption
	for _, l := range i18n.Languages {
		if s.Market.HasLocale(l.Code + "-" + s.Market.Code) {
			out = append(out, views.LanguageOption{Code: l.Code, Name: l.Name, Selected: s.Locale == l.Code+"-"+s.Market.Code})
		}
	}
	h.languages.Store(key, out)
	return out
}

// marketOptions are the offered markets, named in the page's language.
func (h *Handler) marketOptions(s *shopper) []views.MarketOption {
	key := switcherKey{s.loc.Locale(), s.Market.Code}
	if v, ok := h.marketLists.Load(key); ok {
		return v.([]views.MarketOption)
	}
	out := make([]views.MarketOption, 0, len(h.markets.list))
	for _, m := range h.markets.list {
		out = append(out, views.MarketOption{Code: m.Code, Label: s.loc.T("market."+m.Code) + " · " + m.Currency, Selected: m.Code == s.Market.Code})
	}
	h.marketLists.Store(key, out)
	return out
}

// suggestion offers a visitor who has not chosen a market the one their
// browser's Accept-Language points to, when that is another market than
// the one shown: "Shopping from Sweden? Show prices in SEK", in Swedish.
// It never redirects and sets no cookie; the page then varies by
// Accept-Language.
func (h *Handler) suggestion(c echo.Context, s *shopper) *views.MarketSuggestion {
	if s.MarketChosen || strings.HasPrefix(c.Request().URL.Path, "/admin") {
		return nil
	}
	addVary(c.Response().Header(), "Accept-Language")
	locale := h.matcher.Match(c.Request().Header.Get("Accept-Language"))
	if locale == "" {
		return nil
	}
	_, code, _ := strings.Cut(locale, "-")
	m, ok := h.markets.lookup(code)
	if !ok || m.Code == s.Market.Code {
		return nil
	}
	loc := h.i18n.For(locale)
	return &views.MarketSuggestion{
		Market: m.Code, Lang: loc.Lang(), Stay: s.Market.Code,
		Question: loc.T("suggest.question." + m.Code),
		Accept:   loc.T("suggest.accept", "Currency", m.Currency),
		Refuse:   loc.T("suggest.refuse"),
	}
}

// offeredLocales lists the locales of the offered markets, the default
// market's first, for matching Accept-Language.
func offeredLocales(ms markets) []string {
	out := slices.Clone(ms.def.Locales)
	for _, m := range ms.list {
		if m.Code != ms.def.Code {
			out = append(out, m.Locales...)
		}
	}
	return out
}
