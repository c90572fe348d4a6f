package dataplane

import "github.com/turnpike-io/turnpike/dataplane/cors"

// preflight is the CORS step of the chain, right after the stage is resolved
// and before route lookup, authorization and throttling (api.md): a preflight
// is answered here, so no OPTIONS route is needed and none can override it,
// and no authorizer or bucket ever sees it. Any other request of an Api with
// a CORS policy continues with the response writer wrapped, so whatever
// answers it later (backend, MOCK, or a gateway error from fail) carries the
// policy's CORS headers and none of the backend's.
func (x *exchange) preflight() bool {
	c := x.api.CORS
	if c == nil {
		return true
	}
	if cors.IsPreflight(x.r) {
		cors.Preflight(&x.w, x.r, c)
		return false
	}
	x.cors.Reset(x.w.ResponseWriter, c, x.r.Header.Get("Origin"))
	x.w.ResponseWriter = &x.cors
	return true
}
