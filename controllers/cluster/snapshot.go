package cluster

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// listSnapshot lists every watched object from the caches into a Snapshot,
// each kind sorted by namespace then name.
//
// Lists use UnsafeDisableDeepCopy: the items share maps and slices with the
// cache. That is safe because nothing downstream mutates a snapshot (the
// translator is pure, the pipeline only reads and hashes) and the informers
// replace cached objects rather than modify them.
func listSnapshot(ctx context.Context, r client.Reader, secrets *secretInformers, namespace string) (*translate.Snapshot, error) {
	opts := []client.ListOption{client.UnsafeDisableDeepCopy}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	var (
		apis      v1alpha1.ApiList
		routes    v1alpha1.RouteList
		stages    v1alpha1.StageList
		auths     v1alpha1.AuthorizerList
		plans     v1alpha1.UsagePlanList
		services  corev1.ServiceList
		endpoints discoveryv1.EndpointSliceList
	)
	for _, l := range []client.ObjectList{&apis, &routes, &stages, &auths, &plans, &services, &endpoints} {
		if err := r.List(ctx, l, opts...); err != nil {
			return nil, fmt.Errorf("list %T from cache: %w", l, err)
		}
	}
	secretList, err := secrets.list()
	if err != nil {
		return nil, err
	}
	snap := &translate.Snapshot{
		Apis: apis.Items, Routes: routes.Items, Stages: stages.Items, Authorizers: auths.Items,
		UsagePlans: plans.Items, Services: services.Items, EndpointSlices: endpoints.Items,
		Secrets: secretList,
	}
	sortObjects(snap.Apis)
	sortObjects(snap.Routes)
	sortObjects(snap.Stages)
	sortObjects(snap.Authorizers)
	sortObjects(snap.UsagePlans)
	sortObjects(snap.Services)
	sortObjects(snap.EndpointSlices)
	sortObjects(snap.Secrets)
	return snap, nil
}

// sortObjects sorts items by namespace, then name. It sorts small keys and
// moves each object once: comparing the objects themselves would copy two
// of them (a Route is about a kilobyte) per comparison, which made sorting
// 10,000 Routes the slowest step of a change going live.
func sortObjects[T any, P interface {
	*T
	metav1.Object
}](items []T) {
	type key struct {
		namespace, name string
		index           int
	}
	keys := make([]key, len(items))
	for i := range items {
		o := P(&items[i])
		keys[i] = key{o.GetNamespace(), o.GetName(), i}
	}
	byName := func(a, b key) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	}
	if slices.IsSortedFunc(keys, byName) {
		return
	}
	slices.SortFunc(keys, byName)
	sorted := make([]T, len(items))
	for i, k := range keys {
		sorted[i] = items[k.index]
	}
	copy(items, sorted)
}
