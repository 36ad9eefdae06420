package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRename: the module line, import paths, generated templ code and the
// docs' install commands follow; a longer path that starts the same, and
// files that are not code or docs, are left alone.
func TestRename(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                  "module example.com/old/shop\n\ngo 1.26\n",
		"main.go":                 "package main\n\nimport (\n\t\"example.com/old/shop/klarna\"\n\t_ \"example.com/old/shopx/other\"\n)\n",
		"views/page_templ.go":     "package views\n\nimport \"example.com/old/shop/static\"\n",
		"views/page.templ":        "package views\n\nimport \"example.com/old/shop/static\"\n",
		"README.md":               "go install example.com/old/shop/klarna/simulator/cmd/klarna-sim@latest\n",
		"static/data.json":        "{\"module\": \"example.com/old/shop/x\"}\n",
		"testdata/golden.txt":     "example.com/old/shop/klarna\n",
		"node_modules/x/index.md": "example.com/old/shop/klarna\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := rename(dir, "github.com/acme/shop")
	if err != nil || n != 5 {
		t.Fatalf("rename: %d files, %v", n, err)
	}
	want := map[string]string{
		"go.mod":                  "module github.com/acme/shop\n\ngo 1.26\n",
		"main.go":                 "package main\n\nimport (\n\t\"github.com/acme/shop/klarna\"\n\t_ \"example.com/old/shopx/other\"\n)\n",
		"views/page_templ.go":     "package views\n\nimport \"github.com/acme/shop/static\"\n",
		"views/page.templ":        "package views\n\nimport \"github.com/acme/shop/static\"\n",
		"README.md":               "go install github.com/acme/shop/klarna/simulator/cmd/klarna-sim@latest\n",
		"static/data.json":        files["static/data.json"],
		"testdata/golden.txt":     files["testdata/golden.txt"],
		"node_modules/x/index.md": files["node_modules/x/index.md"],
	}
	for name, body := range want {
		got, _ := os.ReadFile(filepath.Join(dir, name))
		if string(got) != body {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, body)
		}
	}
	if _, err := rename(dir, "not a path"); err == nil {
		t.Error("a bad module path was accepted")
	}
}
