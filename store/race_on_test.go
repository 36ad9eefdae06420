//go:build race

package store

// raceDetector: the race detector's checkptr refuses the C API calls of
// replans (a Go out-parameter handed to the transpiled SQLite).
const raceDetector = true
