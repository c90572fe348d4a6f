package dataplane

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Messages of the gateway's error bodies (api.md, Errors) that this package renders; the forwarder
// owns the 5xx integration messages. They are part of
// the AWS-compatible contract: clients match on them, so never reword them.
const (
	msgBadRequest   = "Bad Request"
	msgNotFound     = "Not Found"
	msgMissingToken = "Missing Authentication Token"
	msgTooLarge     = "Request Entity Too Large"
)

// errorBody is the JSON body of every gateway error without a template.
type errorBody struct {
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// noRoute is the answer for an unknown stage or an unmatched route: AWS HTTP
// APIs say 404 (RESOURCE_NOT_FOUND), AWS REST APIs say 403 "Missing
// Authentication Token".
func noRoute(p table.Protocol) (gatewayresp.Type, int, string) {
	if p == table.ProtocolREST {
		return gatewayresp.MissingAuthenticationToken, http.StatusForbidden, msgMissingToken
	}
	return gatewayresp.ResourceNotFound, http.StatusNotFound, msgNotFound
}

// integrationFailure is the response type of an integration failure of
// status (proxy.Failure and the integration units' own failures).
func integrationFailure(status int) gatewayresp.Type {
	switch status {
	case http.StatusGatewayTimeout:
		return gatewayresp.IntegrationTimeout
	case http.StatusRequestEntityTooLarge:
		return gatewayresp.RequestTooLarge
	case http.StatusInternalServerError:
		return gatewayresp.APIConfigurationError // the integration is misconfigured
	}
	return gatewayresp.IntegrationFailure
}

// clientBodyFailure is the response type of a request whose client failed
// while sending its body (proxy.ClientBodyFailure): too large, too slow or
// badly framed.
func clientBodyFailure(status int) gatewayresp.Type {
	if status == http.StatusRequestEntityTooLarge {
		return gatewayresp.RequestTooLarge
	}
	return gatewayresp.Default4XX
}

// failClientBody answers a request whose body the client failed to send
// (proxy.ClientBodyFailure: too large, too slow, broken framing) and closes
// the connection after the answer: the rest of the stream cannot be trusted
// to start at a request boundary, so no further request may be read from
// it (request smuggling), and the client is told so rather than finding out
// from a reset. Go's server closes without the header too, but only as a
// side effect whose timing changed between Go releases.
func (x *exchange) failClientBody(status int, message, hint string) {
	x.clientFailed = true
	x.w.Header().Set("Connection", "close")
	x.fail(clientBodyFailure(status), status, message, hint)
}

// fail writes a gateway error of AWS response type typ and records it for
// the access log; every gateway-generated error goes through here. The
// Api's gateway responses (gatewayResponses) may change the status, add
// headers and replace the body with a template; REST Apis add
// x-amzn-ErrorType as AWS does; the chain's header side (CORS) runs as for
// any answer. Without a template the body is {"message": ...} and the hint,
// which is always logged, shown only when the Api enables errorHints
// (before the Api is known there is nobody to ask, so no hint is shown).
func (x *exchange) fail(typ gatewayresp.Type, status int, message, hint string) {
	x.errMessage, x.errHint, x.errType = message, hint, typ
	h := x.w.Header()
	var custom *gatewayresp.Response
	if a := x.api; a != nil {
		if a.Protocol == table.ProtocolREST {
			h["X-Amzn-Errortype"] = []string{typ.AmznErrorType(status)}
		}
		status, custom = a.GatewayResponses.Resolve(typ, status)
	}
	var b []byte
	contentType := "application/json"
	if custom != nil {
		src := x.gatewaySource(status)
		custom.EachHeader(src, func(k, v string) { h[k] = []string{v} })
		if t := custom.Template(x.r.Header.Get("Accept")); t != nil {
			contentType, b = t.ContentType(), t.Render(nil, src)
		}
	}
	if b == nil {
		b = x.builtinErrorBody(message, hint)
	}
	h["Content-Type"] = []string{contentType}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	x.w.WriteHeader(status)
	_, _ = x.w.Write(b) // the client may be gone; the status is logged anyway
}

// builtinErrorBody is {"message": ..., "hint": ...} (hint with errorHints).
func (x *exchange) builtinErrorBody(message, hint string) []byte {
	body := errorBody{Message: message}
	if x.api != nil && x.api.ErrorHints {
		body.Hint = hint
	}
	b, err := json.Marshal(body)
	if err != nil { // two strings always marshal; keep a valid body regardless
		b = []byte(`{"message":"Internal Server Error"}`)
	}
	return b
}

// gatewaySource is what a gateway response's parameters and templates
// read; $context.status is the status about to be sent.
func (x *exchange) gatewaySource(status int) *gatewayresp.Source {
	src := &gatewayresp.Source{Context: x.context(), Header: x.r.Header, RawQuery: x.r.URL.RawQuery}
	src.Context.Status = status
	if x.stage != nil {
		src.StageVariables = x.variables()
	}
	if x.route != nil {
		src.Path = x.route.Params(x.segs)
	}
	return src
}
