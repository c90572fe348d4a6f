package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

// StatusWriter writes the statuses the pipeline computes back to the API
// server. It implements controllers.StatusSink.
//
// Publish never blocks on I/O: it stores the latest desired statuses, marks the
// objects whose desired status changed, and signals one worker goroutine (Run).
// The worker writes only while this replica leads (Options.LeaderElect; always
// without it), and only objects whose stored status differs from the desired
// one, so a steady state causes no writes at all. Failed writes are retried
// with backoff; on becoming leader every object is checked again, since another
// leader may have written in between.
//
// Scale: the worker compares with the watches' cached copy first (UseCache),
// so checking an object whose stored status is already right costs no
// request, and a write costs one request (a GET only after a conflict). It
// writes in chunks, the latest Publish's changes first (statusQueue), so
// an edit's status is not queued behind a pass over the whole cluster.
// turnpike_status_pending_objects shows how many objects wait.
type StatusWriter struct {
	opts    Options
	log     logr.Logger
	client  client.Client
	kube    kubernetes.Interface
	metrics *statusMetrics

	mu      sync.Mutex
	desired map[translate.ObjectRef]translate.ObjectStatus
	queue   statusQueue
	// cached returns the watches' copy of an object (shared: never
	// modified), or nil; see UseCache.
	cached func(kind, namespace, name string) client.Object
	// leaderCtx is non-nil while this replica may write; it is cancelled when
	// the lease is lost, which also aborts in-flight writes.
	leaderCtx context.Context
	// dp is the replica view for Api.status.dataplane (dataplane_status.go);
	// empty unless TrackReplicas was called.
	dp dataplaneTracker

	// events emits Events on rejections (events.go).
	events rejectionEvents
	// blocked says why this replica does not campaign (leader.go); guarded by mu.
	blocked string
	// writeFailing is set from a failed write until one succeeds (worker only).
	writeFailing bool

	signal chan struct{}
}

// NewStatusWriter returns a StatusWriter with its own API client (status
// writes must not go through a cache) and registers its metrics on reg.
func NewStatusWriter(cfg *rest.Config, opts Options, reg prometheus.Registerer, log logr.Logger) (*StatusWriter, error) {
	opts = opts.withDefaults()
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("status writer: client: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("status writer: clientset: %w", err)
	}
	m, err := newStatusMetrics(reg)
	if err != nil {
		return nil, err
	}
	w := newStatusWriter(opts, c, kube, m, log)
	w.events = newRejectionEvents(kube, scheme)
	return w, nil
}

// newStatusWriter assembles a StatusWriter; opts must have its defaults.
func newStatusWriter(opts Options, c client.Client, kube kubernetes.Interface, m *statusMetrics, log logr.Logger) *StatusWriter {
	return &StatusWriter{
		opts: opts, log: log, client: c, kube: kube, metrics: m,
		desired: map[translate.ObjectRef]translate.ObjectStatus{},
		signal:  make(chan struct{}, 1),
	}
}

// Publish records statuses as the desired state of every object (objects
// missing from it are forgotten) and wakes the worker. The objects whose
// desired status changed are queued ahead of older work. Safe for concurrent
// use.
//
// Its cost is one map lookup per object when little changed: desired is
// updated in place, and statuses the translator reused share their
// Conditions slice, which sameStatus compares by pointer first.
func (w *StatusWriter) Publish(statuses []translate.ObjectStatus) {
	w.mu.Lock()
	w.queue.age()
	for _, st := range statuses {
		if prev, ok := w.desired[st.ObjectRef]; !ok || !sameStatus(&prev, &st) {
			w.desired[st.ObjectRef] = st
			w.queue.markFresh(st.ObjectRef)
		}
	}
	if len(w.desired) > len(statuses) { // something was deleted
		keep := make(map[translate.ObjectRef]struct{}, len(statuses))
		for _, st := range statuses {
			keep[st.ObjectRef] = struct{}{}
		}
		maps.DeleteFunc(w.desired, func(ref translate.ObjectRef, _ translate.ObjectStatus) bool {
			_, ok := keep[ref]
			return !ok
		})
		w.queue.keep(func(ref translate.ObjectRef) bool { _, ok := keep[ref]; return ok })
	}
	w.metrics.pending.Set(float64(w.queue.len()))
	w.mu.Unlock()
	w.wake()
}

