// Package standalone is the file source of `turnpike standalone -f DIR`: it
// reads the same YAML a user would apply to a cluster (the five turnpike.io
// kinds, Services, the three Secret types the gateway reads, EndpointSlices)
// from a directory, defaults and validates it with the API server's own code
// (see Validator), watches the directory, and hands translate.Snapshot values
// to the same pipeline the cluster source feeds.
//
// Invariants:
//   - A file is all or nothing: if any document in it fails to parse or
//     validate, the file's last good version stays in effect (a file that never
//     parsed contributes nothing), and other files are unaffected.
//   - Objects are ordered by file name, then position in the file. Objects
//     without creationTimestamp get a synthetic one in that order, so the
//     translator's "oldest wins" conflict rule follows file order; the first
//     of two objects with the same kind, namespace and name wins.
//   - A snapshot is published only when the effective object set changed.
package standalone

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

// FileError is a file that failed to parse or validate: the file name, the
// 1-based line of the failing document (or of the YAML syntax error) and the
// API server's message.
type FileError struct {
	File    string
	Line    int
	Message string
}

// Error formats the error as "file:line: message".
func (e FileError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message) }

// entry is one good object of a file.
type entry struct {
	key  objectKey
	line int
	// obj is the object as parsed, with the uid and generation stamped
	// (stampIdentity); never modified afterwards.
	obj kubeObject
	// sum is obj's controllers.ObjectFingerprint; counted is false for the
	// kinds without one.
	sum     [sha256.Size]byte
	counted bool
	// stampedSum caches stamped(stampedAt) when stampedValid.
	stampedSum   [sha256.Size]byte
	stampedAt    metav1.Time
	stampedValid bool
}

// fileState is what the Loader remembers of one file.
type fileState struct {
	// sum is the SHA-256 of the content last parsed; parsed says sum is set.
	sum    [sha256.Size]byte
	parsed bool
	// stat is the file's os.Stat taken before the content last read, and
	// readAt the time of that read (unchangedSince).
	stat   os.FileInfo
	readAt time.Time
	// good is the last version that parsed and validated, in file order.
	good []entry
	// docs are the entries of the content last parsed by document text
	// (parseFile).
	docs map[[sha256.Size]byte]entry
	// errs are the errors of the content last parsed (empty when it was good).
	errs []FileError
	// readErr is the last read error logged, so it is logged once.
	readErr string
	// holdsDuplicate: the last assembly found an object of this file also
	// in another file. An edit of the file then reassembles even when its
	// objects stayed equal, so the "duplicate object ignored" error is
	// logged again, as every edit did before objects were compared.
	holdsDuplicate bool
}

// Loader reads a directory of YAML files into snapshots and remembers each
// file's last good version. It is not safe for concurrent use; Watcher drives
// one from a single goroutine.
type Loader struct {
	dir       string
	log       logr.Logger
	converter objectConverter
	files     map[string]*fileState
	// current is the snapshot returned last (nil before the first Reload)
	// and base the assembly it was built from; last is the last assembly
	// (base, or a later one whose objects equal base's).
	current    *translate.Snapshot
	base, last *assembly
	// segs are the files' segments of last, reused by the next assembly
	// (segment).
	segs map[string]*segment
	// keys counts the objects of every file's good version by key, counted
	// the good versions it counted (by file), and duplicates the keys
	// counted more than once (countKeys): without duplicates no assembly
	// needs to look at every object.
	keys       map[objectKey]int
	counted    map[string][]entry
	duplicates int
	// fps holds current's fingerprint for the pipeline.
	fps fingerprints
}

// NewLoader returns a Loader for dir that validates with the CRDs embedded in
// the binary. It does not read dir yet; call Reload.
func NewLoader(dir string, log logr.Logger) (*Loader, error) {
	v, err := NewValidator()
	if err != nil {
		return nil, err
	}
	return &Loader{
		dir:       dir,
		log:       log,
		converter: objectConverter{validator: v, log: log},
		files:     map[string]*fileState{},
	}, nil
}

// init makes the maps of a Loader built as a literal (tests).
func (l *Loader) init() {
	if l.segs == nil {
		l.segs, l.keys, l.counted = map[string]*segment{}, map[objectKey]int{}, map[string][]entry{}
	}
}

// Load reads dir once: it returns the snapshot of every file that parsed and
// validated, and the errors of the files that did not (also logged). The error
// is set only when dir cannot be read at all.
func Load(dir string, log logr.Logger) (*translate.Snapshot, []FileError, error) {
	l, err := NewLoader(dir, log)
	if err != nil {
		return nil, nil, err
	}
	snap, _, err := l.Reload(context.Background())
	if err != nil {
		return nil, nil, err
	}
	return snap, l.Errors(), nil
}

