package standalone

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// SyntheticEpoch is the creationTimestamp of the first object (in file
// order) that has none; the n-th such position gets SyntheticEpoch + n
// seconds. It lies before any real cluster timestamp a user may copy into a
// file, and whole seconds survive a round trip through metav1.Time.
var SyntheticEpoch = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// uidNamespace scopes the name-based UUIDs of standalone objects.
var uidNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://turnpike.io/standalone"))

// assembly is one assembled snapshot: the stamped objects in file order
// (first of duplicates only) and the snapshot's fingerprint.
type assembly struct {
	objs []kubeObject
	snap *translate.Snapshot
	fp   [sha256.Size]byte
}

// assemble builds the snapshot of every file's good version: files by name,
// objects in file order, the first of duplicate objects winning. Each entry
// keeps its stamped copy while its position does not change, so a reload
// costs a walk over the entries, not a copy of every object. Stamped copies
// are shallow: they share maps and slices with the file's good version, which
// nobody modifies (the snapshot is read-only for its consumers).
func (l *Loader) assemble() assembly {
	type where struct {
		file string
		line int
	}
	seen := make(map[objectKey]where, len(l.order))
	out := assembly{objs: make([]kubeObject, 0, len(l.order))}
	h := sha256.New()
	var stampBuf [8]byte
	for _, name := range slices.Sorted(maps.Keys(l.files)) {
		good := l.files[name].good
		for i := range good {
			e := &good[i]
			if first, dup := seen[e.key]; dup {
				l.log.Error(nil, "duplicate object ignored; the first in file order wins",
					"kind", e.key.Kind, "namespace", e.key.Namespace, "name", e.key.Name,
					"file", name, "line", e.line, "first", fmt.Sprintf("%s:%d", first.file, first.line))
				continue
			}
			seen[e.key] = where{name, e.line}
			obj := e.stampAt(len(out.objs))
			out.objs = append(out.objs, obj)
			if e.counted {
				h.Write(e.sum[:])
				created := obj.GetCreationTimestamp()
				binary.BigEndian.PutUint64(stampBuf[:], uint64(created.UnixNano()))
				h.Write(stampBuf[:])
			}
		}
	}
	copy(out.fp[:], h.Sum(nil))
	out.snap = snapshotOf(out.objs)
	return out
}

// sameObjects says whether two assemblies hold equal objects in the same
// order: identical stamped copies are equal, others are compared.
func sameObjects(a, b []kubeObject) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !equality.Semantic.DeepEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// stampAt returns the entry's object stamped at position index, reusing the
// stamped copy of the last assembly when the position is the same.
func (e *entry) stampAt(index int) kubeObject {
	if e.stamped == nil || e.stampedAt != index {
		e.stamped = shallowCopy(e.obj)
		stampTime(e.stamped, index)
		e.stampedAt = index
	}
	return e.stamped
}

// stampIdentity fills what the API server would have set on create besides
// the creationTimestamp (stampTime): generation 1 and a uid that is stable
// across reloads (derived from kind, namespace and name). Values the file
// sets are kept. It runs once per parsed object, on the file's good version.
func stampIdentity(obj kubeObject, key objectKey) {
	if obj.GetGeneration() == 0 {
		obj.SetGeneration(1)
	}
	if obj.GetUID() == "" {
		id := uuid.NewSHA1(uidNamespace, []byte(key.Kind+"/"+key.Namespace+"/"+key.Name))
		obj.SetUID(types.UID(id.String()))
	}
}

// stampTime gives an object without a creationTimestamp one that follows
// file order: SyntheticEpoch + index seconds.
func stampTime(obj kubeObject, index int) {
	if created := obj.GetCreationTimestamp(); created.IsZero() {
		obj.SetCreationTimestamp(metav1.NewTime(SyntheticEpoch.Add(time.Duration(index) * time.Second)))
	}
}

// fingerprintEntry stores the entry's object fingerprint (its own
// creationTimestamp, possibly zero: the assembly adds the stamped one).
func fingerprintEntry(e *entry) error {
	sum, ok, err := controllers.ObjectFingerprint(e.obj)
	e.sum, e.counted = sum, ok
	return err
}

// shallowCopy copies the object's struct; maps and slices stay shared.
func shallowCopy(obj kubeObject) kubeObject {
	switch o := obj.(type) {
	case *v1alpha1.Api:
		c := *o
		return &c
	case *v1alpha1.Route:
		c := *o
		return &c
	case *v1alpha1.Stage:
		c := *o
		return &c
	case *v1alpha1.Authorizer:
		c := *o
		return &c
	case *v1alpha1.UsagePlan:
		c := *o
		return &c
	case *corev1.Service:
		c := *o
		return &c
	case *corev1.Secret:
		c := *o
		return &c
	case *discoveryv1.EndpointSlice:
		c := *o
		return &c
	}
	panic(fmt.Sprintf("standalone: object of unexpected type %T", obj))
}

// snapshotOf builds a snapshot of objs, each kind's slice in objs' order.
func snapshotOf(objs []kubeObject) *translate.Snapshot {
	routes := 0
	for _, o := range objs {
		if _, ok := o.(*v1alpha1.Route); ok {
			routes++
		}
	}
	snap := &translate.Snapshot{Routes: make([]v1alpha1.Route, 0, routes)}
	for _, o := range objs {
		appendObject(snap, o)
	}
	return snap
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

// fingerprints remembers the fingerprint of the snapshot last assembled, for
// the pipeline (Watcher.Fingerprint), which may ask from another goroutine.
type fingerprints struct {
	mu   sync.Mutex
	snap *translate.Snapshot
	fp   [sha256.Size]byte
}

func (f *fingerprints) set(snap *translate.Snapshot, fp [sha256.Size]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap, f.fp = snap, fp
}

// of returns the stored fingerprint of snap, or controllers.Fingerprint for a
// snapshot assembled earlier (a value that never equals a stored one, so the
// pipeline translates: correct, only slower).
func (f *fingerprints) of(snap *translate.Snapshot) ([sha256.Size]byte, error) {
	f.mu.Lock()
	s, fp := f.snap, f.fp
	f.mu.Unlock()
	if s == snap && s != nil {
		return fp, nil
	}
	return controllers.Fingerprint(snap)
}
