package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

// The API server refuses loopback and link-local endpoint addresses, so
// serve-mode traffic needs a backend on a private address. The test makes its
// own host: a network namespace joined to this one by a veth pair, with
// addresses from 10.213.0.0/24 that exist only inside this test and are
// removed afterwards. Traffic never leaves the machine.
const (
	netnsHostAddr = "10.213.0.1"
	backendA      = "10.213.0.2"
	backendB      = "10.213.0.3"
)

// testHost is a network namespace with two backend addresses.
type testHost struct {
	ns string
}

func newTestHost(t *testing.T) *testHost {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("serve-mode traffic test needs root to create a network namespace (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("serve-mode traffic test needs iproute2 (`make deps` installs it)")
	}
	id := os.Getpid() % 100000
	h := &testHost{ns: fmt.Sprintf("tp-e2e-%d", id)}
	hostIf, nsIf := fmt.Sprintf("tph%d", id), fmt.Sprintf("tpn%d", id)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", h.ns).Run()
		_ = exec.Command("ip", "link", "del", hostIf).Run()
	})
	steps := [][]string{
		{"netns", "add", h.ns},
		{"link", "add", hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", h.ns},
		{"addr", "add", netnsHostAddr + "/24", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", h.ns, "addr", "add", backendA + "/24", "dev", nsIf},
		{"-n", h.ns, "addr", "add", backendB + "/24", "dev", nsIf},
		{"-n", h.ns, "link", "set", nsIf, "up"},
		{"-n", h.ns, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return h
}

// runBackends starts the demo backend inside the namespace, answering as
// "pets-a" on backendA:8080 and "pets-b" on backendB:8080.
func (h *testHost) runBackends(t *testing.T) {
	t.Helper()
	bin := harness.Build(t, "./hack/demo-backend")
	cmd := exec.Command("ip", "netns", "exec", h.ns, bin,
		"-listen", backendA+":8080=pets-a,"+backendB+":8080=pets-b")
	out := &harness.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("backend output:\n%s", out.String())
		}
	})
}

// endpointSlice is a hand-made EndpointSlice of Service shop/<service>: port
// name "http", target port 8080 (the Service's port is 80), ready addresses.
func endpointSlice(name, service string, addrs ...string) string {
	var eps strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&eps, "  - addresses: [%q]\n    conditions: {ready: true}\n", a)
	}
	if len(addrs) == 0 {
		eps.WriteString("  []\n")
	}
	return fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %s
  namespace: shop
  labels: {kubernetes.io/service-name: %s}
addressType: IPv4
ports:
  - {name: http, port: 8080, protocol: TCP}
endpoints:
%s`, name, service, eps.String())
}

// TestServeModeRoutesToServiceEndpointsInANetworkNamespace sends traffic
// through a Service whose EndpointSlice points at backends on private
// addresses, and follows endpoint changes without a restart.
func TestServeModeRoutesToServiceEndpointsInANetworkNamespace(t *testing.T) {
	h := newTestHost(t)
	h.runBackends(t)
	c := startCluster(t)
	if _, err := c.kubectl(t, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples")); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=false")
	g.expect(t, "/prod/pets", 503, "Service Unavailable")

	applyYAML(t, c, endpointSlice("pets-1", "pets", backendA))
	// SERVICE forwards the path without the stage prefix to the pod address.
	g.expect(t, "/prod/pets?limit=2", 200, `"backend":"pets-a","host":"pets.shop.execute-api.localhost","method":"GET","path":"/pets","query":"limit=2"`)

	// An EndpointSlice of another Service never reaches this one.
	applyYAML(t, c, endpointSlice("other-1", "other", backendB))
	for range 20 {
		if code, body, err := g.get("/prod/pets"); err != nil || code != 200 || !strings.Contains(body, "pets-a") {
			t.Fatalf("after another Service's slice: %d %s %v", code, body, err)
		}
	}

	applyYAML(t, c, endpointSlice("pets-1", "pets", backendB))
	g.expect(t, "/prod/pets/9", 200, `"backend":"pets-b"`)

	applyYAML(t, c, endpointSlice("pets-1", "pets", backendA, backendB))
	seen := map[string]bool{}
	harness.Eventually(t, 30*time.Second, "round robin over both endpoints", func() error {
		_, body, err := g.get("/prod/pets")
		if err != nil {
			return err
		}
		for _, b := range []string{"pets-a", "pets-b"} {
			if strings.Contains(body, `"backend":"`+b+`"`) {
				seen[b] = true
			}
		}
		if !seen["pets-a"] || !seen["pets-b"] {
			return fmt.Errorf("seen %v", seen)
		}
		return nil
	})

	applyYAML(t, c, endpointSlice("pets-1", "pets"))
	g.expect(t, "/prod/pets", 503, "Service Unavailable")
}

// runFunction starts the aws-lambda-go test handler under the Lambda Runtime
// Interface Emulator inside the namespace, listening on addr (as a Lambda
// container image runs in a pod).
func (h *testHost) runFunction(t *testing.T, handler, addr string) {
	t.Helper()
	bootstrap := harness.Build(t, "./test/lambda/handler")
	cmd := exec.Command("ip", "netns", "exec", h.ns, harness.RIE(t),
		"--runtime-interface-emulator-address", addr, bootstrap)
	cmd.Env = append(os.Environ(), "HANDLER="+handler)
	out := &harness.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("function output:\n%s", out.String())
		}
	})
}

// TestServeModeInvokesAFunctionInANetworkNamespace: a FUNCTION Route to a
// Lambda handler running under the emulator on a pod address, with the
// Service and EndpointSlice applied with kubectl, in serve mode.
func TestServeModeInvokesAFunctionInANetworkNamespace(t *testing.T) {
	h := newTestHost(t)
	h.runFunction(t, "proxy-v2", backendA+":9000")
	c := startCluster(t)
	if _, err := c.kubectl(t, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples")); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, c, `apiVersion: v1
kind: Service
metadata: {name: pets-fn, namespace: shop}
spec:
  ports: [{name: rie, port: 8080, targetPort: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: pets-fn-1
  namespace: shop
  labels: {kubernetes.io/service-name: pets-fn}
addressType: IPv4
ports: [{name: rie, port: 9000, protocol: TCP}]
endpoints:
  - addresses: ["`+backendA+`"]
    conditions: {ready: true}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: pets-fn, namespace: shop}
spec:
  apiName: pets
  routeKey: "GET /fn/{id}"
  integration: {type: FUNCTION, service: {name: pets-fn, port: 8080}}`)
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=false")
	// The handler answers 201 and echoes the payload 2.0 event it got.
	g.expect(t, "/prod/fn/7?mode=echo", 201, `"rawPath":"/prod/fn/7"`)
	g.expect(t, "/prod/fn/8?mode=echo", 201, `"pathParameters":{"id":"8"}`)
}
