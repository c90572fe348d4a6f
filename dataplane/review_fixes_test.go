package dataplane

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Regression tests for security review findings 2, 3, 8 and 10.

// rawExchange writes req (a whole HTTP/1.1 request) to front's listener and
// reads one response; the connection is closed afterwards.
func rawExchange(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// Finding 2: a path parameter is decoded once by the gateway; substituted
// into overwrite:path it is escaped again, so the backend (which decodes
// once more) gets the client's "%2F" as text, never a "/" that walks up.
func TestMappedPathDoesNotDecodeAPathParameterTwice(t *testing.T) {
	_, ep := echoBackend(t, "files")
	r := serviceRoute("GET /files/{name}")
	r.RequestMapping = mustRequestMapping(t, map[string]string{"overwrite:path": "/public/$request.path.name"})
	front := mappedServer(t, r, ep)
	res, got := send(t, front, "GET", "/prod/files/..%252F..%252Fadmin", nil, "")
	if res.StatusCode != 200 || got.URI != "/public/..%252F..%252Fadmin" {
		t.Fatalf("status %d, backend got %q; want 200 and /public/..%%252F..%%252Fadmin", res.StatusCode, got.URI)
	}
	// A header value's "/" is data too, and a value that is a dot segment
	// is still refused.
	r2 := serviceRoute("GET /files/{name}")
	r2.RequestMapping = mustRequestMapping(t, map[string]string{"overwrite:path": "/public/$request.header.x-name"})
	front2 := mappedServer(t, r2, ep)
	res, got = send(t, front2, "GET", "/prod/files/x", map[string][]string{"X-Name": {"../admin%2F"}}, "")
	if res.StatusCode != 200 || got.URI != "/public/..%2Fadmin%252F" {
		t.Fatalf("status %d, backend got %q; want 200 and /public/..%%2Fadmin%%252F", res.StatusCode, got.URI)
	}
	if res, _ := send(t, front2, "GET", "/prod/files/x", map[string][]string{"X-Name": {".."}}, ""); res.StatusCode != 400 {
		t.Fatalf("a mapped dot segment: status %d, want 400", res.StatusCode)
	}
}

// Finding 3: headers a client names in Connection are removed before the
// gateway sets its own, so "Connection: x-user, x-request-id" cannot make
// ReverseProxy strip the mapped X-User or the request id.
func TestConnectionHeaderCannotStripGatewayRequestHeaders(t *testing.T) {
	_, ep := echoBackend(t, "pets")
	r := serviceRoute("GET /pets/{petId}")
	r.RequestMapping = mustRequestMapping(t, map[string]string{"overwrite:header.x-user": "alice"})
	front := mappedServer(t, r, ep)
	res, raw := rawExchange(t, front.Listener.Addr().String(), "GET /prod/pets/1 HTTP/1.1\r\nHost: "+testHost+
		"\r\nX-User: forged\r\nX-Hop: h\r\nConnection: x-user, x-request-id\r\nConnection: X-Hop\r\n\r\n")
	var got echoed
	if err := json.Unmarshal(raw, &got); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, body %q: %v", res.StatusCode, raw, err)
	}
	if u := got.Header["X-User"]; len(u) != 1 || u[0] != "alice" {
		t.Errorf("backend X-User = %q, want [alice]", u)
	}
	if id := got.Header["X-Request-Id"]; len(id) != 1 || id[0] != res.Header.Get("X-Request-Id") || id[0] == "" {
		t.Errorf("backend X-Request-Id = %q, response has %q", id, res.Header.Get("X-Request-Id"))
	}
	if h := got.Header["X-Hop"]; h != nil {
		t.Errorf("a header the client named in Connection reached the backend: %q", h)
	}
}

// Finding 8: ReverseProxy clears the response header map after forwarding
// a 1xx; the final response still carries the gateway's headers, once.
func TestGatewayResponseHeadersSurviveABackend1xx(t *testing.T) {
	var early atomic.Bool
	backend := func(w http.ResponseWriter, _ *http.Request) {
		if early.Load() {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
		}
		w.Header().Set("X-Backend", "pets")
		_, _ = io.WriteString(w, "ok")
	}
	srv := newBackend(t, backend)
	r := serviceRoute("GET /pets/{petId}")
	front := mappedServer(t, r, srv)
	for _, e := range []bool{true, false} {
		early.Store(e)
		var got1xx []int
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			got1xx = append(got1xx, code)
			return nil
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", front.URL+"/prod/pets/1", nil)
		req.Host = testHost
		res, err := front.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if e != (len(got1xx) == 1 && got1xx[0] == http.StatusEarlyHints) {
			t.Errorf("early hints %v: the client got 1xx %v", e, got1xx)
		}
		id := res.Header["X-Request-Id"]
		if res.StatusCode != 200 || len(id) != 1 || id[0] == "" ||
			strings.Join(res.Header["Apigw-Requestid"], ",") != id[0] || res.Header.Get("X-Backend") != "pets" {
			t.Errorf("early hints %v: status %d, headers %v; want 200 with one X-Request-Id equal to Apigw-Requestid", e, res.StatusCode, res.Header)
		}
	}
}

// newBackend serves h on a loopback listener and returns its endpoint.
func newBackend(t *testing.T, h http.HandlerFunc) table.Endpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	addr := ln.Addr().(*net.TCPAddr)
	return table.Endpoint{Address: addr.IP.String(), Port: int32(addr.Port)}
}

// Finding 10: a body read for a mapping is bounded by the integration
// timeout; a client dripping it gets 408 (the client's failure, issue 17:
// never blamed on the integration) and its connection closed.
func TestSlowBodyReadForMappingTimesOut(t *testing.T) {
	called := make(chan struct{}, 1)
	ep := newBackend(t, func(http.ResponseWriter, *http.Request) { called <- struct{}{} })
	r := serviceRoute("POST /pets/{petId}")
	r.Integration.TimeoutMillis = 200
	r.RequestMapping = mustRequestMapping(t, map[string]string{"append:header.x-owner": "$request.body.owner"})
	front := mappedServer(t, r, ep)
	c, err := net.Dial("tcp", front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	const body = `{"owner":"ann"}`
	start := time.Now()
	_, _ = io.WriteString(c, "POST /prod/pets/1 HTTP/1.1\r\nHost: "+testHost+"\r\nContent-Type: application/json\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n")
	go func() { // one byte every 100ms: 1.5s in all
		for i := range len(body) {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if el := time.Since(start); res.StatusCode != 408 || !strings.Contains(string(b), "Request Timeout") || el > time.Second {
		t.Fatalf("status %d, body %q after %v; want 408 within the 200ms timeout", res.StatusCode, b, el)
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("the 408 has no request id")
	}
	if _, err := br.ReadByte(); err == nil {
		t.Error("the connection stayed open after the timed-out body")
	}
	select {
	case <-called:
		t.Error("the backend was called")
	default:
	}
}
