package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/proxy"
)

// msgBodyTimeout answers a request body that did not arrive within the
// integration timeout: the message of an integration timeout (api.md).
const msgBodyTimeout = "Endpoint request timed out"

// Parameter mapping in the chain (api.md, Route integration
// requestParameters/responseParameters; dataplane/mapping):
//   - mapRequest runs inside integrate, after authorization (so
//     $context.authorizer.* is known) and right before the forwarder. It
//     changes the outgoing header, query string and path; values read the
//     request as received.
//   - The body is read only when a value reads $request.body, bounded by
//     the Api's body limit (limitBody installed it: too large is 413) and
//     by the integration timeout (too slow is 504), and replayed to the
//     backend byte for byte. A body that is not JSON makes
//     its values empty; the request goes on.
//   - Response mappings run in the forwarder's ModifyResponse hook (through
//     Target.Response), before any response byte is sent, and on MOCK
//     answers; gateway errors are never mapped.

// mappingInput fills the exchange's reusable mapping input.
func (x *exchange) mappingInput() *mapping.Input {
	x.mapIn = mapping.Input{
		Header:         x.r.Header,
		RawQuery:       x.r.URL.RawQuery,
		Path:           x.rest,
		ParamNames:     x.route.ParamNames,
		Params:         x.target.Params,
		StageVariables: x.variables(),
		Context:        x,
	}
	return &x.mapIn
}

// mapRequest applies the route's requestParameters to x.r and x.target. It
// returns false after writing an error (body too large or unreadable, a
// mapped path with a dot segment).
func (x *exchange) mapRequest() bool {
	m := x.route.RequestMapping
	if m == nil {
		return true
	}
	in := x.mappingInput()
	if m.NeedsBody() {
		body, ok := x.bufferBody()
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

// bufferBody reads the whole request body (bounded by limitBody's reader)
// and puts a replay of it in its place. The read has the integration's
// timeout as its deadline, as a streamed body has when it is forwarded: a
// client that sends its body slowly gets 504 "Endpoint request timed out"
// and its connection is closed, instead of holding a handler (the server
// has no ReadTimeout, which would cut long streamed uploads).
func (x *exchange) bufferBody() ([]byte, bool) {
	if x.r.Body == nil || x.r.Body == http.NoBody {
		return nil, true
	}
	timeout := proxy.DefaultTimeout
	if ms := x.target.Integration.TimeoutMillis; ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	rc := http.NewResponseController(x.orig)
	deadline := rc.SetReadDeadline(time.Now().Add(timeout)) == nil // not supported: test writers only
	b, err := io.ReadAll(x.r.Body)
	if err != nil {
		// The deadline stays: whatever the server still reads of this body
		// fails at once, and it closes the connection after the answer.
		if errors.Is(err, os.ErrDeadlineExceeded) {
			x.target.Cause = "request body timeout"
			x.fail(http.StatusGatewayTimeout, msgBodyTimeout,
				fmt.Sprintf("the request body, read for requestParameters, did not arrive within the integration timeout of %v", timeout))
			return nil, false
		}
		if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
			x.fail(http.StatusRequestEntityTooLarge, msgTooLarge, fmt.Sprintf("the request body is larger than this Api's limit of %d bytes", tooBig.Limit))
			return nil, false
		}
		x.fail(http.StatusBadRequest, msgBadRequest, "the request body could not be read: "+err.Error())
		return nil, false
	}
	if deadline {
		_ = rc.SetReadDeadline(time.Time{}) // the body is read: nothing is left to bound
	}
	x.r.Body = io.NopCloser(bytes.NewReader(b))
	x.r.ContentLength = int64(len(b))
	x.r.TransferEncoding = nil
	return b, true
}

// MapResponse applies the route's responseParameters for status to h and
// returns the status to send (proxy.ResponseMapper).
func (x *exchange) MapResponse(status int, h http.Header) int {
	m := x.route.ResponseMapping
	if !m.Maps(status) {
		return status
	}
	in := x.mappingInput()
	in.ResponseHeader = h
	return m.Apply(status, in, h)
}

// ContextValue resolves $context.NAME for parameter mapping
// (mapping.Context); unknown names and values that are not there are "".
func (x *exchange) ContextValue(name string) string {
	if key, ok := strings.CutPrefix(name, "authorizer."); ok {
		v, _ := x.authz.Value(key) // a nil result (no authorizer) has no values
		return v
	}
	switch name {
	case "requestId", "extendedRequestId":
		return x.id
	case "apiId":
		return x.api.Name
	case "stage":
		return x.stage.Name
	case "routeKey":
		return x.route.Key
	case "httpMethod":
		return x.r.Method
	case "domainName":
		return x.host
	case "path":
		return x.path.escaped
	case "protocol":
		return x.r.Proto
	case "identity.sourceIp":
		return remoteIP(x.r.RemoteAddr)
	case "identity.userAgent":
		return x.r.UserAgent()
	case "identity.clientCert.subjectDN":
		return x.clientCert.SubjectDN
	case "identity.clientCert.serialNumber":
		return x.clientCert.SerialNumber
	}
	return ""
}
