package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/netip"
	"net/textproto"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Tests of the direct path (direct.go, connpool.go): bodiless requests to
// plain-HTTP backends, written and read on the request goroutine over the
// Forwarder's own pool. Protocol cases use rawBackend, a TCP listener that
// writes exact bytes; answers are tagged "path@connection" so a test can tell
// which backend connection carried which request.

// rawBackend is a loopback TCP server; every accepted connection (numbered
// from 1) is handed to serve on its own goroutine.
type rawBackend struct {
	ln    net.Listener
	conns atomic.Int64
}

func newRawBackend(t *testing.T, serve func(n int64, c net.Conn, br *bufio.Reader)) *rawBackend {
	t.Helper()
	rb, err := listenRaw(t, "127.0.0.1:0", serve)
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

// listenRaw starts a rawBackend on addr; it stops when the test ends.
func listenRaw(t *testing.T, addr string, serve func(n int64, c net.Conn, br *bufio.Reader)) (*rawBackend, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	rb := &rawBackend{ln: ln}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		open   []net.Conn
		closed bool
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := rb.conns.Add(1)
			mu.Lock()
			if closed {
				mu.Unlock()
				_ = c.Close()
				return
			}
			open = append(open, c)
			mu.Unlock()
			wg.Go(func() {
				defer func() { _ = c.Close() }()
				serve(n, c, bufio.NewReader(c))
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		closed = true
		for _, c := range open {
			_ = c.Close() // unblocks handlers waiting in stall
		}
		mu.Unlock()
		wg.Wait()
	})
	return rb, nil
}

func (rb *rawBackend) addr() string { return rb.ln.Addr().String() }

// forwarder returns a Forwarder whose test Service has rb as its only endpoint.
func (rb *rawBackend) forwarder(t *testing.T, o Options) *Forwarder {
	t.Helper()
	o.Store = storeWith(endpointOf(t, rb.addr()))
	f := New(o)
	t.Cleanup(f.CloseIdleConnections)
	return f
}

// readRequest reads one request and its body.
func readRequest(br *bufio.Reader) (*http.Request, string, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, "", err
	}
	body, err := io.ReadAll(req.Body)
	return req, string(body), err
}

// stall blocks until the connection is closed (by the gateway or the test's
// end), for at most 5 s.
func stall(c net.Conn, br *bufio.Reader) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, br)
}

// okResponse is a complete keep-alive 200 response carrying body.
func okResponse(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// tag is the answer a test backend gives to path on connection n.
func tag(path string, n int64) string { return fmt.Sprintf("%s@%d", path, n) }

// echoPaths answers every request of a connection with its tag.
func echoPaths(n int64, c net.Conn, br *bufio.Reader) {
	for {
		req, _, err := readRequest(br)
		if err != nil {
			return
		}
		if _, err := io.WriteString(c, okResponse(tag(req.URL.Path, n))); err != nil {
			return
		}
	}
}

// evil is a complete response nobody asked for: a test fails if any request
// ever receives it.
const evil = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!"

// outcome is what one Forward call produced.
type outcome struct {
	fail    *Failure
	aborted bool // Forward panicked with http.ErrAbortHandler
	status  int
	header  http.Header
	body    string
	target  Target
	elapsed time.Duration
}

// forward runs f.Forward(rec, req) the way the dataplane does and collects
// the result; an aborted response is recovered.
func forward(t *testing.T, f *Forwarder, in *table.Integration, req *http.Request, rec *httptest.ResponseRecorder) (o outcome) {
	t.Helper()
	tg := &Target{Integration: in, Path: req.URL.EscapedPath(), RawQuery: req.URL.RawQuery}
	start := time.Now()
	func() {
		defer func() {
			if v := recover(); v != nil {
				if err, isErr := v.(error); !isErr || !errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				o.aborted = true
			}
		}()
		o.fail = f.Forward(rec, req, tg)
	}()
	o.elapsed = time.Since(start)
	o.target = *tg
	res := rec.Result()
	defer func() { _ = res.Body.Close() }()
	body, _ := io.ReadAll(res.Body)
	o.status, o.header, o.body = res.StatusCode, res.Header, string(body)
	return o
}

func newReq(method, target string) *http.Request {
	return httptest.NewRequest(method, "http://api.example.com"+target, nil)
}

// fget forwards a GET of path to f's test Service.
func fget(t *testing.T, f *Forwarder, path string) outcome {
	t.Helper()
	return forward(t, f, serviceIntegration(5000), newReq(http.MethodGet, path), httptest.NewRecorder())
}

// mustAnswer fails unless o is a 200 with body want.
func mustAnswer(t *testing.T, what string, o outcome, want string) {
	t.Helper()
	if o.fail != nil || o.aborted || o.status != http.StatusOK || o.body != want {
		t.Fatalf("%s: fail %v, aborted %v, status %d, body %q; want 200 %q", what, o.fail, o.aborted, o.status, o.body, want)
	}
}

// idleConns counts the direct path pool's idle connections.
func idleConns(f *Forwarder) int {
	f.pool.mu.Lock()
	defer f.pool.mu.Unlock()
	n := 0
	for _, l := range f.pool.idle {
		n += len(l)
	}
	return n
}

// needPeek skips where an idle connection cannot be peeked (peek_other.go).
func needPeek(t *testing.T) {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		t.Skip("no non-blocking peek on " + runtime.GOOS)
	}
}

// chunked makes r's body one of unknown length, as a chunked upload is.
func chunked(r *http.Request) *http.Request {
	r.ContentLength = -1
	return r
}

// TestDirectEligible proves which requests take the direct path: no body or
// one of known length up to 8 KiB, no Upgrade, no Expect, to a SERVICE or an
// http:// HTTP_PROXY; a larger or chunked body, an upgrade, Expect, https or
// another integration type do not.
func TestDirectEligible(t *testing.T) {
	svcIn := serviceIntegration(0)
	httpIn := &table.Integration{Type: table.IntegrationHTTPProxy, URI: "http://h/x"}
	with := func(method string, body io.Reader, h ...string) *http.Request {
		r := httptest.NewRequest(method, "http://gw/x", body)
		for i := 0; i+1 < len(h); i += 2 {
			r.Header.Set(h[i], h[i+1])
		}
		return r
	}
	cases := []struct {
		name string
		r    *http.Request
		in   *table.Integration
		want bool
	}{
		{"a GET to a SERVICE is direct", with(http.MethodGet, nil), svcIn, true},
		{"a DELETE with http.NoBody is direct", with(http.MethodDelete, http.NoBody), svcIn, true},
		{"a GET to an http:// HTTP_PROXY is direct", with(http.MethodGet, nil), httpIn, true},
		{"an upper-case HTTP:// scheme is direct", with(http.MethodGet, nil), &table.Integration{Type: table.IntegrationHTTPProxy, URI: "HTTP://h/x"}, true},
		{"a POST with a small body of known length is direct", with(http.MethodPost, strings.NewReader("x")), svcIn, true},
		{"a body of exactly 8 KiB is direct", with(http.MethodPut, strings.NewReader(strings.Repeat("b", maxDirectBody))), svcIn, true},
		{"a body over 8 KiB is not", with(http.MethodPut, strings.NewReader(strings.Repeat("b", maxDirectBody+1))), svcIn, false},
		{"a body of unknown length (chunked) is not", chunked(with(http.MethodPost, strings.NewReader("x"))), svcIn, false},
		{"an Upgrade request is not", with(http.MethodGet, nil, "Connection", "Upgrade", "Upgrade", "websocket"), svcIn, false},
		{"an Expect request is not", with(http.MethodGet, nil, "Expect", "100-continue"), svcIn, false},
		{"an https:// HTTP_PROXY is not", with(http.MethodGet, nil), &table.Integration{Type: table.IntegrationHTTPProxy, URI: "https://h/x"}, false},
		{"a SERVICE integration without a Service is not", with(http.MethodGet, nil), &table.Integration{Type: table.IntegrationService}, false},
		{"a MOCK integration is not", with(http.MethodGet, nil), &table.Integration{Type: table.IntegrationMock}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := directEligible(c.r, c.in); got != c.want {
				t.Fatalf("directEligible = %v, want %v", got, c.want)
			}
		})
	}
}

