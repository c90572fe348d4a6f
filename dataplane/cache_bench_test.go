package dataplane

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// discardWriter is a ResponseWriter that keeps nothing but the header map
// (reset per request), so a benchmark measures the chain, not a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

// benchCacheServer serves GET /hello in stage "plain" (proxied to a
// loopback backend through the built-in proxy) and in stage "cached" (the
// same route with the stage cache on).
func benchCacheServer(b *testing.B) *Server {
	b.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello from the backend\n")
	}))
	b.Cleanup(backend.Close)
	host, port, _ := net.SplitHostPort(backend.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	cached := cachedRoute("GET /hello", "hello", 3600)
	a := cacheApi(64<<20, cached)
	a.Stages = append(a.Stages, stage("plain", serviceRoute("GET /hello")))
	// The gateway-wide bucket must not be what the loop measures.
	s := NewServer(Options{GatewayThrottle: table.Throttle{RateLimit: 1 << 30, BurstLimit: 1 << 30}})
	b.Cleanup(s.Close)
	s.Swap(mustTable(b, a))
	s.UpdateEndpoints(table.EndpointSets{"shop/pets:": {{Address: host, Port: int32(p)}}})
	return s
}

func benchRoute(b *testing.B, target string) {
	s := benchCacheServer(b)
	r := httptest.NewRequest("GET", "http://"+testHost+target, nil)
	w := &discardWriter{h: http.Header{}}
	s.ServeHTTP(w, r) // fills the cache
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.code = 0
		s.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}

// BenchmarkRouteServedFromTheCache is a cache hit through the whole chain
// (make bench reports it next to the uncached route).
func BenchmarkRouteServedFromTheCache(b *testing.B) { benchRoute(b, "/prod/hello") }

// BenchmarkRouteProxiedUncached is the same route without a cache: proxied
// to a loopback backend.
func BenchmarkRouteProxiedUncached(b *testing.B) { benchRoute(b, "/plain/hello") }

// The REST steps cost an uncached, unvalidated route nothing: no
// allocation on any of their sides, nor in the response writer's tee check.
func TestTheRESTStepsAllocateNothingOnAPlainRoute(t *testing.T) {
	s := newTestServer(t, &fakeForwarder{}, cacheApi(1<<20, serviceRoute("GET /plain")))
	x := &exchange{s: s, r: httptest.NewRequest("GET", "http://"+testHost+"/prod/plain", nil)}
	x.w.ResponseWriter, x.w.x = &discardWriter{h: http.Header{}}, x
	x.tbl = s.Table()
	x.api = x.tbl.Apis[0]
	x.stage = x.api.Stages[0]
	x.route = x.stage.Routes[0]
	h := http.Header{}
	body := []byte("hello")
	x.w.status, x.w.final = 200, true // as after the header side ran
	if a := testing.AllocsPerRun(100, func() {
		if !x.validateRequest() || !x.lookupCache() {
			t.Fatal("a plain route was stopped")
		}
		_ = x.armCache(200, h)
		_, _ = x.w.Write(body)
		x.storeCache()
	}); a != 0 {
		t.Fatalf("the REST steps allocate %v times on a plain route", a)
	}
}