// isConfigFile says whether a directory entry is read: *.yaml and *.yml, but
// no hidden names (a mounted ConfigMap keeps its real files in ..data and
// ..YYYY_* directories, and exposes each key as a symlink through ..data).
func isConfigFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// Reload rereads the directory. It returns the current snapshot and whether
// it differs from the one returned before (always true on the first call).
// Files whose content did not change are not parsed again. On a directory
// read error the previous snapshot stays current and the error is returned.
func (l *Loader) Reload(ctx context.Context) (*translate.Snapshot, bool, error) {
	return l.reload(ctx, false)
}

// reload is Reload; with trustStat, a file whose os.Stat is unchanged since
// its content was last read, long enough after its modification time, is
// not read again (unchangedSince). The Watcher trusts stat on file events
// and reads every file on its periodic rescan, which stays the safety net
// for what stat can hide (a network file system's cached attributes).
func (l *Loader) reload(ctx context.Context, trustStat bool) (*translate.Snapshot, bool, error) {
	l.init()
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return l.current, false, fmt.Errorf("reading %s: %w", l.dir, err)
	}
	dirty := l.current == nil
	present := map[string]bool{}
	for _, de := range entries {
		name := de.Name()
		if !isConfigFile(name) {
			continue
		}
		// os.Stat follows symlinks, as reading a ConfigMap mount needs.
		info, err := os.Stat(filepath.Join(l.dir, name))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		present[name] = true
		if st := l.files[name]; trustStat && st != nil && st.unchangedSince(info) {
			continue
		}
		if l.refresh(ctx, name, info) {
			dirty = true
		}
	}
	for name := range l.files {
		if !present[name] {
			l.log.Info("file removed; its objects are gone", "file", name)
			delete(l.files, name)
			dirty = true
		}
	}
	if !dirty {
		return l.current, false, nil
	}
	next := l.assemble()
	if l.current != nil && sameObjects(l.last, next) {
		l.last = next // equal objects; identical ones make the next check cheap
		return l.current, false, nil
	}
	next.build(l.base)
	l.current, l.base, l.last = next.snap, next, next
	l.fps.set(next.snap, next.fp, next.sums)
	return next.snap, true, nil
}

// Fingerprint is the controllers.FingerprintFunc of the snapshots Reload
// returns: it combines the stored fingerprints of the objects instead of
// encoding them all again. Safe to call from any goroutine.
func (l *Loader) Fingerprint(snap *translate.Snapshot) ([sha256.Size]byte, error) {
	return l.fps.of(snap)
}

// Sums is the controllers.SumsFunc of the snapshots Reload returns: the
// per-object fingerprints it keeps, for an incremental translation (nil for
// any other snapshot). Safe to call from any goroutine.
func (l *Loader) Sums(snap *translate.Snapshot) *translate.ObjectSums { return l.fps.sumsOf(snap) }

// statMargin is how long before a read a file's modification time must lie
// for an unchanged stat to vouch for unchanged content: a write after the
// read then gets a later modification time on any file system whose
// timestamps are at most this coarse (FAT's are 2 s).
const statMargin = 3 * time.Second

// unchangedSince says whether a file whose os.Stat is now info still holds
// the content read last: same file (device and inode), size, mode and
// modification time as before that read, and modified at least statMargin
// before it (a file written in the same timestamp tick as the read could
// change again without its modification time moving).
func (st *fileState) unchangedSince(info os.FileInfo) bool {
	old := st.stat
	return st.parsed && old != nil && os.SameFile(old, info) && old.Size() == info.Size() && old.Mode() == info.Mode() &&
		old.ModTime().Equal(info.ModTime()) && st.readAt.Sub(info.ModTime()) >= statMargin
}

// refresh reads one file (info is its os.Stat, taken before) and parses it
// if its content changed. It reports whether the file's good version
// changed.
func (l *Loader) refresh(ctx context.Context, name string, info os.FileInfo) bool {
	st := l.files[name]
	if st == nil {
		st = &fileState{}
		l.files[name] = st
	}
	readAt := time.Now()
	data, err := os.ReadFile(filepath.Join(l.dir, name))
	if err != nil {
		if msg := err.Error(); msg != st.readErr && !errors.Is(err, fs.ErrNotExist) {
			l.log.Error(err, "cannot read file; keeping its last good version", "file", name)
			st.readErr = msg
		}
		return false
	}
	st.readErr = ""
	st.stat, st.readAt = info, readAt
	sum := sha256.Sum256(data)
	if st.parsed && sum == st.sum {
		return false
	}
	st.sum, st.parsed = sum, true
	good, docs, errs := l.parseFile(ctx, name, data, st.docs)
	st.errs, st.docs = errs, docs
	if len(errs) > 0 {
		msg := "invalid file; it contributes nothing until fixed"
		if st.good != nil {
			msg = "invalid file; keeping its last good version"
		}
		for _, fe := range errs {
			l.log.Error(fe, msg, "file", fe.File, "line", fe.Line)
		}
		return false
	}
	good, same := keepEqualEntries(st.good, good)
	st.good = good
	return !same || st.holdsDuplicate
}

