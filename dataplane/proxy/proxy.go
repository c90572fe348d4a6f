// Package proxy forwards requests to HTTP backends: the ready endpoints of a
// cluster Service (round robin, skipping endpoints that refuse connections)
// or a URI with path parameters filled in. It forwards only: which
// integration kind a route has is decided by the dataplane's integration
// dispatch (SERVICE and HTTP_PROXY routes come here).
//
// Invariants:
//   - One httputil.ReverseProxy and one http.Transport per Forwarder, built in
//     New: connection pools are shared by all requests and outlive table swaps.
//     Per-request data (the chosen endpoint, the Target) travels in the request
//     context, never in a proxy built for the request.
//   - The ReverseProxy uses Rewrite, never Director: hop-by-hop headers (those
//     named in Connection included) are removed before our code sets the
//     X-Forwarded-* headers, so a client cannot make us drop them.
//   - Forward writes nothing when it fails before the backend's response
//     headers: it returns a Failure and the caller renders the gateway error
//     (with CORS headers, request id, AWS body shape).
//   - Every outbound connection is dialed through the upstream egress guard.
//   - Host header: SERVICE keeps the client's Host (as ingress controllers do;
//     the backend is addressed by pod IP anyway); HTTP_PROXY sends the URI's
//     host, which is what a virtual-hosted backend expects.
//   - "Te: trailers" is passed on (gRPC needs it); any other Te is dropped.
//   - This package does not import api/v1alpha1; it only knows the table.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// DefaultTimeout applies when an Integration has no TimeoutMillis (AWS's 29 s).
const DefaultTimeout = 29 * time.Second

// maxAttempts bounds how many endpoints one request tries when they refuse
// connections, so a Service whose pods all crashed costs a bounded number of
// dials per request.
const maxAttempts = 5

// Options configures a Forwarder.
type Options struct {
	// Store holds the endpoint sets of SERVICE integrations; nil means none.
	Store *upstream.Store
	// DenyEgress are the --deny-egress-cidrs, checked on the resolved address
	// at dial time (see upstream.DefaultDenyEgress for the defaults).
	DenyEgress []netip.Prefix
	// TrustedProxies are the --trusted-proxies: only a socket peer in these
	// ranges may supply X-Forwarded-For/Proto/Host.
	TrustedProxies []netip.Prefix
	// Logger receives the proxy's own diagnostics (at V(1)); request outcomes
	// go to the caller through Target, for the access log.
	Logger logr.Logger
}

// Forwarder proxies requests to integration backends. It is safe for
// concurrent use and is meant to live as long as the process.
type Forwarder struct {
	store     *upstream.Store
	trusted   []netip.Prefix
	log       logr.Logger
	transport *http.Transport
	rp        *httputil.ReverseProxy
	pool      *connPool // the direct path's connections (direct.go)
}

// New returns a Forwarder with its shared transport and reverse proxy.
func New(o Options) *Forwarder {
	dialer := upstream.NewDialer(o.DenyEgress) // one egress guard for both paths
	f := &Forwarder{
		store:     o.Store,
		trusted:   o.TrustedProxies,
		log:       o.Logger,
		transport: newTransport(dialer),
		pool:      newConnPool(dialer, maxIdlePerHost, idleConnTimeout),
	}
	f.rp = &httputil.ReverseProxy{
		Rewrite:        f.rewrite,
		Transport:      f.transport,
		BufferPool:     copyBuffers,
		ErrorHandler:   recordError,
		ModifyResponse: recordResponse,
		ErrorLog:       log.New(logWriter{o.Logger.V(1)}, "", 0),
	}
	return f
}

// CloseIdleConnections closes pooled backend connections that are idle (for
// shutdown and tests).
func (f *Forwarder) CloseIdleConnections() {
	f.transport.CloseIdleConnections()
	f.pool.closeIdle()
}

// Target is what the request handler resolved for one request, and what
// Forward reports back for the access log.
type Target struct {
	// Integration says where the request goes: to the ready endpoints of
	// its Service when that is set, else to its URI; and its timeout. Which
	// integration kind this is was decided by the caller: the forwarder only
	// forwards.
	Integration *table.Integration
	// Params are the decoded path parameters; a greedy parameter's value
	// contains "/".
	Params urlpath.Params
	// Path (SERVICE) is the request path without the stage prefix, with its
	// original escaping, at least "/".
	Path string
	// RawQuery is the request's query string, as sent.
	RawQuery string
	// PathMapped: Path was set by an overwrite:path parameter mapping, and
	// HTTP_PROXY sends it instead of the uri's path (SERVICE always sends Path).
	PathMapped bool
	// Response, when set, maps the backend's status and headers before any
	// of them is sent (responseParameters).
	Response ResponseMapper

	// UpstreamStatus is the backend's status code (0 when none was received).
	UpstreamStatus int
	// IntegrationLatency is the time from the first attempt to the backend's
	// response headers (or to the failure).
	IntegrationLatency time.Duration
	// Cause says in a few words why the integration failed, e.g. "egress
	// denied", "connection refused", "timeout"; empty on success.
	Cause string
}

