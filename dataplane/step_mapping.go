package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/proxy"
)

// msgBodyTimeout answers a request body that did not arrive within the
// integration timeout: the message of an integration timeout (api.md).
const msgBodyTimeout = "Endpoint request timed out"

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
		body, ok := x.bufferBody()
		if !ok {
			return false
		}
		in.Body = body
	}
	out := mapping.Outgoing{Header: x.r.Header, RawQuery: x.target.RawQuery}
	if err := m.Apply(in, &out); err != nil {
		x.fail(gatewayresp.Default4XX, http.StatusBadRequest, msgBadRequest, "requestParameters: "+err.Error())
		return false
	}
	x.target.RawQuery = out.RawQuery
	if out.PathSet {
		x.target.Path, x.target.PathMapped = out.Path, true
	}
	return true
}

// bufferBody reads the whole request body (bounded by limitBody's reader)
// once and puts a replay of it in its place; later calls return the same
// bytes (validation and parameter mapping share one read). The read has
// the integration's timeout as its deadline, as a streamed body has when it
// is forwarded: a client that sends its body slowly gets 504 "Endpoint
// request timed out" and its connection is closed, instead of holding a
// handler (the server has no ReadTimeout, which would cut long streamed
// uploads).
func (x *exchange) bufferBody() ([]byte, bool) {
	if x.bodyRead {
		return x.body, true
	}
	if x.r.Body == nil || x.r.Body == http.NoBody {
		x.bodyRead = true
		return nil, true
	}
	timeout := proxy.DefaultTimeout
	if ms := x.integration().TimeoutMillis; ms > 0 {
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
			x.fail(gatewayresp.IntegrationTimeout, http.StatusGatewayTimeout, msgBodyTimeout,
				fmt.Sprintf("the request body did not arrive within the integration timeout of %v", timeout))
			return nil, false
		}
		if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
			x.fail(gatewayresp.RequestTooLarge, http.StatusRequestEntityTooLarge, msgTooLarge, fmt.Sprintf("the request body is larger than this Api's limit of %d bytes", tooBig.Limit))
			return nil, false
		}
		x.fail(gatewayresp.Default4XX, http.StatusBadRequest, msgBadRequest, "the request body could not be read: "+err.Error())
		return nil, false
	}
	if deadline {
		_ = rc.SetReadDeadline(time.Time{}) // the body is read: nothing is left to bound
	}
	x.r.Body = io.NopCloser(bytes.NewReader(b))
	x.r.ContentLength = int64(len(b))
	x.r.TransferEncoding = nil
	x.body, x.bodyRead = b, true
	return b, true
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
