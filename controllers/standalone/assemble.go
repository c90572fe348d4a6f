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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

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

// segment is one file's share of an assembly: the objects the file
// contributes (its good version in file order, less duplicates of objects
// of earlier files) placed from index start of the assembly. A segment is
// never modified once built. An assembly reuses the previous assembly's
// segment of a file when nothing it depends on changed (reusableFor), which
// makes a reload cost the files that changed rather than every object.
type segment struct {
	// good is the file's good version the segment was built from; compared
	// by identity only (sameEntries).
	good  []entry
	start int
	objs  []placed
	// reusable: built without duplicates anywhere, so the objects are the
	// whole of good and depend on nothing but good and start.
	reusable bool
	// hashed is what the assembly's fingerprint hashes of the segment: each
	// counted object's sum and timestamp (kept so that the fingerprint, a
	// hash of every object in order, costs one write per segment).
	hashed []byte
	// kinds counts the objects of each snapshot kind; sums holds the
	// stamped sums of the five kinds of translate.ObjectSums and shared those
	// of the Services and Secrets, in order.
	kinds  [numKinds]int
	sums   [numSummedKinds][][sha256.Size]byte
	shared [][sha256.Size]byte
}

// reusableFor says whether s is the segment of a file whose good version is
// good, placed at start, in an assembly without duplicates. The synthetic
// creationTimestamps depend on start, so a file after one whose object
// count changed is placed again.
func (s *segment) reusableFor(good []entry, start int) bool {
	return s != nil && s.reusable && s.start == start && sameEntries(s.good, good)
}

// sameEntries says whether a and b are the same slice (same length and
// first element): a file's good version is replaced whole, never modified.
func sameEntries(a, b []entry) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// assembly is one assembled snapshot: the files' segments by file name,
// the snapshot, its fingerprint and sums.
type assembly struct {
	segs []*segment
	// n is the number of objects; index finds a segment of segs.
	n     int
	index map[*segment]int
	// kindStart[i][k] is where segs[i]'s objects of kind k start in snap's
	// slice of that kind.
	kindStart [][numKinds]int
	snap      *translate.Snapshot
	fp        [sha256.Size]byte
	sums      *translate.ObjectSums
}

// assemble places the objects of every file's good version: files by name,
// objects in file order, the first of duplicate objects winning. The
// snapshot (build) holds struct copies of the files' objects with their
// creationTimestamp set: maps and slices are shared with the good versions,
// which nobody modifies (the snapshot is read-only for its consumers).
//
// Without duplicates (l.keys says so without looking at every object) the
// segments of files that did not change are reused; with duplicates every
// segment is built again, as the first-wins rule and its log lines need.
func (l *Loader) assemble() *assembly {
	names := slices.Sorted(maps.Keys(l.files))
	l.countKeys()
	out := &assembly{segs: make([]*segment, 0, len(names)), index: make(map[*segment]int, len(names))}
	var seen map[objectKey]where
	if l.duplicates > 0 {
		seen = make(map[objectKey]where, len(l.keys))
	}
	for _, name := range names {
		st := l.files[name]
		st.holdsDuplicate = false
		seg := l.segs[name]
		if seen != nil || !seg.reusableFor(st.good, out.n) {
			seg = l.buildSegment(name, st.good, out.n, seen)
		}
		out.index[seg] = len(out.segs)
		out.segs = append(out.segs, seg)
		out.n += len(seg.objs)
	}
	clear(l.segs)
	h := sha256.New()
	for i, seg := range out.segs {
		l.segs[names[i]] = seg
		h.Write(seg.hashed)
	}
	copy(out.fp[:], h.Sum(nil))
	return out
}

// build makes a's snapshot and sums (assemble leaves them out: an assembly
// whose objects equal the last one's needs neither), copying what it can
// from base (snapshotOf).
func (a *assembly) build(base *assembly) {
	a.snap, a.kindStart = snapshotOf(a.segs, base)
	a.sums = sumsOf(a.segs)
}

// where is the file and line of an object, for duplicate log lines.
type where struct {
	file string
	line int
}

// buildSegment places the entries of good from index start. seen is nil
// when no object has a duplicate; otherwise it holds the objects of the
// files before this one, the entries already in it are skipped (and
// logged, and both files marked), and the others are added.
func (l *Loader) buildSegment(name string, good []entry, start int, seen map[objectKey]where) *segment {
	seg := &segment{good: good, start: start, objs: make([]placed, 0, len(good)), reusable: seen == nil}
	for i := range good {
		e := &good[i]
		if seen != nil {
			if first, dup := seen[e.key]; dup {
				l.files[name].holdsDuplicate, l.files[first.file].holdsDuplicate = true, true
				l.log.Error(nil, "duplicate object ignored; the first in file order wins",
					"kind", e.key.Kind, "namespace", e.key.Namespace, "name", e.key.Name,
					"file", name, "line", e.line, "first", fmt.Sprintf("%s:%d", first.file, first.line))
				continue
			}
			seen[e.key] = where{name, e.line}
		}
		p := placed{obj: e.obj, created: createdAt(e.obj, start+len(seg.objs))}
		if e.counted {
			p.sum = e.stamped(p.created)
			seg.hashed = append(seg.hashed, e.sum[:]...)
			seg.hashed = binary.BigEndian.AppendUint64(seg.hashed, uint64(p.created.UnixNano()))
		}
		seg.objs = append(seg.objs, p)
		seg.count(p)
	}
	return seg
}

// countKeys brings l.keys and l.duplicates up to date with the files' good
// versions, visiting only the files whose good version changed or that
// were removed since the last call.
func (l *Loader) countKeys() {
	for name, good := range l.counted {
		if st := l.files[name]; st == nil || !sameEntries(good, st.good) {
			l.addKeys(good, -1)
			delete(l.counted, name)
		}
	}
	for name, st := range l.files {
		if _, ok := l.counted[name]; !ok {
			l.addKeys(st.good, 1)
			l.counted[name] = st.good
		}
	}
}

// addKeys adds d to the count of each entry's key, keeping l.duplicates
// the number of keys counted more than once.
func (l *Loader) addKeys(good []entry, d int) {
	for i := range good {
		k := good[i].key
		before := l.keys[k]
		after := before + d
		if after == 0 {
			delete(l.keys, k)
		} else {
			l.keys[k] = after
		}
		if before > 1 && after <= 1 {
			l.duplicates--
		} else if before <= 1 && after > 1 {
			l.duplicates++
		}
	}
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
