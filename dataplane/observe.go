package dataplane

import (
	"net/http"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/metrics"
)

// observe records the request metrics of a finished exchange. It runs in the
// same deferred finish as the access log, so aborted responses are counted
// too; with no Options.Metrics it does nothing.
func (s *Server) observe(x *exchange) {
	if s.metrics == nil {
		return
	}
	status := x.w.status
	if status == 0 && x.done { // returned without writing: net/http sends 200
		status = http.StatusOK
	}
	s.metrics.ObserveRequest(&metrics.Request{
		Table:              x.tbl,
		Api:                x.api,
		Stage:              x.stage,
		Route:              x.route,
		Method:             x.r.Method,
		Status:             status,
		Duration:           time.Since(x.start),
		Integrated:         x.target.Integration != nil,
		IntegrationLatency: x.target.IntegrationLatency,
		Cause:              x.target.Cause,
	})
}
