package views

import "context"

// Translator gives a page its words in the shopper's language (an
// *i18n.Localizer). Handlers put it in the request's context with
// WithTranslator; every component reads it from the context templ passes
// along, so no view writes a user-visible word itself.
type Translator interface {
	// T returns the message with this id; args are name/value pairs.
	T(id string, args ...any) string
	// Lang is the language code, for the lang attribute.
	Lang() string
}

type translatorKey struct{}

// WithTranslator returns a context whose pages speak tr's language.
func WithTranslator(ctx context.Context, tr Translator) context.Context {
	return context.WithValue(ctx, translatorKey{}, tr)
}

// t is the message id in the context's language; without a translator
// (a view rendered on its own, in a benchmark) it is the id.
func t(ctx context.Context, id string, args ...any) string {
	if tr, ok := ctx.Value(translatorKey{}).(Translator); ok {
		return tr.T(id, args...)
	}
	return id
}
