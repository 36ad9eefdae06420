// Package static holds the shop's CSS, scripts and artwork, embedded in the
// binary so that nothing is fetched from a CDN, and serves them.
//
// At build time, go generate fingerprints and precompresses every file
// (internal/assetgen writes gen/): pages link each asset by a name that
// changes with its content (Path), which browsers and proxies may keep for a
// year, and the server picks the brotli or gzip copy the browser accepts.
// The plain names keep working, with a short cache, for links that must not
// change (the product images Klarna shows).
package static

//go:generate go run ../internal/assetgen

import (
	"embed"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/fikaandform/storefront/internal/etag"
)

// FS is the static folder, with the generated copies under gen/.
//
//go:embed css js art favicon.svg gen
var FS embed.FS

type entry struct {
	Name   string `json:"name"`
	Gzip   string `json:"gzip,omitempty"`
	Brotli string `json:"br,omitempty"`
}

var (
	// manifest maps a file ("css/app.css") to its fingerprinted name and
	// compressed copies; byName maps the fingerprinted name back.
	manifest = map[string]entry{}
	byName   = map[string]string{}
)

func init() {
	// The manifest is generated with the files it names and embedded with
	// them: reading it cannot fail in a built binary.
	b, err := FS.ReadFile("gen/manifest.json")
	if err != nil {
		panic("static: gen/manifest.json missing: run go generate ./static")
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		panic("static: gen/manifest.json: " + err.Error())
	}
	for file, e := range manifest {
		byName[e.Name] = file
	}
}

// Path is the URL of an asset under its fingerprinted name, e.g.
// Path("css/app.css") = "/static/css/app.3f2a9c1b7d.css". An unknown file
// keeps its plain name.
func Path(file string) string {
	if e, ok := manifest[file]; ok {
		return "/static/" + e.Name
	}
	return "/static/" + file
}

// Handler serves the assets below /static/ (the prefix already stripped):
// fingerprinted names with a year of immutable caching, plain names with
// five minutes, each in the best encoding the client accepts. Directories
// are not listed.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		file, immutable := byName[name]
		if !immutable {
			file = name
		}
		e, ok := manifest[file]
		if !ok {
			notFound(w, r)
			return
		}
		h := w.Header()
		if immutable {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		ctype := mime.TypeByExtension(path.Ext(file))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		h.Set("Content-Type", ctype)
		src, enc := file, ""
		if e.Gzip != "" || e.Brotli != "" {
			h.Add("Vary", "Accept-Encoding")
			switch accepts := r.Header.Get("Accept-Encoding"); {
			case e.Brotli != "" && acceptsEncoding(accepts, "br"):
				src, enc = "gen/"+e.Brotli, "br"
			case e.Gzip != "" && acceptsEncoding(accepts, "gzip"):
				src, enc = "gen/"+e.Gzip, "gzip"
			}
		}
		// Each encoding is a representation of its own, with its own
		// strong validator: a cache revalidating its gzip copy for a client
		// that takes only identity must not be told it is still good.
		tag := `"` + e.Name + `"`
		if enc != "" {
			tag = `"` + e.Name + "." + enc + `"`
		}
		h.Set("ETag", tag)
		if etag.Match(r.Header.Get("If-None-Match"), tag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		b, err := fs.ReadFile(FS, src)
		if err != nil {
			notFound(w, r)
			return
		}
		if enc != "" {
			h.Set("Content-Encoding", enc)
		}
		h.Set("Content-Length", strconv.Itoa(len(b)))
		h.Set("Last-Modified", built)
		if r.Method != http.MethodHead {
			w.Write(b)
		}
	})
}

// notFound answers 404 that no cache may keep: during a rolling deploy an
// older instance does not know a newer build's fingerprinted names, which
// are meant to be kept for a year once they exist.
func notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.NotFound(w, r)
}

// built is a fixed Last-Modified: embedded files have no time of their own,
// and the ETag (the content's hash) is what validates them.
var built = time.Unix(0, 0).UTC().Format(http.TimeFormat)

// acceptsEncoding reports whether an Accept-Encoding header takes coding
// with a non-zero quality. Parameter names are case-insensitive; a
// quality that does not parse refuses the coding, since identity, always
// served, is the safe answer.
func acceptsEncoding(header, coding string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		for param := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
			if !strings.EqualFold(strings.TrimSpace(k), "q") {
				continue
			}
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}
