package dataplane

import (
	"net/http"
	"strconv"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// serveMock is the MOCK integration: the route's fixed answer, through the
// chain's reply side like any integration answer (responseParameters apply
// to MOCK answers too).
func (x *exchange) serveMock(m *table.Mock) {
	h := x.w.Header()
	for k, v := range m.Headers {
		h.Set(k, v)
	}
	status := x.MapResponse(m.Status, h)
	noBody := status < 200 || status == http.StatusNoContent || status == http.StatusNotModified
	if !noBody {
		h.Set("Content-Length", strconv.Itoa(len(m.Body)))
	}
	x.w.WriteHeader(status)
	if !noBody && x.r.Method != http.MethodHead {
		_, _ = x.w.Write([]byte(m.Body)) // a vanished client is visible in the log's length
	}
}
