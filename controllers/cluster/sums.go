package cluster

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// Sums keeps a fingerprint per watched object so that a change costs what
// the changed objects cost, not what the cluster holds: the pipeline's
// snapshot fingerprint (Fingerprint, for controllers.WithFingerprint) is a
// hash of stored per-object hashes instead of a JSON encoding of every
// object, and the incremental translator (Of, for
// controllers.IncrementalTranslate) retranslates only the Apis whose objects
// changed.
//
// An object's hashes are computed once per uid and resourceVersion (every
// write to an object, its status included, bumps its resourceVersion, so a
// cached hash is never stale) and dropped when the object leaves the
// snapshot.
//
// Two hashes per object, because the two users need different things:
//   - spec: controllers.ObjectFingerprint (metadata the translation reads and
//     the spec, no status). The snapshot fingerprint combines these, so a
//     status write, which changes nothing but status, causes no translation
//     (the pipeline's invariant).
//   - full: spec and translate.StoredWaitOf the stored conditions.
//     translate.ObjectSums must change with everything the translation reads,
//     and it reads that much of the stored status (grace periods start at a
//     stored Reconciling condition's transition time), so a part whose
//     objects started or ended a wait is translated again the next time
//     anything is translated; other status writes (the first pass over a
//     large cluster writes Ready to every object) leave the sums alone.
//
// Create it with NewSums, give it to Options.Sums and to the pipeline. The
// Source records each snapshot before applying it; Of and Fingerprint answer
// for that snapshot only (nil / an error for any other). Safe for concurrent
// use.
type Sums struct {
	mu sync.Mutex
	// entries are the hashes by object, valid for entry.uid and entry.rv.
	entries map[sumKey]*sumEntry
	// pass numbers record calls; an entry not seen by the latest is dropped.
	pass uint64

	snap *translate.Snapshot
	sums *translate.ObjectSums
	fp   [sha256.Size]byte
	// prevSnap and prevFP are the snapshot recorded before snap: the
	// pipeline's timer may fingerprint it again after the source recorded
	// a newer one, and must get a value of the same kind.
	prevSnap *translate.Snapshot
	prevFP   [sha256.Size]byte
}

// sumKey identifies a watched object: its Go type stands for its kind
// (typed objects carry no TypeMeta once decoded into a store).
type sumKey struct {
	typ             reflect.Type
	namespace, name string
}

type sumEntry struct {
	uid        types.UID
	rv         string
	spec, full [sha256.Size]byte
	pass       uint64
}

// NewSums returns an empty Sums.
func NewSums() *Sums { return &Sums{entries: map[sumKey]*sumEntry{}} }

// Of is the controllers.SumsFunc of the recorded snapshot.
func (s *Sums) Of(snap *translate.Snapshot) *translate.ObjectSums {
	s.mu.Lock()
	defer s.mu.Unlock()
	if snap == nil || snap != s.snap {
		return nil
	}
	return s.sums
}

// Fingerprint is the controllers.FingerprintFunc of the recorded snapshot:
// a hash of the objects' spec hashes in snapshot order. Equal values mean
// equal controllers.Fingerprint input (each spec hash covers its kind, the
// metadata and spec Fingerprint encodes, so the sequence determines it).
// Any other snapshot gets controllers.Fingerprint; the pipeline compares
// values of one snapshot to the next, so a mix costs at most a translation.
func (s *Sums) Fingerprint(snap *translate.Snapshot) ([sha256.Size]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case snap != nil && snap == s.snap:
		return s.fp, nil
	case snap != nil && snap == s.prevSnap:
		return s.prevFP, nil
	}
	return controllers.Fingerprint(snap)
}