// TestDirectPathIsTakenOnlyWhenEligible proves, end to end, that three
// sequential GETs and a POST with a small body share one pooled connection
// of the direct path's own pool, while a POST with a 9 KiB body and a GET
// with an Upgrade header go through the ReverseProxy's transport (they never
// take the direct pool's connection 1) and still work.
func TestDirectPathIsTakenOnlyWhenEligible(t *testing.T) {
	var upgradeSeen atomic.Value
	rb := newRawBackend(t, func(n int64, c net.Conn, br *bufio.Reader) {
		for {
			req, body, err := readRequest(br)
			if err != nil {
				return
			}
			if u := req.Header.Get("Upgrade"); u != "" {
				upgradeSeen.Store(u)
			}
			if _, err := io.WriteString(c, okResponse(tag(req.URL.Path, n)+body)); err != nil {
				return
			}
		}
	})
	f := rb.forwarder(t, Options{})
	in := serviceIntegration(5000)
	for i := range 3 {
		mustAnswer(t, "GET "+itoa(i), fget(t, f, "/get"), "/get@1")
	}
	if n := rb.conns.Load(); n != 1 || idleConns(f) != 1 {
		t.Fatalf("3 GETs used %d backend connections, direct pool holds %d idle; want 1 and 1", n, idleConns(f))
	}
	post := httptest.NewRequest(http.MethodPost, "http://api.example.com/post", strings.NewReader("hello"))
	mustAnswer(t, "small POST", forward(t, f, in, post, httptest.NewRecorder()), "/post@1hello")
	big := strings.Repeat("B", maxDirectBody+1024)
	post = httptest.NewRequest(http.MethodPost, "http://api.example.com/post", strings.NewReader(big))
	if o := forward(t, f, in, post, httptest.NewRecorder()); o.fail != nil || o.body == "/post@1"+big || !strings.HasSuffix(o.body, big) {
		t.Fatalf("9 KiB POST: fail %v, %d bytes; want the echo on a transport connection, not the direct pool's", o.fail, len(o.body))
	}
	up := newReq(http.MethodGet, "/up")
	up.Header.Set("Connection", "Upgrade")
	up.Header.Set("Upgrade", "websocket")
	if o := forward(t, f, in, up, httptest.NewRecorder()); o.fail != nil || o.status != http.StatusOK || o.body == "/up@1" {
		t.Fatalf("Upgrade GET: fail %v status %d body %q; want a 200 on a transport connection", o.fail, o.status, o.body)
	}
	if upgradeSeen.Load() != "websocket" {
		t.Fatal("the Upgrade request did not reach the backend as an upgrade (ReverseProxy path)")
	}
	if idleConns(f) != 1 {
		t.Fatalf("direct pool holds %d idle connections after the ReverseProxy requests, want 1", idleConns(f))
	}
	mustAnswer(t, "GET after", fget(t, f, "/get"), "/get@1")
}

// TestDirectPooledConnectionClosedByTheBackend proves that a pooled
// connection the backend closed costs a GET nothing (the peek discards it, or
// the request is retried on a new connection), and that the retry follows
// http.Transport's rule: a request that got no response byte is retried only
// when it is idempotent (GET, or DELETE with an Idempotency-Key), never
// otherwise.
func TestDirectPooledConnectionClosedByTheBackend(t *testing.T) {
	cases := []struct {
		name      string
		closeIdle bool // close right after the first answer (else: on reading the second request)
		method    string
		header    string
		wantFail  bool
		wantSeen  int64 // how often the backend saw the second request
		wantConns int64
	}{
		{"a connection closed while idle is replaced", true, http.MethodGet, "", false, 1, 2},
		{"a GET whose pooled connection closes unanswered is retried", false, http.MethodGet, "", false, 2, 2},
		{"a DELETE whose pooled connection closes unanswered is not retried", false, http.MethodDelete, "", true, 1, 1},
		{"a DELETE with an Idempotency-Key is retried", false, http.MethodDelete, "Idempotency-Key", false, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var seen atomic.Int64
			closed := make(chan struct{})
			rb := newRawBackend(t, func(n int64, conn net.Conn, br *bufio.Reader) {
				if n == 1 {
					if _, _, err := readRequest(br); err != nil {
						return
					}
					_, _ = io.WriteString(conn, okResponse(tag("/r1", 1)))
					if !c.closeIdle {
						if _, _, err := readRequest(br); err == nil {
							seen.Add(1)
						}
					}
					_ = conn.Close()
					close(closed)
					return
				}
				for {
					req, _, err := readRequest(br)
					if err != nil {
						return
					}
					seen.Add(1)
					_, _ = io.WriteString(conn, okResponse(tag(req.URL.Path, n)))
				}
			})
			f := rb.forwarder(t, Options{})
			mustAnswer(t, "first request", fget(t, f, "/r1"), "/r1@1")
			if c.closeIdle {
				<-closed
				time.Sleep(20 * time.Millisecond) // the FIN has arrived: the peek sees end of stream
			}
			req := newReq(c.method, "/r2")
			if c.header != "" {
				req.Header.Set(c.header, "k1")
			}
			o := forward(t, f, serviceIntegration(5000), req, httptest.NewRecorder())
			if c.wantFail {
				if o.fail == nil || o.fail.Status != http.StatusBadGateway {
					t.Fatalf("got fail %v status %d body %q, want a 502 Failure", o.fail, o.status, o.body)
				}
			} else {
				mustAnswer(t, "second request", o, "/r2@2")
			}
			if s, n := seen.Load(), rb.conns.Load(); s != c.wantSeen || n != c.wantConns {
				t.Fatalf("backend saw the second request %d times on %d connections, want %d on %d", s, n, c.wantSeen, c.wantConns)
			}
		})
	}
}

// firstWant is the expected outcome of a bad exchange's first request.
type firstWant int

const (
	wantBody      firstWant = iota // 200 with connection 1's answer to /r1
	want502                        // Forward returns a 502 Failure
	wantAbort                      // the response is aborted after its headers
	wantBodyOr502                  // either, as net/http's parser decides
)

