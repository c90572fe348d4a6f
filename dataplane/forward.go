package dataplane

import (
	"net/http"

	"github.com/turnpike-io/turnpike/dataplane/proxy"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Target is what the handler tells the forwarder about one request, and what
// the forwarder reports back for the access log (proxy.Target).
type Target = proxy.Target

// Failure is a forwarding failure that happened before any response byte was
// written; the handler renders it as a gateway error (proxy.Failure).
type Failure = proxy.Failure

// Forwarder sends a request to a SERVICE or HTTP_PROXY integration. Forward
// returns nil once it has written a response; on a failure before any
// response byte it writes nothing and returns the Failure. *proxy.Forwarder
// is the production implementation; tests substitute fakes.
type Forwarder interface {
	Forward(w http.ResponseWriter, r *http.Request, t *Target) *Failure
}

// EndpointUpdater receives the ready endpoints of every Service that routes
// target (the endpoints fast path: no table rebuild). *upstream.Store is the
// production implementation.
type EndpointUpdater interface {
	Update(sets table.EndpointSets)
}
