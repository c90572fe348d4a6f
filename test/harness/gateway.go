package harness

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Gateway is the built turnpike binary running as a subprocess with loopback
// listeners (test/hardening, test/chaos).
type Gateway struct {
	Cmd                                 *exec.Cmd
	HTTP, HTTPS, Health, Admin, Metrics string
	// Log is the process's log (stderr); Access its access log (stdout).
	Log, Access *Buffer
	exited      chan struct{}
}

// GatewayConfig is how StartGateway runs the binary.
type GatewayConfig struct {
	// Args are the mode and its arguments, e.g. {"standalone", "-f", dir};
	// the listener flags, --shutdown-delay=0s and --log-format=text are
	// appended (a later flag wins, so Args may not override them: use Extra).
	Args []string
	// Extra flags appended after the defaults (they win over them).
	Extra []string
	// Env is added to the test process's environment.
	Env []string
	// Ready is the time to wait for /readyz (default 60 s).
	Ready time.Duration
}

// StartGateway runs the binary and waits until /readyz answers 200. The
// process is stopped with SIGINT at cleanup (killed after 20 s).
//
// Its loopback ports are picked free and then bound by the process, so a
// test running beside it can take one in between; a process that exits
// because a port was taken is started again on other ports (3 tries).
func StartGateway(t testing.TB, c GatewayConfig) *Gateway {
	t.Helper()
	ready := c.Ready
	if ready == 0 {
		ready = 60 * time.Second
	}
	for try := 1; ; try++ {
		g := launchGateway(t, c)
		Eventually(t, ready, "gateway ready", func() error {
			select {
			case <-g.exited:
				return nil // decided below
			default:
				return g.ReadyErr()
			}
		})
		select {
		case <-g.exited:
		default:
			return g
		}
		if try < 3 && strings.Contains(g.Log.String(), "address already in use") {
			t.Logf("gateway exited: a port was taken meanwhile; starting it again on other ports")
			continue
		}
		t.Fatalf("gateway exited before it was ready:\n%s", tail(g.Log.String(), 4000))
	}
}

// launchGateway starts the binary on free loopback ports.
func launchGateway(t testing.TB, c GatewayConfig) *Gateway {
	t.Helper()
	g := &Gateway{HTTP: FreeAddr(t), HTTPS: FreeAddr(t), Health: FreeAddr(t), Admin: FreeAddr(t), Metrics: FreeAddr(t),
		Log: &Buffer{}, Access: &Buffer{}, exited: make(chan struct{})}
	args := append(append([]string{}, c.Args...),
		"--http-addr="+g.HTTP, "--https-addr="+g.HTTPS, "--health-addr="+g.Health, "--admin-addr="+g.Admin,
		"--metrics-addr="+g.Metrics, "--shutdown-delay=0s", "--log-format=text")
	args = append(args, c.Extra...)
	g.Cmd = exec.Command(Build(t, "./cmd/turnpike"), args...)
	g.Cmd.Env = append(os.Environ(), c.Env...)
	g.Cmd.Stdout, g.Cmd.Stderr = g.Access, g.Log
	if err := g.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Cmd.Wait(); close(g.exited) }()
	t.Cleanup(func() {
		g.Stop(20 * time.Second)
		if t.Failed() {
			t.Logf("gateway log:\n%s", tail(g.Log.String(), 8000))
		}
	})
	return g
}

// ReadyErr is nil when /readyz answers 200.
func (g *Gateway) ReadyErr() error { return Readyz(g.Health) }

// Readyz is nil when /readyz on the health listener at addr answers 200.
func Readyz(addr string) error {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get("http://" + addr + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz %d", resp.StatusCode)
	}
	return nil
}

// Stop sends SIGINT and waits up to grace for the process to exit, then
// kills it. It returns whether the process exited by itself.
func (g *Gateway) Stop(grace time.Duration) bool {
	_ = g.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-g.exited:
		return true
	case <-time.After(grace):
		_ = g.Cmd.Process.Kill()
		<-g.exited
		return false
	}
}

// Signal sends sig (e.g. syscall.SIGTERM) to the process.
func (g *Gateway) Signal(sig syscall.Signal) error { return g.Cmd.Process.Signal(sig) }

// Exited is closed when the process has exited.
func (g *Gateway) Exited() <-chan struct{} { return g.exited }

// Memory returns the process's resident set size now and its peak (VmRSS and
// VmHWM of /proc/PID/status), in bytes.
func (g *Gateway) Memory() (rss, peak int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", g.Cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, sc.Err()
}

// Metric returns the value of the first Prometheus sample on /metrics whose
// line starts with name (a metric name, optionally with labels), or an error.
func (g *Gateway) Metric(name string) (float64, error) {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + g.Metrics + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
			f := strings.Fields(line)
			return strconv.ParseFloat(f[len(f)-1], 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