// keepEqualEntries replaces each new entry whose object equals the old
// entry of the same key by that old entry (line updated), so that its
// object and fingerprint carry over and an edit that leaves objects
// equal (a comment, reformatting) costs no reassembly. same reports that
// every entry was kept, in the same order.
func keepEqualEntries(old, next []entry) ([]entry, bool) {
	byKey := make(map[objectKey]int, len(old))
	for i, e := range old {
		if _, dup := byKey[e.key]; !dup {
			byKey[e.key] = i
		}
	}
	same := len(old) == len(next)
	for i := range next {
		j, ok := byKey[next[i].key]
		if ok && (old[j].obj == next[i].obj || equality.Semantic.DeepEqual(old[j].obj, next[i].obj)) {
			line := next[i].line
			next[i] = old[j]
			next[i].line = line
			same = same && i == j
			continue
		}
		same = false
	}
	return next, same
}

// parseFile decodes, defaults and validates every document of a file. The
// entries are valid only if no error is returned. A document whose text
// (comments included) is in docs, the documents of the file's previous
// parse that converted without a log line, is not parsed again: its entry
// is reused, so editing one object of a large file validates that object
// only. The second result is docs for the next parse of this file.
func (l *Loader) parseFile(ctx context.Context, name string, data []byte, docs map[[sha256.Size]byte]entry) ([]entry, map[[sha256.Size]byte]entry, []FileError) {
	all := splitDocuments(data)
	sums := make([][sha256.Size]byte, len(all))
	var fresh []int // documents not in docs, parsed below
	for i, doc := range all {
		sums[i] = sha256.Sum256(doc.body)
		if _, ok := docs[sums[i]]; !ok {
			fresh = append(fresh, i)
		}
	}
	parsed := l.parseDocuments(ctx, name, all, fresh)
	good := []entry{}
	next := map[[sha256.Size]byte]entry{}
	var errs []FileError
	for i, doc := range all {
		if e, ok := docs[sums[i]]; ok {
			e.line = doc.contentLine
			good = append(good, e)
			next[sums[i]] = e
			continue
		}
		p := parsed[i]
		if p.err != nil {
			errs = append(errs, FileError{File: name, Line: p.e.line, Message: p.err.Error()})
			continue
		}
		if p.e.obj == nil {
			continue
		}
		good = append(good, p.e)
		if p.quiet {
			next[sums[i]] = p.e
		}
	}
	return good, next, errs
}

// parsedDocument is parseDocument's answer for one document.
type parsedDocument struct {
	e     entry
	quiet bool
	err   error
}

// parallelDocuments is how many documents to parse make a second worker
// worth its start: below it a file is parsed on the caller's goroutine.
const parallelDocuments = 16

// parseDocuments parses the documents of all at the indexes in which, on up
// to GOMAXPROCS goroutines when there are enough of them (the Validator is
// safe for concurrent use; a large file or a cold start is mostly CEL and
// schema validation). The answer is indexed like all; log lines of
// different documents may interleave.
func (l *Loader) parseDocuments(ctx context.Context, name string, all []document, which []int) []parsedDocument {
	out := make([]parsedDocument, len(all))
	parse := func(i int) {
		e, quiet, err := l.parseDocument(ctx, name, all[i])
		out[i] = parsedDocument{e: e, quiet: quiet, err: err}
	}
	workers := min(runtime.GOMAXPROCS(0), len(which)/parallelDocuments)
	if workers <= 1 {
		for _, i := range which {
			parse(i)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < len(which); k = int(next.Add(1)) - 1 {
				parse(which[k])
			}
		})
	}
	wg.Wait()
	return out
}

// parseDocument decodes, defaults and validates one document into an entry
// (obj nil for an empty document or an ignored kind). quiet says nothing was
// logged. On error, the entry's line is the line to report.
func (l *Loader) parseDocument(ctx context.Context, name string, doc document) (entry, bool, error) {
	u, line, err := doc.decode()
	if err != nil || u == nil {
		return entry{line: line}, false, err
	}
	obj, quiet, err := l.converter.convert(ctx, u, name, line)
	if err != nil || obj == nil {
		return entry{line: line}, false, err
	}
	key := objectKey{Kind: u.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	stampIdentity(obj, key)
	e := entry{key: key, line: line, obj: obj}
	return e, quiet, fingerprintEntry(&e)
}

// Errors returns the errors of the files whose current content failed, by
// file name then line.
func (l *Loader) Errors() []FileError {
	var out []FileError
	for _, name := range slices.Sorted(maps.Keys(l.files)) {
		out = append(out, l.files[name].errs...)
	}
	return out
}
