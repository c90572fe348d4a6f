package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/test/harness"
)

// TestServeModeEditsAreLiveWithin5sAfterAPIServerOutages kills the
// kube-apiserver (SIGKILL, etcd stays up) under a gateway serving steady
// traffic, for 5, 20 and 60 seconds in a row. Not one request may fail, and
// each time an edit made as soon as the API server is ready again is served
// within 5 seconds (client-go's informer backoff took 11 to 75 s, issue 19).
// The gateway logs each outage once when it loses its watches and once when
// they are back.
func TestServeModeEditsAreLiveWithin5sAfterAPIServerOutages(t *testing.T) {
	c := startCluster(t)
	if _, err := c.kubectl(t, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples")); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=false")
	g.expect(t, "/prod/health", 200, `{"status":"ok"}`)
	stopTraffic := steadyTraffic(t, g, "/prod/pets/7/toys")

	for i, outage := range []time.Duration{5 * time.Second, 20 * time.Second, 60 * time.Second} {
		killAPIServer(t, c)
		time.Sleep(outage)
		if err := c.env.ControlPlane.APIServer.Start(); err != nil {
			t.Fatalf("restart the API server: %v", err)
		}
		ready := waitAPIServerReady(t, c)
		body := fmt.Sprintf(`{"status":"ok","after":%d}`, i)
		patched := patchHealthBody(t, c, body)
		live := waitBody(t, g, "/prod/health", body)
		t.Logf("outage %v: API server ready, edit accepted %v later, served %v after the API server was ready",
			outage, patched.Sub(ready).Round(time.Millisecond), live.Sub(ready).Round(time.Millisecond))
		if d := live.Sub(ready); d > 5*time.Second {
			t.Errorf("outage %v: the edit went live %v after the API server was ready; want at most 5s", outage, d)
		}
		// Watches the edit did not need may come back a moment later; the
		// next outage starts once every watch is back.
		harness.Eventually(t, 15*time.Second, "\"watches are back\" after this outage", func() error {
			if n := strings.Count(g.out.String(), "watches are back"); n != i+1 {
				return fmt.Errorf("%d lines", n)
			}
			return nil
		})
	}
	sent, failed, first := stopTraffic()
	if failed != 0 {
		t.Fatalf("%d of %d requests failed across the outages; first: %s", failed, sent, first)
	}
	t.Logf("%d requests, none failed, across three API server outages", sent)
	if n := strings.Count(g.out.String(), "watches lost"); n != 3 {
		t.Errorf("want one \"watches lost\" line per outage (3), got %d", n)
	}
	metrics := g.scrape(t)
	if !strings.Contains(metrics, `turnpike_watch_up{resource="routes.turnpike.io"} 1`) ||
		!strings.Contains(metrics, "turnpike_watch_last_sync_timestamp_seconds{") {
		t.Errorf("watch metrics missing or down:\n%s", grepLines(metrics, "turnpike_watch_"))
	}
}

