package proxy

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// seen is what a test backend reports about the request it received.
type seen struct {
	Backend    string              `json:"backend"`
	Method     string              `json:"method"`
	RequestURI string              `json:"requestURI"`
	Host       string              `json:"host"`
	Header     map[string][]string `json:"header"`
	Body       string              `json:"body"`
}

// backend is a loopback server that echoes what it received as JSON and
// counts the connections it accepted.
type backend struct {
	*httptest.Server
	name  string
	conns atomic.Int64
}

func newBackend(t *testing.T, name string, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{name: name}
	if h == nil {
		h = b.echo
	}
	b.Server = httptest.NewUnstartedServer(h)
	b.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.conns.Add(1)
		}
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

func (b *backend) echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(seen{
		Backend: b.name, Method: r.Method, RequestURI: r.RequestURI, Host: r.Host,
		Header: r.Header, Body: string(body),
	})
}

// endpoint is the table endpoint of a loopback server.
func (b *backend) endpoint(t *testing.T) table.Endpoint {
	return endpointOf(t, b.Listener.Addr().String())
}

func endpointOf(t testing.TB, addr string) table.Endpoint {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return table.Endpoint{Address: ap.Addr().String(), Port: int32(ap.Port())}
}

// closedEndpoint is a loopback address where nothing listens: dials are refused.
func closedEndpoint(t *testing.T) table.Endpoint {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return endpointOf(t, addr)
}

var svc = &table.ServiceTarget{Namespace: "shop", Name: "pets", Port: 8080, PortName: "http"}

func serviceIntegration(timeoutMillis int32) *table.Integration {
	return &table.Integration{Type: table.IntegrationService, Service: svc, TimeoutMillis: timeoutMillis}
}

// gateway is a loopback front server that calls Forward the way the request
// handler does: body limit, then Forward, then render the Failure.
type gateway struct {
	*httptest.Server
	f *Forwarder

	mu   sync.Mutex
	last Target
}

const bodyLimit = 64

func newGateway(t *testing.T, o Options, target func(r *http.Request) *Target) *gateway {
	t.Helper()
	g := &gateway{f: New(o)}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, bodyLimit)
		tg := target(r)
		defer func() {
			g.mu.Lock()
			g.last = *tg
			g.mu.Unlock()
		}()
		if fail := g.f.Forward(w, r, tg); fail != nil {
			w.Header().Set("X-Cause", fail.Cause)
			w.WriteHeader(fail.Status)
			_, _ = io.WriteString(w, fail.Message)
		}
	}))
	t.Cleanup(g.Close)
	t.Cleanup(g.f.CloseIdleConnections)
	return g
}

func (g *gateway) lastTarget() Target {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last
}

// serviceGateway forwards every request to the test Service, path and query as sent.
func serviceGateway(t *testing.T, store *upstream.Store, o Options, timeoutMillis int32) *gateway {
	o.Store = store
	return newGateway(t, o, func(r *http.Request) *Target {
		return &Target{Integration: serviceIntegration(timeoutMillis), Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery}
	})
}

func storeWith(eps ...table.Endpoint) *upstream.Store {
	s := upstream.NewStore()
	s.Update(table.EndpointSets{svc.Key(): eps})
	return s
}

type result struct {
	status int
	cause  string
	body   string
	seen   seen
}

func do(t *testing.T, req *http.Request) result {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := result{status: res.StatusCode, cause: res.Header.Get("X-Cause"), body: string(body)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &out.seen); err != nil {
			t.Fatalf("backend answer %q: %v", body, err)
		}
	}
	return out
}

func get(t *testing.T, url string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func post(t *testing.T, url, body string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func itoa(n int) string { return strconv.Itoa(n) }
