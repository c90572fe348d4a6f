// Package helm tests the Helm chart (charts/turnpike) and the kustomize
// packaging (config/default) with the real helm CLI, built from the Go module
// proxy into bin/helm by `make helm`, and a real kube-apiserver (envtest,
// built into bin/k8s by `make envtest`).
package helm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// kubeVersion is the Kubernetes version `helm template` and `helm lint`
// assume. A helm built with `go install` has no version ldflags and would
// assume v1.20, below the chart's kubeVersion.
const kubeVersion = "1.37.0"

// chartDir is charts/turnpike.
func chartDir() string { return filepath.Join(harness.RepoRoot(), "charts", "turnpike") }

// testdata returns the path of a file in test/helm/testdata.
func testdata(name string) string {
	return filepath.Join(harness.RepoRoot(), "test", "helm", "testdata", name)
}

// helmBin is bin/helm, or the test fails saying how to build it.
func helmBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(harness.RepoRoot(), "bin", "helm")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s missing: run `make helm` (make test does it)", bin)
	}
	return bin
}

// helmHome isolates helm's cache, config and data directories from the user's.
var helmHome = func() string {
	dir, err := os.MkdirTemp("", "turnpike-helm-home-")
	if err != nil {
		panic(err)
	}
	return dir
}()

// TestMain removes helm's directories and stops the shared API server.
func TestMain(m *testing.M) {
	code := m.Run()
	stopCluster()
	_ = os.RemoveAll(helmHome)
	harness.RemoveBuilt()
	os.Exit(code)
}

// runHelm runs the helm CLI and returns its stdout; stderr is in the error.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// mustHelm is runHelm that fails the test on error.
func mustHelm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// template renders the chart as release "turnpike" in namespace ns with the
// given extra helm arguments (-f FILE, --set K=V, ...).
func template(t *testing.T, ns string, args ...string) []*unstructured.Unstructured {
	t.Helper()
	base := []string{"template", "turnpike", chartDir(), "--namespace", ns, "--kube-version", kubeVersion}
	return parseObjects(t, mustHelm(t, append(base, args...)...))
}

// parseObjects splits a multi-document YAML stream into objects, skipping
// empty documents. Numbers become int64, as in objects read from the API.
func parseObjects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read rendered YAML: %v", err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatalf("parse rendered YAML: %v\n%s", err, doc)
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "{}" {
			continue
		}
		o := &unstructured.Unstructured{}
		if err := o.UnmarshalJSON(js); err != nil {
			t.Fatalf("parse rendered object: %v\n%s", err, doc)
		}
		objs = append(objs, o)
	}
	return objs
}

// kubectlOffline runs kubectl for a command that needs no cluster.
func kubectlOffline(args ...string) (string, error) {
	out, err := exec.Command("kubectl", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		return "", err
	}
	return string(out), nil
}

// key names an object as kind/namespace/name.
func key(o *unstructured.Unstructured) string {
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// keys returns the sorted keys of objs.
func keys(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, key(o))
	}
	slices.Sort(out)
	return out
}

// find returns the one object of the kind (and name, unless empty) or fails.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && (name == "" || o.GetName() == name) {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s %q among %v, found %d", kind, name, keys(objs), len(found))
	}
	return found[0]
}

// has reports whether objs contain an object of the kind.
func has(objs []*unstructured.Unstructured, kind string) bool {
	for _, o := range objs {
		if o.GetKind() == kind {
			return true
		}
	}
	return false
}

// container returns the gateway container of the Deployment among objs.
func container(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	d := find(t, objs, "Deployment", "")
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("want one container, got %d", len(cs))
	}
	return cs[0].(map[string]any)
}

// args returns the gateway container's arguments.
func args(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	a, _, err := unstructured.NestedStringSlice(container(t, objs), "args")
	if err != nil {
		t.Fatal(err)
	}
	return a
}
