package helm

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// strictDryRun sends every object rendered with the helm arguments to the API
// server as a server-side apply dry run with strict field validation, so an
// unknown or misplaced field fails instead of being dropped.
func (s *apiServer) strictDryRun(t *testing.T, release, ns string, helmArgs ...string) {
	t.Helper()
	manifest := mustHelm(t, append([]string{"template", release, chartDir(), "--namespace", ns, "--kube-version", kubeVersion}, helmArgs...)...)
	s.mustKubectl(t, manifest, "apply", "--server-side", "--dry-run=server", "--validate=strict",
		"--force-conflicts", "--field-manager=turnpike-helm-test", "-f", "-")
}

// TestHelmInstallUpgradeAndUninstallOnARealAPIServer installs the chart with
// its defaults, applies the samples, upgrades to the production values in
// namespaced mode, and uninstalls, checking the objects on the API server at
// each step.
func TestHelmInstallUpgradeAndUninstallOnARealAPIServer(t *testing.T) {
	c := startCluster(t)
	const release, ns = "gw", "edge"
	c.mustKubectl(t, "", "apply", "-f", testdata("servicemonitor-crd.yaml"))
	c.mustKubectl(t, "", "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com")
	c.mustKubectl(t, "", "create", "namespace", ns)
	c.mustKubectl(t, "", "create", "namespace", "shop")
	c.strictDryRun(t, release, ns)
	c.strictDryRun(t, release, ns, "-f", testdata("production-values.yaml"), "--set", "rbac.namespaced=true", "--set", "gateway.namespace=shop")

	notes := c.helm(t, "install", release, chartDir(), "--namespace", ns)
	for _, want := range []string{"kubectl -n edge rollout status deployment/gw-turnpike", "curl -s http://$GATEWAY/prod/pets -H 'Host: pets.shop.execute-api.localhost'", "every Secret of the cluster"} {
		if !strings.Contains(notes, want) {
			t.Errorf("install notes lack %q:\n%s", want, notes)
		}
	}
	installed := template(t, ns)
	// helm template names the release "turnpike"; the installed one is "gw".
	for _, o := range installed {
		name := strings.Replace(o.GetName(), "turnpike", "gw-turnpike", 1)
		if !c.exists(t, o.GetNamespace(), o.GetKind(), name) {
			t.Errorf("%s %s/%s was not created", o.GetKind(), o.GetNamespace(), name)
		}
	}
	for _, crd := range []string{"apis", "routes", "stages", "authorizers", "usageplans"} {
		c.mustKubectl(t, "", "wait", "--for=condition=Established", "crd/"+crd+".turnpike.io")
	}

	c.mustKubectl(t, "", "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples"))
	got := c.mustKubectl(t, "", "get", "apis,stages,routes", "-n", "shop", "-o", "name")
	for _, want := range []string{"api.turnpike.io/pets", "stage.turnpike.io/prod", "route.turnpike.io/list-pets"} {
		if !strings.Contains(got, want) {
			t.Errorf("samples: %s missing from\n%s", want, got)
		}
	}

	c.mustKubectl(t, "", "create", "secret", "generic", "turnpike-redis", "-n", ns, "--from-literal=url=redis://redis:6379/0")
	c.helm(t, "upgrade", release, chartDir(), "--namespace", ns, "-f", testdata("production-values.yaml"),
		"--set", "rbac.namespaced=true", "--set", "gateway.namespace=shop")
	checkUpgraded(t, c, ns)

	c.helm(t, "uninstall", release, "--namespace", ns)
	for _, obj := range [][3]string{
		{ns, "deployment", "gw-turnpike"}, {ns, "service", "gw-turnpike"}, {ns, "service", "gw-turnpike-metrics"},
		{ns, "serviceaccount", "gw-turnpike"}, {ns, "role", "gw-turnpike"}, {ns, "rolebinding", "gw-turnpike"},
		{"shop", "role", "gw-turnpike"}, {"shop", "rolebinding", "gw-turnpike"}, {ns, "hpa", "gw-turnpike"},
		{ns, "pdb", "gw-turnpike"}, {ns, "servicemonitor", "gw-turnpike"}, {"", "clusterrole", "gw-turnpike"},
	} {
		if c.exists(t, obj[0], obj[1], obj[2]) {
			t.Errorf("%s %s/%s survived helm uninstall", obj[1], obj[0], obj[2])
		}
	}
	// Helm never deletes the CRDs of crds/ (or the objects of those kinds).
	if !c.exists(t, "", "crd", "apis.turnpike.io") || !c.exists(t, "shop", "api", "pets") {
		t.Error("helm uninstall deleted the CRDs or the Apis")
	}
}

