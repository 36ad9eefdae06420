// Package fingerprint names a static file by its content, so that a page can
// link it under a name browsers may cache for ever: the build step
// (internal/assetgen) and the server (package static) must agree on it.
package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"
)

// Name is file with the first 10 hex digits of content's SHA-256 before its
// extension: "css/app.css" becomes "css/app.3f2a9c1b7d.css".
func Name(file string, content []byte) string {
	sum := sha256.Sum256(content)
	ext := path.Ext(file)
	return strings.TrimSuffix(file, ext) + "." + hex.EncodeToString(sum[:5]) + ext
}