// badExchanges are first answers after which connection 1 must never carry
// another request. Each leaves bytes behind (mostly the evil response) that a
// reused connection would deliver as the next answer.
var badExchanges = []struct {
	name  string
	first string // bytes answering /r1 on connection 1, in one write
	idle  string // bytes written on connection 1 after /r1 completed
	want  firstWant
}{
	{"an unsolicited response written while the connection is idle", okResponse("/r1@1"), evil, wantBody},
	{"a second response in the same write as the first", okResponse("/r1@1") + evil, "", wantBody},
	{"more bytes than the Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n/r1@1garbage", "", wantBody},
	{"Connection: close with the socket left open", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n/r1@1", "", wantBody},
	{"HTTP/1.0 without keep-alive, socket left open", "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n/r1@1", "", wantBody},
	{"Content-Length and chunked: chunked wins", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n/r1@1\r\n0\r\n\r\n" + evil, "", wantBody},
	{"two different Content-Length values", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 45\r\n\r\n/r1@1" + evil, "", want502},
	{"an invalid Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n/r1@1" + evil, "", want502},
	{"an unsupported Transfer-Encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\n/r1@1\r\n0\r\n\r\n" + evil, "", want502},
	{"a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n/r1@1\r\n0\r\n\r\n" + evil, "", wantAbort},
	{"a chunked body cut short by end of stream", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n/r1@1", "", wantAbort},
	{"an obs-folded header", "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\n/r1@1" + evil, "", wantBodyOr502},
	{"bare LF line endings", "HTTP/1.1 200 OK\nContent-Length: 5\n\n/r1@1" + evil, "", wantBodyOr502},
	{"a header line without a colon", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nbogus\r\n\r\n/r1@1" + evil, "", want502},
}

// TestDirectConnectionIsNotReusedAfterABadExchange proves that a backend
// connection that carried anything but one clean, complete exchange
// (unsolicited bytes, extra bytes, Connection: close, ambiguous or broken
// framing) is never used again: the next request dials connection 2 and gets
// its own answer, never the leftover bytes. Framing errors are 502 Failures
// before the headers and aborts after them.
func TestDirectConnectionIsNotReusedAfterABadExchange(t *testing.T) {
	needPeek(t)
	for _, c := range badExchanges {
		t.Run(c.name, func(t *testing.T) {
			r1done, idleSent := make(chan struct{}), make(chan struct{})
			rb := newRawBackend(t, func(n int64, conn net.Conn, br *bufio.Reader) {
				if n == 1 {
					if _, _, err := readRequest(br); err != nil {
						return
					}
					_, _ = io.WriteString(conn, c.first)
					if c.idle != "" {
						<-r1done
						_, _ = io.WriteString(conn, c.idle)
						close(idleSent)
					}
					if strings.HasSuffix(c.name, "end of stream") {
						return
					}
				}
				echoPaths(n, conn, br)
			})
			f := rb.forwarder(t, Options{})
			o := fget(t, f, "/r1")
			close(r1done)
			checkFirst(t, c.want, o)
			if c.idle == "" && idleConns(f) != 0 {
				t.Fatal("connection 1 went back to the pool")
			}
			if c.idle != "" {
				<-idleSent
				time.Sleep(20 * time.Millisecond) // let the bytes arrive in the idle socket
			}
			mustAnswer(t, "the next request", fget(t, f, "/r2"), "/r2@2")
			if n := rb.conns.Load(); n != 2 {
				t.Fatalf("backend accepted %d connections, want 2", n)
			}
		})
	}
}

func checkFirst(t *testing.T, want firstWant, o outcome) {
	t.Helper()
	is502 := o.fail != nil && o.fail.Status == http.StatusBadGateway && o.fail.Message == "Internal server error" && !o.aborted
	isBody := o.fail == nil && !o.aborted && o.status == http.StatusOK && o.body == "/r1@1"
	var good bool
	switch want {
	case wantBody:
		good = isBody
	case want502:
		good = is502 && o.target.Cause == "upstream error"
	case wantAbort:
		good = o.aborted && o.fail == nil && o.target.Cause == "response aborted" && !strings.Contains(o.body, "EVIL")
	case wantBodyOr502:
		good = isBody || is502
	}
	if !good {
		t.Fatalf("first request: fail %v, aborted %v, status %d, body %q, cause %q (want case %d)",
			o.fail, o.aborted, o.status, o.body, o.target.Cause, want)
	}
}

// TestDirectResponseHeaderLimit proves that a backend's response headers are
// bounded: just under 1 MiB they are relayed, over 1 MiB (a well-formed
// response otherwise: net/http's parser has no limit of its own) the
// request fails with a 502 and the gateway closes the connection.
func TestDirectResponseHeaderLimit(t *testing.T) {
	cases := []struct {
		name     string
		size     int
		wantFail bool
	}{
		{"900 KiB of headers are relayed", 900 << 10, false},
		{"1.1 MiB of headers are a 502 and the connection is closed", 1100 << 10, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var head strings.Builder
			head.WriteString("HTTP/1.1 200 OK\r\n")
			pad := strings.Repeat("a", 1000)
			for i := 0; head.Len() < c.size; i++ {
				fmt.Fprintf(&head, "X-Pad-%04d: %s\r\n", i, pad)
			}
			head.WriteString("Content-Length: 2\r\n\r\nok")
			closed := make(chan struct{})
			rb := newRawBackend(t, func(_ int64, conn net.Conn, br *bufio.Reader) {
				if _, _, err := readRequest(br); err != nil {
					return
				}
				_, _ = io.WriteString(conn, head.String())
				stall(conn, br)
				close(closed)
			})
			f := rb.forwarder(t, Options{})
			o := fget(t, f, "/big")
			if !c.wantFail {
				mustAnswer(t, "under the limit", o, "ok")
				if o.header.Get("X-Pad-0001") != pad {
					t.Fatal("the padding headers were not relayed")
				}
				return
			}
			if o.fail == nil || o.fail.Status != http.StatusBadGateway || !strings.Contains(o.fail.Hint, "1 MiB") {
				t.Fatalf("got fail %v status %d, want a 502 naming the 1 MiB limit", o.fail, o.status)
			}
			select {
			case <-closed:
			case <-time.After(3 * time.Second):
				t.Fatal("the gateway kept the connection open")
			}
			if idleConns(f) != 0 {
				t.Fatal("the connection was pooled")
			}
		})
	}
}

// TestDirectResponseHopByHopHeaders proves that hop-by-hop response headers
// (and those the backend names in Connection, however Connection is written)
// are not relayed, end-to-end ones are, and headers the gateway set on the
// ResponseWriter before Forward are kept, a header both set carrying both
// values (the gateway's first).
func TestDirectResponseHopByHopHeaders(t *testing.T) {
	for _, connection := range []string{
		"Connection: X-Secret\r\n",
		"Connection: keep-alive, X-Secret\r\n",
		"Connection: keep-alive\r\nConnection: X-Secret\r\n",
	} {
		t.Run(strings.TrimSpace(strings.ReplaceAll(connection, "\r\n", "; ")), func(t *testing.T) {
			res := "HTTP/1.1 200 OK\r\n" + connection + "X-Secret: v\r\nKeep-Alive: timeout=5\r\n" +
				"Proxy-Authenticate: Basic realm=x\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nTe: trailers\r\n" +
				"Trailer: X-T\r\nX-End: e\r\nCache-Control: no-store\r\nVary: Accept-Encoding\r\nX-Request-Id: backend\r\n" +
				"Content-Length: 2\r\n\r\nok"
			rb := newRawBackend(t, func(_ int64, conn net.Conn, br *bufio.Reader) {
				for {
					if _, _, err := readRequest(br); err != nil {
						return
					}
					_, _ = io.WriteString(conn, res)
				}
			})
			f := rb.forwarder(t, Options{})
			rec := httptest.NewRecorder()
			rec.Header().Set("Vary", "Origin")
			rec.Header().Set("X-Request-Id", "gw")
			rec.Header().Set("Access-Control-Allow-Origin", "*")
			o := forward(t, f, serviceIntegration(5000), newReq(http.MethodGet, "/h"), rec)
			mustAnswer(t, "response", o, "ok")
			for _, k := range []string{"Connection", "X-Secret", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection", "Upgrade", "Te", "Trailer"} {
				if v, ok := o.header[k]; ok {
					t.Errorf("hop-by-hop %s relayed as %q", k, v)
				}
			}
			for k, want := range map[string][]string{
				"X-End": {"e"}, "Cache-Control": {"no-store"}, "Vary": {"Origin", "Accept-Encoding"},
				"X-Request-Id": {"gw", "backend"}, "Access-Control-Allow-Origin": {"*"},
			} {
				if got := o.header[k]; !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if idleConns(f) != 1 {
				t.Fatal("the exchange did not take the direct path (nothing pooled)")
			}
		})
	}
}

// headerMapper is a ResponseMapper that sets X-Mapped and records whether it
// saw the backend's hop-by-hop Keep-Alive.
type headerMapper struct{ sawKeepAlive bool }

func (m *headerMapper) MapResponse(status int, h http.Header) int {
	_, m.sawKeepAlive = h["Keep-Alive"]
	h.Set("X-Mapped", "mapped")
	return status
}

// TestResponseMapperRunsAfterHopByHopRemoval proves that the direct path
// applies responseParameters as the ReverseProxy path does: after the
// hop-by-hop headers are removed, so the mapper never sees them and a header
// it sets survives even when the backend named that header in Connection.
func TestResponseMapperRunsAfterHopByHopRemoval(t *testing.T) {
	rb := newRawBackend(t, func(_ int64, conn net.Conn, br *bufio.Reader) {
		for {
			if _, _, err := readRequest(br); err != nil {
				return
			}
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nConnection: X-Mapped\r\nX-Mapped: backend\r\n"+
				"Keep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	cases := []struct {
		name string
		req  func() *http.Request
	}{
		{"ReverseProxy path (POST with a body)", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "http://api.example.com/m", strings.NewReader("x"))
		}},
		{"direct path (GET)", func() *http.Request { return newReq(http.MethodGet, "/m") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := rb.forwarder(t, Options{})
			m := &headerMapper{}
			tg := &Target{Integration: serviceIntegration(5000), Path: "/m", Response: m}
			rec := httptest.NewRecorder()
			if fail := f.Forward(rec, c.req(), tg); fail != nil {
				t.Fatal(fail)
			}
			if got := rec.Result().Header["X-Mapped"]; !slices.Equal(got, []string{"mapped"}) || m.sawKeepAlive {
				t.Fatalf("X-Mapped = %q, mapper saw Keep-Alive: %v; want [mapped], false", got, m.sawKeepAlive)
			}
		})
	}
}

type requestHeaderCase struct {
	name    string
	proxy   bool // HTTP_PROXY to the backend instead of SERVICE
	trusted []netip.Prefix
	send    map[string]string
	want    map[string][]string // a nil value: must be absent
	uri     string              // HTTP_PROXY: the request-target the backend must see
}

func requestHeaderCases() []requestHeaderCase {
	return []requestHeaderCase{
		{name: "headers named in Connection and hop-by-hop headers are not sent", send: map[string]string{
			"Connection": "X-Foo, keep-alive", "X-Foo": "secret", "Keep-Alive": "timeout=5", "Proxy-Authorization": "Basic eA==",
			"Proxy-Connection": "keep-alive", "Trailer": "X-T", "X-Bar": "kept",
		}, want: map[string][]string{
			"Connection": nil, "X-Foo": nil, "Keep-Alive": nil, "Proxy-Authorization": nil, "Proxy-Connection": nil,
			"Trailer": nil, "X-Bar": {"kept"},
		}},
		{name: "Te: trailers is kept", send: map[string]string{"Te": "deflate, trailers"}, want: map[string][]string{"Te": {"trailers"}}},
		{name: "any other Te is dropped", send: map[string]string{"Te": "deflate"}, want: map[string][]string{"Te": nil}},
		{name: "no User-Agent is added when the client sent none", want: map[string][]string{"User-Agent": nil}},
		{name: "the client's User-Agent is kept", send: map[string]string{"User-Agent": "curl/8"}, want: map[string][]string{"User-Agent": {"curl/8"}}},
		{name: "an untrusted peer's forwarding headers are replaced by the connection's", send: map[string]string{
			"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
			"X-Forwarded-Prefix": "/admin", "X-Real-Ip": "6.6.6.6", "Forwarded": "for=6.6.6.6",
		}, want: map[string][]string{
			"X-Forwarded-For": {"192.0.2.1"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"api.example.com"},
			"X-Forwarded-Prefix": nil, "X-Real-Ip": nil, "Forwarded": nil,
		}},
		{name: "a trusted peer's forwarding headers are kept and the peer appended",
			trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
			send:    map[string]string{"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"},
			want:    map[string][]string{"X-Forwarded-For": {"6.6.6.6, 192.0.2.1"}, "X-Forwarded-Proto": {"https"}}},
		{name: "a client cannot drop the forwarding headers through Connection",
			send: map[string]string{"Connection": "X-Forwarded-For, X-Forwarded-Proto", "X-Forwarded-For": "6.6.6.6"},
			want: map[string][]string{"X-Forwarded-For": {"192.0.2.1"}, "X-Forwarded-Proto": {"http"}}},
		{name: "HTTP_PROXY sends the URI's host and path", proxy: true, uri: "/up/x?q=1",
			want: map[string][]string{"X-Forwarded-Host": {"api.example.com"}}},
	}
}

// TestDirectRequestHeaders proves the direct path's request header policy on
// the wire (it must be the ReverseProxy path's): hop-by-hop and
// Connection-named headers dropped, "Te: trailers" kept, no User-Agent
// invented, X-Forwarded-* from the connection unless the peer is trusted,
// the client's Host for SERVICE and the URI's host for HTTP_PROXY.
func TestDirectRequestHeaders(t *testing.T) {
	got := make(chan *http.Request, 1)
	rb := newRawBackend(t, func(_ int64, conn net.Conn, br *bufio.Reader) {
		for {
			req, _, err := readRequest(br)
			if err != nil {
				return
			}
			got <- req
			_, _ = io.WriteString(conn, okResponse("ok"))
		}
	})
	for _, c := range requestHeaderCases() {
		t.Run(c.name, func(t *testing.T) {
			f := rb.forwarder(t, Options{TrustedProxies: c.trusted})
			in := serviceIntegration(5000)
			host, uri := "api.example.com", "/p/x?q=1"
			if c.proxy {
				in = &table.Integration{Type: table.IntegrationHTTPProxy, URI: "http://" + rb.addr() + "/up/x", TimeoutMillis: 5000}
				host, uri = rb.addr(), c.uri
			}
			req := newReq(http.MethodGet, "/p/x?q=1")
			for k, v := range c.send {
				req.Header.Set(k, v)
			}
			mustAnswer(t, "request", forward(t, f, in, req, httptest.NewRecorder()), "ok")
			seen := <-got
			for k, want := range c.want {
				if v := seen.Header[k]; !slices.Equal(v, want) {
					t.Errorf("%s = %q, want %q", k, v, want)
				}
			}
			if seen.Host != host || seen.RequestURI != uri {
				t.Errorf("backend saw Host %q and %q, want %q and %q", seen.Host, seen.RequestURI, host, uri)
			}
			if idleConns(f) != 1 {
				t.Error("the request did not take the direct path (nothing pooled)")
			}
		})
	}
}

// TestDirectIntegrationTimeoutIs504 proves that a backend that never answers
// costs the integration timeout (200 ms) and no more, on a new connection as
// on a pooled one (no retry after a deadline), and is a 504 "Endpoint request
// timed out".
func TestDirectIntegrationTimeoutIs504(t *testing.T) {
	for _, pooled := range []bool{false, true} {
		t.Run(fmt.Sprintf("pooled connection %v", pooled), func(t *testing.T) {
			rb := newRawBackend(t, func(n int64, conn net.Conn, br *bufio.Reader) {
				req, _, err := readRequest(br)
				if err != nil {
					return
				}
				if pooled && req.URL.Path == "/warm" {
					_, _ = io.WriteString(conn, okResponse("warm"))
					if _, _, err := readRequest(br); err != nil {
						return
					}
				}
				stall(conn, br)
			})
			f := rb.forwarder(t, Options{})
			in := serviceIntegration(200)
			if pooled { // a long timeout: the pooled connection must outlive the warm-up's deadline
				mustAnswer(t, "warm-up", forward(t, f, serviceIntegration(5000), newReq(http.MethodGet, "/warm"), httptest.NewRecorder()), "warm")
			}
			o := forward(t, f, in, newReq(http.MethodGet, "/slow"), httptest.NewRecorder())
			if o.fail == nil || o.fail.Status != http.StatusGatewayTimeout || o.fail.Message != "Endpoint request timed out" || o.fail.Cause != "timeout" {
				t.Fatalf("got fail %v, want 504 Endpoint request timed out (cause timeout)", o.fail)
			}
			if o.elapsed < 150*time.Millisecond || o.elapsed > time.Second {
				t.Fatalf("Forward took %v, want about 200 ms", o.elapsed)
			}
			if n := rb.conns.Load(); n != 1 {
				t.Fatalf("backend accepted %d connections, want 1", n)
			}
		})
	}
}

// TestDirectClientCancellation proves that a client that goes away stops the
// exchange at once (Forward does not wait for the slow backend, whose
// integration timeout is 10 s), before the headers as a 502 "client
// canceled", during the body as an aborted response, and that the backend
// connection is closed, not pooled.
func TestDirectClientCancellation(t *testing.T) {
	for _, midBody := range []bool{false, true} {
		t.Run(fmt.Sprintf("during the body %v", midBody), func(t *testing.T) {
			waiting, closed := make(chan struct{}), make(chan struct{})
			rb := newRawBackend(t, func(_ int64, conn net.Conn, br *bufio.Reader) {
				if _, _, err := readRequest(br); err != nil {
					return
				}
				if midBody {
					_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
				}
				close(waiting)
				stall(conn, br)
				close(closed)
			})
			f := rb.forwarder(t, Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			canceledAt := make(chan time.Time, 1)
			go func() {
				<-waiting
				time.Sleep(50 * time.Millisecond)
				canceledAt <- time.Now()
				cancel()
			}()
			o := forward(t, f, serviceIntegration(10000), newReq(http.MethodGet, "/slow").WithContext(ctx), httptest.NewRecorder())
			if d := time.Since(<-canceledAt); d > time.Second {
				t.Fatalf("Forward returned %v after the cancellation", d)
			}
			switch {
			case midBody && (!o.aborted || o.body != "first" || o.target.Cause != "response aborted"):
				t.Fatalf("aborted %v, body %q, cause %q; want an aborted response after \"first\"", o.aborted, o.body, o.target.Cause)
			case !midBody && (o.fail == nil || o.fail.Status != http.StatusBadGateway || o.fail.Cause != "client canceled"):
				t.Fatalf("got fail %v, want a 502 client canceled", o.fail)
			}
			select {
			case <-closed:
			case <-time.After(3 * time.Second):
				t.Fatal("the backend connection was not closed")
			}
			if idleConns(f) != 0 {
				t.Fatal("the interrupted connection was pooled")
			}
		})
	}
}

// front is a loopback server that forwards every request to a rawBackend's
// Service as the dataplane's handler does: a bodiless request keeps
// http.NoBody, so it takes the direct path (helpers_test.go's gateway wraps
// every body in a MaxBytesReader, which sends even a GET down the
// ReverseProxy path), and a Failure is rendered with an X-Cause header.
type front struct {
	*httptest.Server
	f *Forwarder
}

func gatewayTo(t *testing.T, rb *rawBackend) *front {
	t.Helper()
	g := &front{f: rb.forwarder(t, Options{})}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg := &Target{Integration: serviceIntegration(5000), Path: r.URL.EscapedPath()}
		if fail := g.f.Forward(w, r, tg); fail != nil {
			w.Header().Set("X-Cause", fail.Cause)
			w.WriteHeader(fail.Status)
			_, _ = io.WriteString(w, fail.Message)
		}
	}))
	t.Cleanup(g.Close)
	return g
}

// eventually reports whether cond became true within a second.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// answerAll answers every request with res.
func answerAll(t *testing.T, res string) *rawBackend {
	t.Helper()
	return newRawBackend(t, func(_ int64, conn net.Conn, br *bufio.Reader) {
		for {
			if _, _, err := readRequest(br); err != nil {
				return
			}
			if _, err := io.WriteString(conn, res); err != nil {
				return
			}
		}
	})
}

// TestDirectTrailersReachTheClient proves that the trailers of a chunked
// backend response reach the client through a real server, announced ones
// under their names and unannounced ones too, and the connection is pooled.
func TestDirectTrailersReachTheClient(t *testing.T) {
	cases := []struct{ name, res, key string }{
		{"announced trailer", "HTTP/1.1 200 OK\r\nTrailer: X-Checksum\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", "X-Checksum"},
		{"unannounced trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5\r\nhello\r\n0\r\nX-Late: abc\r\n\r\n", "X-Late"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := gatewayTo(t, answerAll(t, c.res))
			res, err := http.Get(g.URL + "/t")
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = res.Body.Close() }()
			body, err := io.ReadAll(res.Body)
			if err != nil || string(body) != "hello" {
				t.Fatalf("body %q, %v", body, err)
			}
			if v := res.Trailer.Get(c.key); v != "abc" {
				t.Fatalf("trailer %s = %q (trailers %v), want abc", c.key, v, res.Trailer)
			}
			if idleConns(g.f) != 1 {
				t.Fatal("the connection was not pooled after reading the trailers")
			}
		})
	}
}

// TestDirectInformationalResponses proves that a 103 Early Hints is relayed
// to the client before the final response (whose headers do not repeat the
// hint's), that more than five 1xx are a 502, and that a 101 the request did
// not ask for is a 502.
func TestDirectInformationalResponses(t *testing.T) {
	hint := "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
	cases := []struct {
		name, res  string
		wantStatus int
		want1xx    int
		wantCause  string
	}{
		{"a 103 is relayed", hint + okResponse("final"), http.StatusOK, 1, ""},
		{"five 1xx are relayed", strings.Repeat(hint, 5) + okResponse("final"), http.StatusOK, 5, ""},
		// At most five are relayed: the sixth is a 502 and is not relayed.
		{"six 1xx are a 502", strings.Repeat(hint, 6) + okResponse("final"), http.StatusBadGateway, 5, "upstream error"},
		{"an unrequested 101 is a 502", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n",
			http.StatusBadGateway, 0, "upstream error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := gatewayTo(t, answerAll(t, c.res))
			var hints []string
			trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				hints = append(hints, fmt.Sprintf("%d %s", code, h.Get("Link")))
				return nil
			}}
			req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, g.URL+"/i", nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = res.Body.Close() }()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != c.wantStatus || res.Header.Get("X-Cause") != c.wantCause {
				t.Fatalf("status %d cause %q body %q, want %d %q", res.StatusCode, res.Header.Get("X-Cause"), body, c.wantStatus, c.wantCause)
			}
			if len(hints) != c.want1xx || (len(hints) > 0 && hints[0] != "103 </a.css>; rel=preload") {
				t.Fatalf("client got 1xx %q, want %d times 103 with the Link", hints, c.want1xx)
			}
			if c.wantStatus == http.StatusOK && (string(body) != "final" || res.Header.Get("Link") != "" || idleConns(g.f) != 1) {
				t.Fatalf("final body %q, Link %q, pooled %d (1 on the direct path)", body, res.Header.Get("Link"), idleConns(g.f))
			}
		})
	}
}

