package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/fikaandform/storefront/internal/fingerprint"
)

func get(t *testing.T, path string, header ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w.Result()
}

func TestFingerprintedAssets(t *testing.T) {
	original, err := fs.ReadFile(FS, "css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	p := strings.TrimPrefix(Path("css/app.css"), "/static")
	if p == "/css/app.css" || !strings.HasPrefix(p, "/css/app.") {
		t.Fatalf("not fingerprinted: %s", p)
	}
	for _, tc := range []struct {
		accept, encoding string
		decode           func(io.Reader) (io.Reader, error)
	}{
		{"br, gzip", "br", func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }},
		{"gzip;q=1, br;q=0", "gzip", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"", "", func(r io.Reader) (io.Reader, error) { return r, nil }},
	} {
		resp := get(t, p, "Accept-Encoding", tc.accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tc.encoding ||
			resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" {
			t.Errorf("%q: %d %v", tc.accept, resp.StatusCode, resp.Header)
			continue
		}
		r, err := tc.decode(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(r); !bytes.Equal(b, original) {
			t.Errorf("%q: the decoded body is not the file", tc.accept)
		}
	}
	etag := get(t, p).Header.Get("ETag")
	if resp := get(t, p, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d", resp.StatusCode)
	}
	// The plain name still works, briefly cached (Klarna shows product
	// images by it).
	if resp := get(t, "/art/mug.svg"); resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("plain name: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	for _, missing := range []string{"/css/", "/", "/gen/manifest.json", "/css/app.0000000000.css", "/nope.css"} {
		if resp := get(t, missing); resp.StatusCode != 404 {
			t.Errorf("%s: %d", missing, resp.StatusCode)
		}
	}
}

// TestManifestIsCurrent fails when a static file changed without go
// generate ./static: its fingerprint would no longer match its content.
func TestManifestIsCurrent(t *testing.T) {
	for file, e := range manifest {
		b, err := fs.ReadFile(FS, file)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if want := fingerprint.Name(file, b); e.Name != want {
			t.Errorf("%s changed: manifest says %s, content says %s; run go generate ./static", file, e.Name, want)
		}
	}
	fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(p, "gen/") {
			if _, ok := manifest[p]; !ok {
				t.Errorf("%s is not in the manifest; run go generate ./static", p)
			}
		}
		return nil
	})
}

// TestEachEncodingHasItsOwnValidator: the brotli, gzip and identity bodies
// of an asset are different representations. A cache that revalidates its
// brotli copy for a client taking only identity must get the identity body,
// not a 304 that lets it serve brotli; each copy revalidates against its own
// tag, weak or strong, or "*".
func TestEachEncodingHasItsOwnValidator(t *testing.T) {
	p := strings.TrimPrefix(Path("css/app.css"), "/static")
	tags := map[string]string{}
	for _, accept := range []string{"br", "gzip", ""} {
		resp := get(t, p, "Accept-Encoding", accept)
		if resp.Header.Get("Content-Encoding") != accept {
			t.Fatalf("%q: served %q", accept, resp.Header.Get("Content-Encoding"))
		}
		tag := resp.Header.Get("ETag")
		for other, otherTag := range tags {
			if tag == otherTag {
				t.Errorf("%q and %q share the validator %s", accept, other, tag)
			}
		}
		tags[accept] = tag
		for _, header := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
			if resp := get(t, p, "Accept-Encoding", accept, "If-None-Match", header); resp.StatusCode != http.StatusNotModified {
				t.Errorf("%q revalidated with %s: %d", accept, header, resp.StatusCode)
			}
		}
	}
	for accept, tag := range tags {
		for other, otherTag := range tags {
			if other == accept {
				continue
			}
			if resp := get(t, p, "Accept-Encoding", accept, "If-None-Match", otherTag); resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != tag {
				t.Errorf("%q revalidated with the %q copy's %s: %d, ETag %s", accept, other, otherTag, resp.StatusCode, resp.Header.Get("ETag"))
			}
		}
	}
}

// TestRefusedEncodingsAreNotServed: a quality of zero refuses a coding
// however it is written (parameter names are case-insensitive); one that
// does not parse refuses it too, identity being always safe.
func TestRefusedEncodingsAreNotServed(t *testing.T) {
	for header, want := range map[string]bool{
		"gzip": true, "GZIP": true, "gzip;q=0.5": true, "gzip; q=1": true, "br, gzip;level=1": true,
		"gzip;q=0": false, "gzip;Q=0": false, "gzip; q=0.": false, "gzip;q=0.000": false, "gzip;q=x": false, "br": false, "": false,
	} {
		if got := acceptsEncoding(header, "gzip"); got != want {
			t.Errorf("Accept-Encoding %q takes gzip: %v, want %v", header, got, want)
		}
	}
}
