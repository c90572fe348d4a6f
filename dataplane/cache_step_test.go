package dataplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

// countingForwarder answers "<path> #<n>" where n counts the backend calls
// of that path; the query may ask for a status (status=), a cookie
// (cookie=1) or a body size (size=). While gate is set, calls wait on it.
type countingForwarder struct {
	mu    sync.Mutex
	calls map[string]int
	total atomic.Int32
	gate  chan struct{}
}

func newCountingForwarder() *countingForwarder { return &countingForwarder{calls: map[string]int{}} }

// cacheClock is the response caches' clock in tests: moved by hand, never
// ticking.
type cacheClock struct{ now atomic.Int64 }

func newCacheClock() *cacheClock {
	c := &cacheClock{}
	c.now.Store(time.Date(2024, 5, 1, 18, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *cacheClock) NowNano() int64                      { return c.now.Load() }
func (c *cacheClock) Tick(time.Duration) <-chan time.Time { return nil }
func (c *cacheClock) advance(d time.Duration)             { c.now.Add(int64(d)) }

func (f *countingForwarder) Forward(w http.ResponseWriter, r *http.Request, t *Target) *Failure {
	f.total.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	f.calls[t.Path]++
	n := f.calls[t.Path]
	f.mu.Unlock()
	q := r.URL.Query()
	h := http.Header{} // the backend's header, mapped by the chain's reply side as the proxy does
	h.Set("Content-Type", "text/plain")
	h.Set("X-Backend-Call", strconv.Itoa(n))
	if q.Get("cookie") == "1" {
		h.Set("Set-Cookie", "session=secret")
	}
	status, _ := strconv.Atoi(q.Get("status"))
	status = t.Response.MapResponse(max(status, 200), h)
	for k, v := range h {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	body := fmt.Sprintf("%s #%d", t.Path, n)
	if size, _ := strconv.Atoi(q.Get("size")); size > 0 {
		body = strings.Repeat("x", size)
	}
	_, _ = io.WriteString(w, body)
	return nil
}

// cachedRoute is a GET route cached for ttl seconds on keys.
func cachedRoute(key, cacheKey string, ttl int32, keys ...string) *table.Route {
	r := serviceRoute(key)
	method, _, _ := strings.Cut(key, " ")
	r.Cache = &table.RouteCache{Method: method, TTLSeconds: ttl, Key: cacheKey}
	for _, k := range keys {
		p, err := table.ParseParameter(k)
		if err != nil {
			panic(err)
		}
		r.Cache.KeyParameters = append(r.Cache.KeyParameters, p)
	}
	return r
}

// cacheApi is a REST Api whose stage prod has a cache of maxBytes.
func cacheApi(maxBytes int64, routes ...*table.Route) *table.Api {
	st := stage("prod", routes...)
	st.Cache = &table.StageCache{TTLSeconds: 300, MaxBytes: maxBytes, RequireAuthorization: true,
		Unauthorized: table.CacheControlSucceedWithHeader, StatusHeader: true}
	return testApi(table.ProtocolREST, st)
}

func cacheGet(s *Server, target string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "http://"+testHost+target, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// expectAnswer checks body and X-Cache of one answer.
func expectAnswer(t *testing.T, w *httptest.ResponseRecorder, body, xcache string) {
	t.Helper()
	if w.Code != 200 || w.Body.String() != body || w.Header().Get("X-Cache") != xcache {
		t.Fatalf("got %d %q X-Cache %q, want %q %q", w.Code, w.Body.String(), w.Header().Get("X-Cache"), body, xcache)
	}
}

func TestCacheKeysFollowTheKeyParametersOnly(t *testing.T) {
	fwd := newCountingForwarder()
	s := newTestServer(t, fwd, cacheApi(1<<20,
		cachedRoute("GET /pets", "pets", 60),
		cachedRoute("GET /pets/{id}", "pet", 60, "path.id", "querystring.page", "header.accept-language")))
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #1", "Miss")
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #1", "Hit")
	// Parameters left out of the key do not vary the entry (AWS: dept=B is
	// served from the dept=A entry when only type is a key).
	expectAnswer(t, cacheGet(s, "/prod/pets?dept=B", map[string]string{"Accept-Language": "fr"}), "/pets #1", "Hit")

	expectAnswer(t, cacheGet(s, "/prod/pets/1?page=1", nil), "/pets/1 #1", "Miss")
	expectAnswer(t, cacheGet(s, "/prod/pets/1?page=1&other=x", nil), "/pets/1 #1", "Hit")
	expectAnswer(t, cacheGet(s, "/prod/pets/1?page=2", nil), "/pets/1 #2", "Miss")
	expectAnswer(t, cacheGet(s, "/prod/pets/2?page=1", nil), "/pets/2 #1", "Miss")
	expectAnswer(t, cacheGet(s, "/prod/pets/1?page=1", map[string]string{"Accept-Language": "fr"}), "/pets/1 #3", "Miss")
	expectAnswer(t, cacheGet(s, "/prod/pets/1?page=1&page=1", nil), "/pets/1 #4", "Miss") // repeated values are another key
	expectAnswer(t, cacheGet(s, "/prod/pets/1?page=1", map[string]string{"accept-language": "fr"}), "/pets/1 #3", "Hit")
	if got := fwd.total.Load(); got != 6 {
		t.Fatalf("backend called %d times, want 6", got)
	}
}

func TestCachedEntriesExpireWithTheInjectedClock(t *testing.T) {
	clk := newCacheClock()
	s := NewServer(Options{Forwarder: newCountingForwarder(), CacheClock: clk})
	t.Cleanup(s.Close)
	s.Swap(mustTable(t, cacheApi(1<<20, cachedRoute("GET /pets", "pets", 30))))
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #1", "Miss")
	clk.advance(29 * time.Second)
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #1", "Hit")
	clk.advance(2 * time.Second)
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #2", "Miss")
}

func TestTheStageCacheStaysWithinItsSizeBound(t *testing.T) {
	s := newTestServer(t, newCountingForwarder(), cacheApi(32<<10, cachedRoute("GET /pets/{id}", "pet", 60, "path.id")))
	for i := range 40 { // 40 entries of 4 KiB into 32 KiB
		cacheGet(s, fmt.Sprintf("/prod/pets/%d?size=4096", i), nil)
	}
	c := s.cache.For(s.Table().Apis[0].Stages[0])
	c.CleanUp()
	if st := s.cache.Stats()[0]; st.Bytes > 32<<10 || st.Entries > 8 || st.Entries == 0 {
		t.Fatalf("%d entries, %d bytes in a 32 KiB cache", st.Entries, st.Bytes)
	}
	evicted := 0
	for i := range 40 {
		if cacheGet(s, fmt.Sprintf("/prod/pets/%d?size=4096", i), nil).Header().Get("X-Cache") == "Miss" {
			evicted++
		}
	}
	if evicted < 30 {
		t.Fatalf("only %d of 40 entries were evicted from a cache that holds 8", evicted)
	}
}

func TestOnlyCacheableAnswersAreStored(t *testing.T) {
	fwd := newCountingForwarder()
	post := cachedRoute("POST /search", "search", 60)
	s := newTestServer(t, fwd, cacheApi(4<<20,
		cachedRoute("GET /pets", "pets", 60, "querystring.status", "querystring.cookie", "querystring.size"),
		post, serviceRoute("POST /pets")))
	for _, tc := range []struct{ name, target string }{
		{"a 404", "/prod/pets?status=404"},
		{"a 500", "/prod/pets?status=500"},
		{"an answer with Set-Cookie", "/prod/pets?cookie=1"},
		{"an answer over 1 MiB", "/prod/pets?size=1048577"},
	} {
		cacheGet(s, tc.target, nil)
		if w := cacheGet(s, tc.target, nil); w.Header().Get("X-Cache") != "Miss" {
			t.Errorf("%s was cached", tc.name)
		}
	}
	if w := cacheGet(s, "/prod/pets?size=1048576", nil); w.Header().Get("X-Cache") != "Miss" || w.Body.Len() != 1<<20 {
		t.Fatal("1 MiB exactly")
	}
	if w := cacheGet(s, "/prod/pets?size=1048576", nil); w.Header().Get("X-Cache") != "Hit" || w.Body.Len() != 1<<20 {
		t.Fatal("an answer of exactly 1 MiB is cached")
	}
	// HEAD is not GET; a POST route is cached only when its Route asks.
	r := httptest.NewRequest("HEAD", "http://"+testHost+"/prod/pets", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Header().Get("X-Cache") != "" {
		t.Fatal("HEAD went through the cache")
	}
	first, second := do(s, "POST", "/prod/pets", nil), do(s, "POST", "/prod/pets", nil)
	if second.Header().Get("X-Cache") != "" || first.Body.String() == second.Body.String() {
		t.Fatalf("an uncached POST: %q %q %q", second.Header().Get("X-Cache"), first.Body.String(), second.Body.String())
	}
	do(s, "POST", "/prod/search", nil)
	if w := do(s, "POST", "/prod/search", nil); w.Header().Get("X-Cache") != "Hit" || w.Body.String() != "/search #1" {
		t.Fatalf("a POST route that enables the cache: %q %q", w.Header().Get("X-Cache"), w.Body.String())
	}
}

// invalidatorServer is a REQUEST authorizer: "invalidator" gets a policy
// that allows execute-api:Invoke and execute-api:InvalidateCache, "deny"
// one that denies, anyone else one that allows Invoke only.
func invalidatorServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			IdentitySource []string `json:"identitySource"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		actions := `"execute-api:Invoke"`
		switch ev.IdentitySource[0] {
		case "invalidator":
			actions = `["execute-api:Invoke","execute-api:InvalidateCache"]`
		case "deny":
			_, _ = io.WriteString(w, `{"principalId":"d","policyDocument":{"Statement":[{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*"}]}}`)
			return
		}
		_, _ = io.WriteString(w, `{"principalId":"p","policyDocument":{"Statement":[{"Effect":"Allow","Action":`+actions+`,"Resource":"arn:turnpike:execute-api:shop:pets/prod/GET/*"}]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestACachedAnswerNeverBypassesAuthorizationThrottlingOrQuotas(t *testing.T) {
	authz := invalidatorServer(t)
	authed := authRoute(cachedRoute("GET /authed", "authed", 60), requestAuthz(authz.URL, false))
	throttled := cachedRoute("GET /throttled", "throttled", 60)
	throttled.Throttle = &table.Throttle{BurstLimit: 2}
	keyed := cachedRoute("GET /keyed", "keyed", 60)
	keyed.ApiKeyRequired = true
	a := cacheApi(1<<20, authed, throttled, keyed)
	a.Stages[0].Plans = []*table.StagePlan{{Plan: "shop/gold"}}
	plan := &table.Plan{Namespace: "shop", Name: "gold", Quota: &table.Quota{Limit: 2, Period: table.QuotaDay},
		Keys: []table.APIKey{{ID: table.KeyID(hashKey(goldKey)), Object: "shop/gold-key", Hash: hashKey(goldKey)}}}
	tbl, err := table.NewWithPlans([]*table.Api{a}, []*table.Plan{plan})
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2024, 5, 1, 18, 0, 0, 0, time.UTC)}
	s := NewServer(Options{Forwarder: newCountingForwarder(), Limiter: throttle.NewLocal(clk.now)})
	t.Cleanup(s.Close)
	s.Swap(tbl)

	expectAnswer(t, cacheGet(s, "/prod/authed", map[string]string{"Authorization": "reader"}), "/authed #1", "Miss")
	expectAnswer(t, cacheGet(s, "/prod/authed", map[string]string{"Authorization": "reader"}), "/authed #1", "Hit")
	if w := cacheGet(s, "/prod/authed", nil); w.Code != 401 || w.Header().Get("X-Cache") != "" {
		t.Fatalf("no identity: %d %q", w.Code, w.Header().Get("X-Cache"))
	}
	if w := cacheGet(s, "/prod/authed", map[string]string{"Authorization": "deny"}); w.Code != 403 {
		t.Fatalf("denied: %d", w.Code)
	}

	expectAnswer(t, cacheGet(s, "/prod/throttled", nil), "/throttled #1", "Miss")
	expectAnswer(t, cacheGet(s, "/prod/throttled", nil), "/throttled #1", "Hit")
	if w := cacheGet(s, "/prod/throttled", nil); w.Code != 429 {
		t.Fatalf("a third request past a burst of 2: %d (a cached answer bypassed the throttle)", w.Code)
	}

	key := map[string]string{"x-api-key": goldKey}
	if w := cacheGet(s, "/prod/keyed", nil); w.Code != 403 {
		t.Fatalf("no key: %d", w.Code)
	}
	expectAnswer(t, cacheGet(s, "/prod/keyed", key), "/keyed #1", "Miss")
	if w := cacheGet(s, "/prod/keyed", key); w.Header().Get("X-Cache") != "Hit" || w.Header().Get("Ratelimit-Remaining") != "0" {
		t.Fatalf("a hit counts against the quota: %q remaining %q", w.Header().Get("X-Cache"), w.Header().Get("Ratelimit-Remaining"))
	}
	if w := cacheGet(s, "/prod/keyed", key); w.Code != 429 {
		t.Fatalf("past the quota: %d", w.Code)
	}
}

func TestMaxAgeZeroRefreshesOnlyForCallersAllowedToInvalidate(t *testing.T) {
	authz := invalidatorServer(t)
	refresh := func(id string) map[string]string {
		return map[string]string{"Authorization": id, "Cache-Control": "no-cache, max-age=0"}
	}
	a := cacheApi(1<<20, authRoute(cachedRoute("GET /pets", "pets", 60), requestAuthz(authz.URL, false)))
	s := newTestServer(t, newCountingForwarder(), a)
	expectAnswer(t, cacheGet(s, "/prod/pets", refresh("reader")), "/pets #1", "Miss") // nothing cached yet: a miss
	w := cacheGet(s, "/prod/pets", refresh("reader"))
	expectAnswer(t, w, "/pets #1", "Hit")
	if w.Header().Get("Warning") != cacheWarning {
		t.Fatalf("an ignored refresh carries a Warning: %q", w.Header().Get("Warning"))
	}
	expectAnswer(t, cacheGet(s, "/prod/pets", refresh("invalidator")), "/pets #2", "Miss")
	expectAnswer(t, cacheGet(s, "/prod/pets", map[string]string{"Authorization": "reader"}), "/pets #2", "Hit")

	// Other strategies, and a stage that lets every caller refresh.
	for _, tc := range []struct {
		strategy string
		require  bool
		status   int
		warning  bool
		body     string
	}{
		{table.CacheControlSucceedWithoutHeader, true, 200, false, "/pets #1"},
		{table.CacheControlFailWith403, true, 403, false, `{"message":"Forbidden"}`},
		{table.CacheControlFailWith403, false, 200, false, "/pets #2"},
	} {
		a := cacheApi(1<<20, authRoute(cachedRoute("GET /pets", "pets", 60), requestAuthz(authz.URL, false)))
		a.Stages[0].Cache.Unauthorized, a.Stages[0].Cache.RequireAuthorization = tc.strategy, tc.require
		s := newTestServer(t, newCountingForwarder(), a)
		cacheGet(s, "/prod/pets", map[string]string{"Authorization": "reader"})
		w := cacheGet(s, "/prod/pets", refresh("reader"))
		if w.Code != tc.status || trimBody(w) != tc.body || (w.Header().Get("Warning") != "") != tc.warning {
			t.Errorf("%s require=%t: %d %s warning %q", tc.strategy, tc.require, w.Code, trimBody(w), w.Header().Get("Warning"))
		}
	}
}

func TestFlushingAStageByTheAdminPortAndByItsFlushToken(t *testing.T) {
	fwd := newCountingForwarder()
	route := func() *table.Route { return cachedRoute("GET /pets", "pets", 60) }
	s := newTestServer(t, fwd, cacheApi(1<<20, route()))
	cacheGet(s, "/prod/pets", nil)
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #1", "Hit")

	admin := httptest.NewServer(s.AdminHandler())
	defer admin.Close()
	res, err := http.Post(admin.URL+"/cache/shop/pets/prod/flush", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"flushed": 1`) {
		t.Fatalf("flush: %d %s", res.StatusCode, body)
	}
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #2", "Miss")
	for _, path := range []string{"/cache/shop/pets/dev/flush", "/cache/shop/other/prod/flush"} {
		res, err := http.Post(admin.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	if res, err := http.Get(admin.URL + "/cache/shop/pets/prod/flush"); err != nil || res.StatusCode != 405 {
		t.Fatalf("GET flush: %v %v", res, err)
	}

	// The translator puts the Stage's turnpike.io/flush-cache annotation in
	// the table; a new value flushes, the same value does not.
	swap := func(token string) {
		a := cacheApi(1<<20, route())
		a.Stages[0].Cache.FlushToken = token
		s.Swap(mustTable(t, a))
	}
	swap("")
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #2", "Hit")
	swap("first")
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #3", "Miss")
	swap("first")
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #3", "Hit")
}

func TestEntriesSurviveAnUnrelatedSwapAndNotAChangedRoute(t *testing.T) {
	fwd := newCountingForwarder()
	s := newTestServer(t, fwd, cacheApi(1<<20, cachedRoute("GET /pets", "pets-v1", 60), mockRoute("GET /other", 200, "a")))
	cacheGet(s, "/prod/pets", nil)
	// Another route changed: a new table, the same route cache key.
	s.Swap(mustTable(t, cacheApi(1<<20, cachedRoute("GET /pets", "pets-v1", 60), mockRoute("GET /other", 200, "b"), mockRoute("GET /new", 200, "c"))))
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #1", "Hit")
	// The route itself changed (the translator gives it a new cache key).
	s.Swap(mustTable(t, cacheApi(1<<20, cachedRoute("GET /pets", "pets-v2", 60))))
	expectAnswer(t, cacheGet(s, "/prod/pets", nil), "/pets #2", "Miss")
	// A stage without a cache, then with one again: a new, empty cache.
	s.Swap(mustTable(t, testApi(table.ProtocolREST, stage("prod", cachedRoute("GET /pets", "pets-v2", 60)))))
	if w := cacheGet(s, "/prod/pets", nil); w.Header().Get("X-Cache") != "" || w.Body.String() != "/pets #3" {
		t.Fatalf("a stage without a cache: %q %q", w.Header().Get("X-Cache"), w.Body.String())
	}
}

func TestConcurrentMissesOfOneKeySendOneRequest(t *testing.T) {
	fwd := newCountingForwarder()
	fwd.gate = make(chan struct{})
	s := newTestServer(t, fwd, cacheApi(1<<20, cachedRoute("GET /pets", "pets", 60)))
	const n = 20
	var wg sync.WaitGroup
	bodies := make([]string, n)
	for i := range n {
		wg.Go(func() { bodies[i] = cacheGet(s, "/prod/pets", nil).Body.String() })
	}
	// Wait until the leader is at the backend and the others had time to
	// queue behind it, then let it answer.
	deadline := time.Now().Add(5 * time.Second)
	for fwd.total.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(fwd.gate)
	wg.Wait()
	if got := fwd.total.Load(); got != 1 {
		t.Fatalf("%d concurrent misses sent %d requests to the backend, want 1", n, got)
	}
	for i, b := range bodies {
		if b != "/pets #1" {
			t.Fatalf("request %d got %q", i, b)
		}
	}
}

func TestCacheHitsCarryCORSAndAreLoggedAndCounted(t *testing.T) {
	log := &authLog{}
	a := cacheApi(1<<20, cachedRoute("GET /pets", "pets", 60), cachedRoute("GET /quiet", "quiet", 60))
	a.CORS = &table.CORS{AllowOrigins: []string{appOrigin}}
	s := NewServer(Options{Forwarder: newCountingForwarder(), AccessLog: log})
	s.Swap(mustTable(t, a))
	for range 3 {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, corsRequest("GET", "/prod/pets", appOrigin, false))
		if w.Header().Get("Access-Control-Allow-Origin") != appOrigin {
			t.Fatalf("no CORS on a %s", w.Header().Get("X-Cache"))
		}
	}
	s.Close()
	if !strings.Contains(log.String(), `"cacheStatus":"Miss"`) || strings.Count(log.String(), `"cacheStatus":"Hit"`) != 2 {
		t.Fatalf("access log:\n%s", log.String())
	}
	want := `
# HELP turnpike_cache_hits_total Requests answered from the stage's response cache (AWS CacheHitCount).
# TYPE turnpike_cache_hits_total counter
turnpike_cache_hits_total{api="pets",namespace="shop",stage="prod"} 2
# HELP turnpike_cache_misses_total Requests of cached routes sent to the integration: nothing cached yet, expired, or refreshed with Cache-Control: max-age=0 (AWS CacheMissCount).
# TYPE turnpike_cache_misses_total counter
turnpike_cache_misses_total{api="pets",namespace="shop",stage="prod"} 1
`
	reg2 := prometheus.NewRegistry()
	s3 := NewServer(Options{Forwarder: newCountingForwarder(), Metrics: reg2})
	defer s3.Close()
	s3.Swap(mustTable(t, a))
	for range 3 {
		cacheGet(s3, "/prod/pets", nil)
	}
	if err := testutil.GatherAndCompare(reg2, strings.NewReader(want), "turnpike_cache_hits_total", "turnpike_cache_misses_total"); err != nil {
		t.Fatal(err)
	}
	a.Stages[0].Cache.StatusHeader = false
	s4 := newTestServer(t, newCountingForwarder(), a)
	cacheGet(s4, "/prod/quiet", nil)
	if w := cacheGet(s4, "/prod/quiet", nil); w.Header().Get("X-Cache") != "" || w.Body.String() != "/quiet #1" {
		t.Fatalf("statusHeader false: %q %q", w.Header().Get("X-Cache"), w.Body.String())
	}
}

// Binary bodies pass byte for byte both ways through the real proxy, SERVICE
// and HTTP_PROXY, and through the cache.
func TestBinaryBodiesPassThroughTheProxyAndTheCache(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 0xff, 0xc3, 0x28, '\n'}, 20000)...)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "image/png")
		if r.Method == "POST" {
			if !bytes.Equal(in, png) {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			_, _ = w.Write(in)
			return
		}
		_, _ = w.Write(png)
	}))
	defer backend.Close()
	host, port, _ := net.SplitHostPort(backend.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	proxied := &table.Route{Key: "POST /proxy", Object: "shop/proxy", Integration: table.Integration{Type: table.IntegrationHTTPProxy, URI: backend.URL, TimeoutMillis: 5000}}
	a := cacheApi(1<<20, serviceRoute("POST /svc"), proxied, cachedRoute("GET /image", "image", 60))
	a.BinaryMediaTypes, a.MaxRequestBodyBytes = []string{"image/png"}, 1<<20
	s := NewServer(Options{})
	t.Cleanup(s.Close)
	s.Swap(mustTable(t, a))
	s.UpdateEndpoints(table.EndpointSets{"shop/pets:": {{Address: host, Port: int32(p)}}})
	front := newFront(t, s)
	call := func(method, path string, body []byte) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, front.URL+path, bytes.NewReader(body))
		req.Host = testHost
		req.Header.Set("Content-Type", "image/png")
		res, err := front.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	for _, path := range []string{"/prod/svc", "/prod/proxy"} {
		if res, b := call("POST", path, png); res.StatusCode != 200 || !bytes.Equal(b, png) {
			t.Fatalf("%s: %d, %d bytes of %d", path, res.StatusCode, len(b), len(png))
		}
	}
	for _, want := range []string{"Miss", "Hit"} {
		res, b := call("GET", "/prod/image", nil)
		if res.Header.Get("X-Cache") != want || !bytes.Equal(b, png) || res.Header.Get("Content-Type") != "image/png" ||
			(want == "Hit" && res.Header.Get("Content-Length") != strconv.Itoa(len(png))) {
			t.Fatalf("%s: %q, %d bytes of %d, %v", want, res.Header.Get("X-Cache"), len(b), len(png), res.Header)
		}
	}
}