// TestDirectBodilessResponsesKeepTheConnection proves that responses without
// a body (HEAD with a Content-Length, 204, 304) are not waited on for body
// bytes and leave the connection reusable: three requests, one connection.
func TestDirectBodilessResponsesKeepTheConnection(t *testing.T) {
	cases := []struct {
		name, method, res string
		status            int
		contentLength     string
	}{
		{"HEAD with a Content-Length", http.MethodHead, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", http.StatusOK, "1234"},
		{"204 No Content", http.MethodGet, "HTTP/1.1 204 No Content\r\n\r\n", http.StatusNoContent, ""},
		{"304 Not Modified", http.MethodGet, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", http.StatusNotModified, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rb := answerAll(t, c.res)
			f := rb.forwarder(t, Options{})
			for i := range 3 {
				o := forward(t, f, serviceIntegration(2000), newReq(c.method, "/b"), httptest.NewRecorder())
				if o.fail != nil || o.aborted || o.status != c.status || o.body != "" || o.header.Get("Content-Length") != c.contentLength {
					t.Fatalf("request %d: fail %v aborted %v status %d body %q Content-Length %q", i, o.fail, o.aborted, o.status, o.body, o.header.Get("Content-Length"))
				}
				if o.elapsed > time.Second {
					t.Fatalf("request %d took %v: the gateway waited for a body", i, o.elapsed)
				}
			}
			if n := rb.conns.Load(); n != 1 {
				t.Fatalf("3 requests used %d connections, want 1", n)
			}
		})
	}
}

