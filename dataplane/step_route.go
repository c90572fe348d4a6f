package dataplane

import (
	"fmt"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
)

// lookupRoute is the route step: the stage's router picks the most specific
// route (api.md, Route matching); a route that cannot be served (its
// reference does not resolve, or the canary's) answers its fixed error and
// never falls through to another route.
func (x *exchange) lookupRoute() bool {
	if x.route == nil { // a WebSocket event's route is chosen by key (step_websocket.go)
		x.route = x.stage.Lookup(x.r.Method, x.segs)
	}
	if x.route == nil {
		typ, status, msg := noRoute(x.api.Protocol)
		x.fail(typ, status, msg, fmt.Sprintf("no route matches %s %s in stage %q", x.r.Method, x.rest, x.stage.Name))
		return false
	}
	if f := x.routeFailure(); f != nil { // the canary's for a canary request
		x.fail(gatewayresp.APIConfigurationError, f.Status, f.Message, f.Hint)
		return false
	}
	return true
}
