package standalone

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

const (
	// debounceDelay coalesces a burst of file events (an editor's write and
	// rename, a ConfigMap's symlink swap) into one reload.
	debounceDelay = 100 * time.Millisecond
	// rescanInterval is the safety net for events fsnotify misses (network
	// file systems, a directory replaced under the watch): a full rescan,
	// cheap because unchanged files are not parsed again.
	rescanInterval = time.Second
)

// Watcher keeps a directory's snapshot current: it watches the directory
// with fsnotify (which sees the ..data symlink swap of a mounted ConfigMap,
// since that happens in the watched directory itself), reloads 100 ms after
// the last event of a burst, and rescans every second regardless. A change is
// therefore seen within about a second at worst.
type Watcher struct {
	dir    string
	log    logr.Logger
	loader *Loader
	fsw    *fsnotify.Watcher
}

// NewWatcher prepares a Watcher of dir. The directory must exist; it is read
// only when Run starts.
func NewWatcher(dir string, log logr.Logger) (*Watcher, error) {
	loader, err := NewLoader(dir, log)
	if err != nil {
		return nil, err
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("starting the file watcher: %w", err)
	}
	if err := fsw.Add(dir); err != nil {
		_ = fsw.Close()
		return nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	return &Watcher{dir: dir, log: log, loader: loader, fsw: fsw}, nil
}

// Run loads the directory, calls onSnapshot with the result (even when some
// files failed; they are logged), then calls it again after every change of
// the effective object set, until ctx is done. onSnapshot runs on Run's
// goroutine; it may keep the snapshot, which is never modified after it is
// handed out, but must not modify it (the next reload compares against it). Run
// returns nil when ctx is done, and an error if the first load fails or the
// watcher breaks. Run may be called once; it closes the watcher on return.
func (w *Watcher) Run(ctx context.Context, onSnapshot func(*translate.Snapshot)) error {
	defer func() { _ = w.fsw.Close() }()
	snap, _, err := w.loader.Reload(ctx)
	if err != nil {
		return err
	}
	onSnapshot(snap)

	ticker := time.NewTicker(rescanInterval)
	defer ticker.Stop()
	debounce := time.NewTimer(debounceDelay)
	debounce.Stop()
	defer debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return fmt.Errorf("the watcher of %s stopped", w.dir)
			}
			w.log.V(2).Info("file event", "event", ev.String())
			debounce.Reset(debounceDelay)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return fmt.Errorf("the watcher of %s stopped", w.dir)
			}
			w.log.Error(err, "file watcher error; the periodic rescan continues", "dir", w.dir)
		case <-debounce.C:
			w.reload(ctx, onSnapshot, true)
		case <-ticker.C:
			w.reload(ctx, onSnapshot, false)
		}
	}
}

// Fingerprint is the controllers.FingerprintFunc of the snapshots Run hands
// out (Loader.Fingerprint); pass it to the pipeline with
// controllers.WithFingerprint. Safe to call from any goroutine.
func (w *Watcher) Fingerprint(snap *translate.Snapshot) ([sha256.Size]byte, error) {
	return w.loader.Fingerprint(snap)
}

// Sums is the controllers.SumsFunc of the snapshots Run hands out
// (Loader.Sums); pass it to controllers.IncrementalTranslate. Safe to call
// from any goroutine.
func (w *Watcher) Sums(snap *translate.Snapshot) *translate.ObjectSums { return w.loader.Sums(snap) }

// reload rescans and publishes the snapshot if the effective set changed.
// After file events it trusts stat (Loader.reload): the files that were not
// written are not read again; the periodic rescan reads every file.
func (w *Watcher) reload(ctx context.Context, onSnapshot func(*translate.Snapshot), trustStat bool) {
	snap, changed, err := w.loader.reload(ctx, trustStat)
	if err != nil {
		w.log.Error(err, "cannot rescan; keeping the current objects", "dir", w.dir)
		return
	}
	if changed {
		onSnapshot(snap)
	}
}