// record computes the sums and fingerprint of snap (hashing only objects
// whose uid or resourceVersion is new) and remembers them for Of and
// Fingerprint.
func (s *Sums) record(snap *translate.Snapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap != nil {
		s.prevSnap, s.prevFP = s.snap, s.fp
	}
	s.pass++
	out := &translate.ObjectSums{
		Apis: make([][sha256.Size]byte, len(snap.Apis)), Routes: make([][sha256.Size]byte, len(snap.Routes)),
		Stages: make([][sha256.Size]byte, len(snap.Stages)), Authorizers: make([][sha256.Size]byte, len(snap.Authorizers)),
		UsagePlans: make([][sha256.Size]byte, len(snap.UsagePlans)),
	}
	fp, shared := sha256.New(), sha256.New()
	var err error
	add := func(obj runtime.Object, full *[sha256.Size]byte, isShared bool) {
		if err != nil {
			return
		}
		var e *sumEntry
		if e, err = s.entryOf(obj); err != nil {
			return
		}
		fp.Write(e.spec[:])
		if full != nil {
			*full = e.full
		}
		if isShared {
			shared.Write(e.spec[:])
		}
	}
	for i := range snap.Apis {
		add(&snap.Apis[i], &out.Apis[i], false)
	}
	for i := range snap.Routes {
		add(&snap.Routes[i], &out.Routes[i], false)
	}
	for i := range snap.Stages {
		add(&snap.Stages[i], &out.Stages[i], false)
	}
	for i := range snap.Authorizers {
		add(&snap.Authorizers[i], &out.Authorizers[i], false)
	}
	for i := range snap.UsagePlans {
		add(&snap.UsagePlans[i], &out.UsagePlans[i], false)
	}
	// Services and Secrets are read by every part of the translation;
	// EndpointSlices are not read by it at all (they take the endpoint path).
	for i := range snap.Services {
		add(&snap.Services[i], nil, true)
	}
	for i := range snap.Secrets {
		add(&snap.Secrets[i], nil, true)
	}
	maps.DeleteFunc(s.entries, func(_ sumKey, e *sumEntry) bool { return e.pass != s.pass })
	if err != nil {
		s.snap, s.sums = nil, nil
		return err
	}
	copy(out.Shared[:], shared.Sum(nil))
	copy(s.fp[:], fp.Sum(nil))
	s.snap, s.sums = snap, out
	return nil
}

// entryOf returns obj's cached hashes, computing them when obj's uid or
// resourceVersion differs from the cached ones (or either is unset).
func (s *Sums) entryOf(obj runtime.Object) (*sumEntry, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	key := sumKey{reflect.TypeOf(obj), m.GetNamespace(), m.GetName()}
	e := s.entries[key]
	if e == nil || e.rv == "" || e.rv != m.GetResourceVersion() || e.uid != m.GetUID() {
		e = &sumEntry{uid: m.GetUID(), rv: m.GetResourceVersion()}
		if e.spec, e.full, err = hashObject(obj); err != nil {
			return nil, err
		}
		s.entries[key] = e
	}
	e.pass = s.pass
	return e, nil
}

// hashObject returns obj's spec hash (controllers.ObjectFingerprint) and
// its full hash (the spec hash and the JSON of what the translation reads of
// its stored status, translate.StoredWaitOf).
func hashObject(obj runtime.Object) (spec, full [sha256.Size]byte, err error) {
	spec, ok, err := controllers.ObjectFingerprint(obj)
	if err != nil {
		return spec, full, err
	}
	if !ok {
		return spec, full, fmt.Errorf("fingerprint: unexpected %T", obj)
	}
	status, err := json.Marshal(translate.StoredWaitOf(storedConditions(obj)))
	if err != nil {
		return spec, full, fmt.Errorf("fingerprint: status: %w", err)
	}
	h := sha256.New()
	h.Write(spec[:])
	h.Write(status)
	copy(full[:], h.Sum(nil))
	return spec, full, nil
}

// storedConditions are the stored status conditions of the five Turnpike
// kinds (nil for the others, whose status the translation does not read).
func storedConditions(obj runtime.Object) []metav1.Condition {
	if co, ok := obj.(client.Object); ok {
		if cs := commonStatus(co); cs != nil {
			return cs.Conditions
		}
	}
	return nil
}
