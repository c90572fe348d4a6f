package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
