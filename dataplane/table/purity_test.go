package table

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The table is plain data (package doc): it, and everything of ours it
// links, starts no goroutine and imports no network client, server or
// logger. depguard (.golangci.yml, table-is-plain-data) checks the table's
// own imports; this test follows them through our packages and also looks
// for go statements, which no import rule can see.
func TestTheTableLinksOnlyPlainData(t *testing.T) {
	const module = "github.com/turnpike-io/turnpike/"
	forbidden := []string{"net/http", "log", "log/slog", "os/exec", "github.com/go-logr/logr", "k8s.io/klog/v2",
		module + "dataplane/accesslog", module + "dataplane/proxy", module + "dataplane/throttle"}
	seen := map[string]bool{}
	var walk func(path string)
	walk = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		pkg, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, imp := range pkg.Imports {
			if slices.Contains(forbidden, imp) {
				t.Errorf("%s imports %s", path, imp)
			}
			if strings.HasPrefix(imp, module) {
				walk(imp)
			} else if strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				t.Errorf("%s imports %s, a third-party package: keep the table's closure to the standard library and our pure packages", path, imp)
			}
		}
		for _, f := range pkg.GoFiles {
			checkNoGoStatement(t, filepath.Join(pkg.Dir, f))
		}
	}
	walk(module + "dataplane/table")
	if len(seen) < 2 {
		t.Fatalf("walked only %v", seen)
	}
}

func checkNoGoStatement(t *testing.T, file string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if _, ok := n.(*ast.GoStmt); ok {
			t.Errorf("%s starts a goroutine", file)
		}
		return true
	})
}
