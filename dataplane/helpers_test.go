package dataplane

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

const testHost = "pets.shop.execute-api.localhost"

func mockRoute(key string, status int, body string) *table.Route {
	return &table.Route{Key: key, Object: "shop/r", Integration: table.Integration{
		Type: table.IntegrationMock,
		Mock: &table.Mock{Status: status, Body: body, Headers: map[string]string{"content-type": "text/plain"}},
	}}
}

func serviceRoute(key string) *table.Route {
	return &table.Route{Key: key, Object: "shop/svc", Integration: table.Integration{
		Type: table.IntegrationService, TimeoutMillis: 1000,
		Service: &table.ServiceTarget{Namespace: "shop", Name: "pets", Port: 8080},
	}}
}

func stage(name string, routes ...*table.Route) *table.Stage {
	return &table.Stage{Name: name, Object: "shop/" + name, Routes: routes}
}

// testApi is an Api on testHost with the given protocol and stages.
func testApi(p table.Protocol, stages ...*table.Stage) *table.Api {
	return &table.Api{Namespace: "shop", Name: "pets", Protocol: p, Hosts: []string{testHost},
		MaxRequestBodyBytes: 1024, Stages: stages}
}

func mustTable(t testing.TB, apis ...*table.Api) *table.Table {
	t.Helper()
	tbl, err := table.New(apis)
	if err != nil {
		t.Fatalf("table.New: %v", err)
	}
	return tbl
}

// newTestServer returns a ready server over apis with fwd as its forwarder.
func newTestServer(t testing.TB, fwd Forwarder, apis ...*table.Api) *Server {
	t.Helper()
	s := NewServer(Options{Forwarder: fwd})
	s.Swap(mustTable(t, apis...))
	return s
}

// do sends a request for target (path and query, possibly raw) to s.
func do(s *Server, method, target string, body io.Reader) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://"+testHost+target, body)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// fakeForwarder records the last target and request and answers with respond.
type fakeForwarder struct {
	mu      sync.Mutex
	target  Target
	header  http.Header
	respond func(w http.ResponseWriter, r *http.Request, t *Target) *Failure
}

func (f *fakeForwarder) Forward(w http.ResponseWriter, r *http.Request, t *Target) *Failure {
	f.mu.Lock()
	f.target = *t
	f.header = r.Header.Clone()
	f.mu.Unlock()
	if f.respond != nil {
		return f.respond(w, r, t)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "backend")
	return nil
}

func (f *fakeForwarder) last() (Target, http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.target, f.header
}

func trimBody(w *httptest.ResponseRecorder) string { return strings.TrimSpace(w.Body.String()) }
