package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

// TestAGatewayThatNeverBecameReadyExitsWithoutItsShutdownDelay starts serve
// mode against an API server that does not exist: the gateway never gets a
// table, so no Service ever routed to it, and on SIGTERM it exits at once
// instead of sitting out a one-hour --shutdown-delay.
func TestAGatewayThatNeverBecameReadyExitsWithoutItsShutdownDelay(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	nowhere := harness.FreeAddr(t) // nothing listens there
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://%s", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, nowhere)), 0o600); err != nil {
		t.Fatal(err)
	}
	health := harness.FreeAddr(t)
	out := &harness.Buffer{}
	cmd := exec.Command(harness.Build(t, "./cmd/turnpike"), "serve", "--kubeconfig="+kubeconfig,
		"--http-addr="+harness.FreeAddr(t), "--https-addr=", "--health-addr="+health, "--admin-addr=", "--metrics-addr=",
		"--shutdown-delay=1h", "--log-format=text")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	harness.Eventually(t, 30*time.Second, "the gateway answers /readyz, not ready", func() error {
		resp, err := http.Get("http://" + health + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Logf("exited: %v", err) // SIGINT during startup may end with an error; only the time matters
	case <-time.After(20 * time.Second):
		t.Fatalf("a gateway that never became ready waited for its shutdown delay:\n%s", out.String())
	}
}
