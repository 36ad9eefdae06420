// Package static holds the shop's CSS, scripts and artwork, embedded in the
// binary so that nothing is fetched from a CDN.
package static

import "embed"

// FS is the static folder.
//
//go:embed css js art favicon.svg
var FS embed.FS
