package cluster

import (
	"context"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// dataplaneTracker is the status writer's view of the replica Leases, for
// Api.status.dataplane. Its fields are guarded by the StatusWriter's mu.
//
// Invariants:
//   - replicas counts the live replica Leases; upToDate those whose hash for
//     the Api equals this (the leader's) replica's own, where "not served"
//     equals "not served". The leader's own table is the latest
//     configuration: it swaps before it publishes statuses.
//   - Nothing is written before the first successful listing, so a gateway
//     without the RBAC to list Leases leaves status.dataplane alone.
type dataplaneTracker struct {
	replicas *Replicas
	live     []map[string]string
	polled   bool
	// failing is set while listing fails, so the error is logged once per
	// outage rather than every poll.
	failing bool
	// written are the counts last handed to a write, per Api: a poll that
	// computes other counts marks the Api dirty.
	written map[translate.ObjectRef]v1alpha1.DataplaneStatus
}

// TrackReplicas makes w write Api.status.dataplane from the replica Leases
// and keep r's own Lease while w runs (r must also be the pipeline's
// dataplane). Call it before Run.
func (w *StatusWriter) TrackReplicas(r *Replicas) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dp = dataplaneTracker{replicas: r, written: map[translate.ObjectRef]v1alpha1.DataplaneStatus{}}
}

// runReplicas starts the replica Lease loop (when tracking) and returns a
// function that waits for it to release the Lease after ctx is done.
func (w *StatusWriter) runReplicas(ctx context.Context) (wait func()) {
	r := w.dp.replicas
	if r == nil {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	return wg.Wait
}

// replicaTicker ticks every poll period while tracking; its channel is nil
// (never ready) otherwise.
func (w *StatusWriter) replicaTicker() (<-chan time.Time, func()) {
	if w.dp.replicas == nil {
		return nil, func() {}
	}
	t := time.NewTicker(w.dp.replicas.poll)
	return t.C, t.Stop
}

// pollReplicas lists the live replicas and marks dirty every Api whose
// counts differ from the last written ones. Worker goroutine, leader only.
func (w *StatusWriter) pollReplicas(ctx context.Context) {
	live, err := w.dp.replicas.Live(ctx, time.Now())
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if !w.dp.failing {
			w.log.Error(err, "cannot list replica Leases; status.dataplane is not updated until this is fixed")
		}
		w.dp.failing = true
		return
	}
	w.dp.live, w.dp.polled, w.dp.failing = live, true, false
	own := w.dp.replicas.Served()
	for ref := range w.desired {
		if ref.Kind != "Api" {
			continue
		}
		if prev, ok := w.dp.written[ref]; !ok || prev != countReplicas(ref, own, live) {
			w.queue.markBacklog(ref)
		}
	}
}

// dataplaneFor is the status.dataplane to write for ref, or nil when it is
// not an Api or nothing has been polled yet.
func (w *StatusWriter) dataplaneFor(ref translate.ObjectRef) *v1alpha1.DataplaneStatus {
	if ref.Kind != "Api" || w.dp.replicas == nil {
		return nil
	}
	own := w.dp.replicas.Served()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.dp.polled {
		return nil
	}
	c := countReplicas(ref, own, w.dp.live)
	w.dp.written[ref] = c
	return &c
}

// countReplicas counts the live replicas and those serving what own serves
// for the Api ref.
func countReplicas(ref translate.ObjectRef, own map[string]string, live []map[string]string) v1alpha1.DataplaneStatus {
	key := ref.Namespace + "/" + ref.Name
	want := own[key]
	c := v1alpha1.DataplaneStatus{Replicas: int32(len(live))}
	for _, served := range live {
		if served[key] == want {
			c.UpToDate++
		}
	}
	return c
}

// applyDataplane sets status.dataplane of an Api to d (nil: left alone) and
// reports whether it changed.
func applyDataplane(obj client.Object, d *v1alpha1.DataplaneStatus) bool {
	api, ok := obj.(*v1alpha1.Api)
	if !ok || d == nil {
		return false
	}
	return set(&api.Status.Dataplane, d)
}
