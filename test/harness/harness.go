// Package harness holds what the process-level test suites share (test/e2e,
// test/browser, test/redis, test/helm): the repository root, the project's
// binaries built once per test process, free loopback ports, a goroutine-safe
// buffer for a subprocess's output, and polling with a deadline.
package harness

import (
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// RepoRoot is the module root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
	// borrowed are binaries of another process (UseBuilt): never removed.
	borrowed = map[string]bool{}
)

// Build compiles the main package pkg (a path relative to the module root,
// e.g. "./cmd/turnpike") once per test process and returns the binary's path.
// A failed build fails the test with the compiler's output.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := built[pkg]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "turnpike-test-bin-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, path.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	built[pkg] = bin
	return bin
}

// UseBuilt makes Build return bin for pkg (a binary built by a parent test
// process, e.g. one that re-runs a test inside a network namespace);
// RemoveBuilt leaves it to its owner.
func UseBuilt(pkg, bin string) {
	buildMu.Lock()
	defer buildMu.Unlock()
	built[pkg] = bin
	borrowed[pkg] = true
}

// RemoveBuilt deletes the binaries Build made; call it from TestMain after
// m.Run.
func RemoveBuilt() {
	buildMu.Lock()
	defer buildMu.Unlock()
	for pkg, bin := range built {
		if !borrowed[pkg] {
			_ = os.RemoveAll(filepath.Dir(bin))
		}
		delete(built, pkg)
	}
}

// FreeAddr returns a loopback address with a port nothing listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Buffer collects a subprocess's output; safe for concurrent Write and String.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Eventually polls fn every 100 ms until it returns nil, and fails the test
// with fn's last error when timeout passes first.
func Eventually(t testing.TB, timeout time.Duration, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
