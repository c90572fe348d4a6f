// Package harness holds what the process-level test suites share (test/e2e,
// test/browser, test/redis, test/helm): the repository root, the project's
// binaries built once per test process, free loopback ports, a goroutine-safe
// buffer for a subprocess's output, and polling with a deadline.
package harness

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
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

// FreeAddr returns a loopback address with a port nothing listens on now,
// for a subprocess to listen on. The port is drawn at random below the
// kernel's ephemeral range (ip_local_port_range), not from it: a port the
// kernel hands out for ":0" may be handed out again, as the source port of
// any outgoing connection, before the subprocess binds it (a flaky
// "address already in use"). Below the range only another explicit bind
// can take it, and the random draw makes that unlikely.
func FreeAddr(t testing.TB) string {
	t.Helper()
	lo, hi := freePortRange()
	for range 200 {
		port := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		_ = l.Close()
		return addr
	}
	l, err := net.Listen("tcp", "127.0.0.1:0") // the range is crowded: take the kernel's pick
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// freePortRange is the range FreeAddr draws from: [10000, start of the
// ephemeral range), or [10000, 32768) when the range cannot be read.
func freePortRange() (lo, hi int) {
	lo, hi = 10000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	if f := strings.Fields(string(b)); len(f) == 2 {
		if start, err := strconv.Atoi(f[0]); err == nil && start > lo+1000 {
			hi = start
		}
	}
	return lo, hi
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