// sameStatus is reflect.DeepEqual for ObjectStatus without reflection
// (which also records every slice it visits in a map: at 100,000 objects it
// was a quarter of a change's CPU). Conditions shared by both compare by
// pointer.
func sameStatus(a, b *translate.ObjectStatus) bool {
	return a.ObjectRef == b.ObjectRef && a.Generation == b.Generation && a.Routes == b.Routes && a.Stages == b.Stages &&
		a.StageName == b.StageName && a.ApiKeys == b.ApiKeys &&
		slices.Equal(a.Endpoints, b.Endpoints) && slices.Equal(a.InvokeURLs, b.InvokeURLs) &&
		(a.Endpoints == nil) == (b.Endpoints == nil) && (a.InvokeURLs == nil) == (b.InvokeURLs == nil) &&
		sameConditions(a.Conditions, b.Conditions)
}

// sameConditions compares conditions field by field (times with Equal).
func sameConditions(a, b []metav1.Condition) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	if len(a) > 0 && &a[0] == &b[0] {
		return true
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Type != y.Type || x.Status != y.Status || x.ObservedGeneration != y.ObservedGeneration ||
			!x.LastTransitionTime.Equal(&y.LastTransitionTime) || x.Reason != y.Reason || x.Message != y.Message {
			return false
		}
	}
	return true
}

// Recheck queues the object kind/namespace/name to be compared with its
// desired status again (behind fresher work). The source calls it for every
// update of a Turnpike object it watches: the cache UseCache reads may lag
// the API server, so a write skipped because the cached copy looked right
// (our own earlier write not yet seen, another leader's write) is checked
// again when the watch delivers the newer copy. Safe for concurrent use.
func (w *StatusWriter) Recheck(kind, namespace, name string) {
	ref := translate.ObjectRef{Kind: kind, Namespace: namespace, Name: name}
	w.mu.Lock()
	_, ok := w.desired[ref]
	if ok {
		w.queue.markBacklog(ref)
		w.metrics.pending.Set(float64(w.queue.len()))
	}
	w.mu.Unlock()
	if ok {
		w.wake()
	}
}

// UseCache makes the worker read objects from the watches' stores (cached
// returns the stored object, which must not be modified, or nil) before
// asking the API server: an object whose stored status is already right
// then costs no request. A stale copy costs one conflict and a GET, or,
// when it looks right but is not, a recheck when the watch delivers the
// newer copy (Recheck). Call it before Run.
func (w *StatusWriter) UseCache(cached func(kind, namespace, name string) client.Object) {
	w.cached = cached
}

// IsLeader reports whether this writer currently writes statuses.
func (w *StatusWriter) IsLeader() bool { return w.leading() != nil }

// NeedLeaderElection is false: the writer runs its own election on its own
// Lease, so it can be added to a manager without manager-level election.
func (w *StatusWriter) NeedLeaderElection() bool { return false }

// Start is Run, so a StatusWriter is a controller-runtime manager.Runnable.
func (w *StatusWriter) Start(ctx context.Context) error { return w.Run(ctx) }

// Run campaigns for the lease (or writes unconditionally without
// LeaderElect) and writes statuses until ctx is done. It never returns an
// error for a lost lease: it pauses writes and campaigns again.
func (w *StatusWriter) Run(ctx context.Context) error {
	waitReplicas := w.runReplicas(ctx)
	defer waitReplicas()
	defer w.events.stop()
	if w.opts.LeaderElect {
		go w.campaign(ctx)
	} else {
		w.setLeader(ctx)
	}
	w.work(ctx)
	return nil
}

func (w *StatusWriter) wake() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// setLeader switches writing on for the leadership ctx. Every known object is
// marked dirty: another leader may have written meanwhile.
func (w *StatusWriter) setLeader(ctx context.Context) {
	w.mu.Lock()
	w.leaderCtx = ctx
	for ref := range w.desired {
		w.queue.markBacklog(ref)
	}
	w.metrics.pending.Set(float64(w.queue.len()))
	w.mu.Unlock()
	w.metrics.leader.Set(1)
	w.wake()
}

// stopLeading switches writing off until the next setLeader.
func (w *StatusWriter) stopLeading() {
	w.mu.Lock()
	w.leaderCtx = nil
	w.mu.Unlock()
	w.metrics.leader.Set(0)
}

// leading returns the leader context, or nil when this replica must not write.
func (w *StatusWriter) leading() context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.leaderCtx == nil || w.leaderCtx.Err() != nil {
		return nil
	}
	return w.leaderCtx
}

