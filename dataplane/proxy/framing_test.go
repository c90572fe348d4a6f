package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Framing on the ReverseProxy path (issue 17, items 1 and 2): what the direct
// path's tests prove for bodiless requests (direct_test.go), proven again for
// requests that take http.Transport: a chunked request body forces that path.

// rpFront is a real server in front of f (ReverseProxy aborts a response
// with a panic only under one), the way the dataplane calls Forward.
func rpFront(t *testing.T, f *Forwarder) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if directEligible(r, serviceIntegration(5000)) {
			t.Error("the test request would take the direct path")
		}
		tg := &Target{Integration: serviceIntegration(5000), Path: r.URL.EscapedPath()}
		if fail := f.Forward(w, r, tg); fail != nil {
			w.Header().Set("X-Cause", fail.Cause)
			w.WriteHeader(fail.Status)
			_, _ = io.WriteString(w, fail.Message)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// rpGet sends a POST with a chunked one-byte body (never the direct path) of
// path through the front server; a response cut after its headers is
// reported as aborted.
func rpGet(t *testing.T, front, path string) outcome {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, front+path, io.MultiReader(strings.NewReader("x")))
	if err != nil {
		t.Fatal(err)
	}
	cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	res, err := cl.Do(req)
	if err != nil { // the connection closed before any response: aborted
		return outcome{aborted: true}
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	o := outcome{status: res.StatusCode, header: res.Header, body: string(body), aborted: err != nil}
	o.target.Cause = res.Header.Get("X-Cause")
	if res.StatusCode == http.StatusBadGateway {
		o.fail = &Failure{Status: res.StatusCode, Message: string(body), Cause: o.target.Cause}
	}
	return o
}

// TestReverseProxyConnectionIsNotReusedAfterABadExchange is
// TestDirectConnectionIsNotReusedAfterABadExchange on the ReverseProxy path:
// after any bad first exchange the next request dials connection 2 and gets
// its own answer, never the leftover bytes.
func TestReverseProxyConnectionIsNotReusedAfterABadExchange(t *testing.T) {
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
			front := rpFront(t, rb.forwarder(t, Options{}))
			o := rpGet(t, front, "/r1")
			close(r1done)
			checkFirstRP(t, c.want, o)
			if c.idle != "" {
				<-idleSent
			}
			// http.Transport returns connection 1 to its pool, then its read
			// loop finds the leftover bytes and closes it; a request taken
			// from the pool in between is written on connection 1 and fails
			// (502, never the leftover bytes as its answer). The next request
			// comes a moment later, as a client's would.
			time.Sleep(100 * time.Millisecond)
			mustAnswer(t, "the next request", rpGet(t, front, "/r2"), "/r2@2")
			if n := rb.conns.Load(); n != 2 {
				t.Fatalf("backend accepted %d connections, want 2", n)
			}
		})
	}
}

// checkFirstRP is checkFirst for the ReverseProxy path, whose messages and
// causes are the same; a response cut after its headers is aborted there too.
func checkFirstRP(t *testing.T, want firstWant, o outcome) {
	t.Helper()
	is502 := o.fail != nil && o.fail.Status == http.StatusBadGateway && !o.aborted
	isBody := o.fail == nil && !o.aborted && o.status == http.StatusOK && o.body == "/r1@1"
	aborted := o.aborted && o.fail == nil && !strings.Contains(o.body, "EVIL") && o.target.Cause == ""
	good := map[firstWant]bool{wantBody: isBody, want502: is502, wantAbort: aborted, wantBodyOr502: isBody || is502}[want]
	if !good {
		t.Fatalf("first request: fail %v, aborted %v, status %d, body %q, cause %q (want case %d)",
			o.fail, o.aborted, o.status, o.body, o.target.Cause, want)
	}
}

