package shopclient

import (
	"regexp"
	"testing"
)

// The regular expressions the scanners replaced: what they matched is what
// the scanners must find.
var (
	csrfRe        = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	clientTokenRe = regexp.MustCompile(`data-client-token="([^"]+)"`)
)

func regexpAnswer(re *regexp.Regexp, page []byte) (string, bool) {
	m := re.FindSubmatch(page)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

var attributePages = []string{
	``,
	`<form><input type="hidden" name="csrf" value="0a1b2c"></form>`,
	`name="csrf" value=""` + ` name="csrf" value="abc"`,
	`name="csrf" value="ABC" name="csrf" value="def"`,
	`name="csrf" value="abc`,
	`name="csrf" value="ab"c" name="csrf" value="ff"`,
	`name="csrf" value="name="csrf" value="12"`,
	`<div data-client-token="eyJhbGciOi.x-y_z"></div>`,
	`data-client-token="" data-client-token="t"`,
	`data-client-token="unterminated`,
	`data-client-token="data-client-token="x"`,
	`data-client-token=""`,
}

func TestAttributeScannersMatchTheirRegexps(t *testing.T) {
	for _, page := range attributePages {
		checkScanners(t, []byte(page))
	}
}

func FuzzAttributeScanners(f *testing.F) {
	for _, page := range attributePages {
		f.Add([]byte(page))
	}
	f.Fuzz(checkScanners)
}

func checkScanners(t *testing.T, page []byte) {
	got, ok := CSRFToken(page)
	if want, wantOK := regexpAnswer(csrfRe, page); got != want || ok != wantOK {
		t.Errorf("CSRFToken(%q) = %q, %v; the regexp finds %q, %v", page, got, ok, want, wantOK)
	}
	got, ok = ClientToken(page)
	if want, wantOK := regexpAnswer(clientTokenRe, page); got != want || ok != wantOK {
		t.Errorf("ClientToken(%q) = %q, %v; the regexp finds %q, %v", page, got, ok, want, wantOK)
	}
}

func BenchmarkCSRFToken(b *testing.B) {
	page := make([]byte, 0, 12<<10)
	for len(page) < 10<<10 {
		page = append(page, `<a href="/products/x" class="card">name="other" value="1"</a>`...)
	}
	page = append(page, `<input type="hidden" name="csrf" value="0123456789abcdef0123456789abcdef">`...)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := CSRFToken(page); !ok {
			b.Fatal("no token")
		}
	}
}