// checkUpgraded checks the release after the upgrade to the production values
// in namespaced mode (watching shop).
func checkUpgraded(t *testing.T, c *apiServer, ns string) {
	t.Helper()
	if c.exists(t, "", "clusterrole", "gw-turnpike") || c.exists(t, "", "clusterrolebinding", "gw-turnpike") {
		t.Error("the ClusterRole survived the upgrade to namespaced mode")
	}
	for _, obj := range [][3]string{
		{"shop", "role", "gw-turnpike"}, {"shop", "rolebinding", "gw-turnpike"}, {ns, "role", "gw-turnpike"},
		{ns, "hpa", "gw-turnpike"}, {ns, "servicemonitor", "gw-turnpike"},
	} {
		if !c.exists(t, obj[0], obj[1], obj[2]) {
			t.Errorf("%s %s/%s missing after the upgrade", obj[1], obj[0], obj[2])
		}
	}
	d := parseObjects(t, c.mustKubectl(t, "", "get", "deployment", "gw-turnpike", "-n", ns, "-o", "yaml"))
	a := args(t, d)
	for _, want := range []string{"--namespace=shop", "--redis-url=$(REDIS_URL)", "--shutdown-delay=10s", "--default-domain=api.example.com"} {
		if !contains(a, want) {
			t.Errorf("upgraded args %v lack %s", a, want)
		}
	}
	expectField(t, d[0], int64(80), "spec", "template", "spec", "terminationGracePeriodSeconds")
	svc := parseObjects(t, c.mustKubectl(t, "", "get", "service", "gw-turnpike", "-n", ns, "-o", "yaml"))[0]
	expectField(t, svc, "Local", "spec", "externalTrafficPolicy")
	pdb := parseObjects(t, c.mustKubectl(t, "", "get", "pdb", "gw-turnpike", "-n", ns, "-o", "yaml"))[0]
	if _, found, _ := unstructured.NestedFieldNoCopy(pdb.Object, "spec", "minAvailable"); found {
		t.Error("the PDB kept minAvailable after switching to maxUnavailable")
	}
	expectField(t, pdb, int64(1), "spec", "maxUnavailable")
}

// TestKustomizeDefaultAppliesServerSide applies config/default the way the
// README says, twice (the second apply must be a conflict-free no-op), and
// then the samples.
func TestKustomizeDefaultAppliesServerSide(t *testing.T) {
	c := startCluster(t)
	dir := filepath.Join(harness.RepoRoot(), "config", "default")
	for range 2 {
		c.mustKubectl(t, "", "apply", "--server-side", "--field-manager=kubectl", "-k", dir)
	}
	for _, obj := range [][3]string{
		{"", "namespace", "turnpike-system"}, {"", "crd", "routes.turnpike.io"}, {"", "clusterrole", "turnpike"},
		{"turnpike-system", "deployment", "turnpike"}, {"turnpike-system", "service", "turnpike-metrics"},
		{"turnpike-system", "pdb", "turnpike"}, {"turnpike-system", "role", "turnpike"},
	} {
		if !c.exists(t, obj[0], obj[1], obj[2]) {
			t.Errorf("%s %s/%s missing after kubectl apply -k config/default", obj[1], obj[0], obj[2])
		}
	}
	c.mustKubectl(t, "", "wait", "--for=condition=Established", "crd/apis.turnpike.io")
	c.mustKubectl(t, "", "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples"))
}
