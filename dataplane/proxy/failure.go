package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"

	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// AWS-compatible messages of the failures Forward returns (see the Errors
// table of the API contract; 502 keeps AWS's lower-case "server error").
const (
	msgBadGateway       = "Internal server error"
	msgTimeout          = "Endpoint request timed out"
	msgUnavailable      = "Service Unavailable"
	msgTooLarge         = "Request Entity Too Large"
	msgInternal         = "Internal Server Error"
	causeEgressDenied   = "egress denied"
	causeTimeout        = "timeout"
	causeRefused        = "connection refused"
	causeBodyTooLarge   = "request body too large"
	causeClientCanceled = "client canceled"
)

func internalError(hint string) *Failure {
	return &Failure{Status: http.StatusInternalServerError, Message: msgInternal, Hint: hint, Cause: "integration misconfigured"}
}

func unavailable(hint string) *Failure {
	return &Failure{Status: http.StatusServiceUnavailable, Message: msgUnavailable, Hint: hint, Cause: "no ready endpoints"}
}

// isRefused reports a connection refused at dial time: nothing was sent, so
// another endpoint may be tried.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// classify turns the error of a failed attempt into the Failure to render.
// The order matters: the body limit and the egress guard are the most specific
// causes, and the integration timeout must win over the errors it provokes
// (a DNS lookup or dial cut short by the deadline).
func classify(x *exchange, err error, target string) *Failure {
	var tooLarge *http.MaxBytesError
	if errors.As(x.body.readErr(), &tooLarge) || errors.As(err, &tooLarge) {
		return &Failure{
			Status: http.StatusRequestEntityTooLarge, Message: msgTooLarge,
			Hint:  "the request body exceeds the Api's maxRequestBodyBytes",
			Cause: causeBodyTooLarge,
		}
	}
	bad := func(cause string) *Failure {
		return &Failure{Status: http.StatusBadGateway, Message: msgBadGateway, Hint: target + ": " + err.Error(), Cause: cause}
	}
	switch {
	case errors.Is(err, upstream.ErrEgressDenied):
		return bad(causeEgressDenied)
	case errors.Is(err, errTimeout) || errors.Is(context.Cause(x.ctx), errTimeout):
		return &Failure{
			Status: http.StatusGatewayTimeout, Message: msgTimeout,
			Hint:  target + " did not answer within " + x.timeout.String(),
			Cause: causeTimeout,
		}
	case x.ctx.Err() != nil: // the client went away
		return bad(causeClientCanceled)
	case isRefused(err):
		return bad(causeRefused)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return bad("dns failure")
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return bad("unreachable")
	}
	return bad("upstream error")
}
