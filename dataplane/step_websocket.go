package dataplane

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// WebSocket Apis in the request chain (docs/websocket.md; the connections,
// limits and @connections live in dataplane/websocket):
//   - An upgrade request to a stage of a WEBSOCKET Api is the connection's
//     CONNECT event: this step gives it a connection id and the $connect
//     route, and the chain goes on as for any request (throttle, authorizer,
//     API key, mapping); the integration step then runs $connect's
//     integration and upgrades the connection only on a 2xx answer
//     (integration_websocket.go).
//   - Every later event of the connection (MESSAGE, DISCONNECT) is a POST
//     that the connection dispatches through the same chain (Dispatch), on
//     the table in effect when it arrives: this step checks that the
//     connection's Api and stage are still served (else the connection is
//     closed with 1001), picks the route by the Api's route selection
//     expression (else $default; neither: 403 "Forbidden" as an error
//     message to the client) and carries the $connect authorizer's answer.
//   - /{stage}/@connections/{id} is the management API, answered here.

// Messages of the WebSocket answers (AWS's).
const (
	msgUpgradeRequired = "Upgrade Required"
	msgGone            = "Gone"
)

// webSocket is the WebSocket step, right before route lookup.
func (x *exchange) webSocket() bool {
	if x.api.Protocol != table.ProtocolWebSocket {
		if x.ws != nil {
			return x.eventGone(fmt.Sprintf("Api %s/%s is no longer a WEBSOCKET Api", x.api.Namespace, x.api.Name))
		}
		return true
	}
	if x.ws == nil {
		return x.openWebSocket()
	}
	return x.routeEvent()
}

// openWebSocket serves a request from the network to a WEBSOCKET Api: an
// @connections call, or an upgrade, which becomes a CONNECT event.
func (x *exchange) openWebSocket() bool {
	if id, ok := websocket.ManagementID(x.segs); ok {
		res := x.s.ws.Manage(&x.w, x.r, x.api, id)
		x.errMessage, x.errHint = res.Message, res.Hint
		return false
	}
	if len(x.segs) > 0 {
		x.fail(gatewayresp.ResourceNotFound, http.StatusNotFound, msgNotFound,
			"a WebSocket Api opens connections on the stage's own path and serves only @connections/{connectionId} below it")
		return false
	}
	if err := websocket.CheckUpgrade(x.r); err != nil {
		h := x.w.Header()
		h["Upgrade"], h["Connection"] = []string{"websocket"}, []string{"Upgrade"}
		x.fail(gatewayresp.Default4XX, http.StatusUpgradeRequired, msgUpgradeRequired, "this is a WebSocket Api: "+err.Error())
		return false
	}
	x.ws = x.s.ws.Connecting(x.r)
	c := x.ws.Conn
	c.Namespace, c.Api, c.Stage, c.Canary = x.api.Namespace, x.api.Name, x.stage.Name, x.canary
	x.route = cmp.Or(x.stage.WebSocketRoute(table.ConnectRouteKey), implicitConnect)
	return true
}

// implicitConnect and implicitDisconnect stand in for a stage's missing
// $connect and $disconnect routes, as the translator's implicit routes do
// (a table built by hand may lack them): accept, and do nothing.
var (
	implicitConnect = &table.Route{Key: table.ConnectRouteKey,
		Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: http.StatusOK}}}
	implicitDisconnect = &table.Route{Key: table.DisconnectRouteKey,
		Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: http.StatusOK}}}
)

// routeEvent routes a MESSAGE or DISCONNECT event of an open connection.
func (x *exchange) routeEvent() bool {
	ev := x.ws
	c := ev.Conn
	if x.api.Namespace != c.Namespace || x.api.Name != c.Api || x.stage.Name != c.Stage || len(x.segs) > 0 {
		return x.eventGone(fmt.Sprintf("stage %q of Api %s/%s is no longer served", c.Stage, c.Namespace, c.Api))
	}
	if ev.Type == websocket.Disconnect {
		x.route = cmp.Or(x.stage.WebSocketRoute(table.DisconnectRouteKey), implicitDisconnect)
	} else {
		key := ""
		if sel := x.api.RouteSelection; sel != nil {
			key = sel.Select(ev.Body)
		}
		if !strings.HasPrefix(key, "$") { // a message never selects $connect, $disconnect or $default by name
			x.route = x.stage.WebSocketRoute(key)
		}
		if x.route == nil {
			x.route = x.stage.WebSocketRoute(table.DefaultRouteKey)
		}
	}
	if x.route == nil {
		x.fail(gatewayresp.MissingAuthenticationToken, http.StatusForbidden, msgForbidden, fmt.Sprintf("the message selects no route (route selection expression %s) and the stage has no $default route", x.api.RouteSelection))
		return false
	}
	x.authz = c.Authz // the $connect authorizer's answer reaches every route
	x.eventHeaders(x.r.Header)
	return true
}

// eventGone ends an event whose connection's Api or stage is gone: the
// connection is closed with 1001 and $disconnect runs.
func (x *exchange) eventGone(hint string) bool {
	x.ws.Outcome.Gone = true
	x.fail(gatewayresp.Default4XX, http.StatusGone, msgGone, hint)
	return false
}

// Headers with which HTTP_PROXY and SERVICE integrations learn the event.
const (
	hdrConnectionID     = "X-Turnpike-Connection-Id"
	hdrRouteKey         = "X-Turnpike-Route-Key"
	hdrEventType        = "X-Turnpike-Event-Type"
	hdrRequestID        = "X-Turnpike-Request-Id"
	hdrMessageID        = "X-Turnpike-Message-Id"
	hdrDisconnectStatus = "X-Turnpike-Disconnect-Status-Code"
	hdrDisconnectReason = "X-Turnpike-Disconnect-Reason"
)

// eventHeaders sets the context headers of the event on h (parameter
// mapping cannot touch x-turnpike-*).
func (x *exchange) eventHeaders(h http.Header) {
	ev := x.ws
	h[hdrConnectionID] = []string{ev.Conn.ID}
	h[hdrRouteKey] = []string{x.route.Key}
	h[hdrEventType] = []string{string(ev.Type)}
	h[hdrRequestID] = []string{x.id}
	switch ev.Type {
	case websocket.Message:
		h[hdrMessageID] = []string{ev.MessageID}
	case websocket.Disconnect:
		h[hdrDisconnectStatus] = []string{strconv.Itoa(ev.DisconnectStatus)}
		if ev.DisconnectReason != "" {
			h[hdrDisconnectReason] = []string{ev.DisconnectReason}
		}
	}
}

// settleEvent records what the chain made of a dispatched event (the
// integration's answer itself is in the event's Recorder, see Dispatch).
func (x *exchange) settleEvent() {
	o := &x.ws.Outcome
	o.RequestID = x.id
	o.Gone = o.Gone || x.api == nil || x.stage == nil
	o.Error = x.errMessage
	o.Reply = x.route != nil && x.route.ReturnResponse
}