// TestDirectStreamingIsFlushed proves that a response of unknown length
// (chunked, or delimited by the connection's end) and an event stream even
// with a Content-Length reach the client as they arrive: the client holds the
// first part before the backend, 300 ms later, sends the second.
func TestDirectStreamingIsFlushed(t *testing.T) {
	cases := []struct{ name, head, first, second string }{
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "6\r\nfirst\n\r\n", "7\r\nsecond\n\r\n0\r\n\r\n"},
		{"delimited by close", "HTTP/1.1 200 OK\r\n\r\n", "first\n", "second\n"},
		{"event stream with a Content-Length", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 13\r\n\r\n", "first\n", "second\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			secondAt := make(chan time.Time, 1)
			rb := newRawBackend(t, func(_ int64, conn net.Conn, br *bufio.Reader) {
				if _, _, err := readRequest(br); err != nil {
					return
				}
				_, _ = io.WriteString(conn, c.head+c.first)
				time.Sleep(300 * time.Millisecond)
				secondAt <- time.Now()
				_, _ = io.WriteString(conn, c.second)
				if c.name != "delimited by close" {
					stall(conn, br)
				}
			})
			g := gatewayTo(t, rb)
			res, err := http.Get(g.URL + "/s")
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = res.Body.Close() }()
			br := bufio.NewReader(res.Body)
			line, err := br.ReadString('\n')
			firstAt := time.Now()
			if err != nil || line != "first\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
			if line, _ := br.ReadString('\n'); line != "second\n" {
				t.Fatalf("second line %q", line)
			}
			if sent := <-secondAt; !firstAt.Before(sent) {
				t.Fatalf("the client got the first part %v after the second was sent: the stream was buffered", firstAt.Sub(sent))
			}
			if c.name != "delimited by close" && !eventually(func() bool { return idleConns(g.f) == 1 }) {
				t.Fatal("the exchange did not take the direct path (nothing pooled)")
			}
		})
	}
}

