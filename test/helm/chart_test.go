package helm

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestChartPassesHelmLintStrict lints the chart with its defaults and with
// the production values; --strict turns warnings into failures.
func TestChartPassesHelmLintStrict(t *testing.T) {
	mustHelm(t, "lint", "--strict", "--kube-version", kubeVersion, chartDir())
	mustHelm(t, "lint", "--strict", "--kube-version", kubeVersion, chartDir(), "-f", testdata("production-values.yaml"))
}

// TestDefaultValuesRenderAHardenedHighlyAvailableGateway checks the objects
// and production defaults of `helm template` with no values.
func TestDefaultValuesRenderAHardenedHighlyAvailableGateway(t *testing.T) {
	objs := template(t, "turnpike-system")
	want := []string{
		"ClusterRole//turnpike", "ClusterRoleBinding//turnpike",
		"Deployment/turnpike-system/turnpike", "PodDisruptionBudget/turnpike-system/turnpike",
		"Role/turnpike-system/turnpike", "RoleBinding/turnpike-system/turnpike",
		"Service/turnpike-system/turnpike", "Service/turnpike-system/turnpike-metrics",
		"ServiceAccount/turnpike-system/turnpike",
	}
	if got := keys(objs); !reflect.DeepEqual(got, want) {
		t.Fatalf("objects:\n got %v\nwant %v", got, want)
	}
	d := find(t, objs, "Deployment", "turnpike")
	expectField(t, d, int64(2), "spec", "replicas")
	expectField(t, d, int64(45), "spec", "template", "spec", "terminationGracePeriodSeconds")
	expectField(t, d, true, "spec", "template", "spec", "securityContext", "runAsNonRoot")
	expectField(t, d, "RuntimeDefault", "spec", "template", "spec", "securityContext", "seccompProfile", "type")
	c := &unstructured.Unstructured{Object: container(t, objs)}
	expectField(t, c, "/readyz", "readinessProbe", "httpGet", "path")
	expectField(t, c, "/healthz", "livenessProbe", "httpGet", "path")
	expectField(t, c, false, "securityContext", "allowPrivilegeEscalation")
	expectField(t, c, true, "securityContext", "readOnlyRootFilesystem")
	expectField(t, c, []any{"ALL"}, "securityContext", "capabilities", "drop")
	expectField(t, c, "200m", "resources", "requests", "cpu")
	spread, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "topologySpreadConstraints")
	if len(spread) != 2 {
		t.Fatalf("want spreading over hostnames and zones, got %v", spread)
	}
	for _, s := range spread {
		sel, _, _ := unstructured.NestedStringMap(s.(map[string]any), "labelSelector", "matchLabels")
		if sel["app.kubernetes.io/instance"] != "turnpike" {
			t.Errorf("topology spread constraint without the Pods' selector: %v", s)
		}
	}
	expectField(t, find(t, objs, "Service", "turnpike"), "LoadBalancer", "spec", "type")
	expectField(t, find(t, objs, "PodDisruptionBudget", ""), int64(1), "spec", "minAvailable")
	for _, a := range args(t, objs) {
		if strings.HasPrefix(a, "--namespace") || strings.HasPrefix(a, "--redis-url") {
			t.Errorf("default args include %s", a)
		}
	}
}

// TestProductionValuesRenderAutoscalingMonitoringAndRedisFromASecret renders
// the production values of docs/install.md.
func TestProductionValuesRenderAutoscalingMonitoringAndRedisFromASecret(t *testing.T) {
	objs := template(t, "edge", "-f", testdata("production-values.yaml"))
	hpa := find(t, objs, "HorizontalPodAutoscaler", "turnpike")
	expectField(t, hpa, int64(3), "spec", "minReplicas")
	expectField(t, hpa, int64(12), "spec", "maxReplicas")
	d := find(t, objs, "Deployment", "turnpike")
	if _, found, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); found {
		t.Error("the Deployment sets replicas although the HPA owns them")
	}
	expectField(t, d, int64(80), "spec", "template", "spec", "terminationGracePeriodSeconds")
	sm := find(t, objs, "ServiceMonitor", "turnpike")
	expectField(t, sm, "prometheus", "metadata", "labels", "release")
	expectField(t, find(t, objs, "PodDisruptionBudget", ""), int64(1), "spec", "maxUnavailable")
	c := container(t, objs)
	if img := c["image"]; !strings.HasSuffix(img.(string), "@sha256:"+strings.Repeat("0", 64)) {
		t.Errorf("image %v is not pinned by digest", img)
	}
	if !contains(args(t, objs), "--redis-url=$(REDIS_URL)") {
		t.Errorf("args %v do not read the Redis URL from $(REDIS_URL)", args(t, objs))
	}
	env, _, _ := unstructured.NestedSlice(c, "env")
	var ref map[string]string
	for _, e := range env {
		if e.(map[string]any)["name"] == "REDIS_URL" {
			ref, _, _ = unstructured.NestedStringMap(e.(map[string]any), "valueFrom", "secretKeyRef")
		}
	}
	if want := map[string]string{"name": "turnpike-redis", "key": "url"}; !reflect.DeepEqual(ref, want) {
		t.Errorf("REDIS_URL secretKeyRef = %v, want %v", ref, want)
	}
}

