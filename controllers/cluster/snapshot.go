package cluster

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// snapshot copies every watched object from the stores into a Snapshot,
// each kind sorted by namespace then name. The copies are shallow (listAs):
// nothing downstream mutates a snapshot (the translator is pure, the
// pipeline only reads and hashes) and the stores replace objects rather
// than modify them. For the same reason a kind whose store did not change
// since the last snapshot shares that snapshot's slice, and a kind with few
// changes gets that slice patched, not listed and sorted again (listKind):
// at 100,000 Routes a change of a Stage does not copy the Routes, and a
// change of a Route does not sort them.
// It is called from the source's one goroutine only.
func (s *Source) snapshot() *translate.Snapshot {
	w := s.byName
	snap := &translate.Snapshot{
		Apis:           listKind[v1alpha1.Api](w["apis.turnpike.io"]),
		Routes:         listKind[v1alpha1.Route](w["routes.turnpike.io"]),
		Stages:         listKind[v1alpha1.Stage](w["stages.turnpike.io"]),
		Authorizers:    listKind[v1alpha1.Authorizer](w["authorizers.turnpike.io"]),
		UsagePlans:     listKind[v1alpha1.UsagePlan](w["usageplans.turnpike.io"]),
		Services:       listKind[corev1.Service](w["services"]),
		EndpointSlices: listKind[discoveryv1.EndpointSlice](w["endpointslices.discovery.k8s.io"]),
		Secrets: slices.Concat(listKind[corev1.Secret](w["secrets/"+string(controllers.SecretTypeTLS)]),
			listKind[corev1.Secret](w["secrets/"+string(controllers.SecretTypeAPIKey)]),
			listKind[corev1.Secret](w["secrets/"+string(controllers.SecretTypeAWSCredentials)])),
	}
	sortObjects(snap.Secrets) // three sorted lists, one slice
	return snap
}

// listKind is the sorted objects of w's store: the slice listed last when
// the store did not change since, that slice patched with the changed
// objects when few changed (patchList), else a new full list. The slice
// listed last is never modified: snapshots share it.
func listKind[T any, P interface {
	*T
	metav1.Object
}](w *kindWatch) []T {
	keys, relist := w.changes.take()
	prev, ok := w.list.([]T)
	switch {
	case ok && !relist && len(keys) == 0:
		return prev
	case ok && !relist && len(keys) <= len(prev)/4:
		w.list = patchList[T, P](prev, keys, w.store)
	default:
		l := listAs[T](w.store)
		sortObjects[T, P](l)
		w.list = l
	}
	return w.list.([]T)
}

// patchList is prev (sorted) with the objects of keys taken from store:
// changed ones replaced, deleted ones dropped, new ones inserted in order.
// It copies prev once and sorts only the changed objects.
func patchList[T any, P interface {
	*T
	metav1.Object
}](prev []T, keys map[objectKey]struct{}, store toolscache.Store) []T {
	var changed []T
	for k := range keys {
		if obj, exists, err := store.GetByKey(toolscache.NewObjectName(k.namespace, k.name).String()); err == nil && exists {
			if p, ok := obj.(*T); ok {
				changed = append(changed, *p)
			}
		}
	}
	sortObjects[T, P](changed)
	before := func(a, b P) bool {
		return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName())) < 0
	}
	out := make([]T, 0, len(prev)+len(changed))
	j := 0
	for i := range prev {
		o := P(&prev[i])
		if _, ok := keys[objectKey{o.GetNamespace(), o.GetName()}]; ok {
			continue // replaced by its current version, or deleted
		}
		for j < len(changed) && before(P(&changed[j]), o) {
			out = append(out, changed[j])
			j++
		}
		out = append(out, prev[i])
	}
	return append(out, changed[j:]...)
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
