package dataplane

// forward is the SERVICE and HTTP_PROXY integration: the forwarder
// (dataplane/proxy) sends the integration request x.target to the Service's
// ready endpoints or to the URI and streams the answer back, through the
// chain's reply side (x.target.Response). A failure before any response
// byte is rendered here as a gateway error.
func (x *exchange) forward() {
	x.startIntegrationSpan(x.target.Integration)
	x.w.keepHeaders() // a backend's 1xx must not wipe them (response.go)
	if f := x.s.fwd.Forward(&x.w, x.r, &x.target); f != nil {
		if x.target.Cause == "" {
			x.target.Cause = f.Cause
		}
		x.endIntegrationSpan()
		if f.Cause == "" { // proxy.ClientBodyFailure: the client's body failed
			x.failClientBody(f.Status, f.Message, f.Hint)
		} else {
			x.fail(integrationFailure(f.Status), f.Status, f.Message, f.Hint)
		}
	}
	x.endIntegrationSpan()
}
