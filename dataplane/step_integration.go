package dataplane

import (
	"fmt"
	"net/http"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// The integration is where a request goes once every check has passed. Each
// integration kind is one unit (integration_<kind>.go), and this file is
// the one place that says which unit serves which integration type: adding
// a kind is its file, one case in integrate, its table field and its
// translator file.

// prepareIntegration is the integration request step: for a route whose
// integration is called (every kind but MOCK) it fills x.target with what
// the call needs, the integration (the canary's for a canary request), the
// path parameters, the path after the stage prefix and the query string;
// parameter mapping then changes it.
func (x *exchange) prepareIntegration() bool {
	in := x.integration()
	if in.Type == table.IntegrationMock {
		return true
	}
	x.target = Target{
		Integration: in,
		Params:      x.route.Params(x.segs),
		Path:        x.rest,
		RawQuery:    x.r.URL.RawQuery,
		Response:    x, // the chain's reply side (MapResponse)
	}
	return true
}

// integrate is the integration step, the last of the request side: the
// unit of the route's integration kind answers the request. An upgrade to
// a WebSocket Api answers with the upgrade when $connect's integration
// allows it (integration_websocket.go).
func (x *exchange) integrate() bool {
	if x.ws != nil && x.ws.Type == websocket.Connect {
		x.connectWebSocket()
		return false
	}
	x.callIntegration()
	return false
}

// callIntegration dispatches to the unit of the integration's kind. (When
// the FUNCTION unit lands, it sends AWS's WebSocket Lambda event for
// WebSocket events: x.ws != nil.)
func (x *exchange) callIntegration() {
	in := x.integration()
	switch in.Type {
	case table.IntegrationMock:
		x.serveMock(in.Mock)
	case table.IntegrationService, table.IntegrationHTTPProxy:
		x.forward()
	case table.IntegrationFunction:
		x.invokeFunction()
	default:
		x.fail(gatewayresp.APIConfigurationError, http.StatusInternalServerError, msgInternalError,
			fmt.Sprintf("route %q has integration type %q, which this gateway does not serve", x.route.Key, in.Type))
	}
}
