package chaos

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

// serviceFixture is an Api whose routes go to a plain HTTP backend (SERVICE,
// loopback EndpointSlice; standalone mode takes loopback addresses).
const serviceFixture = apiAndStage + `apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: all, namespace: shop}
spec:
  apiName: pets
  routeKey: ANY /{proxy+}
  integration: {type: SERVICE, service: {name: backend, port: 80}}
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec:
  ports: [{name: http, port: 80}]
`

// endpointSlice lists loopback ports as the backend Service's endpoints
// (one address per port is not possible in a slice: one slice per port).
func endpointSlice(ports ...string) string {
	var b strings.Builder
	for i, p := range ports {
		fmt.Fprintf(&b, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: backend-%d, namespace: shop, labels: {kubernetes.io/service-name: backend}}
addressType: IPv4
ports: [{name: http, port: %s, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
`, i, p)
	}
	return b.String()
}

func portOf(url string) string { return url[strings.LastIndex(url, ":")+1:] }

// TestSIGTERMUnderLoadLosesNothing runs 2,000 requests/s through the gateway
// and sends it SIGTERM: readiness turns false at once; the load generator
// stops sending 200 ms after it sees that (a load balancer removing the
// endpoint), well within --shutdown-delay; a request in flight across the
// listener's close finishes in the drain. Zero failed requests, zero reset
// connections, and the process exits 0 within shutdown delay plus drain.
func TestSIGTERMUnderLoadLosesNothing(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(4 * time.Second)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)
	dir := t.TempDir()
	writeFile(t, dir, "api.yaml", serviceFixture+endpointSlice(portOf(backend.URL)))
	g := harness.StartGateway(t, harness.GatewayConfig{Args: []string{"standalone", "-f", dir},
		Extra: []string{"--shutdown-delay=2s", "--drain-timeout=10s"}})

	var load tally
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		attack(&load, 2000, 30*time.Second, stop, nil,
			target{name: "get", method: "GET", url: "http://" + g.HTTP + "/prod/pets", header: hostHeader(host), judge: want(200)})
	}()
	time.Sleep(3 * time.Second)

	slow := make(chan string, 1)
	go func() { // in flight when the listener closes; answered in the drain
		req, _ := http.NewRequest("GET", "http://"+g.HTTP+"/prod/slow", nil)
		req.Host = host
		res, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
		if err != nil {
			slow <- err.Error()
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		slow <- fmt.Sprintf("%d %s", res.StatusCode, body)
	}()
	time.Sleep(100 * time.Millisecond)
	sigterm := time.Now()
	if err := g.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 5*time.Second, "readiness to turn false", func() error {
		if g.ReadyErr() == nil {
			return os.ErrDeadlineExceeded
		}
		return nil
	})
	notReady := time.Since(sigterm)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	<-done
	select {
	case <-g.Exited():
	case <-time.After(15 * time.Second):
		t.Fatal("the gateway did not exit within shutdown delay plus drain")
	}
	exited := time.Since(sigterm)
	load.check(t, "SIGTERM at 2,000 rps")
	if got := <-slow; got != "200 ok" {
		t.Errorf("the request in flight across the listener's close got %q, want 200 ok", got)
	}
	if code := g.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	t.Logf("SIGTERM: not ready after %v, exited after %v (shutdown delay 2 s, a 4 s request in flight)", notReady.Round(time.Millisecond), exited.Round(time.Millisecond))
}
