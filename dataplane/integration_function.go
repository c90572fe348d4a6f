package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/function"
	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/lambda"
	"github.com/turnpike-io/turnpike/dataplane/proxy"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// Messages of FUNCTION answers that are not the function's (api.md,
// Errors; the Lambda codec renders malformed answers and function errors).
const (
	msgRequestTooLong  = "Request Too Long"
	msgFunctionTimeout = "Endpoint request timed out"
	msgBadGateway      = "Internal server error"
)

// invokeFunction is the FUNCTION integration: the request becomes an AWS
// Lambda proxy event (payload 1.0 or 2.0, dataplane/lambda), the function
// runs it through the Runtime Interface Emulator of one of its Service's
// ready endpoints (dataplane/function: at most the route's concurrency per
// endpoint, the rest queued), and its answer becomes the response, through
// the chain's reply side like every integration answer.
func (x *exchange) invokeFunction() {
	in := x.target.Integration
	body, ok := x.bufferBody("sent to the function")
	if !ok {
		return
	}
	api := lambdaAPI(x.api.Protocol)
	buf := eventBuffers.Get().(*[]byte)
	ev := x.functionEvent(api, in.PayloadFormatVersion, body, (*buf)[:0])
	if len(ev) > lambda.MaxPayloadBytes {
		x.target.Cause = "request too large for Lambda"
		x.fail(gatewayresp.RequestTooLarge, http.StatusRequestEntityTooLarge, msgRequestTooLong,
			fmt.Sprintf("the Lambda event has %d bytes; Lambda accepts at most %d (6 MB), base64-encoded binary bodies included", len(ev), lambda.MaxPayloadBytes))
		return
	}
	timeout := proxy.DefaultTimeout
	if in.TimeoutMillis > 0 {
		timeout = time.Duration(in.TimeoutMillis) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(x.r.Context(), timeout)
	defer cancel()
	x.startIntegrationSpan(in)
	start := time.Now()
	res, err := x.s.functions.Invoke(ctx, &function.Invocation{Target: in.Service, Concurrency: int(in.Concurrency), Event: ev})
	x.target.IntegrationLatency = time.Since(start)
	if err != nil {
		x.endIntegrationSpan()
		x.functionFailed(err, timeout) // ev may still be read by an abandoned call: not pooled
		return
	}
	*buf = ev
	eventBuffers.Put(buf)
	x.functionAnswered(api, in, res)
}

// eventBuffers recycle event encodings.
var eventBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// functionEvent encodes the Lambda proxy event of the request into dst.
func (x *exchange) functionEvent(api lambda.APIType, version string, body []byte, dst []byte) []byte {
	r := lambda.FromContext(x.context(), api)
	r.APIPath = x.rest
	r.RawQuery = x.r.URL.RawQuery
	r.Host = x.r.Host
	r.Header = lambda.GatewayHeaders(x.r, r.SourceIP)
	r.Body = body
	ct := x.r.Header.Get("Content-Type")
	if api == lambda.REST {
		r.Base64 = len(body) > 0 && lambda.MatchesBinaryMediaTypes(ct, x.api.BinaryMediaTypes)
	} else {
		r.Base64 = len(body) > 0 && lambda.HTTPBodyIsBinary(ct, body)
	}
	_, r.ResourceID, _ = strings.Cut(x.route.Object, "/")
	r.StageVariables = x.variables()
	r.PathParameters = x.target.Params.Map()
	r.Authorizer = lambdaAuthorizer(x.authz)
	r.APIKey = x.lim.key
	if x.ws != nil {
		return x.appendWebSocketEvent(&r, dst) // integration_websocket.go
	}
	if version == string(lambda.V1) {
		return lambda.AppendEventV1(dst, &r)
	}
	return lambda.AppendEventV2(dst, &r)
}

// lambdaAuthorizer is the authorizer's answer as events carry it.
func lambdaAuthorizer(a *auth.Result) *lambda.Authorizer {
	switch {
	case a == nil:
		return nil
	case a.Claims != nil:
		return &lambda.Authorizer{Kind: lambda.AuthorizerJWT, PrincipalID: a.PrincipalID, Claims: a.Claims, Scopes: a.Scopes, IntegrationLatency: -1}
	}
	return &lambda.Authorizer{Kind: lambda.AuthorizerLambda, PrincipalID: a.PrincipalID, Context: a.Context, IntegrationLatency: -1}
}

// lambdaAPI is the Lambda codec's kind of an Api.
func lambdaAPI(p table.Protocol) lambda.APIType {
	switch p {
	case table.ProtocolREST:
		return lambda.REST
	case table.ProtocolWebSocket:
		return lambda.WebSocket
	}
	return lambda.HTTP
}

// functionFailed renders an invocation that produced no answer.
func (x *exchange) functionFailed(err error, timeout time.Duration) {
	fn := x.target.Integration.Service
	name := fmt.Sprintf("function Service %s/%s port %d", fn.Namespace, fn.Name, fn.Port)
	switch {
	case errors.Is(err, function.ErrQueueFull):
		x.target.Cause = "function queue full"
		x.w.Header()["Retry-After"] = []string{"1"}
		x.fail(gatewayresp.Throttled, http.StatusTooManyRequests, msgThrottled,
			fmt.Sprintf("%s already has --function-queue-length invocations waiting for a free endpoint; scale its Deployment", name))
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, function.ErrTimedOut):
		x.target.Cause = "timeout"
		x.fail(gatewayresp.IntegrationTimeout, http.StatusGatewayTimeout, msgFunctionTimeout,
			fmt.Sprintf("%s did not answer within %v (waiting for a free endpoint included): %v", name, timeout, err))
	case x.r.Context().Err() != nil:
		x.target.Cause = "client canceled"
		x.fail(gatewayresp.IntegrationFailure, http.StatusBadGateway, msgBadGateway, "the client went away during the invocation")
	case errors.Is(err, upstream.ErrEgressDenied):
		x.target.Cause = "egress denied"
		x.fail(gatewayresp.IntegrationFailure, http.StatusBadGateway, msgBadGateway, name+": "+err.Error())
	default:
		x.target.Cause = "function unreachable"
		x.fail(gatewayresp.IntegrationFailure, http.StatusBadGateway, msgBadGateway, name+": "+err.Error())
	}
}

