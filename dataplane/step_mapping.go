package dataplane

import (
	"net/http"

	"github.com/turnpike-io/turnpike/dataplane/mapping"
)

// Parameter mapping in the chain (api.md, Route integration
//   requestParameters/responseParameters; dataplane/mapping):
//   - mapRequest is the step's in side, after authorization (so
//     $context.authorizer.* is known) and right before the integration. It
//     changes the integration request (the outgoing header, query string
//     and path); values read the request as received. A MOCK integration
//     has no request to map.
//   - The body is read only when a value reads $request.body, bounded by
//     the Api's body limit (limitBody installed it: too large is 413) and
//     by the integration timeout (too slow is 504), and replayed to the
//     backend byte for byte. A body that is not JSON makes
//     its values empty; the request goes on.
//   - mapResponse is the step's reply side: it runs on every integration
//     answer (backend and MOCK) before any response byte is sent; gateway
//     errors never pass there.

// mappingInput fills the exchange's reusable mapping input.
func (x *exchange) mappingInput() *mapping.Input {
	x.mapIn = mapping.Input{
		Header:         x.r.Header,
		RawQuery:       x.r.URL.RawQuery,
		Path:           x.rest,
		Params:         x.target.Params,
		StageVariables: x.variables(),
		Context:        x.context(),
	}
	return &x.mapIn
}

// mapRequest applies the route's requestParameters to x.r and x.target. It
// returns false after writing an error (body too large or unreadable, a
// mapped path with a dot segment).
func (x *exchange) mapRequest() bool {
	m := x.route.RequestMapping
	if m == nil || x.target.Integration == nil { // no mapping, or MOCK
		return true
	}
	in := x.mappingInput()
	if m.NeedsBody() {
		body, ok := x.bufferBody("read for requestParameters")
		if !ok {
			return false
		}
		in.Body = body
	}
	out := mapping.Outgoing{Header: x.r.Header, RawQuery: x.target.RawQuery}
	if err := m.Apply(in, &out); err != nil {
		x.fail(http.StatusBadRequest, msgBadRequest, "requestParameters: "+err.Error())
		return false
	}
	x.target.RawQuery = out.RawQuery
	if out.PathSet {
		x.target.Path, x.target.PathMapped = out.Path, true
	}
	return true
}

// mapResponse applies the route's responseParameters for status to h, the
// integration answer's header, and returns the status to send.
func (x *exchange) mapResponse(status int, h http.Header) int {
	m := x.route.ResponseMapping
	if !m.Maps(status) {
		return status
	}
	in := x.mappingInput()
	in.ResponseHeader = h
	return m.Apply(status, in, h)
}