// TestDirectEgressDenied proves that the egress guard applies to the direct
// path's dials: a SERVICE endpoint or an http:// HTTP_PROXY in a denied range
// is a 502 "egress denied" and the backend sees no connection.
func TestDirectEgressDenied(t *testing.T) {
	rb := newRawBackend(t, echoPaths)
	deny := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, in := range []*table.Integration{
		serviceIntegration(2000),
		{Type: table.IntegrationHTTPProxy, URI: "http://" + rb.addr() + "/x", TimeoutMillis: 2000},
	} {
		t.Run(string(in.Type), func(t *testing.T) {
			req := newReq(http.MethodGet, "/x")
			if !directEligible(req, in) {
				t.Fatal("the request would not take the direct path")
			}
			o := forward(t, rb.forwarder(t, Options{DenyEgress: deny}), in, req, httptest.NewRecorder())
			if o.fail == nil || o.fail.Status != http.StatusBadGateway || o.fail.Cause != "egress denied" {
				t.Fatalf("got fail %v, want 502 egress denied", o.fail)
			}
		})
	}
	if n := rb.conns.Load(); n != 0 {
		t.Fatalf("backend accepted %d connections", n)
	}
}

// TestDirectPooledConnectionOutlivesTheRequestDeadline proves that a pooled
// connection stays reusable for the pool's idle timeout, not only until the
// integration deadline of the request that last used it: three GETs with a
// 200 ms timeout, 300 ms apart, share one connection.
func TestDirectPooledConnectionOutlivesTheRequestDeadline(t *testing.T) {
	rb := newRawBackend(t, echoPaths)
	f := rb.forwarder(t, Options{})
	for i := range 3 {
		if i > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		mustAnswer(t, "GET "+itoa(i), forward(t, f, serviceIntegration(200), newReq(http.MethodGet, "/a"), httptest.NewRecorder()), "/a@1")
	}
}

