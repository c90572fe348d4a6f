package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// campaign runs client-go leader election on the status Lease until ctx is
// done. When the lease is lost (renewal failed, API server unreachable) the
// elector's Run returns; writes are paused and the loop campaigns again. The
// process never exits because of the lease.
func (w *StatusWriter) campaign(ctx context.Context) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: w.opts.LeaseNamespace, Name: w.opts.LeaseName},
		Client:     w.kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: w.opts.Identity},
	}
	for ctx.Err() == nil {
		if problem := leaseProblem(ctx, w.kube, w.opts.LeaseNamespace, w.opts.LeaseName, statusLeaseConsequence); problem != "" {
			w.block(problem)
			select {
			case <-ctx.Done():
			case <-time.After(leaseRecheck):
			}
			continue
		}
		w.unblock()
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   w.opts.LeaseDuration,
			RenewDeadline:   w.opts.RenewDeadline,
			RetryPeriod:     w.opts.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            w.opts.LeaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				// lctx is cancelled when leadership ends; leading() checks it,
				// so a late call after OnStoppedLeading cannot resume writes.
				OnStartedLeading: func(lctx context.Context) {
					w.log.Info("became status leader", "lease", w.opts.LeaseNamespace+"/"+w.opts.LeaseName, "identity", w.opts.Identity)
					w.setLeader(lctx)
				},
				OnStoppedLeading: func() {
					if w.IsLeader() || ctx.Err() == nil {
						w.log.Info("not the status leader; status writes paused", "identity", w.opts.Identity)
					}
					w.stopLeading()
				},
			},
		})
		if err != nil { // only invalid durations; Options defaults are valid
			w.log.Error(err, "leader election misconfigured; status writes disabled")
			return
		}
		le.Run(ctx)
	}
}

// leaseRecheck is how often a blocked writer checks its Lease namespace again.
const leaseRecheck = 5 * time.Second

// Consequences of a Lease this replica cannot write, for messages.
const (
	statusLeaseConsequence  = "status is not written (conditions, observedGeneration, URLs)"
	replicaLeaseConsequence = "status.dataplane is not updated"
)

// leaseProblem says why this replica cannot write the Lease ns/name (an
// operator must fix it), or "" when it can or the API server did not say
// (transient errors are the elector's business). It asks with a dry-run
// create, which needs no more permission than the Lease itself.
func leaseProblem(ctx context.Context, kube kubernetes.Interface, ns, name, consequence string) string {
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	_, err := kube.CoordinationV1().Leases(ns).Create(ctx, lease, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("%s: the Lease namespace %q does not exist; create it (kubectl create namespace %s), "+
			"pass --lease-namespace with an existing namespace, or run a single replica with --leader-elect=false", consequence, ns, ns)
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("%s: the gateway may not create Leases in namespace %q (%v); grant it (config/rbac, or the chart's RBAC) "+
			"or pass --lease-namespace", consequence, ns, err)
	}
	return ""
}

// block pauses campaigning for problem: logged when it changes, shown by
// Warnings (/readyz) and by turnpike_status_writes_blocked.
func (w *StatusWriter) block(problem string) {
	w.mu.Lock()
	changed := w.blocked != problem
	w.blocked = problem
	w.mu.Unlock()
	w.metrics.blocked.Set(1)
	if changed {
		w.log.Info("WARNING: "+problem, "recheckEvery", leaseRecheck.String())
	}
}

// unblock clears a problem reported by block.
func (w *StatusWriter) unblock() {
	w.mu.Lock()
	was := w.blocked
	w.blocked = ""
	w.mu.Unlock()
	w.metrics.blocked.Set(0)
	if was != "" {
		w.log.Info("the Lease namespace is usable again; campaigning for the status lease", "lease", w.opts.LeaseNamespace+"/"+w.opts.LeaseName)
	}
}

// Warnings lists problems only an operator can fix that keep status from
// being written while traffic is served (the readiness probe shows them
// without failing).
func (w *StatusWriter) Warnings() []string {
	w.mu.Lock()
	var out []string
	if w.blocked != "" {
		out = append(out, w.blocked)
	}
	r := w.dp.replicas
	w.mu.Unlock()
	if r != nil {
		if p := r.Problem(); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// statusMetrics are the Prometheus metrics of a StatusWriter.
type statusMetrics struct {
	writes  prometheus.Counter
	errors  prometheus.Counter
	leader  prometheus.Gauge
	blocked prometheus.Gauge
	pending prometheus.Gauge
}

func newStatusMetrics(reg prometheus.Registerer) (*statusMetrics, error) {
	m := &statusMetrics{
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "turnpike_status_writes_total",
			Help: "Status subresource updates written (only objects whose status changed).",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "turnpike_status_write_errors_total",
			Help: "Status writes that failed and were queued for a retry with backoff.",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "turnpike_status_leader",
			Help: "1 while this replica writes statuses (holds the lease, or leader election is off).",
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "turnpike_status_pending_objects",
			Help: "Objects whose status waits to be checked and written (the first pass over a large cluster is paced by --kube-api-qps; an edit's own status goes ahead of it).",
		}),
		blocked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "turnpike_status_writes_blocked",
			Help: "1 while this replica cannot campaign for the status lease because of its Lease namespace (missing, or no permission); /readyz says why.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	return m, errors.Join(reg.Register(m.writes), reg.Register(m.errors), reg.Register(m.leader), reg.Register(m.blocked),
		reg.Register(m.pending))
}