// steadyTraffic sends GET path from 4 goroutines until the returned function
// is called, which reports how many requests were sent and failed.
func steadyTraffic(t *testing.T, g *gatewayProcess, path string) func() (sent, failed int64, first string) {
	t.Helper()
	var nSent, nFailed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, body, err := g.get(path)
				nSent.Add(1)
				if err != nil || code != http.StatusOK {
					nFailed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s %v", code, body, err))
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	return func() (int64, int64, string) {
		close(stop)
		wg.Wait()
		f, _ := firstFailure.Load().(string)
		return nSent.Load(), nFailed.Load(), f
	}
}

// killAPIServer kills the test's kube-apiserver with SIGKILL, as a crash
// would (envtest's Stop sends SIGTERM first), and waits until it is gone.
// The process is found by its own secure port, so only this test's API
// server is ever signalled.
func killAPIServer(t *testing.T, c *cluster) {
	t.Helper()
	port := c.env.ControlPlane.APIServer.Port
	pid := 0
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if strings.HasSuffix(args[0], "kube-apiserver") && containsArg(args, "--secure-port="+port) {
			if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if pid == 0 {
		t.Fatalf("no kube-apiserver process with --secure-port=%s", port)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	harness.Eventually(t, 20*time.Second, "the API server process is gone", func() error {
		if err := syscall.Kill(pid, 0); err == nil {
			if state, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); !strings.Contains(string(state), ") Z ") {
				return fmt.Errorf("process %d still runs", pid)
			}
		}
		return nil
	})
}

func containsArg(args []string, want string) bool {
	for _, a := range args {
		if a == want {
			return true
		}
	}
	return false
}

// waitAPIServerReady polls the API server's /readyz and returns when it
// first answers ok.
func waitAPIServerReady(t *testing.T, c *cluster) time.Time {
	t.Helper()
	var ready time.Time
	harness.Eventually(t, 60*time.Second, "API server /readyz", func() error {
		out, err := c.clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		ready = time.Now()
		return nil
	})
	return ready
}

// patchHealthBody sets the MOCK body of the sample Route health, retrying
// until the API server takes it, and returns when it did.
func patchHealthBody(t *testing.T, c *cluster, body string) time.Time {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"integration":{"mock":{"body":%q}}}}`, body)
	var done time.Time
	harness.Eventually(t, 30*time.Second, "patch Route health", func() error {
		r := &v1alpha1.Route{}
		r.Namespace, r.Name = "shop", "health"
		err := c.client.Patch(context.Background(), r, client.RawPatch(types.MergePatchType, []byte(patch)))
		done = time.Now()
		return err
	})
	return done
}

// waitBody polls GET path every 20 ms until the body is want and returns
// when it first was.
func waitBody(t *testing.T, g *gatewayProcess, path, want string) time.Time {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if _, body, err := g.get(path); err == nil && body == want {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("GET %s never answered %s", path, want)
	return time.Time{}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeModeServesReinstalledCRDsWithin5s deletes the CRDs under a running
// gateway (which drops every object of the five kinds), installs them again
// and applies the samples: they are served within 5 seconds of being applied
// (client-go's informer backoff made it 48.7 s, issue 19).
func TestServeModeServesReinstalledCRDsWithin5s(t *testing.T) {
	c := startCluster(t)
	samples := filepath.Join(harness.RepoRoot(), "config", "samples")
	crds := filepath.Join(harness.RepoRoot(), "config", "crd", "bases")
	if _, err := c.kubectl(t, "apply", "-k", samples); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=false")
	g.expect(t, "/prod/health", 200, `{"status":"ok"}`)

	if out, err := c.kubectl(t, "delete", "-f", crds, "--wait=true", "--timeout=60s"); err != nil {
		t.Fatalf("delete CRDs: %v\n%s", err, out)
	}
	g.expect(t, "/prod/health", 404, "Not Found") // the Api is gone with its CRD
	time.Sleep(3 * time.Second)                   // the watches fail meanwhile

	if out, err := c.kubectl(t, "apply", "--server-side", "-f", crds); err != nil {
		t.Fatalf("apply CRDs: %v\n%s", err, out)
	}
	if out, err := c.kubectl(t, "wait", "--for=condition=Established", "--timeout=60s", "-f", crds); err != nil {
		t.Fatalf("CRDs not established: %v\n%s", err, out)
	}
	var applied time.Time
	harness.Eventually(t, 60*time.Second, "apply the samples again", func() error {
		_, err := c.kubectl(t, "apply", "-k", samples)
		applied = time.Now()
		return err
	})
	live := waitBody(t, g, "/prod/health", `{"status":"ok"}`)
	t.Logf("samples served %v after they were applied to the reinstalled CRDs", live.Sub(applied).Round(time.Millisecond))
	if d := live.Sub(applied); d > 5*time.Second {
		t.Errorf("reinstalled CRDs: served %v after apply; want at most 5s", d)
	}
}
