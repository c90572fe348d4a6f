package metrics

import (
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// endpointsCollector exports turnpike_upstream_endpoints_ready from the last
// endpoint sets the controllers handed over. It is computed at scrape time,
// so updating endpoints costs one pointer store and a Service that leaves the
// sets leaves the metric too.
type endpointsCollector struct {
	desc *prometheus.Desc
	sets atomic.Pointer[table.EndpointSets]
}

func newEndpointsCollector() *endpointsCollector {
	return &endpointsCollector{desc: prometheus.NewDesc("turnpike_upstream_endpoints_ready",
		"Ready endpoints of each Service port that SERVICE integrations target.",
		[]string{LabelNamespace, "service", "port"}, nil)}
}

func (c *endpointsCollector) update(sets table.EndpointSets) { c.sets.Store(&sets) }

// Describe implements prometheus.Collector.
func (c *endpointsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *endpointsCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.sets.Load()
	if p == nil {
		return
	}
	for k, eps := range *p {
		ns, name, port := splitTargetKey(k)
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(len(eps)), ns, name, port)
	}
}

// splitTargetKey splits a table.ServiceTarget.Key() "namespace/name:portName".
func splitTargetKey(k string) (ns, name, port string) {
	ns, rest, _ := strings.Cut(k, "/")
	name, port, _ = strings.Cut(rest, ":")
	return ns, name, port
}
