package function

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of FUNCTION integrations, labelled by the function's Service
// (namespace, service, port name). The queue depth and the invocations in
// flight are what an autoscaler scales a function's Deployment on
// (docs/lambda.md, Scaling).
var (
	descQueueDepth = prometheus.NewDesc("turnpike_function_queue_depth",
		"Invocations waiting for a free slot of the function.", []string{"namespace", "service", "port"}, nil)
	descInFlight = prometheus.NewDesc("turnpike_function_invocations_in_flight",
		"Invocations running on the function's endpoints.", []string{"namespace", "service", "port"}, nil)
)

// metrics records the invoker's counters; a nil *metrics records nothing.
type metrics struct {
	wait        *prometheus.HistogramVec
	invocations *prometheus.CounterVec
	snapshot    func() []stat
}

// stat is one function's queue depth and invocations in flight.
type stat struct {
	key             string
	depth, inFlight int
}

func newMetrics(reg prometheus.Registerer, snapshot func() []stat) *metrics {
	if reg == nil {
		return nil
	}
	labels := []string{"namespace", "service", "port"}
	m := &metrics{
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "turnpike_function_queue_wait_seconds",
			Help:    "Time invocations waited for a free slot of the function (0 when one was free).",
			Buckets: []float64{0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, labels),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "turnpike_function_invocations_total",
			Help: "Invocations by outcome: ok (the function answered), timeout (waited or ran past the integration timeout), canceled (the client went away), queue_full, unreachable.",
		}, append(labels, "outcome")),
		snapshot: snapshot,
	}
	reg.MustRegister(m.wait, m.invocations, m)
	return m
}

// Describe implements prometheus.Collector for the two gauges.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- descQueueDepth
	ch <- descInFlight
}

// Collect implements prometheus.Collector: one sample per function seen.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, s := range m.snapshot() {
		ns, svc, port := splitKey(s.key)
		ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(s.depth), ns, svc, port)
		ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(s.inFlight), ns, svc, port)
	}
}

// queued records the wait for a slot and refusals at the queue.
func (m *metrics) queued(key string, waited time.Duration, err error) {
	if m == nil {
		return
	}
	ns, svc, port := splitKey(key)
	switch {
	case errors.Is(err, ErrQueueFull):
		m.invocations.WithLabelValues(ns, svc, port, "queue_full").Inc()
		return
	case err != nil:
		m.invoked(key, err) // it waited until the integration timeout or the client left
	}
	m.wait.WithLabelValues(ns, svc, port).Observe(waited.Seconds())
}

// invoked records the outcome of a call (err nil: the function answered).
func (m *metrics) invoked(key string, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	switch {
	case errors.Is(err, ErrTimedOut), errors.Is(err, context.DeadlineExceeded):
		outcome = "timeout"
	case errors.Is(err, context.Canceled):
		outcome = "canceled"
	case err != nil:
		outcome = "unreachable"
	}
	ns, svc, port := splitKey(key)
	m.invocations.WithLabelValues(ns, svc, port, outcome).Inc()
}

// splitKey splits a ServiceTarget.Key ("namespace/name:portName").
func splitKey(key string) (ns, svc, port string) {
	ns, rest, _ := strings.Cut(key, "/")
	svc, port, _ = strings.Cut(rest, ":")
	return ns, svc, port
}

// snapshot lists every function's queue depth and invocations in flight.
func (v *Invoker) snapshot() []stat {
	v.mu.Lock()
	all := make([]*slots, 0, len(v.fns))
	for _, s := range v.fns {
		all = append(all, s)
	}
	v.mu.Unlock()
	out := make([]stat, 0, len(all))
	for _, s := range all {
		out = append(out, stat{key: s.key, depth: s.depth(), inFlight: s.inFlight()})
	}
	return out
}