// blackhole returns a loopback address whose listener never accepts and
// whose accept queue is full: a dial to it hangs (Linux drops the SYNs).
func blackhole(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux accept-queue behaviour")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", itoa(sa.(*syscall.SockaddrInet4).Port))
	for range 16 {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return addr // the queue is full
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	t.Skip("could not fill the accept queue")
	return ""
}

// TestDirectDialTimeoutIs504 proves that a dial cut short by the integration
// timeout is a 504 "timeout", as on the ReverseProxy path, every time.
func TestDirectDialTimeoutIs504(t *testing.T) {
	f := New(Options{Store: storeWith(endpointOf(t, blackhole(t)))})
	t.Cleanup(f.CloseIdleConnections)
	for i := range 10 {
		o := forward(t, f, serviceIntegration(50), newReq(http.MethodGet, "/x"), httptest.NewRecorder())
		if o.fail == nil || o.fail.Status != http.StatusGatewayTimeout || o.fail.Cause != "timeout" {
			t.Fatalf("request %d: got %v (cause %q), want 504 timeout", i, o.fail, o.target.Cause)
		}
	}
}

// TestDirectConcurrentRequestsGetTheirOwnAnswers proves that concurrent
// requests over the shared pool never receive each other's answers (a
// connection carries one exchange at a time) and that the pool reuses
// connections under concurrency.
func TestDirectConcurrentRequestsGetTheirOwnAnswers(t *testing.T) {
	rb := newRawBackend(t, echoPaths)
	f := rb.forwarder(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan string, 80)
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				path := fmt.Sprintf("/g%d-%d", g, i)
				rec := httptest.NewRecorder()
				req := newReq(http.MethodGet, path)
				fail := f.Forward(rec, req, &Target{Integration: serviceIntegration(5000), Path: path})
				if body := rec.Body.String(); fail != nil || !strings.HasPrefix(body, path+"@") {
					errs <- fmt.Sprintf("%s: fail %v body %q", path, fail, body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := rb.conns.Load(); n > 8 {
		t.Fatalf("80 requests from 8 goroutines used %d connections, want at most 8", n)
	}
}

// TestDirectHTTPProxyWithoutPortUsesPort80 proves that an http:// URI without
// a port is dialed on port 80, as http.Transport (the ReverseProxy path)
// does. Where 127.0.0.1:80 cannot be bound, it checks at least that the dial
// was not made without a port.
func TestDirectHTTPProxyWithoutPortUsesPort80(t *testing.T) {
	in := &table.Integration{Type: table.IntegrationHTTPProxy, URI: "http://127.0.0.1/x", TimeoutMillis: 2000}
	f := New(Options{})
	t.Cleanup(f.CloseIdleConnections)
	req := newReq(http.MethodGet, "/")
	if !directEligible(req, in) {
		t.Fatal("the request would not take the direct path")
	}
	if _, err := listenRaw(t, "127.0.0.1:80", echoPaths); err != nil {
		o := forward(t, f, in, req, httptest.NewRecorder())
		if o.fail != nil && strings.Contains(o.fail.Hint, "missing port") {
			t.Fatalf("failure %v: the dial had no port", o.fail)
		}
		return
	}
	mustAnswer(t, "port 80", forward(t, f, in, req, httptest.NewRecorder()), "/x@1")
}

// pipeConn is a backendConn over net.Pipe, and the backend's end of it.
func pipeConn(t *testing.T, addr string) (*backendConn, net.Conn) {
	t.Helper()
	c, peer := net.Pipe()
	t.Cleanup(func() { _ = c.Close(); _ = peer.Close() })
	return newBackendConn(addr, c), peer
}

// closedWithin reports whether the gateway's end of a pipe gets closed within
// d: the backend's read then sees end of stream (an open pipe times out).
func closedWithin(peer net.Conn, d time.Duration) bool {
	_ = peer.SetReadDeadline(time.Now().Add(d))
	var one [1]byte
	_, err := peer.Read(one[:])
	return errors.Is(err, io.EOF)
}

func idleOf(p *connPool, addr string) []*backendConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.idle[addr])
}

// TestConnPoolPutBeyondMaxPerHostClosesTheExtra proves that the pool keeps
// at most maxPerHost idle connections per backend and closes any further one
// put back, without affecting other backends.
func TestConnPoolPutBeyondMaxPerHostClosesTheExtra(t *testing.T) {
	p := newConnPool(nil, 2, time.Hour)
	t.Cleanup(p.closeIdle)
	a1, pa1 := pipeConn(t, "a:80")
	a2, pa2 := pipeConn(t, "a:80")
	a3, pa3 := pipeConn(t, "a:80")
	b1, pb1 := pipeConn(t, "b:80")
	for _, b := range []*backendConn{a1, a2, a3, b1} {
		p.put(b)
	}
	if got := idleOf(p, "a:80"); !slices.Equal(got, []*backendConn{a1, a2}) {
		t.Fatalf("idle for a = %v, want the first two", got)
	}
	if got := idleOf(p, "b:80"); !slices.Equal(got, []*backendConn{b1}) {
		t.Fatalf("idle for b = %v", got)
	}
	if !closedWithin(pa3, time.Second) {
		t.Fatal("the connection beyond maxPerHost was not closed")
	}
	for i, peer := range []net.Conn{pa1, pa2, pb1} {
		if closedWithin(peer, 30*time.Millisecond) {
			t.Fatalf("pooled connection %d was closed", i)
		}
	}
}

// TestConnPoolSweep proves that a sweep closes the connections idle for
// longer than idleTimeout and keeps the younger ones, and that the sweep
// armed by put runs by itself and leaves an empty pool disarmed.
func TestConnPoolSweep(t *testing.T) {
	t.Run("a sweep closes only connections older than idleTimeout", func(t *testing.T) {
		p := newConnPool(nil, 4, time.Hour)
		t.Cleanup(p.closeIdle)
		old, pOld := pipeConn(t, "a:80")
		young, pYoung := pipeConn(t, "a:80")
		p.put(old)
		p.put(young)
		p.mu.Lock()
		old.idleSince = time.Now().Add(-2 * time.Hour)
		p.mu.Unlock()
		p.sweep()
		if !closedWithin(pOld, time.Second) {
			t.Fatal("the old connection was not closed")
		}
		if closedWithin(pYoung, 30*time.Millisecond) {
			t.Fatal("the young connection was closed")
		}
		if got := idleOf(p, "a:80"); !slices.Equal(got, []*backendConn{young}) {
			t.Fatalf("idle = %v, want only the young connection", got)
		}
	})
	t.Run("the sweep armed by put closes an idle connection by itself", func(t *testing.T) {
		p := newConnPool(nil, 4, 50*time.Millisecond)
		t.Cleanup(p.closeIdle)
		b, peer := pipeConn(t, "a:80")
		p.put(b)
		if !closedWithin(peer, 3*time.Second) {
			t.Fatal("the idle connection was never swept")
		}
		p.mu.Lock()
		n, armed := len(p.idle), p.swept
		p.mu.Unlock()
		if n != 0 || armed {
			t.Fatalf("after the sweep: %d hosts idle, armed %v; want 0, false", n, armed)
		}
	})
}

