package dataplane

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/lambda"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// The integration side of WebSocket events (step_websocket.go says how
// events reach it):
//   - CONNECT: $connect's integration gets the upgrade request as a GET
//     (without the handshake fields Connection, Upgrade and
//     Sec-WebSocket-Key/-Version/-Extensions; Sec-WebSocket-Protocol stays),
//     with the x-turnpike-* context headers. Its answer is recorded, not
//     sent: a 2xx upgrades the connection, choosing the subprotocol the
//     answer names in Sec-WebSocket-Protocol; anything else (a gateway error
//     included) is the client's answer instead of the upgrade.
//   - MESSAGE and DISCONNECT: a POST of the message (empty for DISCONNECT)
//     with the x-turnpike-* context headers, answered into the event's
//     Recorder; the connection decides what the client gets.
//   - FUNCTION integrations receive AWS's WebSocket Lambda event
//     (dataplane/lambda.AppendWebSocketEvent, appendWebSocketEvent below):
//     CONNECT with the upgrade request's headers and query, MESSAGE with
//     the message as body (base64 for a binary frame), DISCONNECT with the
//     upgrade request's headers and the close code and reason; every event
//     with the $connect authorizer's principal and context. The answer is
//     read in the 1.0 shape ({statusCode, body}).

// connectWebSocket is the integration step of an upgrade request.
func (x *exchange) connectWebSocket() {
	h := x.r.Header
	var handshake [5][]string
	for i, k := range websocket.HandshakeHeaders {
		handshake[i] = h[k]
		delete(h, k)
	}
	x.eventHeaders(h)
	rec := websocket.NewRecorder(int(x.s.ws.Limits().MaxMessageBytes))
	client := x.w.ResponseWriter
	x.w.ResponseWriter = rec
	x.callIntegration()
	// Nothing reached the client yet: its writer starts afresh.
	x.w = responseWriter{ResponseWriter: client, x: x}
	for i, k := range websocket.HandshakeHeaders {
		if handshake[i] != nil {
			h[k] = handshake[i]
		}
	}
	if st := rec.Status(); st < 200 || st > 299 {
		x.ws.Outcome.Status, x.ws.Outcome.Error = st, cmp.Or(x.errMessage, "refused by $connect")
		x.s.ws.Observe(x.ws)
		rec.CopyTo(&x.w)
		return
	}
	c := x.ws.Conn
	c.Authz = x.authz
	if g := x.lim.grant; g != nil {
		c.APIKeyID = g.Key.ID
	}
	err := x.s.ws.Accept(&x.w, x.r, x.ws, rec.Header().Get("Sec-Websocket-Protocol"))
	if err == nil {
		x.s.ws.Observe(x.ws)
	}
	switch {
	case errors.Is(err, websocket.ErrStopping):
		x.fail(gatewayresp.Default5XX, http.StatusServiceUnavailable, msgLimiterDown, "the gateway is shutting down; connect again (to another replica)")
	case err != nil:
		x.errMessage, x.errHint = "WebSocket handshake failed", err.Error() // the library answered the client
	}
}

// Dispatch runs a connection's MESSAGE or DISCONNECT event through the
// chain as a POST to the connection's path on its host, and sets the
// event's outcome (websocket.Dispatcher).
func (s *Server) Dispatch(ctx context.Context, ev *websocket.Event) {
	c := ev.Conn
	r := (&http.Request{
		Method:     http.MethodPost,
		URL:        &url.URL{Path: c.Path, RawPath: c.RawPath},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"User-Agent": {c.UserAgent}},
		Host:       c.Host,
		RemoteAddr: c.RemoteAddr,
		TLS:        c.TLS,
		Body:       http.NoBody,
		RequestURI: c.Path,
	}).WithContext(ctx)
	if len(ev.Body) > 0 {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(ev.Body)), int64(len(ev.Body))
		r.Header["Content-Type"] = []string{messageType(ev)}
	}
	rec := websocket.NewRecorder(int(s.ws.Limits().MaxMessageBytes))
	defer func() {
		ev.Outcome.Status, ev.Outcome.Body = rec.Status(), rec.Body()
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler { //nolint:errorlint // the sentinel is panicked, not wrapped
				panic(p)
			}
			ev.Outcome.Error = "Internal server error" // the integration's answer broke off
		}
		if rec.Truncated && ev.Outcome.Reply && ev.Outcome.Error == "" {
			ev.Outcome.Error = "Response too large"
		}
	}()
	s.serve(rec, r, ev)
}

// messageType is the Content-Type of a message sent to an integration:
// binary frames are application/octet-stream, JSON text application/json,
// other text text/plain.
func messageType(ev *websocket.Event) string {
	switch {
	case ev.Binary:
		return "application/octet-stream"
	case json.Valid(ev.Body):
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// appendWebSocketEvent encodes the Lambda event of a WebSocket event into
// dst; r holds the $context-derived fields, the body and the authorizer.
func (x *exchange) appendWebSocketEvent(r *lambda.Request, dst []byte) []byte {
	ev, c := x.ws, x.ws.Conn
	r.WebSocket = &lambda.WebSocketEvent{
		ConnectionID: c.ID, EventType: string(ev.Type), MessageID: ev.MessageID, ConnectedAt: c.ConnectedAt,
		DisconnectStatusCode: ev.DisconnectStatus, DisconnectReason: ev.DisconnectReason,
	}
	r.PathParameters = nil
	switch ev.Type {
	case websocket.Connect:
		r.Header = withoutContextHeaders(r.Header)
	case websocket.Disconnect:
		r.Header, r.Host, r.RawQuery = c.Header, c.Host, ""
	default:
		r.Header, r.Host, r.RawQuery = nil, "", ""
	}
	return lambda.AppendWebSocketEvent(dst, r)
}

// withoutContextHeaders drops the x-turnpike-* headers of HTTP
// integrations from h: a Lambda event has the context in requestContext.
func withoutContextHeaders(h http.Header) http.Header {
	for k := range h {
		if strings.HasPrefix(k, "X-Turnpike-") {
			delete(h, k)
		}
	}
	return h
}
