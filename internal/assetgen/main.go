// Command assetgen fingerprints and precompresses the shop's static files
// at build time (go generate ./static): for each file it writes a gzip and a
// brotli copy under static/gen/, named by its content (package fingerprint),
// and static/gen/manifest.json mapping each file to that name. The
// shop then serves every asset under a name that changes with its content,
// cached for a year, in the encoding the browser prefers, without
// compressing anything at run time.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/andybalholm/brotli"

	"github.com/fikaandform/storefront/internal/fingerprint"
)

// Entry is one asset in the manifest.
type Entry struct {
	// Name is the fingerprinted path below /static/, e.g.
	// "css/app.3f2a9c1b7d.css".
	Name string `json:"name"`
	// Gzip and Brotli are the compressed copies in gen/, empty when
	// compressing did not make the file smaller.
	Gzip   string `json:"gzip,omitempty"`
	Brotli string `json:"br,omitempty"`
}

func main() {
	if err := run("."); err != nil {
		fmt.Fprintln(os.Stderr, "assetgen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	out := filepath.Join(root, "gen")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	manifest := map[string]Entry{}
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == "gen" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return err
		}
		e := Entry{Name: fingerprint.Name(p, b)}
		if compressible(path.Ext(p)) {
			if e.Gzip, err = write(out, e.Name+".gz", b, gz); err != nil {
				return err
			}
			if e.Brotli, err = write(out, e.Name+".br", b, br); err != nil {
				return err
			}
		}
		manifest[p] = e
		return nil
	})
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(manifest))
	for k := range manifest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteString("{\n")
	for i, k := range keys {
		v, _ := json.Marshal(manifest[k])
		kj, _ := json.Marshal(k)
		fmt.Fprintf(&buf, "  %s: %s", kj, v)
		if i < len(keys)-1 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("}\n")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), buf.Bytes(), 0o644)
}

func compressible(ext string) bool {
	switch ext {
	case ".css", ".js", ".svg", ".json", ".txt", ".html":
		return true
	}
	return false
}

func gz(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	w.Write(b)
	err = w.Close()
	return buf.Bytes(), err
}

func br(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	w.Write(b)
	err := w.Close()
	return buf.Bytes(), err
}

// write stores a compressed copy, and returns its name in gen/, or "" when
// it is not smaller than the original.
func write(out, name string, b []byte, compress func([]byte) ([]byte, error)) (string, error) {
	c, err := compress(b)
	if err != nil {
		return "", err
	}
	if len(c) >= len(b) {
		return "", nil
	}
	p := filepath.Join(out, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return name, os.WriteFile(p, c, 0o644)
}
