package standalone

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

// routeKeyOf is the route key of the snapshot's only Route.
func routeKeyOf(t *testing.T, snap *translate.Snapshot) string {
	t.Helper()
	if len(snap.Routes) != 1 {
		t.Fatalf("want one Route, got %d", len(snap.Routes))
	}
	return snap.Routes[0].Spec.RouteKey
}

// rewriteInPlace writes content over name (same inode) and sets its
// modification time to mtime.
func rewriteInPlace(t *testing.T, dir, name, content string, mtime time.Time) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func reloadKey(t *testing.T, l *Loader, trustStat bool) string {
	t.Helper()
	snap, _, err := l.reload(context.Background(), trustStat)
	if err != nil {
		t.Fatal(err)
	}
	return routeKeyOf(t, snap)
}

// TestAReloadThatTrustsStatSkipsOnlyFilesWhoseStatVouchesForThem: after
// file events the Watcher does not read files whose os.Stat is unchanged
// since they were read. A rewrite that keeps inode, size and an old
// modification time goes unseen there (the periodic full rescan sees it);
// a rewrite within statMargin of the read is seen even when it restores the
// modification time; a file replaced by a rename is seen.
func TestAReloadThatTrustsStatSkipsOnlyFilesWhoseStatVouchesForThem(t *testing.T) {
	dir := t.TempDir()
	l, err := NewLoader(dir, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	rewriteInPlace(t, dir, "r.yaml", routeYAML("r", "GET /a"), old)
	if got := reloadKey(t, l, true); got != "GET /a" {
		t.Fatalf("first load: %q", got)
	}

	rewriteInPlace(t, dir, "r.yaml", routeYAML("r", "GET /b"), old) // same size, inode and mtime
	if got := reloadKey(t, l, true); got != "GET /a" {
		t.Fatalf("a stat that vouches for the file: want it not read again, got %q", got)
	}
	if got := reloadKey(t, l, false); got != "GET /b" {
		t.Fatalf("the full rescan must read it: got %q", got)
	}

	aside := filepath.Join(dir, ".r.yaml.tmp")
	if err := os.WriteFile(aside, []byte(routeYAML("r", "GET /e")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(aside, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(aside, filepath.Join(dir, "r.yaml")); err != nil {
		t.Fatal(err)
	}
	if got := reloadKey(t, l, true); got != "GET /e" {
		t.Fatalf("a file renamed in (another inode): got %q", got)
	}

	recent := time.Now().Truncate(time.Second)
	rewriteInPlace(t, dir, "r.yaml", routeYAML("r", "GET /c"), recent)
	if got := reloadKey(t, l, true); got != "GET /c" {
		t.Fatalf("a new modification time: got %q", got)
	}
	rewriteInPlace(t, dir, "r.yaml", routeYAML("r", "GET /d"), recent) // within statMargin of the read
	if got := reloadKey(t, l, true); got != "GET /d" {
		t.Fatalf("a rewrite in the timestamp tick of the read: want it read, got %q", got)
	}
}
