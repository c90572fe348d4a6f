package helm

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// generatedRules returns the rules of the ClusterRole and of the Role in
// config/rbac/role.yaml (generated from controllers/cluster/rbac.go).
func generatedRules(t *testing.T) (cluster, lease []any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := parseObjects(t, string(data))
	cluster, _, _ = unstructured.NestedSlice(find(t, objs, "ClusterRole", "").Object, "rules")
	lease, _, _ = unstructured.NestedSlice(find(t, objs, "Role", "").Object, "rules")
	return cluster, lease
}

// rules returns an RBAC object's rules.
func rules(o *unstructured.Unstructured) []any {
	r, _, _ := unstructured.NestedSlice(o.Object, "rules")
	return r
}

// TestChartRBACEqualsTheRolesGeneratedFromTheMarkers keeps the chart's
// ClusterRole and Lease Role equal to config/rbac/role.yaml: a new RBAC
// marker fails here until the chart grants it too.
func TestChartRBACEqualsTheRolesGeneratedFromTheMarkers(t *testing.T) {
	wantCluster, wantLease := generatedRules(t)
	objs := template(t, "turnpike-system")
	if got := rules(find(t, objs, "ClusterRole", "turnpike")); !reflect.DeepEqual(got, wantCluster) {
		t.Errorf("ClusterRole rules\n got %v\nwant %v (config/rbac/role.yaml)", got, wantCluster)
	}
	if got := rules(find(t, objs, "Role", "turnpike")); !reflect.DeepEqual(got, wantLease) {
		t.Errorf("Role rules\n got %v\nwant %v (config/rbac/role.yaml)", got, wantLease)
	}
}

// TestNamespacedModeBindsRolesInTheWatchedNamespaceOnly checks rbac.namespaced:
// no cluster-wide object, the watch rules in a Role of the watched namespace,
// the Lease rules in the release namespace, and --namespace passed.
func TestNamespacedModeBindsRolesInTheWatchedNamespaceOnly(t *testing.T) {
	wantCluster, wantLease := generatedRules(t)
	t.Run("the release namespace by default", func(t *testing.T) {
		objs := template(t, "shop", "--set", "rbac.namespaced=true")
		if has(objs, "ClusterRole") || has(objs, "ClusterRoleBinding") {
			t.Fatalf("namespaced mode renders cluster-wide RBAC: %v", keys(objs))
		}
		role := find(t, objs, "Role", "turnpike")
		if want := append(append([]any{}, wantLease...), wantCluster...); !reflect.DeepEqual(rules(role), want) {
			t.Errorf("Role rules\n got %v\nwant %v", rules(role), want)
		}
		if !contains(args(t, objs), "--namespace=shop") {
			t.Errorf("args %v lack --namespace=shop", args(t, objs))
		}
	})
	t.Run("another watched namespace", func(t *testing.T) {
		objs := template(t, "turnpike-system", "--set", "rbac.namespaced=true", "--set", "gateway.namespace=shop")
		var roles []string
		for _, o := range objs {
			if o.GetKind() == "Role" || o.GetKind() == "RoleBinding" {
				roles = append(roles, key(o))
			}
		}
		slices.Sort(roles)
		want := []string{"Role/shop/turnpike", "Role/turnpike-system/turnpike", "RoleBinding/shop/turnpike", "RoleBinding/turnpike-system/turnpike"}
		if !reflect.DeepEqual(roles, want) {
			t.Fatalf("roles %v, want %v", roles, want)
		}
		for _, o := range objs {
			if o.GetKind() == "Role" && o.GetNamespace() == "shop" && !reflect.DeepEqual(rules(o), wantCluster) {
				t.Errorf("Role in shop: %v, want %v", rules(o), wantCluster)
			}
			if o.GetKind() == "Role" && o.GetNamespace() == "turnpike-system" && !reflect.DeepEqual(rules(o), wantLease) {
				t.Errorf("Role in turnpike-system: %v, want %v", rules(o), wantLease)
			}
			if o.GetKind() == "RoleBinding" {
				subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
				want := []any{map[string]any{"kind": "ServiceAccount", "name": "turnpike", "namespace": "turnpike-system"}}
				if !reflect.DeepEqual(subjects, want) {
					t.Errorf("%s subjects %v, want %v", key(o), subjects, want)
				}
			}
		}
		if !contains(args(t, objs), "--namespace=shop") {
			t.Errorf("args %v lack --namespace=shop", args(t, objs))
		}
	})
}

// TestNoRenderedRuleWritesAnythingButStatusAndLeases scans every rule the
// chart can render (both modes) for write verbs outside the status
// subresources, Leases and Events (create/patch only: the leader records
// rejections), and for wildcards.
func TestNoRenderedRuleWritesAnythingButStatusAndLeases(t *testing.T) {
	reads := map[string]bool{"get": true, "list": true, "watch": true}
	for _, mode := range []string{"rbac.namespaced=false", "rbac.namespaced=true"} {
		for _, o := range template(t, "turnpike-system", "--set", mode) {
			for _, r := range rules(o) {
				rule := r.(map[string]any)
				verbs, _, _ := unstructured.NestedStringSlice(rule, "verbs")
				resources, _, _ := unstructured.NestedStringSlice(rule, "resources")
				groups, _, _ := unstructured.NestedStringSlice(rule, "apiGroups")
				all := strings.Join(append(append(append([]string{}, verbs...), resources...), groups...), ",")
				if strings.Contains(all, "*") {
					t.Errorf("%s (%s): wildcard in %v", key(o), mode, rule)
				}
				for _, v := range verbs {
					if reads[v] {
						continue
					}
					for _, res := range resources {
						event := res == "events" && (v == "create" || v == "patch")
						if !strings.HasSuffix(res, "/status") && res != "leases" && !event {
							t.Errorf("%s (%s): write verb %q on %s", key(o), mode, v, res)
						}
					}
				}
			}
		}
	}
}
