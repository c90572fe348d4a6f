package dataplane

import (
	"net/http"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Target is what the handler tells a Forwarder about one request. It mirrors
// proxy.Target field for field so the real forwarder can be wired in place
// of this definition without touching the handler.
type Target struct {
	Integration *table.Integration
	// ParamNames and Params are the route's path variables, decoded once.
	ParamNames, Params []string
	// Path is the request path without the stage prefix, with the client's
	// original escaping, at least "/".
	Path     string
	RawQuery string

	// Outputs filled by Forward, for the access log.
	UpstreamStatus     int
	IntegrationLatency time.Duration
	Cause              string
}

// Failure is a forwarding failure that happened before any response byte was
// written; the handler renders it as a gateway error.
type Failure struct {
	Status  int
	Message string
	Hint    string
	Cause   string
}

// Forwarder sends a request to a SERVICE or HTTP_PROXY integration. Forward
// returns nil once it has written a response; on a failure before any
// response byte it writes nothing and returns the Failure.
type Forwarder interface {
	Forward(w http.ResponseWriter, r *http.Request, t *Target) *Failure
}

// EndpointUpdater receives the ready endpoints of every Service that routes
// target (the endpoints fast path: no table rebuild).
type EndpointUpdater interface {
	Update(sets table.EndpointSets)
}
