package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

// gatewayProcess is the built turnpike binary running as a subprocess.
type gatewayProcess struct {
	cmd    *exec.Cmd
	http   string
	health string
	admin  string
	out    *harness.Buffer
	// https is the HTTPS listener of custom domains.
	https string
	// metrics serves the Prometheus registry at /metrics.
	metrics string
}

// startGateway runs `turnpike <args>` with loopback listeners and waits until
// /readyz answers 200.
func startGateway(t *testing.T, args ...string) *gatewayProcess {
	t.Helper()
	g := &gatewayProcess{http: harness.FreeAddr(t), https: harness.FreeAddr(t), health: harness.FreeAddr(t), admin: harness.FreeAddr(t), metrics: harness.FreeAddr(t), out: &harness.Buffer{}}
	if !slices.Contains(args, "--https-addr=") { // a test may run without an HTTPS listener
		args = append(args, "--https-addr="+g.https)
	}
	args = append(args,
		"--http-addr="+g.http, "--health-addr="+g.health, "--admin-addr="+g.admin,
		"--metrics-addr="+g.metrics, "--shutdown-delay=0s", "--log-format=text")
	g.cmd = exec.Command(harness.Build(t, "./cmd/turnpike"), args...)
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
	harness.Eventually(t, 60*time.Second, "gateway ready", func() error { return harness.Readyz(g.health) })
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
	harness.Eventually(t, 30*time.Second, fmt.Sprintf("GET %s -> %d %q", path, status, want), func() error {
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
