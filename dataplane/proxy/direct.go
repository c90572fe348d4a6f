package proxy

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// The direct path: a request without a body, or with a small one of known
// length (maxDirectBody, read whole before the backend is contacted), to a
// plain-HTTP backend is written and
// its response read on the request's own goroutine, over a pooled
// connection (connpool.go), with net/http's own framing code:
// Request.Write serialises the request and http.ReadResponse parses the
// response (the same functions http.Transport uses; nothing here parses or
// frames HTTP by hand). What it saves over httputil.ReverseProxy and
// http.Transport is their per-request goroutine hand-offs (the transport's
// read and write loops), the request clone and context layers, and the
// header copies: on one core that is most of a proxied request's cost (see
// docs/benchmarks.md).
//
// Everything else takes the ReverseProxy path: larger or chunked request
// bodies (they are streamed, and need the transport's concurrent body write
// and early-response handling), Expect: 100-continue, protocol upgrades,
// HTTPS backends. A small body is written with the headers in one write
// before the response is read: it fits the socket's send buffer, so a
// backend that answers without reading it cannot block the write.
//
// Header policy is the ReverseProxy path's, by construction: hop-by-hop
// headers and those a client names in Connection are not sent; Forwarded and
// X-Forwarded-* come only from setForwarded; "Te: trailers" passes; a missing
// User-Agent stays missing. Response hop-by-hop headers are removed before
// the response headers are merged into the gateway's.

// directEligible reports whether r to integration in can take the direct path.
func directEligible(r *http.Request, in *table.Integration) bool {
	if r.Body != nil && r.Body != http.NoBody && (r.ContentLength <= 0 || r.ContentLength > maxDirectBody) {
		return false
	}
	if _, ok := r.Header["Upgrade"]; ok {
		return false
	}
	if _, ok := r.Header["Expect"]; ok {
		return false
	}
	switch in.Type {
	case table.IntegrationService:
		return in.Service != nil
	case table.IntegrationHTTPProxy:
		return len(in.URI) > 7 && strings.EqualFold(in.URI[:7], "http://")
	}
	return false
}

// maxDirectBody is the largest request body (with a Content-Length) the
// direct path takes: small enough to sit in any TCP send buffer at once.
const maxDirectBody = 8 << 10

// outbound is the pooled request the direct path writes. Request.Write and
// ReadResponse keep no reference to it once the exchange is over.
type outbound struct {
	req  http.Request
	u    url.URL
	hdr  http.Header
	body [maxDirectBody]byte
	n    int           // bytes of body in use
	rd   bytes.Reader  // over body[:n], rewound for every attempt
	rc   io.ReadCloser // rd with a no-op Close (built once)
}

var outboundPool = sync.Pool{New: func() any {
	o := &outbound{hdr: make(http.Header, 16)}
	o.rc = io.NopCloser(&o.rd)
	return o
}}

func getOutbound() *outbound { return outboundPool.Get().(*outbound) }

func putOutbound(o *outbound) {
	clear(o.hdr)
	o.n = 0
	o.rd.Reset(nil)
	o.req = http.Request{}
	o.u = url.URL{}
	outboundPool.Put(o)
}

// Values shared by every outbound request; never modified.
var (
	noUserAgent = []string{""} // Request.Write then sends no User-Agent
	teTrailers  = []string{"trailers"}
)

// prepare fills o from the incoming request and the attempt's URL and host.
func (f *Forwarder) prepare(o *outbound, x *exchange) {
	in := x.out
	copyRequestHeaders(o.hdr, in.Header)
	f.setForwarded(in, o.hdr)
	if _, ok := o.hdr["User-Agent"]; !ok {
		o.hdr["User-Agent"] = noUserAgent
	}
	host := in.Host
	if x.c.host != "" {
		host = x.c.host
	}
	o.u = x.c.url
	o.req = http.Request{
		Method: in.Method, URL: &o.u, Host: host, Header: o.hdr,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}
	if o.n > 0 {
		o.rd.Reset(o.body[:o.n]) // every attempt sends the whole body
		o.req.ContentLength, o.req.Body = int64(o.n), o.rc
	}
}

// readBody reads a small request body whole into o, once per request and
// before any backend connection is taken, with the integration deadline on
// the client's connection as a streamed body has it (trackedBody). A failure
// is the client's (ClientBodyFailure): 408 when the body did not arrive in
// time, 413 over the Api's limit, 400 otherwise.
func readBody(o *outbound, in *http.Request, w http.ResponseWriter, deadline time.Time, timeout time.Duration) *Failure {
	if in.Body == nil || in.Body == http.NoBody {
		return nil
	}
	rc := http.NewResponseController(w)
	bounded := rc.SetReadDeadline(deadline) == nil // unsupported only by test writers
	n, err := io.ReadFull(in.Body, o.body[:in.ContentLength])
	if err == nil {
		// Reach the end of the body, so the server starts watching the
		// client's connection (a client that leaves cancels the request).
		var one [1]byte
		if m, rerr := in.Body.Read(one[:]); m > 0 || (rerr != nil && rerr != io.EOF) {
			err = cmp.Or(rerr, errors.New("request body longer than its Content-Length"))
		}
	}
	if f := ClientBodyFailure(err); f != nil {
		// After a deadline the deadline stays: the server closes the
		// connection after the answer.
		if f.Status == http.StatusRequestTimeout {
			f.Hint += " of " + timeout.String()
		}
		return f
	}
	if bounded {
		_ = rc.SetReadDeadline(time.Time{})
	}
	o.n = n
	return nil
}

