package dataplane

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/cors"
	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// DefaultMaxRequestBodyBytes applies when an Api's table entry carries no
// positive limit (hand-built tables); the translator always sets one.
const DefaultMaxRequestBodyBytes = 10 << 20

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
	// (domains.go).
	domain     *table.Domain
	clientCert clientCert

	// segs are the decoded segments after the stage prefix; rest is the escaped
	// path after the stage prefix, at least "/" (what a SERVICE backend gets).
	segs []string
	rest string

	// cors wraps the response writer when the Api has a CORS policy
	// (cors_step.go); it lives here so that wrapping allocates nothing.
	cors cors.Writer

	// authz is the route authorizer's decision (authorize.go); nil when the
	// route has no authorizer or the chain ended before it.
	authz *auth.Result

	// lim is the state of the throttle and API key steps (limits.go).
	lim limits

	// span and ispan are the request and integration spans (trace_step.go);
	// nil when tracing is off.
	span, ispan trace.Span

	// canary is set when the request was picked for the stage's canary
	// (canary_step.go); mapIn is the reusable parameter mapping input
	// (mapping_step.go).
	canary bool
	mapIn  mapping.Input

	errMessage, errHint string
	target              Target
	// done is set when the chain returned normally (not by a panic).
	done bool

	rawBuf, decBuf [16]string
}

// step is one link of the chain. It returns false when it has written the
// response, which ends the chain (the access log still runs).
type step func(*exchange) bool

// chain is the fixed order of api.md. Later concerns (CORS preflight after the
// stage, throttle, auth, API key, validation) slot in as further steps.
var chain = [...]step{
	(*exchange).dropConnectionHeaders,
	(*exchange).assignRequestID,
	(*exchange).checkPath,
	(*exchange).resolveHost,
	(*exchange).resolveStage,
	(*exchange).pickCanary,
	(*exchange).guardMutualTLS,
	(*exchange).preflight,
	(*exchange).lookupRoute,
	(*exchange).limitBody,
	(*exchange).throttle,
	(*exchange).authorize,
	(*exchange).checkAPIKey,
	(*exchange).integrate,
}

// ServeHTTP runs the chain for one request, then writes its access log entry.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x, _ := s.pool.Get().(*exchange)
	if x == nil {
		x = &exchange{}
	}
	x.s, x.orig, x.r, x.start = s, w, r, time.Now()
	x.w.ResponseWriter = w
	x.tbl = s.table.Load()
	if s.stopping.Load() {
		// Ask keep-alive clients to reconnect (to another replica) after this
		// response, without closing any connection under a request in flight.
		w.Header()["Connection"] = []string{"close"}
	}
	defer s.finish(x)
	x.startTrace()
	for _, st := range chain {
		if !st(x) {
			break
		}
	}
	x.done = true
}

// finish writes the access log entry. It runs deferred because the forwarder
// aborts a response that failed after its headers were sent by panicking with
// http.ErrAbortHandler: that request is logged too, and its exchange is not
// reused since the panic may have left it half-filled.
func (s *Server) finish(x *exchange) {
	if !x.done && x.errMessage == "" {
		x.errMessage = "response aborted"
	}
	s.logAccess(x)
	s.observe(x)
	x.endTrace(x.responseStatus())
	if x.done {
		*x = exchange{}
		s.pool.Put(x)
	}
}

// dropConnectionHeaders removes from an HTTP/1.x request the headers its
// client named in Connection, before the gateway sets any header of its own.
// ReverseProxy removes them too, but from the outgoing request, after the
// chain has put X-Request-Id, traceparent and mapped headers there: a client
// sending "Connection: x-user, x-request-id" would otherwise strip them from
// what the backend gets (the CVE-2021-33197 pattern). The chain (authorizers,
// mappings) thus sees what the backend would: hop-by-hop headers are not the
// client's request to the backend. An upgrade is kept as ReverseProxy reads
// it: "Connection: Upgrade" and the Upgrade header stay (rewrite.go strips
// h2c). HTTP/2 and HTTP/3 have no Connection header (the server refuses it).
func (x *exchange) dropConnectionHeaders() bool {
	h := x.r.Header
	conn := h["Connection"]
	if x.r.ProtoMajor != 1 || len(conn) == 0 {
		return true
	}
	upgrade := false
	for _, v := range conn {
		for tok := range strings.SplitSeq(v, ",") {
			tok = textproto.TrimString(tok)
			switch {
			case strings.EqualFold(tok, "upgrade"):
				upgrade = true
			case tok != "":
				delete(h, textproto.CanonicalMIMEHeaderKey(tok))
			}
		}
	}
	if upgrade {
		h["Connection"] = []string{"Upgrade"}
	} else {
		delete(h, "Connection")
	}
	return true
}

func (x *exchange) assignRequestID() bool {
	x.id = newRequestID()
	id := []string{x.id} // shared read-only by both maps; len = cap, so an append copies
	x.w.Header()["X-Request-Id"] = id
	x.r.Header["X-Request-Id"] = id // the backend sees the same id
	return true
}

func (x *exchange) checkPath() bool {
	esc := x.r.URL.RawPath
	if esc == "" {
		esc = x.r.URL.EscapedPath()
	}
	p, hint, err := parsePath(esc, x.rawBuf[:0], x.decBuf[:0])
	x.path = p
	if err != nil {
		x.fail(http.StatusBadRequest, msgBadRequest, hint)
		return false
	}
	return true
}

