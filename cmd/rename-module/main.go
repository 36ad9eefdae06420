// Command rename-module gives a fork of this shop its own module path: it
// rewrites go.mod and every import path, and the path where the docs and
// build files name it, in one step.
//
//	go run ./cmd/rename-module github.com/acme/shop
//
// Then `go build ./... && go test ./...`. The generated templ files are
// rewritten like the rest, so `go tool templ generate` is not needed.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run ./cmd/rename-module <new module path, e.g. github.com/acme/shop>")
		os.Exit(2)
	}
	n, err := rename(".", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "rename-module:", err)
		os.Exit(1)
	}
	fmt.Printf("rewrote %d files; now run: go build ./... && go test ./...\n", n)
}

// rewritten are the files that may name the module path.
var rewritten = regexp.MustCompile(`(\.go|\.templ|\.md|\.mod|\.yaml|\.yml|/Makefile|/Dockerfile|/\.ci/run)$`)

// rename moves the module in dir to the path to and returns how many files
// it changed.
func rename(dir, to string) (int, error) {
	if err := module.CheckPath(to); err != nil {
		return 0, fmt.Errorf("%q is not a module path: %w", to, err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return 0, err
	}
	from := modfile.ModulePath(gomod)
	if from == "" {
		return 0, errors.New("go.mod names no module")
	}
	if from == to {
		return 0, nil
	}
	// The path as a whole word: followed by a slash, a quote, the end of a
	// word; never a longer path that starts the same.
	word := regexp.MustCompile(regexp.QuoteMeta(from) + `\b(/|"|\s|$|@|\x60|\))`)
	n := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !rewritten.MatchString("/" + filepath.ToSlash(path)) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out := word.ReplaceAllFunc(b, func(m []byte) []byte {
			return append([]byte(to), m[len(from):]...)
		})
		if bytes.Equal(out, b) {
			return nil
		}
		n++
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(path, out, info.Mode().Perm())
	})
	if err != nil {
		return n, err
	}
	if !strings.Contains(string(mustRead(filepath.Join(dir, "go.mod"))), "module "+to) {
		return n, errors.New("go.mod was not rewritten")
	}
	return n, nil
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}
