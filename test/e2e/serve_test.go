package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

const brokenRoute = `apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: broken, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /broken
  integration:
    type: SERVICE
    service: {name: no-such-service, port: 80}
`

// TestServeModeServesSamplesAppliedWithKubectl runs the built binary in serve
// mode against a real API server: samples applied with kubectl go Ready,
// traffic flows, a Route with a missing Service answers 500 with a reason in
// its status while the others serve, and deleting a Route stops it.
func TestServeModeServesSamplesAppliedWithKubectl(t *testing.T) {
	c := startCluster(t)
	if _, err := c.kubectl(t, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples")); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=true", "--lease-namespace=default")

	g.expect(t, "/prod/health", 200, `{"status":"ok"}`)
	g.expect(t, "/prod/pets/7/toys", 200, `"toys"`)
	g.expect(t, "/prod/pets", 503, `"message":"Service Unavailable"`) // no ready endpoints yet
	g.expect(t, "/production/pets", 404, `no stage named \"production\"`)

	// Stage dev is not Ready in a cluster: its legacyUrl is loopback (status_test.go).
	for _, what := range [][]string{{"apis.turnpike.io", "--all"}, {"stages.turnpike.io/prod"}, {"routes.turnpike.io", "--all"}} {
		args := append([]string{"wait", "--for=condition=Ready", "--timeout=60s", "-n", "shop"}, what...)
		if out, err := c.kubectl(t, args...); err != nil {
			t.Fatalf("samples did not go Ready: %v\n%s", err, out)
		}
	}
	out, err := c.kubectl(t, "get", "stages.turnpike.io/prod", "-n", "shop", "-o", "jsonpath={.status.invokeURLs[0]}")
	if err != nil || out != "http://pets.shop.execute-api.localhost/prod" {
		t.Fatalf("prod invokeURLs[0] = %q, %v", out, err)
	}

	applyYAML(t, c, brokenRoute)
	g.expect(t, "/prod/broken", 500, `"message":"Internal Server Error"`)
	waitFor(t, c, "route broken reason ServiceNotFound", func() (bool, string) {
		out, _ := c.kubectl(t, "get", "routes.turnpike.io/broken", "-n", "shop",
			"-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}`)
		return out == "False/ServiceNotFound", out
	})
	g.expect(t, "/prod/health", 200, `{"status":"ok"}`) // the others keep serving

	if _, err := c.kubectl(t, "delete", "-n", "shop", "routes.turnpike.io/health"); err != nil {
		t.Fatal(err)
	}
	g.expect(t, "/prod/health", 404, "no such pet endpoint") // now the $default route answers
}

func applyYAML(t *testing.T, c *cluster, doc string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "obj.yaml")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 60*time.Second, "kubectl apply", func() error {
		_, err := c.kubectl(t, "apply", "-f", f)
		return err
	})
}

func waitFor(t *testing.T, c *cluster, what string, cond func() (bool, string)) {
	t.Helper()
	harness.Eventually(t, 60*time.Second, what, func() error {
		if ok, got := cond(); !ok {
			return fmt.Errorf("got %q", got)
		}
		return nil
	})
}
