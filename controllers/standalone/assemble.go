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

// placed is an object at its position in the assembly, with the
// creationTimestamp it has in the snapshot (its own, else the synthetic one
// of its position).
type placed struct {
	obj     kubeObject
	created metav1.Time
	// sum is the object's fingerprint with created mixed in (entry.stamped);
	// zero for the kinds without one.
	sum [sha256.Size]byte
}

// assembly is one assembled snapshot: the objects in file order (first of
// duplicates only) and the snapshot's fingerprint.
type assembly struct {
	objs []placed
	snap *translate.Snapshot
	fp   [sha256.Size]byte
	sums *translate.ObjectSums
}

// assemble builds the snapshot of every file's good version: files by name,
// objects in file order, the first of duplicate objects winning. The
// snapshot holds struct copies of the files' objects with their
// creationTimestamp set: maps and slices are shared with the good versions,
// which nobody modifies (the snapshot is read-only for its consumers).
func (l *Loader) assemble() assembly {
	type where struct {
		file string
		line int
	}
	seen := make(map[objectKey]where, len(l.order))
	out := assembly{objs: make([]placed, 0, len(l.order))}
	h := sha256.New()
	var stampBuf [8]byte
	for _, st := range l.files {
		st.holdsDuplicate = false
	}
	for _, name := range slices.Sorted(maps.Keys(l.files)) {
		good := l.files[name].good
		for i := range good {
			e := &good[i]
			if first, dup := seen[e.key]; dup {
				l.files[name].holdsDuplicate, l.files[first.file].holdsDuplicate = true, true
				l.log.Error(nil, "duplicate object ignored; the first in file order wins",
					"kind", e.key.Kind, "namespace", e.key.Namespace, "name", e.key.Name,
					"file", name, "line", e.line, "first", fmt.Sprintf("%s:%d", first.file, first.line))
				continue
			}
			seen[e.key] = where{name, e.line}
			p := placed{obj: e.obj, created: createdAt(e.obj, len(out.objs))}
			if e.counted {
				p.sum = e.stamped(p.created)
			}
			out.objs = append(out.objs, p)
			if e.counted {
				h.Write(e.sum[:])
				binary.BigEndian.PutUint64(stampBuf[:], uint64(p.created.UnixNano()))
				h.Write(stampBuf[:])
			}
		}
	}
	copy(out.fp[:], h.Sum(nil))
	out.snap = snapshotOf(out.objs)
	out.sums = sumsOf(out.objs)
	return out
}

// stamped is the entry's fingerprint with the creationTimestamp the
// assembly gave it, cached on the entry: translate.ObjectSums must change
// with the timestamp (it orders conflicts), and rehashing every object on
// every reload would cost what the per-object fingerprints save.
func (e *entry) stamped(created metav1.Time) [sha256.Size]byte {
	if !e.stampedValid || !e.stampedAt.Equal(&created) {
		var buf [sha256.Size + 8]byte
		copy(buf[:], e.sum[:])
		binary.BigEndian.PutUint64(buf[sha256.Size:], uint64(created.UnixNano()))
		e.stampedSum, e.stampedAt, e.stampedValid = sha256.Sum256(buf[:]), created, true
	}
	return e.stampedSum
}

// sumsOf is the translate.ObjectSums of snapshotOf(objs): the stamped sums
// of the five kinds in snapshot order, and one sum over the Services and
// Secrets (EndpointSlices are not read by the translation).
func sumsOf(objs []placed) *translate.ObjectSums {
	out := &translate.ObjectSums{}
	shared := sha256.New()
	for _, p := range objs {
		switch p.obj.(type) {
		case *v1alpha1.Api:
			out.Apis = append(out.Apis, p.sum)
		case *v1alpha1.Route:
			out.Routes = append(out.Routes, p.sum)
		case *v1alpha1.Stage:
			out.Stages = append(out.Stages, p.sum)
		case *v1alpha1.Authorizer:
			out.Authorizers = append(out.Authorizers, p.sum)
		case *v1alpha1.UsagePlan:
			out.UsagePlans = append(out.UsagePlans, p.sum)
		case *corev1.Service, *corev1.Secret:
			shared.Write(p.sum[:])
		}
	}
	copy(out.Shared[:], shared.Sum(nil))
	return out
}

