// Package e2e drives the real shop binary, with its built-in Klarna
// simulator, in headless Chromium, and kills it mid-placement to check that
// no order is lost or placed twice. It holds tests only. Without a browser
// the browser tests skip, except under CI=true, where they fail.
package e2e
