package standalone

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// SyntheticEpoch is the creationTimestamp of the first object (in file
// order) that has none; the n-th such position gets SyntheticEpoch + n
// seconds. It lies before any real cluster timestamp a user may copy into a
// file, and whole seconds survive a round trip through metav1.Time.
var SyntheticEpoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// uidNamespace scopes the name-based UUIDs of standalone objects.
var uidNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://turnpike.io/standalone"))

// assemble builds the snapshot of every file's good version: files by name,
// objects in file order, the first of duplicate objects winning. Objects are
// deep copies, so stamping them never changes a file's stored good version.
func (l *Loader) assemble() *translate.Snapshot {
	snap := &translate.Snapshot{}
	seen := map[objectKey]string{}
	index := 0
	for _, name := range slices.Sorted(maps.Keys(l.files)) {
		for _, e := range l.files[name].good {
			where := fmt.Sprintf("%s:%d", name, e.line)
			if first, dup := seen[e.key]; dup {
				l.log.Error(nil, "duplicate object ignored; the first in file order wins",
					"kind", e.key.Kind, "namespace", e.key.Namespace, "name", e.key.Name,
					"file", name, "line", e.line, "first", first)
				continue
			}
			seen[e.key] = where
			obj := e.obj.DeepCopyObject().(kubeObject)
			stamp(obj, e.key, index)
			index++
			appendObject(snap, obj)
		}
	}
	return snap
}

// stamp fills what the API server would have set on create: a
// creationTimestamp that follows file order, generation 1 and a uid that is
// stable across reloads (derived from kind, namespace and name). Values the
// file sets are kept.
func stamp(obj kubeObject, key objectKey, index int) {
	if created := obj.GetCreationTimestamp(); created.IsZero() {
		obj.SetCreationTimestamp(metav1.NewTime(SyntheticEpoch.Add(time.Duration(index) * time.Second)))
	}
	if obj.GetGeneration() == 0 {
		obj.SetGeneration(1)
	}
	if obj.GetUID() == "" {
		id := uuid.NewSHA1(uidNamespace, []byte(key.Kind+"/"+key.Namespace+"/"+key.Name))
		obj.SetUID(types.UID(id.String()))
	}
}

// appendObject adds obj to the snapshot slice of its kind.
func appendObject(snap *translate.Snapshot, obj kubeObject) {
	switch o := obj.(type) {
	case *v1alpha1.Api:
		snap.Apis = append(snap.Apis, *o)
	case *v1alpha1.Route:
		snap.Routes = append(snap.Routes, *o)
	case *v1alpha1.Stage:
		snap.Stages = append(snap.Stages, *o)
	case *v1alpha1.Authorizer:
		snap.Authorizers = append(snap.Authorizers, *o)
	case *v1alpha1.UsagePlan:
		snap.UsagePlans = append(snap.UsagePlans, *o)
	case *corev1.Service:
		snap.Services = append(snap.Services, *o)
	case *corev1.Secret:
		snap.Secrets = append(snap.Secrets, *o)
	case *discoveryv1.EndpointSlice:
		snap.EndpointSlices = append(snap.EndpointSlices, *o)
	default:
		panic(fmt.Sprintf("standalone: object of unexpected type %T", obj))
	}
}