// sameObjects says whether two assemblies hold equal objects with equal
// timestamps in the same order: identical objects are equal, others are
// compared.
func sameObjects(a, b []placed) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].created.Equal(&b[i].created) {
			return false
		}
		if a[i].obj != b[i].obj && !equality.Semantic.DeepEqual(a[i].obj, b[i].obj) {
			return false
		}
	}
	return true
}

// createdAt is what the API server would have set as creationTimestamp on
// create, following file order: the object's own, else SyntheticEpoch +
// index seconds.
func createdAt(obj kubeObject, index int) metav1.Time {
	if created := obj.GetCreationTimestamp(); !created.IsZero() {
		return created
	}
	return metav1.NewTime(SyntheticEpoch.Add(time.Duration(index) * time.Second))
}

// stampIdentity fills what the API server would have set on create besides
// the creationTimestamp (createdAt): generation 1 and a uid that is stable
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

// fingerprintEntry stores the entry's object fingerprint (its own
// creationTimestamp, possibly zero: the assembly adds the one it gets).
func fingerprintEntry(e *entry) error {
	sum, ok, err := controllers.ObjectFingerprint(e.obj)
	e.sum, e.counted = sum, ok
	return err
}

// snapshotOf builds a snapshot of objs, each kind's slice in objs' order.
func snapshotOf(objs []placed) *translate.Snapshot {
	routes := 0
	for _, p := range objs {
		if _, ok := p.obj.(*v1alpha1.Route); ok {
			routes++
		}
	}
	snap := &translate.Snapshot{Routes: make([]v1alpha1.Route, 0, routes)}
	for _, p := range objs {
		appendObject(snap, p)
	}
	return snap
}

// appendObject adds a copy of p's object, with p's creationTimestamp, to the
// snapshot slice of its kind.
func appendObject(snap *translate.Snapshot, p placed) {
	switch o := p.obj.(type) {
	case *v1alpha1.Api:
		snap.Apis = append(snap.Apis, *o)
		snap.Apis[len(snap.Apis)-1].CreationTimestamp = p.created
	case *v1alpha1.Route:
		snap.Routes = append(snap.Routes, *o)
		snap.Routes[len(snap.Routes)-1].CreationTimestamp = p.created
	case *v1alpha1.Stage:
		snap.Stages = append(snap.Stages, *o)
		snap.Stages[len(snap.Stages)-1].CreationTimestamp = p.created
	case *v1alpha1.Authorizer:
		snap.Authorizers = append(snap.Authorizers, *o)
		snap.Authorizers[len(snap.Authorizers)-1].CreationTimestamp = p.created
	case *v1alpha1.UsagePlan:
		snap.UsagePlans = append(snap.UsagePlans, *o)
		snap.UsagePlans[len(snap.UsagePlans)-1].CreationTimestamp = p.created
	case *corev1.Service:
		snap.Services = append(snap.Services, *o)
		snap.Services[len(snap.Services)-1].CreationTimestamp = p.created
	case *corev1.Secret:
		snap.Secrets = append(snap.Secrets, *o)
		snap.Secrets[len(snap.Secrets)-1].CreationTimestamp = p.created
	case *discoveryv1.EndpointSlice:
		snap.EndpointSlices = append(snap.EndpointSlices, *o)
		snap.EndpointSlices[len(snap.EndpointSlices)-1].CreationTimestamp = p.created
	default:
		panic(fmt.Sprintf("standalone: object of unexpected type %T", p.obj))
	}
}

// fingerprints remembers the fingerprint of the snapshot last assembled, for
// the pipeline (Watcher.Fingerprint), which may ask from another goroutine.
type fingerprints struct {
	mu   sync.Mutex
	snap *translate.Snapshot
	fp   [sha256.Size]byte
	sums *translate.ObjectSums
}

func (f *fingerprints) set(snap *translate.Snapshot, fp [sha256.Size]byte, sums *translate.ObjectSums) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snap, f.fp, f.sums = snap, fp, sums
}

// sumsOf returns the ObjectSums of snap when it is the snapshot last
// assembled, else nil (the caller then translates in full).
func (f *fingerprints) sumsOf(snap *translate.Snapshot) *translate.ObjectSums {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snap == snap && snap != nil {
		return f.sums
	}
	return nil
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