// TestBadValuesAreRejectedWithMessagesNamingEachValue renders
// testdata/bad-values.yaml and expects the schema's message for each mistake.
func TestBadValuesAreRejectedWithMessagesNamingEachValue(t *testing.T) {
	_, err := runHelm(t, "template", "turnpike", chartDir(), "--kube-version", kubeVersion, "-f", testdata("bad-values.yaml"))
	if err == nil {
		t.Fatal("helm template accepted testdata/bad-values.yaml")
	}
	for _, want := range []string{
		"values don't meet the specifications of the schema",
		"additional properties 'replicas' not allowed",
		"at '/gateway/logFormat': value must be one of 'json', 'text'",
		"at '/gateway/shutdownDelay': '5 seconds' does not match pattern",
		"at '/gateway/adminAddr': '0.0.0.0:8082' does not match pattern",
		"at '/gateway/rateLimit': got number, want null or integer",
		"at '/service/type': value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'",
		"at '/autoscaling/maxReplicas': got string, want integer",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestTerminationGracePeriodCoversShutdownDelayPlusDrainTimeout checks the
// computed grace period for several duration forms, and that an explicit one
// too short to drain is refused.
func TestTerminationGracePeriodCoversShutdownDelayPlusDrainTimeout(t *testing.T) {
	for _, tc := range []struct {
		delay, drain string
		want         int64
	}{
		{"5s", "30s", 45},
		{"500ms", "1m30s", 1 + 90 + 10},
		{"0", "1h", 3600 + 10},
		{"1m1s", "1500ms", 61 + 2 + 10},
	} {
		objs := template(t, "ns", "--set-string", "gateway.shutdownDelay="+tc.delay, "--set-string", "gateway.drainTimeout="+tc.drain)
		expectField(t, find(t, objs, "Deployment", ""), tc.want, "spec", "template", "spec", "terminationGracePeriodSeconds")
	}
	_, err := runHelm(t, "template", "turnpike", chartDir(), "--kube-version", kubeVersion, "--set", "terminationGracePeriodSeconds=30")
	if err == nil || !strings.Contains(err.Error(), "terminationGracePeriodSeconds (30) must cover gateway.shutdownDelay + gateway.drainTimeout (35 seconds)") {
		t.Fatalf("a grace period shorter than the drain was not refused with its message: %v", err)
	}
}

// TestChartCRDsAreByteIdenticalToTheGeneratedCRDs compares charts/turnpike/crds
// with config/crd/bases (`make manifests` copies them).
func TestChartCRDsAreByteIdenticalToTheGeneratedCRDs(t *testing.T) {
	gen := readDir(t, filepath.Join(harness.RepoRoot(), "config", "crd", "bases"))
	chart := readDir(t, filepath.Join(chartDir(), "crds"))
	if len(gen) == 0 {
		t.Fatal("no generated CRDs in config/crd/bases")
	}
	for name, data := range gen {
		if got, ok := chart[name]; !ok {
			t.Errorf("charts/turnpike/crds/%s is missing: run `make manifests`", name)
		} else if got != data {
			t.Errorf("charts/turnpike/crds/%s differs from config/crd/bases: run `make manifests`", name)
		}
	}
	for name := range chart {
		if _, ok := gen[name]; !ok {
			t.Errorf("charts/turnpike/crds/%s is not generated: run `make manifests`", name)
		}
	}
}

// readDir returns the YAML files of dir by name.
func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(data)
	}
	return out
}

// TestKustomizeDefaultIsEquivalentToTheChartDefaults builds config/default
// with kubectl's kustomize and compares every object with the chart rendered
// as release "turnpike" in turnpike-system with its CRDs. Labels are ignored
// (Helm adds its own); the Namespace exists only in kustomize (Helm's
// --create-namespace makes it).
func TestKustomizeDefaultIsEquivalentToTheChartDefaults(t *testing.T) {
	out, err := kubectlOffline("kustomize", filepath.Join(harness.RepoRoot(), "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	var kust []*unstructured.Unstructured
	for _, o := range parseObjects(t, out) {
		if o.GetKind() != "Namespace" {
			kust = append(kust, o)
		}
	}
	chart := template(t, "turnpike-system", "--include-crds")
	if k, c := keys(kust), keys(chart); !reflect.DeepEqual(k, c) {
		t.Fatalf("objects differ:\nkustomize %v\n    chart %v", k, c)
	}
	byKey := map[string]*unstructured.Unstructured{}
	for _, o := range chart {
		byKey[key(o)] = o
	}
	for _, k := range kust {
		c := byKey[key(k)]
		k, c = k.DeepCopy(), c.DeepCopy()
		k.SetLabels(nil)
		c.SetLabels(nil)
		if !reflect.DeepEqual(k.Object, c.Object) {
			ky, _ := yaml.Marshal(k.Object)
			cy, _ := yaml.Marshal(c.Object)
			t.Errorf("%s differs:\n--- kustomize\n%s\n--- chart\n%s", key(k), ky, cy)
		}
	}
}

// expectField fails unless the field at path equals want.
func expectField(t *testing.T, o *unstructured.Unstructured, want any, path ...string) {
	t.Helper()
	got, found, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	if err != nil || !found {
		t.Errorf("%s: %s missing (%v)", key(o), strings.Join(path, "."), err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %s = %#v, want %#v", key(o), strings.Join(path, "."), got, want)
	}
}

// contains reports whether list has s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