func (x *exchange) resolveHost() bool {
	x.host = canonicalHost(x.r.Host)
	if !x.resolveDomain() { // custom domains first (domains.go)
		return false
	}
	if x.api == nil {
		x.api = x.tbl.ApiForHost(x.host)
	}
	if x.api == nil {
		hint := fmt.Sprintf("no Api is served on host %q", x.host)
		if x.tbl == nil {
			hint = "the gateway has not loaded its routing table yet"
		}
		x.fail(http.StatusNotFound, msgNotFound, hint)
		return false
	}
	if x.api.Protocol == table.ProtocolREST {
		x.w.Header()["X-Amzn-Requestid"] = []string{x.id}
	} else {
		x.w.Header()["Apigw-Requestid"] = []string{x.id}
	}
	return true
}

// canonicalHost lower-cases host and removes the port and a trailing dot.
func canonicalHost(h string) string {
	if strings.HasPrefix(h, "[") {
		if end := strings.IndexByte(h, ']'); end > 0 {
			h = h[:end+1]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

func (x *exchange) resolveStage() bool {
	if x.stage != nil { // a custom domain's mapping chose it
		return true
	}
	segs := x.path.dec
	if len(segs) > 0 && segs[0] != table.DefaultStage {
		if st := x.api.Stage(segs[0]); st != nil {
			x.stage, x.segs = st, segs[1:]
			x.rest = x.path.escaped[1+len(x.path.raw[0]):]
			if x.rest == "" {
				x.rest = "/"
			}
			return true
		}
	}
	if st := x.api.Stage(table.DefaultStage); st != nil {
		x.stage, x.segs, x.rest = st, segs, x.path.escaped
		return true
	}
	status, msg := noRoute(x.api.Protocol)
	x.fail(status, msg, stageHint(x.api, segs))
	return false
}

func stageHint(api *table.Api, segs []string) string {
	have := "this Api has no stages"
	if names := api.StageNames(); len(names) > 0 {
		have = "this Api has stages: " + strings.Join(names, ", ")
	}
	if len(segs) == 0 {
		return "the path names no stage and there is no $default stage; " + have
	}
	return fmt.Sprintf("no stage named %q; %s", segs[0], have)
}

func (x *exchange) lookupRoute() bool {
	x.route = x.stage.Lookup(x.r.Method, x.segs)
	if x.route == nil {
		status, msg := noRoute(x.api.Protocol)
		x.fail(status, msg, fmt.Sprintf("no route matches %s %s in stage %q", x.r.Method, x.rest, x.stage.Name))
		return false
	}
	if f := x.routeFailure(); f != nil { // the canary's for a canary request
		x.fail(f.Status, f.Message, f.Hint)
		return false
	}
	return true
}

func (x *exchange) limitBody() bool {
	limit := x.api.MaxRequestBodyBytes
	if limit <= 0 {
		limit = DefaultMaxRequestBodyBytes
	}
	if x.r.ContentLength > limit {
		x.fail(http.StatusRequestEntityTooLarge, msgTooLarge,
			fmt.Sprintf("the request body has %d bytes; this Api accepts at most %d", x.r.ContentLength, limit))
		return false
	}
	if x.r.Body != nil && x.r.Body != http.NoBody {
		// The server's own writer, not ours: MaxBytesReader then also tells the
		// server to close the connection after an oversized body.
		x.r.Body = http.MaxBytesReader(x.orig, x.r.Body, limit)
	}
	return true
}

func (x *exchange) integrate() bool {
	in := x.integration() // the canary's for a canary request
	if in.Type == table.IntegrationMock {
		x.writeMock(in.Mock)
		return false
	}
	x.target = Target{
		Integration: in,
		ParamNames:  x.route.ParamNames,
		Params:      x.route.Params(x.segs),
		Path:        x.rest,
		RawQuery:    x.r.URL.RawQuery,
	}
	if x.route.ResponseMapping != nil {
		x.target.Response = x
	}
	if !x.mapRequest() { // mapping_step.go
		return false
	}
	x.startIntegrationSpan(in)
	x.w.keepHeaders() // a backend's 1xx must not wipe them (response.go)
	if f := x.s.fwd.Forward(&x.w, x.r, &x.target); f != nil {
		if x.target.Cause == "" {
			x.target.Cause = f.Cause
		}
		x.endIntegrationSpan()
		x.fail(f.Status, f.Message, f.Hint)
	}
	x.endIntegrationSpan()
	return false
}

func (x *exchange) writeMock(m *table.Mock) {
	h := x.w.Header()
	for k, v := range m.Headers {
		h.Set(k, v)
	}
	status := x.MapResponse(m.Status, h) // responseParameters apply to MOCK answers too
	noBody := status < 200 || status == http.StatusNoContent || status == http.StatusNotModified
	if !noBody {
		h.Set("Content-Length", strconv.Itoa(len(m.Body)))
	}
	x.w.WriteHeader(status)
	if !noBody && x.r.Method != http.MethodHead {
		_, _ = x.w.Write([]byte(m.Body)) // a vanished client is visible in the log's length
	}
}
