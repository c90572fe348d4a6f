package standalone

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

// startWatcher runs a Watcher of dir until the test ends and returns the
// channel of its snapshots.
func startWatcher(t *testing.T, dir string) <-chan *translate.Snapshot {
	t.Helper()
	log, _ := newCaptureLogger(t)
	w, err := NewWatcher(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	snaps := make(chan *translate.Snapshot, 16)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(s *translate.Snapshot) { snaps <- s }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return snaps
}

// waitForRoutes waits up to within for a snapshot with exactly the routes want.
func waitForRoutes(t *testing.T, snaps <-chan *translate.Snapshot, within time.Duration, want string) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case s := <-snaps:
			if got := strings.Join(routeNames(s), ","); got == want {
				return
			}
		case <-deadline:
			t.Fatalf("no snapshot with routes %q within %v", want, within)
		}
	}
}

func TestWatcherSeesAFileChangeWithinASecond(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", routeYAML("a", "GET /a"))
	snaps := startWatcher(t, dir)
	waitForRoutes(t, snaps, 5*time.Second, "a")

	writeFile(t, dir, "a.yaml", routeYAML("a", "GET /a")+"---\n"+routeYAML("b", "GET /b"))
	waitForRoutes(t, snaps, time.Second, "a,b")

	if err := os.Remove(filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	waitForRoutes(t, snaps, time.Second, "")
}

func TestWatcherPublishesNothingWhenAnEditLeavesTheObjectsUnchanged(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", routeYAML("a", "GET /a"))
	snaps := startWatcher(t, dir)
	waitForRoutes(t, snaps, 5*time.Second, "a")
	writeFile(t, dir, "a.yaml", "# only a comment changed\n"+routeYAML("a", "GET /a"))
	writeFile(t, dir, "b.yaml", routeYAML("b", "GET /b"))
	// b.yaml's snapshot is the first one after the edits: the comment-only
	// edit of a.yaml published nothing of its own.
	select {
	case s := <-snaps:
		if got := strings.Join(routeNames(s), ","); got != "a,b" {
			t.Fatalf("first snapshot after the edits has routes %q, want a,b", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no snapshot after adding b.yaml")
	}
}

// configMapMount lays out dir the way the kubelet mounts a ConfigMap: the
// data in a timestamped directory, ..data pointing at it, and every key a
// symlink through ..data.
type configMapMount struct {
	t   *testing.T
	dir string
}

func (m configMapMount) publish(version string, files map[string]string) {
	m.t.Helper()
	real := filepath.Join(m.dir, "..2026_"+version)
	if err := os.Mkdir(real, 0o755); err != nil {
		m.t.Fatal(err)
	}
	for name, content := range files {
		writeFile(m.t, real, name, content)
		link := filepath.Join(m.dir, name)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
				m.t.Fatal(err)
			}
		}
	}
	tmp := filepath.Join(m.dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(real), tmp); err != nil {
		m.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(m.dir, "..data")); err != nil {
		m.t.Fatal(err)
	}
}

func TestWatcherSeesTheSymlinkSwapOfAMountedConfigMap(t *testing.T) {
	dir := t.TempDir()
	mount := configMapMount{t: t, dir: dir}
	mount.publish("v1", map[string]string{"routes.yaml": routeYAML("a", "GET /a")})
	snaps := startWatcher(t, dir)
	waitForRoutes(t, snaps, 5*time.Second, "a")

	mount.publish("v2", map[string]string{"routes.yaml": routeYAML("a", "GET /a") + "---\n" + routeYAML("b", "GET /b")})
	waitForRoutes(t, snaps, time.Second, "a,b")
}

func TestWatcherKeepsTheLastGoodVersionWhenAWatchedFileBreaks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", routeYAML("a", "GET /a"))
	snaps := startWatcher(t, dir)
	waitForRoutes(t, snaps, 5*time.Second, "a")
	writeFile(t, dir, "a.yaml", routeYAML("a", "FETCH a"))
	writeFile(t, dir, "b.yaml", routeYAML("b", "GET /b"))
	waitForRoutes(t, snaps, 2*time.Second, "a,b")
}

func TestNewWatcherFailsForAMissingDirectory(t *testing.T) {
	log, _ := newCaptureLogger(t)
	if _, err := NewWatcher(filepath.Join(t.TempDir(), "missing"), log); err == nil {
		t.Fatal("NewWatcher accepted a directory that does not exist")
	}
}
