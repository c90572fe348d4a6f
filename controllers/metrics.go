package controllers

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// pipelineMetrics are the Prometheus metrics of a Pipeline.
type pipelineMetrics struct {
	duration        prometheus.Histogram
	translations    *prometheus.CounterVec
	skipped         prometheus.Counter
	endpointUpdates prometheus.Counter
	routes          prometheus.Gauge
	generation      prometheus.Gauge
	applied         prometheus.Gauge
	timed           prometheus.Counter
	nextChange      prometheus.Gauge
}

func newPipelineMetrics(reg prometheus.Registerer) (*pipelineMetrics, error) {
	m := &pipelineMetrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "turnpike_translation_duration_seconds",
			Help:    "Time to translate a snapshot into a routing table.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		translations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "turnpike_translations_total",
			Help: "Translations run, by result (ok: table swapped in; error: last good table kept).",
		}, []string{"result"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "turnpike_snapshots_unchanged_total",
			Help: "Snapshots not translated because nothing but EndpointSlices, status or resourceVersions changed.",
		}),
		endpointUpdates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "turnpike_endpoint_updates_total",
			Help: "Endpoint sets pushed to the dataplane.",
		}),
		routes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "turnpike_table_routes",
			Help: "Routes (route keys over all stages) in the table being served.",
		}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "turnpike_table_generation",
			Help: "Number of tables swapped in since the process started.",
		}),
		applied: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "turnpike_table_apply_timestamp_seconds",
			Help: "Unix time at which the table being served was swapped in.",
		}),
		timed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "turnpike_timed_translations_total",
			Help: "Translations run because time changed a result (a certificate became valid or expired, a grace period ended) with no other change.",
		}),
		nextChange: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "turnpike_next_timed_translation_timestamp_seconds",
			Help: "Unix time of the next translation that time alone will cause (0: none scheduled).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.duration, m.translations, m.skipped, m.endpointUpdates, m.routes, m.generation, m.applied, m.timed, m.nextChange} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}
