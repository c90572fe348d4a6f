package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
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
	msgBadRequest       = "Bad Request"
	msgRequestTimeout   = "Request Timeout"
	msgInternal         = "Internal Server Error"
	causeEgressDenied   = "egress denied"
	causeTimeout        = "timeout"
	causeRefused        = "connection refused"
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
// The order matters: the client's own faults come first (a body over the
// limit, malformed, cut short or too slow: the transport reports them as its
// own errors), then the egress guard, and the integration timeout must win
// over the errors it provokes (a DNS lookup or dial cut short by the
// deadline).
func classify(x *exchange, err error, target string) *Failure {
	if f := ClientBodyFailure(x.body.readErr()); f != nil {
		return f
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return ClientBodyFailure(err)
	}
	timedOut := errors.Is(err, errTimeout) || errors.Is(context.Cause(x.ctx), errTimeout)
	if timedOut && x.body.waiting() {
		// The transport was still waiting for the client's body.
		return ClientBodyFailure(os.ErrDeadlineExceeded)
	}
	bad := func(cause string) *Failure {
		return &Failure{Status: http.StatusBadGateway, Message: msgBadGateway, Hint: target + ": " + err.Error(), Cause: cause}
	}
	switch {
	case errors.Is(err, upstream.ErrEgressDenied):
		return bad(causeEgressDenied)
	case timedOut:
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

// ClientBodyFailure is the Failure for an error reading the client's request
// body, nil for none (exported for the dataplane's other body readers, e.g.
// the parameter-mapping step). These are the client's faults, never the
// integration's: 413 over the Api's limit, 408 when the body did not arrive
// within the integration timeout, 400 for anything else (malformed or
// truncated chunked framing, a body shorter than its Content-Length, a
// connection reset). Their Cause is empty on purpose: the access log's
// integration error and turnpike_upstream_errors_total count only failures
// of the backend; the hint says what happened.
func ClientBodyFailure(err error) *Failure {
	if err == nil {
		return nil
	}
	if errors.As(err, new(*http.MaxBytesError)) {
		return &Failure{
			Status: http.StatusRequestEntityTooLarge, Message: msgTooLarge,
			Hint: "the request body exceeds the Api's maxRequestBodyBytes",
		}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &Failure{
			Status: http.StatusRequestTimeout, Message: msgRequestTimeout,
			Hint: "the request body did not arrive within the integration timeout",
		}
	}
	return &Failure{Status: http.StatusBadRequest, Message: msgBadRequest,
		Hint: "the request body could not be read: " + err.Error()}
}