// TestReverseProxyBackendFramingIs502 proves the remaining backend-side cases
// of the checklist on the ReverseProxy path: more than five 1xx responses,
// response headers over 1 MiB and a backend that closes mid-body each fail
// (502 before the headers, an aborted response after them) and the
// connection is not pooled.
func TestReverseProxyBackendFramingIs502(t *testing.T) {
	hint := "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
	var big strings.Builder
	big.WriteString("HTTP/1.1 200 OK\r\n")
	for i := 0; big.Len() < 1100<<10; i++ {
		fmt.Fprintf(&big, "X-Pad-%04d: %s\r\n", i, strings.Repeat("a", 1000))
	}
	big.WriteString("Content-Length: 2\r\n\r\nok")
	cases := []struct {
		name, first string
		want        firstWant
	}{
		{"a flood of 1xx responses", strings.Repeat(hint, 1000) + okResponse("/r1@1"), want502},
		{"response headers over 1 MiB", big.String(), want502},
		{"a backend that closes mid-body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part", wantAbort},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rb := newRawBackend(t, func(n int64, conn net.Conn, br *bufio.Reader) {
				if n == 1 {
					if _, _, err := readRequest(br); err == nil {
						_, _ = io.WriteString(conn, c.first)
					}
					return // closes connection 1
				}
				echoPaths(n, conn, br)
			})
			front := rpFront(t, rb.forwarder(t, Options{}))
			o := rpGet(t, front, "/r1")
			checkFirstRP(t, c.want, o)
			if c.want == want502 && o.target.Cause != "upstream error" {
				t.Fatalf("cause %q, want upstream error", o.target.Cause)
			}
			mustAnswer(t, "the next request", rpGet(t, front, "/r2"), "/r2@2")
			if n := rb.conns.Load(); n != 2 {
				t.Fatalf("backend accepted %d connections, want 2", n)
			}
		})
	}
}

// TestClientBodyErrorsAreTheClientsOnBothPaths proves issue 17's first
// finding fixed: a request body that is malformed, cut short or late is the
// client's fault on both forwarding paths — 400 or 408, no integration cause
// (so no integration error in the access log or metrics), never 502 or 504.
func TestClientBodyErrorsAreTheClientsOnBothPaths(t *testing.T) {
	cases := []struct {
		name   string
		head   string // request line and headers, without the blank line
		body   string
		close  bool // half-close after body (a truncated body)
		status int
	}{
		{"0x chunk size", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", "0x5\r\nhello\r\n0\r\n\r\n", false, 400},
		{"bare LF after the chunk size", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", "5\nhello\r\n0\r\n\r\n", false, 400},
		{"+ chunk size", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", "+5\r\nhello\r\n0\r\n\r\n", false, 400},
		{"overflowing chunk size", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", "ffffffffffffffffff\r\nhello\r\n", false, 400},
		{"truncated chunked body", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", "a\r\nhel", true, 400},
		{"late chunked body", "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked", "5\r\nhel", false, 408},
		{"short body, direct path", "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 10", "hello", true, 400},
		{"late body, direct path", "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 10", "hello", false, 408},
		{"short large body, ReverseProxy path", "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 20000", "hello", true, 400},
		{"late large body, ReverseProxy path", "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 20000", "hello", false, 408},
	}
	b := newBackend(t, "b", nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGatewayLimit(t, Options{Store: storeWith(b.endpoint(t))}, 300)
			conn, err := net.Dial("tcp", g.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			start := time.Now()
			_, _ = io.WriteString(conn, c.head+"\r\n\r\n"+c.body)
			if c.close {
				_ = conn.(*net.TCPConn).CloseWrite()
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if res.StatusCode != c.status || res.Header.Get("X-Cause") != "" {
				t.Fatalf("status %d cause %q after %v, want %d and no integration cause", res.StatusCode, res.Header.Get("X-Cause"), time.Since(start), c.status)
			}
		})
	}
}

// newGatewayLimit is newGateway without the tiny body limit and with the
// given integration timeout.
func newGatewayLimit(t *testing.T, o Options, timeoutMillis int32) *httptest.Server {
	t.Helper()
	f := New(o)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg := &Target{Integration: serviceIntegration(timeoutMillis), Path: r.URL.EscapedPath()}
		if fail := f.Forward(w, r, tg); fail != nil {
			w.Header().Set("X-Cause", fail.Cause)
			w.WriteHeader(fail.Status)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(f.CloseIdleConnections)
	return srv
}