// copyRequestHeaders copies the end-to-end headers of src into dst, sharing
// the value slices (neither side modifies them in place): hop-by-hop headers,
// headers named in Connection, Forwarded, X-Forwarded-For/Host/Proto (set by
// setForwarded) and HTTP2-Settings are left out; "Te: trailers" is kept.
func copyRequestHeaders(dst, src http.Header) {
	named := src["Connection"]
	for k, vv := range src {
		if isHopHeader(k) || k == "Forwarded" || k == "X-Forwarded-For" || k == "X-Forwarded-Host" ||
			k == "X-Forwarded-Proto" || k == "Http2-Settings" || namedIn(named, k) {
			continue
		}
		dst[k] = vv
	}
	for _, v := range src["Te"] {
		if hasToken(v, "trailers") {
			dst["Te"] = teTrailers
			break
		}
	}
}

// hopHeaders are the hop-by-hop headers of RFC 9110 (and the legacy ones),
// as ReverseProxy lists them, in canonical form.
var hopHeaders = [...]string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// isHopHeader reports whether the canonical key k is one of hopHeaders.
func isHopHeader(k string) bool { return slices.Contains(hopHeaders[:], k) }

// namedIn reports whether the canonical header key k is a token of one of
// the Connection header values.
func namedIn(connection []string, k string) bool {
	for _, v := range connection {
		for tok := range strings.SplitSeq(v, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(tok)) == k {
				return true
			}
		}
	}
	return false
}

func hasToken(v, token string) bool {
	for tok := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(tok), token) {
			return true
		}
	}
	return false
}