// Failure is a gateway error Forward did not write: the caller renders it.
type Failure struct {
	// Status is the HTTP status code.
	Status int
	// Message is the AWS-compatible "message" of the error body.
	Message string
	// Hint explains the failure in words (shown with errorHints, always logged).
	Hint string
	// Cause is the short cause for the access log (same as Target.Cause).
	Cause string
}

// Error implements error, so a Failure can be logged or wrapped as one.
func (f *Failure) Error() string { return fmt.Sprintf("%d %s: %s", f.Status, f.Message, f.Hint) }

// callKey is the context key of the per-request *call.
type callKey struct{}

// call is the per-request state the shared ReverseProxy's hooks read and write.
// Only the goroutine running Forward touches it, through the hooks that
// ReverseProxy.ServeHTTP calls synchronously.
type call struct {
	t     *Target
	url   url.URL // where this attempt goes
	host  string  // Host header to send; "" keeps the client's
	start time.Time
	// body is the client's request body on the ReverseProxy path (nil:
	// none, or the direct path, which reads it whole first).
	body *trackedBody
	err  error // set by recordError
	// aborted is set when the error came after the response was committed
	// (a hijacked protocol switch): nothing may be written any more.
	aborted bool
}

// Forward proxies r to t. It returns nil once it has written a response; on a
// failure before any response byte it writes NOTHING and returns the Failure
// for the caller to render. When the backend fails after the response headers
// were sent, the response can only be aborted: Forward then panics with
// http.ErrAbortHandler (as httputil.ReverseProxy does), after filling t
// (Cause "response aborted"); a caller that logs must do so in a defer.
//
// The request body is read at most once; endpoints that refuse the connection
// are retried only while no body byte has been read.
func (f *Forwarder) Forward(w http.ResponseWriter, r *http.Request, t *Target) (fail *Failure) {
	c := &call{t: t, start: time.Now()}
	defer func() {
		if t.IntegrationLatency == 0 {
			t.IntegrationLatency = time.Since(c.start)
		}
		if fail != nil {
			t.Cause = fail.Cause
		}
		if v := recover(); v != nil {
			if t.Cause == "" {
				t.Cause = "response aborted"
			}
			panic(v)
		}
	}()
	in := t.Integration
	if in == nil {
		return internalError("the route has no integration")
	}
	timeout := DefaultTimeout
	if in.TimeoutMillis > 0 {
		timeout = time.Duration(in.TimeoutMillis) * time.Millisecond
	}
	if directEligible(r, in) {
		// No body or a small one, no upgrade, plain HTTP: the pooled
		// synchronous path (direct.go); connection deadlines carry the
		// integration timeout.
		o := getOutbound()
		defer putOutbound(o)
		if fail := readBody(o, r, w, c.start.Add(timeout), timeout); fail != nil {
			return fail
		}
		x := exchange{w: w, out: r, c: c, ctx: r.Context(), timeout: timeout, direct: true, o: o}
		return f.forward(&x, in)
	}
	tctx, cancel := context.WithTimeoutCause(r.Context(), timeout, errTimeout)
	defer cancel()
	out := r.WithContext(limit1xx(context.WithValue(tctx, callKey{}, c)))
	var body *trackedBody
	if r.Body != nil && r.Body != http.NoBody {
		body = &trackedBody{rc: r.Body, w: w, deadline: c.start.Add(timeout)}
		out.Body = body
		c.body = body
		defer body.finish()
	}
	x := exchange{w: w, out: out, c: c, body: body, ctx: tctx, timeout: timeout}
	return f.forward(&x, in)
}

// forward sends x to the destination of in: a Service's endpoints, or a URI.
func (f *Forwarder) forward(x *exchange, in *table.Integration) *Failure {
	if in.Service != nil {
		return f.forwardService(x, in.Service)
	}
	if in.URI == "" {
		return internalError("the integration names neither a Service nor a URI")
	}
	return f.forwardHTTP(x, in.URI)
}

// exchange bundles what one Forward call hands to the per-type paths.
type exchange struct {
	w       http.ResponseWriter
	out     *http.Request
	c       *call
	body    *trackedBody
	ctx     context.Context // the integration-timeout context (direct: the request's)
	timeout time.Duration
	direct  bool      // the direct path (direct.go) instead of the ReverseProxy
	o       *outbound // direct: the request to write, with its body
}

// attempt runs the shared ReverseProxy once for x.c.url and reports the error
// ReverseProxy handed to recordError (nil when a response was written).
func (f *Forwarder) attempt(x *exchange) error {
	if x.direct {
		return f.direct(x)
	}
	x.c.err, x.c.aborted = nil, false
	f.rp.ServeHTTP(x.w, x.out)
	if x.c.aborted {
		return nil
	}
	return x.c.err
}

