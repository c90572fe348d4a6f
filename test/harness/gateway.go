package harness

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Gateway is the built turnpike binary running as a subprocess with
// loopback listeners; its access log (stdout) and operational log (stderr)
// are kept, and the log is printed when the test fails.
type Gateway struct {
	Cmd                                 *exec.Cmd
	HTTP, HTTPS, Health, Admin, Metrics string
	// AccessLog is the process's stdout; Log its stderr.
	AccessLog, Log *Buffer
}

// StartGateway runs `turnpike <args>` with loopback listeners (flags after
// args win over args') and waits until /readyz answers 200. The process is
// interrupted at cleanup.
func StartGateway(t testing.TB, args ...string) *Gateway {
	t.Helper()
	g := &Gateway{HTTP: FreeAddr(t), HTTPS: FreeAddr(t), Health: FreeAddr(t), Admin: FreeAddr(t), Metrics: FreeAddr(t),
		AccessLog: &Buffer{}, Log: &Buffer{}}
	args = append(args,
		"--http-addr="+g.HTTP, "--https-addr="+g.HTTPS, "--health-addr="+g.Health, "--admin-addr="+g.Admin,
		"--metrics-addr="+g.Metrics, "--shutdown-delay=0s", "--log-format=text")
	g.Cmd = exec.Command(Build(t, "./cmd/turnpike"), args...)
	g.Cmd.Stdout, g.Cmd.Stderr = g.AccessLog, g.Log
	if err := g.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = g.Cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = g.Cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = g.Cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("gateway output:\n%s", g.Log.String())
		}
	})
	Eventually(t, 60*time.Second, "gateway ready", func() error {
		resp, err := http.Get("http://" + g.Health + "/readyz")
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
