package dataplane

import "github.com/turnpike-io/turnpike/dataplane/cors"

// preflight is the CORS step's in side, right after the stage is resolved
// and before route lookup, authorization and throttling (api.md): a
// preflight is answered here, so no OPTIONS route is needed and none can
// override it, and no authorizer or bucket ever sees it. Any other request
// of an Api with a CORS policy goes on with the policy's verdict on its
// Origin, for corsHeaders.
func (x *exchange) preflight() bool {
	c := x.api.CORS
	if c == nil {
		return true
	}
	if cors.IsPreflight(x.r) {
		cors.Preflight(&x.w, x.r, c)
		return false
	}
	if o := x.r.Header.Get("Origin"); c.AllowOrigin(o) {
		x.corsOrigin = o
	}
	x.corsOn = true
	return true
}

// corsHeaders is the CORS step's header side: whatever answers a request
// that passed preflight (backend, MOCK, or a gateway error from fail), its
// final status goes out with the policy's CORS headers and none of the
// backend's.
func (x *exchange) corsHeaders() {
	if x.corsOn {
		cors.Apply(x.w.Header(), x.api.CORS, x.corsOrigin)
	}
}
