package dataplane

import (
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// exchange is the state of one request as it walks the chain. Exchanges are
// pooled: every field is reset before reuse, and nothing may keep a pointer
// to an exchange after ServeHTTP returns.
type exchange struct {
	s     *Server
	w     responseWriter
	orig  http.ResponseWriter
	r     *http.Request
	start time.Time
	id    string

	// tbl is loaded once per request: the whole request runs on one table even
	// if a swap happens meanwhile.
	tbl   *table.Table
	host  string
	api   *table.Api
	stage *table.Stage
	route *table.Route
	path  requestPath

	// domain is the custom domain of the host, nil on the default endpoint;
	// clientCert is its verified client certificate under mutual TLS
	// (step_host.go).
	domain     *table.Domain
	clientCert reqctx.ClientCert

	// segs are the decoded segments after the stage prefix; rest is the escaped
	// path after the stage prefix, at least "/" (what a SERVICE backend gets).
	segs []string
	rest string

	// corsOrigin is the request's Origin when the Api's CORS policy allows
	// it; corsOn is set once the CORS step let a non-preflight request on
	// (step_cors.go).
	corsOrigin string
	corsOn     bool

	// authz is the route authorizer's decision (step_authorizer.go); nil when
	// the route has no authorizer or the chain ended before it.
	authz *auth.Result

	// lim is the state of the throttle and API key steps (step_throttle.go).
	lim limits

	// span and ispan are the request and integration spans (step_trace.go);
	// nil when tracing is off.
	span, ispan trace.Span

	// canary is set when the request was picked for the stage's canary
	// (step_canary.go); mapIn is the reusable parameter mapping input
	// (step_mapping.go).
	canary bool
	mapIn  mapping.Input

	// body is the request body once a step read it whole (bufferBody):
	// validation and parameter mapping share one read, the integration
	// gets a replay.
	body     []byte
	bodyRead bool
	// cache is the response cache step's state (step_cache.go).
	cache cacheState

	// rc is the request's $context, refilled by context() (context.go).
	rc reqctx.Context

	// ws is the WebSocket event this exchange runs (step_websocket.go): the
	// CONNECT of an upgrade request, or a MESSAGE or DISCONNECT dispatched
	// by a connection; nil for every other request.
	ws *websocket.Event

	errMessage, errHint string
	// errType is the AWS gateway response type of the gateway's error answer.
	errType gatewayresp.Type
	target  Target
	// clientFailed is set when the client failed while sending its body
	// (400, 408, 413): not the integration's failure, not its latency.
	clientFailed bool
	// reached is the index in chain of the last step whose request side ran:
	// the response side runs for the steps up to it.
	reached int
	// done is set when the chain returned normally (not by a panic).
	done bool

	rawBuf, decBuf [16]string
}

// step is one link of the chain. Like a Caddy handler or a Traefik
// middleware it keeps together what it does on the way in and on the way
// out; unlike them the chain is one flat array, so its order is visible in
// one place and running it allocates nothing. Every part is optional.
type step struct {
	// name says what the step does, for the order test and docs/design.md.
	name string
	// in runs on the way in, in chain order. It returns false when it has
	// written the response, which ends the request side there.
	in func(*exchange) bool
	// reply runs when an integration's answer (status and the integration's
	// own header) is known, before any of it is sent, in reverse chain order;
	// it returns the status to send. Gateway errors never pass here.
	reply func(x *exchange, status int, h http.Header) int
	// header runs right before the final status of any response is sent
	// (integration answers, MOCK answers, gateway errors), in reverse chain
	// order, for the steps whose in ran.
	header func(x *exchange)
	// out runs once the response is complete or aborted, in reverse chain
	// order, for the steps whose in ran: the first steps' out run last.
	out func(*exchange)
}

// chain is the fixed order of api.md, request side top to bottom; the
// response side runs bottom to top (TestChainOrder pins both, and
// docs/design.md shows the same list). It is set by init only because the
// steps refer back to the chain's runners (headers, MapResponse), which Go
// would otherwise call an initialization cycle; nothing changes it later.
var chain []step

func init() {
	chain = []step{
		{name: "access log", out: (*exchange).logAccess},
		{name: "metrics", out: (*exchange).observe},
		{name: "trace", in: (*exchange).startTrace, out: (*exchange).endTrace},
		{name: "connection headers", in: (*exchange).dropConnectionHeaders},
		{name: "request id", in: (*exchange).assignRequestID},
		{name: "path", in: (*exchange).checkPath},
		{name: "host and custom domain", in: (*exchange).resolveHost},
		{name: "stage", in: (*exchange).resolveStage},
		{name: "canary", in: (*exchange).pickCanary},
		{name: "mutual TLS", in: (*exchange).guardMutualTLS},
		{name: "CORS", in: (*exchange).preflight, header: (*exchange).corsHeaders},
		{name: "WebSocket", in: (*exchange).webSocket},
		{name: "route", in: (*exchange).lookupRoute},
		{name: "body limit", in: (*exchange).limitBody},
		// On a route with apiKeyRequired and no authorizer this step takes no
		// token itself: "API key and usage plan" takes the stage/route and the
		// plan buckets in one check (one shared-store round trip), see
		// fusedLimitSteps.
		{name: "throttle", in: (*exchange).throttle},
		{name: "authorizer", in: (*exchange).authorize},
		{name: "API key and usage plan", in: (*exchange).checkAPIKey},
		{name: "request validation", in: (*exchange).validateRequest},
		// After throttle, authorizer and API key: a cached answer never
		// bypasses them, and plan quotas count hits too.
		{name: "response cache", in: (*exchange).lookupCache, reply: (*exchange).armCache, out: (*exchange).storeCache},
		{name: "integration request", in: (*exchange).prepareIntegration},
		{name: "parameter mapping", in: (*exchange).mapRequest, reply: (*exchange).mapResponse},
		{name: "integration", in: (*exchange).integrate},
	}
}

// ServeHTTP runs the request side of the chain, and the response side as
// the response is written and once it is complete.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, nil) }

// serve runs the chain for r; ev is the WebSocket event r stands for (a
// connection's MESSAGE or DISCONNECT, step_websocket.go), nil for a request
// from the network. For an event, its outcome is settled before the out
// side runs.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, ev *websocket.Event) {
	x, _ := s.pool.Get().(*exchange)
	if x == nil {
		x = &exchange{}
	}
	x.s, x.orig, x.r, x.start, x.ws = s, w, r, time.Now(), ev
	x.w.ResponseWriter, x.w.x = w, x
	x.tbl = s.table.Load()
	if ev != nil && ev.Table != nil {
		x.tbl = ev.Table // the $disconnect of a connection whose Api left
	}
	if s.stopping.Load() {
		// Ask keep-alive clients to reconnect (to another replica) after this
		// response, without closing any connection under a request in flight.
		w.Header()["Connection"] = []string{"close"}
	}
	defer s.finish(x)
	for i := range chain {
		x.reached = i
		if in := chain[i].in; in != nil && !in(x) {
			break
		}
	}
	x.done = true
	if ev != nil {
		x.settleEvent()
	}
}

