package hardening

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// framingCase is one request of the smuggling table: raw bytes with P for
// the route ("direct" or "rp") and H for the Api's host.
type framingCase struct {
	name string
	raw  string
	// status is the answer expected; 0 means none (the connection closes
	// without a response).
	status int
	// closes: the gateway closes the connection after answering.
	closes bool
	// halfClose: the client closes its sending side after raw (a body cut
	// short by the end of the stream).
	halfClose bool
	// forwarded is how many complete requests the backend must receive for
	// the case (a streamed body that turns out malformed reaches the backend
	// cut short, as a request it cannot complete).
	forwarded int
}

const post = "POST /prod/P/c HTTP/1.1\r\nHost: H\r\n"

// smuggled is a complete request hidden where a body may or may not be: the
// backend must never receive it unless the gateway routed it itself.
const smuggled = "GET /prod/P/smuggled HTTP/1.1\r\nHost: H\r\n\r\n"

var framingCases = []framingCase{
	{"a clean POST", post + "Content-Length: 5\r\n\r\nhello", 200, false, false, 1},
	// CL+TE: net/http lets chunked win and drops Content-Length (RFC 9112
	// §6.3), so the zero chunk ends the body and what follows is the next
	// request on the connection, which the gateway routes and logs itself.
	{"CL+TE", post + "Content-Length: 54\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 200, false, false, 1},
	{"TE+CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 54\r\n\r\n0\r\n\r\n" + smuggled, 200, false, false, 1},
	{"TE with a space before the colon", post + "Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400, true, false, 0},
	{"TE with a tab before the value", post + "Transfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, false, false, 1},
	{"TE xchunked", post + "Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello", 501, true, false, 0},
	{"TE chunked twice in one header", post + "Transfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501, true, false, 0},
	{"TE repeated", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501, true, false, 0},
	{"TE identity", post + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello", 501, true, false, 0},
	{"two different Content-Lengths", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, true, false, 0},
	{"Content-Length +5", post + "Content-Length: +5\r\n\r\nhello", 400, true, false, 0},
	{"Content-Length 0x5", post + "Content-Length: 0x5\r\n\r\nhello", 400, true, false, 0},
	{"Content-Length -1", post + "Content-Length: -1\r\n\r\nhello", 400, true, false, 0},
	{"Content-Length overflowing", post + "Content-Length: 99999999999999999999\r\n\r\nhello", 400, true, false, 0},
	{"chunk size 0x5", post + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400, true, false, 0},
	{"chunk size +5", post + "Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", 400, true, false, 0},
	{"chunk size overflowing", post + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nhello\r\n", 400, true, false, 0},
	{"bare LF after a chunk size", post + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400, true, false, 0},
	{"bare LF after chunk data", post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400, true, false, 0},
	{"truncated chunked body", post + "Transfer-Encoding: chunked\r\n\r\na\r\nhel", 400, true, true, 0},
	{"body shorter than its Content-Length", post + "Content-Length: 10\r\n\r\nhello", 400, true, true, 0},
	// obs-fold: net/http replaces it with a space (RFC 9112 §5.2 allows
	// that or a 400); the backend gets one unfolded value.
	{"obs-fold", post + "X-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello", 200, false, false, 1},
	{"NUL in a header value", post + "X-Nul: a\x00b\r\nContent-Length: 5\r\n\r\nhello", 400, true, false, 0},
	{"CR in a header value", post + "X-Cr: a\rb\r\nContent-Length: 5\r\n\r\nhello", 400, true, false, 0},
	{"bare LF line endings in headers", "POST /prod/P/c HTTP/1.1\nHost: H\nContent-Length: 5\n\nhello", 200, false, false, 1},
	{"absolute-form with another host", "GET http://evil.example/prod/P/c HTTP/1.1\r\nHost: H\r\n\r\n", 404, false, false, 0},
	{"absolute-form with the Api's host", "GET http://H/prod/P/c HTTP/1.1\r\nHost: evil.example\r\n\r\n", 200, false, false, 1},
	{"a space in the request target", "GET /prod/P/a b HTTP/1.1\r\nHost: H\r\n\r\n", 400, true, false, 0},
	// A "#" in the request target is a character of the path (a client
	// never sends a fragment): routed, and forwarded escaped as %23.
	{"a fragment in the request target", "GET /prod/P/c#frag HTTP/1.1\r\nHost: H\r\n\r\n", 200, false, false, 1},
	{"two Host headers", "GET /prod/P/c HTTP/1.1\r\nHost: H\r\nHost: evil.example\r\n\r\n", 400, true, false, 0},
	{"HTTP/1.0 with chunked", "POST /prod/P/c HTTP/1.0\r\nHost: H\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, true, false, 1},
	{"Upgrade: h2c is not passed on", "GET /prod/P/c HTTP/1.1\r\nHost: H\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n", 200, false, false, 1},
}

// TestFramingAndSmuggling sends every case of the table on both forwarding
// paths over raw sockets. For each: the status, whether the gateway closed
// the connection, that the backend received exactly the requests the case
// forwards and nothing the gateway did not route and log, that a client
// error is no integration error, and that a connection left open serves
// the next request correctly (keep-alive reuse).
func TestFramingAndSmuggling(t *testing.T) {
	e := start(t, "")
	for _, path := range []string{"direct", "rp"} {
		for _, c := range framingCases {
			t.Run(path+"/"+c.name, func(t *testing.T) { e.runFraming(t, path, c) })
		}
	}
	if n := e.metric(t, "turnpike_upstream_errors_total"); n != 0 {
		t.Errorf("turnpike_upstream_errors_total = %v after the table, want 0: client errors counted as integration errors", n)
	}
	t.Logf("%d cases on 2 forwarding paths", len(framingCases))
}

func (e *env) runFraming(t *testing.T, path string, c framingCase) {
	raw := strings.NewReplacer("/P/", "/"+path+"/", "H\r\n", host+"\r\n", "H\n", host+"\n", "http://H/", "http://"+host+"/").Replace(c.raw)
	e.plainOrTLS(path).take()
	e.accessLog(t, 0)
	conn := dialRaw(t, e.gw.HTTP)
	conn.send(t, raw)
	if c.halfClose {
		_ = conn.c.(interface{ CloseWrite() error }).CloseWrite()
	}
	method := strings.Fields(raw)[0]
	res, err := conn.read(10*time.Second, method)
	if c.status == 0 {
		if err == nil {
			t.Fatalf("got %d %q, want no response", res.status, res.body)
		}
	} else if err != nil || res.status != c.status {
		t.Fatalf("got %d %q (%v), want %d", res.status, res.body, err, c.status)
	}
	if res.status >= 400 && res.status < 500 && !strings.HasPrefix(res.header.Get("Content-Type"), "text/plain") &&
		!strings.HasPrefix(bodyOf(res.body), `{"message":`) {
		t.Errorf("gateway error body %q is not the JSON error", res.body)
	}
	// The smuggled request, when the gateway itself parsed it as the next one.
	if strings.Contains(raw, "/smuggled") && !c.closes {
		if next, err := conn.read(5*time.Second, "GET"); err != nil || next.status != 200 {
			t.Fatalf("the request after the body: %d %v, want 200 (routed by the gateway)", next.status, err)
		}
	}
	closed := conn.closed(300 * time.Millisecond)
	if closed != c.closes {
		t.Errorf("connection closed = %v, want %v", closed, c.closes)
	}
	if !closed && !c.halfClose {
		conn.send(t, get("/prod/"+path+"/after"))
		next, err := conn.read(5*time.Second, "GET")
		if err != nil || next.status != 200 || next.body != "ok" {
			t.Fatalf("keep-alive reuse after the case: %d %q %v, want 200 ok", next.status, next.body, err)
		}
	}
	e.checkBackend(t, path, c)
}

// plainOrTLS is the backend of a forwarding path.
func (e *env) plainOrTLS(path string) *backend {
	if path == "rp" {
		return e.tls
	}
	return e.plain
}

// checkBackend proves the backend got what the case forwards and only
// requests the gateway routed: every request received is in the access
// log with the backend's status, and no client error was logged as an
// integration error.
func (e *env) checkBackend(t *testing.T, path string, c framingCase) {
	t.Helper()
	time.Sleep(50 * time.Millisecond) // a request in flight to the backend lands
	got := e.plainOrTLS(path).take()
	complete := 0
	for _, r := range got {
		if r.BodyErr == "" {
			complete++
		}
	}
	entries := e.accessLogWhere(t, func(es []accessEntry) bool {
		ok, bad := 0, 0
		for _, a := range es {
			if a.IntegrationStat != 0 {
				ok++
			} else if a.Status >= 400 {
				bad++
			}
		}
		return ok >= complete && bad >= len(got)-complete
	})
	routed, refused := map[string]int{}, map[string]int{}
	for _, a := range entries {
		if a.IntegrationStat != 0 {
			routed[a.HTTPMethod+" "+unescape(a.Path)]++
		} else if a.Status >= 400 && a.Status < 500 {
			refused[a.HTTPMethod+" "+unescape(a.Path)]++
		}
		if a.Status >= 400 && a.Status < 500 && a.IntegrationError != "" {
			t.Errorf("client error %d logged with integration error %q", a.Status, a.IntegrationError)
		}
	}
	n := 0
	for _, r := range got {
		key := r.Method + " /prod" + unescape(r.Path)
		switch {
		case r.BodyErr != "" && refused[key] > 0: // cut short, and the client got its 400
			refused[key]--
			continue
		case routed[key] == 0:
			t.Errorf("the backend received %s (body error %q) that the gateway did not route (access log: %+v)", key, r.BodyErr, entries)
		}
		routed[key]--
		if strings.HasPrefix(r.Path, "/"+path+"/c") {
			n++
		}
		if r.Header.Get("Upgrade") != "" || r.Header.Get("Http2-Settings") != "" {
			t.Errorf("the backend received Upgrade %q / HTTP2-Settings %q", r.Header.Get("Upgrade"), r.Header.Get("Http2-Settings"))
		}
		if v := r.Header.Values("X-Folded"); len(v) > 0 && (len(v) != 1 || v[0] != "a b") {
			t.Errorf("the backend received X-Folded %q, want one value \"a b\"", v)
		}
	}
	if n != c.forwarded {
		t.Errorf("backend received %d requests for the case, want %d: %s", n, c.forwarded, describe(got))
	}
}

func describe(rs []received) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "[%s %s body %q err %q] ", r.Method, r.Path, r.Body, r.BodyErr)
	}
	return b.String()
}

// unescape is p decoded, for comparing the path the gateway logged (as
// received) with the one the backend got (escaped again).
func unescape(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// TestExpectContinueOnARefusedRequestReadsNoBody proves that a request
// announcing its body with Expect: 100-continue and refused before the
// integration (no API key: 403; no route: 404; a Content-Length over the
// Api's limit: 413) is answered at once, without a 100 Continue, without
// reading the body and without calling the backend; the connection is
// closed at once (the client still holds the body). An accepted one gets its 100
// Continue and reaches the backend.
func TestExpectContinueOnARefusedRequestReadsNoBody(t *testing.T) {
	e := start(t, "")
	cases := []struct {
		name, path string
		length     int
		status     int
	}{
		{"no API key", "/prod/keyed/c", 5, 403},
		{"no route", "/prod/nowhere", 5, 404},
		{"over maxRequestBodyBytes", "/prod/direct/c", 2 << 20, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := dialRaw(t, e.gw.HTTP)
			conn.send(t, fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", c.path, host, c.length))
			res, err := conn.read(time.Second, "POST")
			if err != nil || res.status != c.status {
				t.Fatalf("got %d %q (%v), want %d within a second, without a 100 Continue first", res.status, res.body, err, c.status)
			}
			if !conn.closed(time.Second) {
				t.Error("the connection stayed open with the unsent body pending")
			}
			if got := e.plain.take(); len(got) != 0 {
				t.Errorf("the backend was called: %s", describe(got))
			}
		})
	}
	t.Run("accepted: 100 Continue, then the backend's answer", func(t *testing.T) {
		conn := dialRaw(t, e.gw.HTTP)
		conn.send(t, "POST /prod/rp/c HTTP/1.1\r\nHost: "+host+"\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
		res, err := conn.read(5*time.Second, "POST")
		if err != nil || res.status != 100 {
			t.Fatalf("got %d (%v), want 100 Continue", res.status, err)
		}
		conn.send(t, "hello")
		if res, err = conn.read(5*time.Second, "POST"); err != nil || res.status != 200 {
			t.Fatalf("got %d (%v), want 200", res.status, err)
		}
		if got := e.tls.take(); len(got) != 1 || got[0].Body != "hello" {
			t.Fatalf("backend received %s, want one request with body hello", describe(got))
		}
	})
}
