// Package etag evaluates If-None-Match for the shop's pages and its static
// files (RFC 9110, section 13.1.2).
package etag

import "strings"

// Match reports whether an If-None-Match header names tag: "*" (any
// current representation), or the tag itself, weak or strong, since
// If-None-Match compares weakly. A GET that matches is answered 304.
func Match(ifNoneMatch, tag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	for t := range strings.SplitSeq(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}
