package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// sortObjects orders by namespace, then name, and keeps every object with
// its own contents (it moves whole objects, not just keys).
func TestSortObjectsOrdersByNamespaceThenNameAndKeepsObjectsWhole(t *testing.T) {
	var routes []v1alpha1.Route
	for ns := range 3 {
		for i := range 50 {
			name := fmt.Sprintf("r%03d", i)
			routes = append(routes, v1alpha1.Route{
				ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns%d", ns), Name: name},
				Spec:       v1alpha1.RouteSpec{RouteKey: fmt.Sprintf("GET /ns%d/%s", ns, name)},
			})
		}
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(routes), func(i, j int) { routes[i], routes[j] = routes[j], routes[i] })
	sortObjects(routes)
	for i, r := range routes {
		want := fmt.Sprintf("ns%d/r%03d", i/50, i%50)
		if got := r.Namespace + "/" + r.Name; got != want {
			t.Fatalf("position %d: %s, want %s", i, got, want)
		}
		if r.Spec.RouteKey != "GET /"+r.Namespace+"/"+r.Name {
			t.Fatalf("position %d: %s carries the spec of another object: %s", i, r.Name, r.Spec.RouteKey)
		}
	}
	sortObjects(routes) // already sorted: unchanged
	if routes[0].Name != "r000" || routes[len(routes)-1].Name != "r049" {
		t.Fatal("sorting a sorted slice changed it")
	}
}

// A kind whose store did not change since the last snapshot shares that
// snapshot's slice; any change (add, update, delete, relist) lists it
// again, and the slice an earlier snapshot holds is left as it was.
func TestListKindReusesTheLastListUntilTheStoreChanges(t *testing.T) {
	w := &kindWatch{store: toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)}
	ps := &pokingStore{Store: w.store, transform: func(o any) (any, error) { return o, nil }, poke: func() {},
		synced: &w.synced, changes: &w.changes}
	route := func(name, key string) *v1alpha1.Route {
		return &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: v1alpha1.RouteSpec{RouteKey: key}}
	}
	require.NoError(t, ps.Replace([]any{route("b", "GET /b"), route("a", "GET /a")}, "1"))
	first := listKind[v1alpha1.Route](w)
	require.Equal(t, []string{"a", "b"}, []string{first[0].Name, first[1].Name}, "sorted")
	again := listKind[v1alpha1.Route](w)
	require.Same(t, &first[0], &again[0], "no change: the same slice")

	require.NoError(t, ps.Update(route("a", "GET /a2")))
	second := listKind[v1alpha1.Route](w)
	require.Equal(t, "GET /a2", second[0].Spec.RouteKey)
	require.Equal(t, "GET /a", first[0].Spec.RouteKey, "the earlier snapshot's slice is not modified")

	require.NoError(t, ps.Add(route("c", "GET /c")))
	require.Len(t, listKind[v1alpha1.Route](w), 3)
	require.NoError(t, ps.Delete(route("b", "")))
	require.Len(t, listKind[v1alpha1.Route](w), 2)
}

// A status-only update of a Turnpike object (same generation, labels,
// annotations) marks the store changed but pokes the source later; any
// other update pokes it at once.
func TestAStatusOnlyUpdatePokesLater(t *testing.T) {
	w := &kindWatch{store: toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)}
	var now, later, updates int
	ps := &pokingStore{Store: w.store, transform: func(o any) (any, error) { return o, nil }, poke: func() { now++ },
		pokeLater: func() { later++ }, synced: &w.synced, changes: &w.changes, updated: func(any) { updates++ }}
	r := &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "r", Generation: 1, UID: "u"}}
	require.NoError(t, ps.Add(r))
	require.Equal(t, 1, now)

	withStatus := r.DeepCopy()
	withStatus.Status.ObservedGeneration = 1
	w.changes.take()
	require.NoError(t, ps.Update(withStatus))
	require.Equal(t, []int{1, 1}, []int{now, later}, "status only: later")
	keys, _ := w.changes.take()
	require.Contains(t, keys, objectKey{"ns", "r"}, "but the change is recorded")
	require.Equal(t, 1, updates, "and the status writer told (Recheck)")

	for name, edit := range map[string]func(*v1alpha1.Route){
		"spec (generation)": func(r *v1alpha1.Route) { r.Generation++ },
		"labels":            func(r *v1alpha1.Route) { r.Labels = map[string]string{"a": "b"} },
		"annotations":       func(r *v1alpha1.Route) { r.Annotations = map[string]string{"turnpike.io/flush-cache": "1"} },
		"deletion":          func(r *v1alpha1.Route) { r.DeletionTimestamp = &metav1.Time{} },
	} {
		before := now
		c := withStatus.DeepCopy()
		edit(c)
		require.NoError(t, ps.Update(c))
		require.Equal(t, before+1, now, "%s: at once", name)
		require.NoError(t, ps.Update(withStatus))
	}
}

// Patching the last list gives what listing and sorting the store gives,
// over random adds, updates and deletes in several namespaces (and a relist
// now and then), and never modifies a slice handed out before.
func TestListKindPatchesEqualAFullList(t *testing.T) {
	w := &kindWatch{store: toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)}
	ps := &pokingStore{Store: w.store, transform: func(o any) (any, error) { return o, nil }, poke: func() {},
		synced: &w.synced, changes: &w.changes}
	r := rand.New(rand.NewPCG(18, 1))
	route := func(v int) *v1alpha1.Route {
		return &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns%d", r.IntN(3)), Name: fmt.Sprintf("r%03d", r.IntN(200))},
			Spec: v1alpha1.RouteSpec{RouteKey: fmt.Sprintf("GET /v%d", v)}}
	}
	var initial []any
	for v := range 100 {
		initial = append(initial, route(v))
	}
	require.NoError(t, ps.Replace(initial, "1"))
	type handed struct {
		list []v1alpha1.Route
		keys []string
	}
	var earlier []handed
	for step := range 300 {
		for range r.IntN(6) {
			switch o := route(step); r.IntN(4) {
			case 0:
				require.NoError(t, ps.Delete(o))
			case 1:
				if r.IntN(20) == 0 {
					require.NoError(t, ps.Replace(append([]any{o}, w.store.List()...), "2"))
				}
			default:
				require.NoError(t, ps.Update(o)) // adds when new
			}
		}
		got := listKind[v1alpha1.Route](w)
		want := listAs[v1alpha1.Route](w.store)
		sortObjects(want)
		require.Equal(t, want, got, "step %d", step)
		var keys []string
		for _, x := range got {
			keys = append(keys, x.Namespace+"/"+x.Name+" "+x.Spec.RouteKey)
		}
		earlier = append(earlier, handed{got, keys})
	}
	for i, h := range earlier {
		for j, x := range h.list {
			require.Equal(t, h.keys[j], x.Namespace+"/"+x.Name+" "+x.Spec.RouteKey, "list %d was modified after it was handed out", i)
		}
	}
}