// functionAnswered decodes the function's answer and writes it, or renders
// AWS's answer to a malformed one or a function error.
func (x *exchange) functionAnswered(api lambda.APIType, in *table.Integration, res *function.Result) {
	version := lambda.PayloadVersion(in.PayloadFormatVersion)
	if api == lambda.WebSocket {
		version = lambda.V1 // WebSocket answers have the 1.0 shape whatever the route says
	}
	resp, err := lambda.DecodeResponse(res.Body, lambda.DecodeOptions{Version: version, API: api, KeepBase64: x.keepBase64(api)})
	var le *lambda.Error
	isLambdaErr := errors.As(err, &le)
	if res.Status != http.StatusOK && (!isLambdaErr || le.Kind == lambda.MalformedResponse) {
		// The emulator reports its own failures (a crashed runtime, an
		// answer over the payload limit) as non-200 with a function error
		// object, which the codec classifies above; anything else it
		// answers is not the function's answer.
		if err == nil {
			resp.Release()
		}
		x.endIntegrationSpan()
		x.target.Cause = "function runtime error"
		x.fail(gatewayresp.IntegrationFailure, http.StatusBadGateway, msgBadGateway,
			fmt.Sprintf("the Runtime Interface Emulator at %s answered %d: %.200s", res.Endpoint, res.Status, res.Body))
		return
	}
	if err != nil {
		x.endIntegrationSpan()
		if !isLambdaErr {
			le = &lambda.Error{Kind: lambda.MalformedResponse, Cause: err.Error()}
		}
		status, msg := le.GatewayStatus(api)
		x.target.Cause = le.Cause
		x.fail(gatewayresp.IntegrationFailure, status, msg, le.Cause+"; "+le.Hint)
		return
	}
	defer resp.Release()
	x.target.UpstreamStatus = resp.StatusCode
	x.endIntegrationSpan()
	x.writeFunctionAnswer(resp)
}

// keepBase64: a REST Api passes a base64 body on as text unless the
// client's first accepted media type is a binary media type (AWS); HTTP
// APIs always decode.
func (x *exchange) keepBase64(api lambda.APIType) bool {
	if api != lambda.REST {
		return false
	}
	accept, _, _ := strings.Cut(x.r.Header.Get("Accept"), ",")
	return !lambda.MatchesBinaryMediaTypes(strings.TrimSpace(accept), x.api.BinaryMediaTypes)
}

// writeFunctionAnswer writes a decoded answer: its headers (hop-by-hop ones
// and Content-Length dropped: the gateway frames the body), one Set-Cookie
// per 2.0 cookie, application/json when it names no content type (as API
// Gateway), its status through the reply side, then the body.
func (x *exchange) writeFunctionAnswer(resp *lambda.Response) {
	h := x.w.Header()
	for _, hd := range resp.Headers {
		k := textproto.CanonicalMIMEHeaderKey(hd.Name)
		if isFramingHeader(k) {
			continue
		}
		h[k] = append(h[k], hd.Value)
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], resp.Cookies...)
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = []string{"application/json"}
	}
	status := x.MapResponse(resp.StatusCode, h)
	noBody := status == http.StatusNoContent || status == http.StatusNotModified
	if !noBody {
		h["Content-Length"] = []string{strconv.Itoa(len(resp.Body))}
	}
	x.w.WriteHeader(status)
	if !noBody && x.r.Method != http.MethodHead {
		_, _ = x.w.Write(resp.Body) // a vanished client is visible in the log's length
	}
}

// isFramingHeader: headers a function may not set on the response, because
// the gateway frames the body and owns the connection.
func isFramingHeader(k string) bool {
	switch k {
	case "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer", "Te", "Proxy-Connection":
		return true
	}
	return false
}
