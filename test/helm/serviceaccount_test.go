package helm

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// TestTheGatewayRunsWithOnlyTheChartsRBAC installs the chart in each RBAC
// mode, then runs the real gateway binary as the release's ServiceAccount:
// it must become ready and write status (so the rules are enough), and the
// ServiceAccount must not be able to do more than the rules say.
func TestTheGatewayRunsWithOnlyTheChartsRBAC(t *testing.T) {
	c := startCluster(t)
	for _, tc := range []struct {
		name, release, ns, watch string
		helmArgs                 []string
	}{
		{"all namespaces", "rbac-cluster", "rbac-cluster", "", nil},
		{"one namespace", "rbac-ns", "rbac-ns", "rbac-ns-apps", []string{"--set", "rbac.namespaced=true", "--set", "gateway.namespace=rbac-ns-apps"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apps := tc.watch
			if apps == "" {
				apps = tc.ns + "-apps"
			}
			c.mustKubectl(t, "", "create", "namespace", apps)
			c.helm(t, append([]string{"install", tc.release, chartDir(), "--namespace", tc.ns, "--create-namespace"}, tc.helmArgs...)...)
			t.Cleanup(func() { c.helm(t, "uninstall", tc.release, "--namespace", tc.ns) })
			kc := c.serviceAccountKubeconfig(t, tc.ns, tc.release+"-turnpike")
			checkCanI(t, kc, apps, tc.watch != "")
			c.mustKubectl(t, "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: probe}\nspec: {protocol: HTTP}\n",
				"apply", "-n", apps, "-f", "-")
			gatewayArgs := []string{"--leader-elect=true"}
			if tc.watch != "" {
				gatewayArgs = append(gatewayArgs, "--namespace="+tc.watch)
			}
			runGatewayUntilReady(t, kc, tc.ns, gatewayArgs)
			waitFor(t, 30*time.Second, "status on Api probe", func() bool {
				out, _ := c.kubectl(t, "", "get", "api", "probe", "-n", apps, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].type}`)
				return out == "Ready"
			})
		})
	}
}

// checkCanI asks the API server what the ServiceAccount may do: what the
// gateway needs, and nothing it does not.
func checkCanI(t *testing.T, kubeconfig, apps string, namespaced bool) {
	t.Helper()
	for _, tc := range []struct {
		verb, resource, ns string
		want               bool
	}{
		{"list", "routes.turnpike.io", apps, true},
		{"patch", "routes.turnpike.io/status", apps, true},
		{"watch", "secrets", apps, true},
		{"list", "secrets", "kube-system", !namespaced},
		{"create", "routes.turnpike.io", apps, false},
		{"delete", "secrets", apps, false},
		{"update", "services", apps, false},
		{"create", "events", apps, true}, // the leader records rejections as Events
		{"delete", "events", apps, false},
		{"list", "configmaps", apps, false},
	} {
		parts := strings.SplitN(tc.resource, "/", 2)
		args := []string{"--kubeconfig", kubeconfig, "auth", "can-i", tc.verb, parts[0], "-n", tc.ns}
		if len(parts) == 2 {
			args = append(args, "--subresource="+parts[1])
		}
		out, _ := exec.Command("kubectl", args...).Output()
		if got := strings.TrimSpace(string(out)) == "yes"; got != tc.want {
			t.Errorf("ServiceAccount can %s %s in %s: %v, want %v", tc.verb, tc.resource, tc.ns, got, tc.want)
		}
	}
}

// serviceAccountKubeconfig writes a kubeconfig whose client certificate
// authenticates as the ServiceAccount ns/name (RBAC matches the user name
// system:serviceaccount:ns:name).
func (s *apiServer) serviceAccountKubeconfig(t *testing.T, ns, name string) string {
	t.Helper()
	user, err := s.env.AddUser(envtest.User{
		Name:   fmt.Sprintf("system:serviceaccount:%s:%s", ns, name),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runGatewayUntilReady starts `turnpike serve` with the kubeconfig on free
// loopback ports and waits for /readyz; the process is stopped at cleanup.
func runGatewayUntilReady(t *testing.T, kubeconfig, podNamespace string, extra []string) {
	t.Helper()
	health := harness.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, harness.Build(t, "./cmd/turnpike"), append([]string{"serve", "--kubeconfig=" + kubeconfig,
		"--http-addr=" + harness.FreeAddr(t), "--https-addr=", "--metrics-addr=" + harness.FreeAddr(t), "--health-addr=" + health,
		"--admin-addr=" + harness.FreeAddr(t), "--log-format=text"}, extra...)...)
	cmd.Env = append(os.Environ(), "POD_NAMESPACE="+podNamespace, "POD_NAME=gateway-0")
	logs := &strings.Builder{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	waitFor(t, 60*time.Second, "gateway /readyz", func() bool {
		resp, err := http.Get("http://" + health + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// waitFor polls cond every 200ms until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
