package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ws "github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// WebSocket tests run the real chain behind a real listener, with real
// WebSocket clients (coder/websocket) and HTTP_PROXY integrations to a
// loopback backend that records every event it receives.

const wsHost = "chat.shop.execute-api.localhost"

// Test credentials of the @connections API (never real ones).
const (
	testKeyID  = "AKIDEXAMPLEWEBSOCKET"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// backendCall is one request the backend received.
type backendCall struct {
	Method, Path string
	Header       http.Header
	Body         string
}

// wsBackend is the integration of every route: it records each call and
// answers with the handler of its path (200 and no body by default).
type wsBackend struct {
	srv   *httptest.Server
	calls chan backendCall

	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
}

func newWSBackend(t *testing.T) *wsBackend {
	b := &wsBackend{calls: make(chan backendCall, 4096), handlers: map[string]http.HandlerFunc{}}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.calls <- backendCall{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)}
		b.mu.Lock()
		h := b.handlers[r.URL.Path]
		b.mu.Unlock()
		if h != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			h(w, r)
		}
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *wsBackend) handle(path string, h http.HandlerFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers[path] = h
}

// next waits for the backend's next call.
func (b *wsBackend) next(t *testing.T) backendCall {
	t.Helper()
	select {
	case c := <-b.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("the backend got no call within 5s")
	}
	return backendCall{}
}

// nextTo waits for the backend's next call to path, skipping others.
func (b *wsBackend) nextTo(t *testing.T, path string) backendCall {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case c := <-b.calls:
			if c.Path == path {
				return c
			}
		case <-deadline:
			t.Fatalf("the backend got no call to %s within 5s", path)
		}
	}
}

// none checks that no call arrives within d.
func (b *wsBackend) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case c := <-b.calls:
		t.Fatalf("unexpected backend call %s %s", c.Method, c.Path)
	case <-time.After(d):
	}
}

func (b *wsBackend) route(key, path string) *table.Route {
	return &table.Route{Key: key, Object: "shop/" + strings.TrimPrefix(key, "$"), Integration: table.Integration{
		Type: table.IntegrationHTTPProxy, URI: b.srv.URL + path, TimeoutMillis: 2000,
	}}
}

// chatApi is the WEBSOCKET Api of the tests: stage prod with the routes.
func chatApi(t testing.TB, routes ...*table.Route) *table.Api {
	t.Helper()
	sel, err := mapping.CompileSelection("$request.body.action")
	if err != nil {
		t.Fatal(err)
	}
	return &table.Api{Namespace: "shop", Name: "chat", Protocol: table.ProtocolWebSocket, Hosts: []string{wsHost},
		MaxRequestBodyBytes: 1 << 20, RouteSelection: sel, Stages: []*table.Stage{stage("prod", routes...)},
		Management: &table.Management{Credentials: []table.Credential{{AccessKeyID: testKeyID, SecretAccessKey: testSecret}}}}
}

// wsEnv is a gateway serving WEBSOCKET Apis on a loopback listener.
type wsEnv struct {
	s   *Server
	srv *httptest.Server
	log *syncBuffer
	reg *prometheus.Registry
}

func newWSEnv(t *testing.T, limits websocket.Limits, apis ...*table.Api) *wsEnv {
	t.Helper()
	e := &wsEnv{log: &syncBuffer{}, reg: prometheus.NewRegistry()}
	e.s = NewServer(Options{AccessLog: e.log, Metrics: e.reg, WebSocket: websocket.Options{Limits: limits},
		GatewayThrottle: table.Throttle{RateLimit: 1_000_000, BurstLimit: 1_000_000}}) // the tests' own rates, not the default 10,000/s
	e.s.Swap(mustTable(t, apis...))
	e.srv = httptest.NewServer(e.s)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.s.ws.Shutdown(ctx)
		e.srv.Close()
		e.s.Close()
	})
	return e
}

// dial opens a connection on path (e.g. "/prod?token=x").
func (e *wsEnv) dial(ctx context.Context, path string, opts *ws.DialOptions) (*ws.Conn, *http.Response, error) {
	if opts == nil {
		opts = &ws.DialOptions{}
	}
	opts.Host = wsHost
	return ws.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+path, opts)
}

func (e *wsEnv) mustDial(t *testing.T, path string) *ws.Conn {
	t.Helper()
	c, resp, err := e.dial(t.Context(), path, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// read reads one message within 5 s.
func read(t *testing.T, c *ws.Conn) (ws.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(b)
}

func sendText(t *testing.T, c *ws.Conn, msg string) {
	t.Helper()
	if err := c.Write(t.Context(), ws.MessageText, []byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// closeStatus reads until the connection closes and returns the close code
// and reason the gateway sent.
func closeStatus(t *testing.T, c *ws.Conn) (ws.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			if ce, ok := errors.AsType[ws.CloseError](err); ok {
				return ce.Code, ce.Reason
			}
			t.Fatalf("the connection ended without a close frame: %v", err)
		}
	}
}

// syncBuffer is an io.Writer safe for the access log's writer goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// errorFrame is the AWS-shaped error message the gateway sends.
type errorFrame struct {
	Message, ConnectionID, RequestID string
}

func parseErrorFrame(t *testing.T, s string) errorFrame {
	t.Helper()
	var f errorFrame
	if err := json.Unmarshal([]byte(s), &f); err != nil || f.Message == "" || f.ConnectionID == "" || f.RequestID == "" {
		t.Fatalf("not an error frame: %s", s)
	}
	return f
}

// logLines returns the access log entries with a connectionId.
func (e *wsEnv) logLines(t *testing.T) []map[string]any {
	t.Helper()
	e.s.access.Close() // flush; later requests are not logged
	var out []map[string]any
	for line := range strings.SplitSeq(e.log.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["connectionId"] != nil {
			out = append(out, m)
		}
	}
	return out
}

// gatherText renders reg in the Prometheus text format.
func gatherText(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
