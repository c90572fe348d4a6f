package cluster

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
type StatusWriter struct {
	opts    Options
	log     logr.Logger
	client  client.Client
	kube    kubernetes.Interface
	metrics *statusMetrics

	mu      sync.Mutex
	desired map[translate.ObjectRef]translate.ObjectStatus
	dirty   map[translate.ObjectRef]struct{}
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
		dirty:   map[translate.ObjectRef]struct{}{},
		signal:  make(chan struct{}, 1),
	}
}

// Publish records statuses as the desired state of every object (objects
// missing from it are forgotten) and wakes the worker. Safe for concurrent use.
func (w *StatusWriter) Publish(statuses []translate.ObjectStatus) {
	w.mu.Lock()
	next := make(map[translate.ObjectRef]translate.ObjectStatus, len(statuses))
	for _, st := range statuses {
		next[st.ObjectRef] = st
		if prev, ok := w.desired[st.ObjectRef]; !ok || !reflect.DeepEqual(prev, st) {
			w.dirty[st.ObjectRef] = struct{}{}
		}
	}
	for ref := range w.dirty {
		if _, ok := next[ref]; !ok {
			delete(w.dirty, ref)
		}
	}
	w.desired = next
	w.mu.Unlock()
	w.wake()
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
		w.dirty[ref] = struct{}{}
	}
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

// flush writes every dirty object and reports whether any write failed (the
// failed ones stay dirty for the retry).
func (w *StatusWriter) flush(ctx context.Context) (failed bool) {
	w.mu.Lock()
	batch := make([]translate.ObjectStatus, 0, len(w.dirty))
	for ref := range w.dirty {
		batch = append(batch, w.desired[ref])
	}
	clear(w.dirty)
	w.mu.Unlock()
	slices.SortFunc(batch, func(a, b translate.ObjectStatus) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	for i, st := range batch {
		if ctx.Err() != nil { // leadership lost: the next leader (maybe us) rechecks all
			for _, rest := range batch[i:] {
				w.redirty(rest.ObjectRef)
			}
			return false
		}
		if err := w.write(ctx, st); err != nil {
			failed = true
			w.metrics.errors.Inc()
			w.redirty(st.ObjectRef)
			if w.writeFailing {
				w.log.V(1).Info("status write failed; will retry", "kind", st.Kind, "namespace", st.Namespace, "name", st.Name, "error", err.Error())
				continue
			}
			// Once per streak (an API-server outage fails every write):
			// turnpike_status_write_errors_total counts them all.
			w.writeFailing = true
			w.log.Error(err, "status write failed; will retry (further failures are counted in turnpike_status_write_errors_total until writes succeed again)",
				"kind", st.Kind, "namespace", st.Namespace, "name", st.Name)
		}
	}
	if !failed && len(batch) > 0 && w.writeFailing {
		w.writeFailing = false
		w.log.Info("status writes succeed again")
	}
	return failed
}

// redirty marks ref for another attempt if it is still desired.
func (w *StatusWriter) redirty(ref translate.ObjectRef) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.desired[ref]; ok {
		w.dirty[ref] = struct{}{}
	}
}

// write reads the object, merges st into its status and updates the status
// subresource if anything changed, retrying on conflicts. A deleted object is
// not an error. A stored status of a newer generation is left alone (this
// replica's caches are behind the writer of it).
func (w *StatusWriter) write(ctx context.Context, st translate.ObjectStatus) error {
	obj, err := newObject(st.Kind)
	if err != nil {
		return err
	}
	key := client.ObjectKey{Namespace: st.Namespace, Name: st.Name}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := w.client.Get(ctx, key, obj); err != nil {
			return client.IgnoreNotFound(err)
		}
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
