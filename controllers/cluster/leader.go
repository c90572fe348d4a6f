package cluster

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// statusMetrics are the Prometheus metrics of a StatusWriter.
type statusMetrics struct {
	writes prometheus.Counter
	errors prometheus.Counter
	leader prometheus.Gauge
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
	}
	if reg == nil {
		return m, nil
	}
	return m, errors.Join(reg.Register(m.writes), reg.Register(m.errors), reg.Register(m.leader))
}