func (f *Forwarder) forwardService(x *exchange, st *table.ServiceTarget) *Failure {
	if st == nil {
		return internalError("the SERVICE integration names no Service")
	}
	var set *upstream.Set
	if f.store != nil {
		set = f.store.Get(st.Key())
	}
	if set == nil || set.Len() == 0 {
		return unavailable(serviceName(st) + " has no ready endpoints")
	}
	path, rawPath, err := splitPath(x.c.t.Path)
	if err != nil {
		return &Failure{Status: http.StatusBadRequest, Message: "Bad Request", Hint: err.Error(), Cause: "bad path"}
	}
	tries := min(set.Len(), maxAttempts)
	for range tries {
		ep, host, ok := set.NextAddr()
		if !ok {
			return unavailable(serviceName(st) + " has no ready endpoints")
		}
		x.c.url = url.URL{
			Scheme:   "http",
			Host:     host,
			Path:     path,
			RawPath:  rawPath,
			RawQuery: x.c.t.RawQuery,
		}
		err := f.attempt(x)
		if err == nil {
			return nil
		}
		if !isRefused(err) || x.body.touched() || x.ctx.Err() != nil {
			return classify(x, err, serviceName(st)+" endpoint "+x.c.url.Host)
		}
		set.MarkRefused(ep)
		f.log.V(1).Info("endpoint refused the connection", "service", st.Key(), "endpoint", x.c.url.Host)
	}
	return &Failure{
		Status:  http.StatusBadGateway,
		Message: msgBadGateway,
		Hint:    fmt.Sprintf("%s: all %d endpoints tried refused the connection", serviceName(st), tries),
		Cause:   "connection refused",
	}
}

func (f *Forwarder) forwardHTTP(x *exchange, uri string) *Failure {
	u, err := proxyURL(uri, x.c.t.Params, x.c.t.RawQuery)
	if err != nil {
		return internalError("integration uri: " + err.Error())
	}
	if x.c.t.PathMapped {
		if u.Path, u.RawPath, err = splitPath(x.c.t.Path); err != nil {
			return &Failure{Status: http.StatusBadRequest, Message: "Bad Request", Hint: err.Error(), Cause: "bad path"}
		}
	}
	x.c.url = *u
	x.c.host = u.Host
	if err := f.attempt(x); err != nil {
		return classify(x, err, u.Scheme+"://"+u.Host)
	}
	return nil
}

// serviceName names a SERVICE target in failure hints (built only on
// failure: formatting it per request would cost an allocation each time).
func serviceName(st *table.ServiceTarget) string {
	return fmt.Sprintf("Service %s/%s port %d", st.Namespace, st.Name, st.Port)
}

// splitPath returns the decoded path and, when the original escaping differs
// from the decoded form, the escaped one for URL.RawPath, so that the backend
// receives the path exactly as the client sent it.
func splitPath(p string) (path, rawPath string, err error) {
	if p == "" {
		return "/", "", nil
	}
	if !strings.Contains(p, "%") {
		return p, "", nil
	}
	dec, err := url.PathUnescape(p)
	if err != nil {
		return "", "", fmt.Errorf("path %q: %w", p, err)
	}
	return dec, p, nil
}

// recordError is the ReverseProxy ErrorHandler: it writes nothing and leaves
// the error for Forward, which decides between a retry and a Failure.
func recordError(w http.ResponseWriter, r *http.Request, err error) {
	c, _ := r.Context().Value(callKey{}).(*call)
	if c == nil { // not reached through Forward: fail safe, answer ourselves
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	c.err = err
	// After a successful Hijack on a protocol switch, ReverseProxy reports
	// write errors here; the connection is gone, nothing can be rendered.
	msg := err.Error()
	c.aborted = strings.HasPrefix(msg, "response write: ") || strings.HasPrefix(msg, "response flush: ")
}

// errClientBodyFailed refuses a backend's answer to a body the client never
// finished sending (Forward then renders the client's failure).
var errClientBodyFailed = errors.New("the client's request body failed before the backend answered")

// recordResponse is the ReverseProxy ModifyResponse hook: it notes status and
// latency for the access log and leaves the response untouched. A response
// that arrives after the client's body failed (too slow, malformed, over the
// limit) is not relayed: the backend answered a request it got only part of
// (HTTP/2 backends may, when the stream is reset), and the client is told
// its own failure (408, 400, 413) instead.
func recordResponse(res *http.Response) error {
	if c, _ := res.Request.Context().Value(callKey{}).(*call); c != nil {
		if c.body.readErr() != nil {
			return errClientBodyFailed
		}
		c.t.UpstreamStatus = res.StatusCode
		c.t.IntegrationLatency = time.Since(c.start)
		if m := c.t.Response; m != nil {
			res.StatusCode = m.MapResponse(res.StatusCode, res.Header)
		}
	}
	return nil
}

// ResponseMapper changes an integration response's status and headers
// before they are sent; the dataplane implements it with the route's
// responseParameters. h is the response's header, changed in place.
type ResponseMapper interface {
	MapResponse(status int, h http.Header) int
}

// errTimeout is the cause of the integration-timeout context.
var errTimeout = errors.New("integration timeout")