// finish runs the out side of the chain. It runs deferred because the
// forwarder aborts a response that failed after its headers were sent by
// panicking with http.ErrAbortHandler: that request is logged and counted
// too, and its exchange is not reused since the panic may have left it
// half-filled.
func (s *Server) finish(x *exchange) {
	if !x.done && x.errMessage == "" {
		x.errMessage = "response aborted"
	}
	for i := x.reached; i >= 0; i-- {
		if out := chain[i].out; out != nil {
			out(x)
		}
	}
	if x.done {
		*x = exchange{}
		s.pool.Put(x)
	}
}

// headers runs the header side of the chain: the final status is about to
// be sent (responseWriter calls it once per response).
func (x *exchange) headers() {
	for i := x.reached; i >= 0; i-- {
		if h := chain[i].header; h != nil {
			h(x)
		}
	}
}

// MapResponse runs the reply side of the chain on an integration's answer
// before any of it is sent, and returns the status to send
// (proxy.ResponseMapper; the MOCK integration calls it too).
func (x *exchange) MapResponse(status int, h http.Header) int {
	for i := x.reached; i >= 0; i-- {
		if r := chain[i].reply; r != nil {
			status = r(x, status, h)
		}
	}
	return status
}

// responseStatus is the status the client got: 0 when nothing was written
// and the chain did not finish (aborted), 200 when it finished silently.
func (x *exchange) responseStatus() int {
	if x.w.status == 0 && x.done {
		return http.StatusOK
	}
	return x.w.status
}