// removeResponseHopHeaders removes hop-by-hop headers, and those the backend
// named in Connection, from a backend response before it is relayed.
func removeResponseHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		if strings.EqualFold(v, "keep-alive") || strings.EqualFold(v, "close") {
			continue // the usual values name no other header
		}
		for tok := range strings.SplitSeq(v, ",") {
			if t := strings.TrimSpace(tok); t != "" {
				delete(h, http.CanonicalHeaderKey(t))
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// direct runs one attempt of x on the direct path. Like attempt, it returns
// nil once a response was written and an error when nothing was; after the
// response headers went out, a failure can only abort the response (panic
// http.ErrAbortHandler, as ReverseProxy does).
func (f *Forwarder) direct(x *exchange) error {
	o := x.o
	f.prepare(o, x)
	ctx := x.out.Context()
	deadline := x.c.start.Add(x.timeout)
	for try := 0; ; try++ {
		if try > 0 && o.n > 0 {
			o.rd.Reset(o.body[:o.n]) // the retry sends it again
		}
		b, err := f.pool.get(ctx, dialAddr(&o.u), deadline)
		if err != nil {
			return timeoutCause(ctx, err)
		}
		stop := context.AfterFunc(ctx, b.interruptFn)
		res, err := b.roundTrip(&o.req, x.w)
		if err == nil {
			f.relay(x, b, res, stop)
			return nil
		}
		stop()
		b.discard()
		if try > 0 || !b.reused || !retryable(&o.req, err) || ctx.Err() != nil {
			return timeoutCause(ctx, err)
		}
		f.log.V(1).Info("pooled backend connection failed before any response byte; retrying on a new one",
			"backend", o.u.Host, "error", err.Error())
	}
}

// dialAddr is the host:port to dial for u; a URI without a port means 80
// (the direct path is plain HTTP only), as http.Transport would dial.
func dialAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// errNoResponseBytes wraps a read failure before any byte of the response:
// on a reused connection, the backend most likely closed it while idle.
type errNoResponseBytes struct{ err error }

func (e *errNoResponseBytes) Error() string { return e.err.Error() }
func (e *errNoResponseBytes) Unwrap() error { return e.err }

// errWriteRequest wraps a failure to send the request (nothing was answered).
type errWriteRequest struct{ err error }

func (e *errWriteRequest) Error() string { return "write request: " + e.err.Error() }
func (e *errWriteRequest) Unwrap() error { return e.err }

// retryable follows http.Transport's rule for a failed reused connection: a
// request that could not be written is retried (its body, if any, is held
// in memory), one that got no response byte only when it is idempotent.
// Timeouts never are.
func retryable(req *http.Request, err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var w *errWriteRequest
	if errors.As(err, &w) {
		return true
	}
	var n *errNoResponseBytes
	if !errors.As(err, &n) {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, a := req.Header["Idempotency-Key"]
	_, b := req.Header["X-Idempotency-Key"]
	return a || b
}

// timeoutCause marks a deadline hit while the client is still there (the
// connection's deadline, or the dial's context) as the integration timeout
// (classify answers 504); a deadline set because the client went away stays
// a client cancellation.
func timeoutCause(ctx context.Context, err error) error {
	deadline := errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
	if deadline && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", errTimeout, err)
	}
	return err
}

// max1xx bounds the informational responses skipped before the final one.
const max1xx = 5

// roundTrip writes req and reads the response headers; get has set the
// connection's deadline. Informational responses other than 101 (103 Early
// Hints, say) are relayed to w as ReverseProxy relays them, at most max1xx;
// the direct path never asks for an upgrade, so a 101 is an error.
func (b *backendConn) roundTrip(req *http.Request, w http.ResponseWriter) (*http.Response, error) {
	if err := req.Write(b.bw); err != nil {
		return nil, &errWriteRequest{err}
	}
	if err := b.bw.Flush(); err != nil {
		return nil, &errWriteRequest{err}
	}
	before := b.lc.total
	b.limitHeaders()
	defer b.unlimit()
	for informational := 0; ; informational++ {
		res, err := http.ReadResponse(b.br, req)
		if err != nil {
			if b.lc.total == before {
				return nil, &errNoResponseBytes{err}
			}
			return nil, err
		}
		switch {
		case res.StatusCode == http.StatusSwitchingProtocols:
			return nil, errors.New("backend switched protocols without being asked to")
		case res.StatusCode >= 200:
			return res, nil
		case informational == max1xx:
			return nil, errors.New("backend sent more than 5 informational (1xx) responses")
		}
		relay1xx(w, res)
		b.limitHeaders() // each informational response has its own header budget
	}
}

// relay1xx forwards an informational response. The ResponseWriter keeps a
// 1xx's headers in its header map, so they are removed again afterwards (the
// dataplane's writer restores the gateway's own headers for the final
// status).
func relay1xx(w http.ResponseWriter, res *http.Response) {
	removeResponseHopHeaders(res.Header)
	h := w.Header()
	mergeHeader(h, res.Header)
	w.WriteHeader(res.StatusCode)
	clear(h)
}

// interrupt makes every blocked read and write on b fail at once (the client
// went away).
func (b *backendConn) interrupt() { _ = b.conn.SetDeadline(time.Unix(1, 0)) }

// relay sends the backend's response to the client and returns the
// connection to the pool when the exchange ended cleanly. stop cancels the
// client-cancellation hook; false means it fired (the connection was
// interrupted and is not reused).
func (f *Forwarder) relay(x *exchange, b *backendConn, res *http.Response, stop func() bool) {
	c := x.c
	c.t.UpstreamStatus = res.StatusCode
	c.t.IntegrationLatency = time.Since(c.start)
	removeResponseHopHeaders(res.Header) // before the mapping, as on the ReverseProxy path
	status := res.StatusCode
	if m := c.t.Response; m != nil {
		status = m.MapResponse(status, res.Header)
	}
	h := x.w.Header()
	mergeHeader(h, res.Header)
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	x.w.WriteHeader(status)
	err := copyBody(x.w, res.Body, res.ContentLength == -1 || isEventStream(res.Header))
	if err == nil {
		err = res.Body.Close() // reads a chunked body's trailers
	}
	hooked := stop()
	if err != nil {
		b.discard()
		_ = res.Body.Close()
		c.t.Cause = "response aborted"
		panic(http.ErrAbortHandler)
	}
	relayTrailers(x.w, res.Trailer, announced)
	if hooked && !res.Close && b.drained() {
		f.pool.put(b)
	} else {
		b.discard()
	}
}

// mergeHeader adds src to dst. A key dst lacks takes src's slice (src is the
// backend response's header, dropped afterwards); a key both have gets a
// new slice (the gateway's values first), never an append into a slice
// someone else may hold.
func mergeHeader(dst, src http.Header) {
	for k, vv := range src {
		if have, ok := dst[k]; ok {
			dst[k] = append(have[:len(have):len(have)], vv...)
		} else {
			dst[k] = vv
		}
	}
}

// relayTrailers sends the backend's trailers as ReverseProxy does: announced
// ones under their names, others with http.TrailerPrefix.
func relayTrailers(w http.ResponseWriter, tr http.Header, announced int) {
	if len(tr) == 0 {
		return
	}
	h := w.Header()
	if len(tr) == announced {
		mergeHeader(h, tr)
		return
	}
	for k, vv := range tr {
		for _, v := range vv {
			h.Add(http.TrailerPrefix+k, v)
		}
	}
}

func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return strings.HasPrefix(strings.ToLower(ct), "text/event-stream")
}

// copyBody streams body to w with a pooled buffer, flushing after every
// write when the response is a stream (unknown length or server-sent events).
func copyBody(w http.ResponseWriter, body io.Reader, stream bool) error {
	if body == http.NoBody {
		return nil
	}
	buf := copyBuffers.Get()
	defer copyBuffers.Put(buf)
	var rc *http.ResponseController
	if stream {
		rc = http.NewResponseController(w)
	}
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if rc != nil {
				if err := rc.Flush(); err != nil {
					return err
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// copyBuffers lends the 32 KiB copy buffers of both paths (the relay here,
// and the ReverseProxy's BufferPool).
var copyBuffers = &bufferPool{}
