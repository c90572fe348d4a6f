package dataplane

import "github.com/turnpike-io/turnpike/dataplane/metrics"

// observe is the metrics step's out side: it records the request metrics of
// a finished exchange, aborted responses included; with no Options.Metrics
// it does nothing. Status and latencies come from the request's $context,
// the series from the table entries the chain resolved.
func (x *exchange) observe() {
	if x.s.metrics == nil {
		return
	}
	c := x.context()
	x.s.metrics.ObserveRequest(&metrics.Request{
		Table:              x.tbl,
		Api:                x.api,
		Stage:              x.stage,
		Route:              x.route,
		Method:             c.HTTPMethod,
		Status:             c.Status,
		Duration:           c.ResponseLatency,
		Integrated:         x.integrated(),
		IntegrationLatency: c.IntegrationLatency,
		Cause:              c.IntegrationError,
	})
}

// integrated reports whether an integration was called and answered or
// failed: a request the client failed while sending its body (400, 408,
// 413, no integration cause) is not the integration's latency.
func (x *exchange) integrated() bool {
	return x.target.Integration != nil && !x.clientFailed
}