// TestConnPoolGetSkipsExpiredConnections proves that get hands out a pooled
// connection (marked reused) while it is younger than idleTimeout, and
// closes an older one and dials anew instead.
func TestConnPoolGetSkipsExpiredConnections(t *testing.T) {
	for _, expired := range []bool{false, true} {
		t.Run(fmt.Sprintf("expired %v", expired), func(t *testing.T) {
			rb := newRawBackend(t, echoPaths)
			p := newConnPool(&net.Dialer{}, 4, time.Hour)
			t.Cleanup(p.closeIdle)
			b, peer := pipeConn(t, rb.addr())
			p.put(b)
			if expired {
				p.mu.Lock()
				b.idleSince = time.Now().Add(-2 * time.Hour)
				p.mu.Unlock()
			}
			got, err := p.get(context.Background(), rb.addr(), time.Now().Add(2*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(got.discard)
			if expired != (got != b) || got.reused == expired || closedWithin(peer, 50*time.Millisecond) != expired {
				t.Fatalf("got the pooled connection %v (reused %v); want it only when not expired, closed otherwise", got == b, got.reused)
			}
			want := map[bool]int64{false: 0, true: 1}[expired]
			if !eventually(func() bool { return rb.conns.Load() == want }) {
				t.Fatalf("backend accepted %d connections, want %d", rb.conns.Load(), want)
			}
		})
	}
}

// TestBackendConnStale proves the idle check get runs before reuse: a clean
// idle connection passes; bytes from the backend, its close, or bytes left in
// the read buffer make it stale (the peek does not consume them).
func TestBackendConnStale(t *testing.T) {
	needPeek(t)
	cases := []struct {
		name  string
		act   func(b *backendConn, peer net.Conn)
		stale bool
	}{
		{"a clean idle connection is not stale", func(*backendConn, net.Conn) {}, false},
		{"bytes sent by the backend while idle", func(_ *backendConn, peer net.Conn) { _, _ = io.WriteString(peer, "HTTP/1.1 200 OK\r\n") }, true},
		{"the backend closed the connection", func(_ *backendConn, peer net.Conn) { _ = peer.Close() }, true},
		{"bytes left in the read buffer", func(b *backendConn, peer net.Conn) {
			_, _ = io.WriteString(peer, "xy")
			_, _ = b.br.ReadByte()
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			accepted := make(chan net.Conn, 1)
			rb := newRawBackend(t, func(_ int64, conn net.Conn, br *bufio.Reader) {
				accepted <- conn
				stall(conn, br)
			})
			conn, err := net.Dial("tcp", rb.addr())
			if err != nil {
				t.Fatal(err)
			}
			b := newBackendConn(rb.addr(), conn)
			t.Cleanup(b.discard)
			c.act(b, <-accepted)
			got := b.stale()
			for deadline := time.Now().Add(time.Second); got != c.stale && time.Now().Before(deadline); got = b.stale() {
				time.Sleep(5 * time.Millisecond)
			}
			if got != c.stale {
				t.Fatalf("stale = %v, want %v", got, c.stale)
			}
			if strings.HasPrefix(c.name, "bytes sent") { // the peek must not have consumed them
				_ = conn.SetReadDeadline(time.Now().Add(time.Second))
				if first, err := b.br.Peek(1); err != nil || first[0] != 'H' {
					t.Fatalf("after the check the connection reads %q, %v; want the backend's bytes", first, err)
				}
			}
		})
	}
}

// TestDirectSmallBodyIsSentWholeAndResentOnRetry proves that a small body
// reaches the backend byte for byte with its Content-Length, and that a PUT
// with an Idempotency-Key whose pooled connection closes unanswered is
// retried with the same body on a new connection.
func TestDirectSmallBodyIsSentWholeAndResentOnRetry(t *testing.T) {
	var bodies sync.Map // "n:path" -> body
	rb := newRawBackend(t, func(n int64, conn net.Conn, br *bufio.Reader) {
		for i := 0; ; i++ {
			req, body, err := readRequest(br)
			if err != nil {
				return
			}
			bodies.Store(fmt.Sprintf("%d:%s", n, req.URL.Path), fmt.Sprintf("%d %s", req.ContentLength, body))
			if n == 1 && i == 1 {
				return // the second request on connection 1 is never answered
			}
			if _, err := io.WriteString(conn, okResponse(tag(req.URL.Path, n))); err != nil {
				return
			}
		}
	})
	f := rb.forwarder(t, Options{})
	in := serviceIntegration(5000)
	payload := strings.Repeat(`{"k":"v"}`, 100)
	put := func(path string) outcome {
		r := httptest.NewRequest(http.MethodPut, "http://api.example.com"+path, strings.NewReader(payload))
		r.Header.Set("Idempotency-Key", "k1")
		return forward(t, f, in, r, httptest.NewRecorder())
	}
	mustAnswer(t, "first PUT", put("/a"), "/a@1")
	mustAnswer(t, "retried PUT", put("/b"), "/b@2")
	want := fmt.Sprintf("%d %s", len(payload), payload)
	for _, k := range []string{"1:/a", "1:/b", "2:/b"} {
		if got, _ := bodies.Load(k); got != want {
			t.Fatalf("backend request %s carried %.40q, want %d bytes with their Content-Length", k, got, len(payload))
		}
	}
}

// TestDirectSlowBodyIs408 proves that a client that does not send the body
// it announced within the integration timeout gets 408, the client's fault
// (no integration cause), and no backend connection is used; the handler
// does not hang.
func TestDirectSlowBodyIs408(t *testing.T) {
	rb := newRawBackend(t, echoPaths)
	f := rb.forwarder(t, Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := serviceIntegration(5000)
		in.TimeoutMillis = 200
		if fail := f.Forward(w, r, &Target{Integration: in, Path: r.URL.EscapedPath()}); fail != nil {
			w.Header().Set("X-Cause", fail.Cause)
			w.Header().Set("X-Hint", fail.Hint)
			w.WriteHeader(fail.Status)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	start := time.Now()
	_, _ = io.WriteString(c, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusRequestTimeout || res.Header.Get("X-Cause") != "" ||
		!strings.Contains(res.Header.Get("X-Hint"), "did not arrive within the integration timeout") || time.Since(start) > 2*time.Second {
		t.Fatalf("status %d cause %q hint %q after %v; want 408, no integration cause, within about 200ms",
			res.StatusCode, res.Header.Get("X-Cause"), res.Header.Get("X-Hint"), time.Since(start))
	}
	if n := rb.conns.Load(); n != 0 {
		t.Fatalf("%d backend connections were opened for a body that never arrived, want 0", n)
	}
}
