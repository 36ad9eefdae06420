package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	templparser "github.com/a-h/templ/parser/v2"
	"github.com/a-h/templ/parser/v2/visitor"
)

// The orders area is for the operator and stays English (README); these
// files and functions are its, or talk to Klarna's servers, not shoppers.
var (
	operatorTemplates = []string{"admin.templ", "admin_subscriptions.templ", "orders.templ", "attention.templ"}
	operatorFiles     = []string{"admin.go", "attention.go", "orders.go", "limits.go"}
	operatorFuncs     = []string{
		"adminSubscriptions", "adminSubscription", "adminSubscriptionAction", // the orders area
		"authorizationCallback", "authorizationBody", "notificationCallback", "callbackCheckout", // Klarna's servers
		"checkHost",                                       // a misdirected request: no shop, no shopper, plain text
		"ready", "Routes", "securityHeaders", "KlarnaCSP", // health, robots.txt, headers
		"planWords", // the orders area's plan words
	}
	// words finds prose: two words of letters with a space between.
	words = regexp.MustCompile(`\p{L}{2,}[ \x{a0}]+\p{L}{2,}`)
	// allowed are the shop's name and Klarna's, which every language writes
	// alike.
	allowed = []string{"Fika & Form", "F&F", "Klarna"}
	// msgID finds message ids given to t, T and the error pages.
	msgID = regexp.MustCompile(`^[a-z_]+(\.[A-Za-z0-9_]+)+$`)
)

// word finds a lone word of text ("Total"), which in a template is as
// much a translation as a sentence.
var word = regexp.MustCompile(`\p{L}{2,}`)

// prose reports words for people; single words count where lone says so
// (template text), not in Go, where they are names ("Count", "Accept").
func prose(s string, lone bool) bool {
	s = strings.TrimSpace(html.UnescapeString(s))
	for _, a := range allowed {
		s = strings.ReplaceAll(s, a, "")
	}
	return words.MatchString(s) || lone && word.MatchString(s)
}

// TestNoLiteralsInTemplates: no shopper-visible word is written in a
// template: text, labels (alt, title, aria-label, placeholder) and string
// literals in expressions all come from the message catalog.
func TestNoLiteralsInTemplates(t *testing.T) {
	t.Parallel()
	paths, _ := filepath.Glob(filepath.Join("..", "views", "*.templ"))
	if len(paths) == 0 {
		t.Fatal("no templates found")
	}
	for _, path := range paths {
		if slices.Contains(operatorTemplates, filepath.Base(path)) {
			continue
		}
		tf, err := templparser.Parse(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		v := visitor.New()
		v.Text = func(n *templparser.Text) error {
			if prose(n.Value, true) {
				t.Errorf("%s:%d: text %q is not from the message catalog", name, n.Range.From.Line+1, strings.TrimSpace(n.Value))
			}
			return nil
		}
		v.ConstantAttribute = func(n *templparser.ConstantAttribute) error {
			switch n.Key.String() {
			case "alt", "title", "aria-label", "placeholder", "label":
				if prose(n.Value, true) {
					t.Errorf("%s:%d: %s=%q is not from the message catalog", name, n.Range.From.Line+1, n.Key, n.Value)
				}
			}
			return nil
		}
		check := func(expr string, line uint32) {
			e, err := parser.ParseExpr(expr)
			if err != nil {
				return // a templ-only form; its literals are Go's below
			}
			ast.Inspect(e, func(x ast.Node) bool {
				if lit, ok := x.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, _ := strconv.Unquote(lit.Value); prose(s, false) {
						t.Errorf("%s:%d: literal %s is not from the message catalog", name, line+1, lit.Value)
					}
				}
				return true
			})
		}
		v.StringExpression = func(n *templparser.StringExpression) error {
			check(n.Expression.Value, n.Expression.Range.From.Line)
			return nil
		}
		v.ExpressionAttribute = func(n *templparser.ExpressionAttribute) error {
			check(n.Expression.Value, n.Expression.Range.From.Line)
			return nil
		}
		if err := tf.Visit(v); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNoLiteralsInHandlers: the handlers give shoppers message ids, not
// English: flash messages, errors, checkout outcomes, page titles. Logs,
// errors for the logs and the operator's pages are exempt.
func TestNoLiteralsInHandlers(t *testing.T) {
	t.Parallel()
	paths, _ := filepath.Glob(filepath.Join("..", "handlers", "*.go"))
	fset := token.NewFileSet()
	for _, path := range paths {
		base := filepath.Base(path)
		if strings.HasSuffix(base, "_test.go") || slices.Contains(operatorFiles, base) {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || slices.Contains(operatorFuncs, fn.Name.Name) {
				continue
			}
			ast.Inspect(fn, func(x ast.Node) bool {
				call, ok := x.(*ast.CallExpr)
				if ok && exempt(call) {
					return false
				}
				lit, ok := x.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				if s, _ := strconv.Unquote(lit.Value); prose(s, false) {
					t.Errorf("%s: %s in %s is not from the message catalog", fset.Position(lit.Pos()), lit.Value, fn.Name.Name)
				}
				return true
			})
		}
	}
}

// exempt are calls whose strings no shopper reads: logs and errors.
func exempt(call *ast.CallExpr) bool {
	if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" {
		return true
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if id, ok := sel.X.(*ast.Ident); ok && (id.Name == "errors" || id.Name == "fmt" && sel.Sel.Name == "Errorf" || id.Name == "slog") {
		return true
	}
	switch sel.Sel.Name {
	case "ErrorContext", "WarnContext", "InfoContext", "DebugContext", "LogAttrs", "Error", "Warn", "Info", "Debug":
		return true
	}
	return false
}

// TestMessageIDsExist: every message id the views and handlers name
// literally is in the English catalog (and so, by TestCatalogsComplete, in
// every language).
func TestMessageIDsExist(t *testing.T) {
	t.Parallel()
	c := MustLoad()
	en := c.For("en-GB")
	call := regexp.MustCompile(`(?:\bt\(ctx, |\.T\(|NewHTTPError\([^,]+, )"([^"]+)"`)
	var paths []string
	for _, g := range []string{"../views/*.templ", "../handlers/*.go"} {
		m, _ := filepath.Glob(g)
		paths = append(paths, m...)
	}
	seen := 0
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			id := m[1]
			if !msgID.MatchString(id) || strings.HasSuffix(id, ".") || strings.HasSuffix(id, "_") {
				continue // a prefix completed at run time, or plain English for Klarna or the operator
			}
			seen++
			if !en.Has(id) {
				t.Errorf("%s names %q, which is not in en.toml", filepath.Base(p), id)
			}
		}
	}
	if seen < 100 {
		t.Errorf("found only %d message ids: is the pattern still right?", seen)
	}
}
