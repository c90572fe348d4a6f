package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binaries are built once per test run into a temporary directory.
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func buildBinaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "turnpike-e2e-bin")
		if buildErr != nil {
			return
		}
		for _, pkg := range []string{"./cmd/turnpike", "./hack/demo-backend"} {
			cmd := exec.Command("go", "build", "-o", binDir, pkg)
			cmd.Dir = repoRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %w: %s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects a process's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// gatewayProcess is the built turnpike binary running as a subprocess.
type gatewayProcess struct {
	cmd    *exec.Cmd
	http   string
	health string
	admin  string
	out    *syncBuffer
	// https is the HTTPS listener of custom domains.
	https string
	// metrics serves the Prometheus registry at /metrics.
	metrics string
}

// startGateway runs `turnpike <args>` with loopback listeners and waits until
// /readyz answers 200.
func startGateway(t *testing.T, args ...string) *gatewayProcess {
	t.Helper()
	g := &gatewayProcess{http: freeAddr(t), https: freeAddr(t), health: freeAddr(t), admin: freeAddr(t), metrics: freeAddr(t), out: &syncBuffer{}}
	args = append(args,
		"--http-addr="+g.http, "--https-addr="+g.https, "--health-addr="+g.health, "--admin-addr="+g.admin,
		"--metrics-addr="+g.metrics, "--shutdown-delay=0s", "--log-format=text")
	g.cmd = exec.Command(filepath.Join(buildBinaries(t), "turnpike"), args...)
	g.cmd.Stdout, g.cmd.Stderr = io.Discard, g.out // stdout is the access log
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = g.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = g.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = g.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("gateway output:\n%s", g.out.String())
		}
	})
	eventually(t, 60*time.Second, "gateway ready", func() error {
		resp, err := http.Get("http://" + g.health + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
	return g
}

// get sends GET path with the Host of the sample Api and returns status and body.
func (g *gatewayProcess) get(path string) (int, string, error) {
	return g.do(http.MethodGet, path)
}

func (g *gatewayProcess) do(method, path string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+g.http+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = "pets.shop.execute-api.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// expect waits until GET path answers status with a body containing want.
func (g *gatewayProcess) expect(t *testing.T, path string, status int, want string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("GET %s -> %d %q", path, status, want), func() error {
		code, body, err := g.get(path)
		if err != nil {
			return err
		}
		if code != status || !strings.Contains(body, want) {
			return fmt.Errorf("got %d %s", code, body)
		}
		return nil
	})
}

// eventually polls fn until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