// work is the single writer goroutine.
func (w *StatusWriter) work(ctx context.Context) {
	const minBackoff, maxBackoff = 500 * time.Millisecond, 30 * time.Second
	backoff := time.Duration(0)
	retryTimer := time.NewTimer(time.Hour)
	retryTimer.Stop()
	defer retryTimer.Stop()
	replicaTick, stopTick := w.replicaTicker()
	defer stopTick()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.signal:
		case <-retryTimer.C:
		case <-replicaTick:
			if lctx := w.leading(); lctx != nil {
				w.pollReplicas(lctx)
			}
		}
		lctx := w.leading()
		if lctx == nil {
			continue // setLeader wakes us when we lead again
		}
		if w.flush(lctx) {
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			retryTimer.Reset(backoff)
		} else {
			backoff = 0
		}
	}
}

// flush writes one chunk of queued objects, the freshest first, and
// reports whether any write failed (the failed ones are queued again for
// the retry, which the caller schedules with backoff). While more is
// queued it wakes the worker again, so the worker's other duties (the
// replica poll) run between chunks of a long first pass.
func (w *StatusWriter) flush(ctx context.Context) (failed bool) {
	w.mu.Lock()
	refs := w.queue.take(statusChunk)
	batch := make([]translate.ObjectStatus, 0, len(refs))
	for _, ref := range refs {
		batch = append(batch, w.desired[ref])
	}
	w.mu.Unlock()
	var retry []translate.ObjectRef
	defer func() {
		w.mu.Lock()
		for _, ref := range retry {
			if _, ok := w.desired[ref]; ok {
				w.queue.markBacklog(ref)
			}
		}
		more := w.queue.len() > 0
		w.metrics.pending.Set(float64(w.queue.len()))
		w.mu.Unlock()
		if more && !failed && ctx.Err() == nil {
			w.wake()
		}
	}()
	for i, st := range batch {
		if ctx.Err() != nil { // leadership lost: the next leader (maybe us) rechecks all
			for _, rest := range batch[i:] {
				retry = append(retry, rest.ObjectRef)
			}
			return false
		}
		if err := w.write(ctx, st); err != nil {
			failed = true
			retry = append(retry, st.ObjectRef)
			w.writeFailed(st, err)
		}
	}
	if !failed && len(batch) > 0 && w.writeFailing {
		w.writeFailing = false
		w.log.Info("status writes succeed again")
	}
	return failed
}

// writeFailed counts a failed write and logs the first of a streak.
func (w *StatusWriter) writeFailed(st translate.ObjectStatus, err error) {
	w.metrics.errors.Inc()
	if w.writeFailing {
		w.log.V(1).Info("status write failed; will retry", "kind", st.Kind, "namespace", st.Namespace, "name", st.Name, "error", err.Error())
		return
	}
	// Once per streak (an API-server outage fails every write):
	// turnpike_status_write_errors_total counts them all.
	w.writeFailing = true
	w.log.Error(err, "status write failed; will retry (further failures are counted in turnpike_status_write_errors_total until writes succeed again)",
		"kind", st.Kind, "namespace", st.Namespace, "name", st.Name)
}

// cachedCopy is a copy of st's object from the watches' stores when use is
// set and the store has it, else nil.
func (w *StatusWriter) cachedCopy(use bool, st translate.ObjectStatus) client.Object {
	if !use {
		return nil
	}
	c := w.cached(st.Kind, st.Namespace, st.Name)
	if c == nil {
		return nil
	}
	return c.DeepCopyObject().(client.Object)
}

// write reads the object (from the cache first, see UseCache), merges st into its status and updates the status
// subresource if anything changed, retrying on conflicts. A deleted object is
// not an error. A stored status of a newer generation is left alone (this
// replica's caches are behind the writer of it).
func (w *StatusWriter) write(ctx context.Context, st translate.ObjectStatus) error {
	obj, err := newObject(st.Kind)
	if err != nil {
		return err
	}
	key := client.ObjectKey{Namespace: st.Namespace, Name: st.Name}
	fromCache := w.cached != nil
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if c := w.cachedCopy(fromCache, st); c != nil {
			obj = c
		} else if err := w.client.Get(ctx, key, obj); err != nil {
			return client.IgnoreNotFound(err)
		}
		fromCache = false // after a conflict, the API server's copy
		if observedGeneration(obj) > st.Generation {
			return nil
		}
		prev := conditionsBefore(obj)
		changed := applyStatus(obj, st)
		if !applyDataplane(obj, w.dataplaneFor(st.ObjectRef)) && !changed {
			return nil
		}
		err := w.client.Status().Update(ctx, obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			w.metrics.writes.Inc()
			w.events.emit(obj, prev)
		}
		return err
	})
}
