package request

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// authz is a test authorizer service that counts calls, records the last
// event and answers what the test sets.
type authz struct {
	srv   *httptest.Server
	calls atomic.Int32
	mu    sync.Mutex
	last  map[string]any
	body  string
	code  int
	delay time.Duration
}

func newAuthz(t *testing.T, body string) *authz {
	t.Helper()
	z := &authz{body: body, code: http.StatusOK}
	z.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		z.calls.Add(1)
		raw, _ := io.ReadAll(r.Body)
		z.mu.Lock()
		_ = json.Unmarshal(raw, &z.last)
		body, code, delay := z.body, z.code, z.delay
		z.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(z.srv.Close)
	return z
}

func (z *authz) answer(code int, body string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.code, z.body = code, body
}

func (z *authz) lastEvent() map[string]any {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.last
}

type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func authorizer(uri string, simple bool, ttl int32, sources ...string) *table.Authorizer {
	if len(sources) == 0 {
		sources = []string{"$request.header.Authorization"}
	}
	return &table.Authorizer{
		Object: "shop/authz", Type: table.AuthorizerRequest, IdentitySources: sources,
		Request: &table.RequestAuthorizer{URI: uri, PayloadFormatVersion: "2.0", SimpleResponses: simple, ResultTTLSeconds: ttl, TimeoutMillis: 500},
	}
}

// req builds a request of method and route path (after the stage) with an
// Authorization header (none when token is "").
func req(method, path, token string) *auth.Request {
	r := httptest.NewRequest(method, "http://pets.shop.execute-api.localhost/prod"+path+"?q=1", nil)
	if token != "" {
		r.Header.Set("Authorization", token)
	}
	return &auth.Request{
		HTTP: r, Context: &reqctx.Context{RequestID: "rid", AccountID: "shop", APIID: "pets", Stage: "prod"},
		RequestID: "rid", Namespace: "shop", Api: "pets", Stage: "prod",
		RouteKey: method + " " + path, Path: "/prod" + path, RoutePath: path,
		StageVariables: map[string]string{"tenant": "t1"}, SourceIP: "192.0.2.1", DomainName: "pets.shop.execute-api.localhost",
	}
}

func mustOutcome(t *testing.T, r *auth.Result, want auth.Outcome, errContains string) {
	t.Helper()
	if r.Outcome != want || !strings.Contains(r.Error, errContains) {
		t.Fatalf("outcome %d (%q), want %d containing %q", r.Outcome, r.Error, want, errContains)
	}
}

func mustCalls(t *testing.T, z *authz, want int32) {
	t.Helper()
	if n := z.calls.Load(); n != want {
		t.Fatalf("authorizer called %d times, want %d", n, want)
	}
}

const allowAll = `{"isAuthorized":true,"context":{"user":"u1","tier":3}}`

func TestAnswersAreCachedWithinTheTTLAndRefetchedAfterIt(t *testing.T) {
	z := newAuthz(t, allowAll)
	c := newClock()
	cl := NewClient(Options{Now: c.Now})
	a := authorizer(z.srv.URL, true, 300)
	for range 3 {
		r := cl.Authorize(context.Background(), req("GET", "/pets", "tok-a"), a)
		mustOutcome(t, r, auth.OutcomeAllow, "")
		if v, _ := r.Value("user"); v != "u1" {
			t.Fatalf("context user = %q", v)
		}
	}
	mustCalls(t, z, 1)
	c.advance(299 * time.Second)
	cl.Authorize(context.Background(), req("GET", "/pets", "tok-a"), a)
	mustCalls(t, z, 1)
	c.advance(time.Second)
	cl.Authorize(context.Background(), req("GET", "/pets", "tok-a"), a)
	mustCalls(t, z, 2)
	if hits, misses, calls := cl.Stats(); hits != 3 || misses != 2 || calls != 2 {
		t.Fatalf("stats hits=%d misses=%d calls=%d", hits, misses, calls)
	}
}

func TestZeroTTLCallsTheAuthorizerEveryTime(t *testing.T) {
	z := newAuthz(t, allowAll)
	cl := NewClient(Options{})
	a := authorizer(z.srv.URL, true, 0)
	for range 3 {
		mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/pets", "tok"), a), auth.OutcomeAllow, "")
	}
	mustCalls(t, z, 3)
}

func TestEachIdentitySourceValueIsPartOfTheCacheKey(t *testing.T) {
	z := newAuthz(t, allowAll)
	cl := NewClient(Options{})
	a := authorizer(z.srv.URL, true, 300, "$request.header.Authorization", "$request.querystring.q", "$stageVariables.tenant")
	cl.Authorize(context.Background(), req("GET", "/pets", "tok-a"), a)
	cl.Authorize(context.Background(), req("GET", "/pets", "tok-b"), a)
	mustCalls(t, z, 2)
	other := req("GET", "/pets", "tok-a")
	other.StageVariables = map[string]string{"tenant": "t2"}
	cl.Authorize(context.Background(), other, a)
	mustCalls(t, z, 3)
	cl.Authorize(context.Background(), req("GET", "/pets", "tok-a"), a)
	mustCalls(t, z, 3)
	if got := z.lastEvent()["identitySource"]; !jsonEqual(got, []any{"tok-a", "1", "t2"}) {
		t.Fatalf("identitySource %v", got)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestAnEditedAuthorizerDoesNotReuseOldAnswers(t *testing.T) {
	z := newAuthz(t, allowAll)
	cl := NewClient(Options{})
	a := authorizer(z.srv.URL, true, 300)
	cl.Authorize(context.Background(), req("GET", "/pets", "tok"), a)
	b := authorizer(z.srv.URL+"/v2", true, 300)
	cl.Authorize(context.Background(), req("GET", "/pets", "tok"), b)
	mustCalls(t, z, 2)
}

func TestMissingIdentitySourceIs401WithoutACall(t *testing.T) {
	z := newAuthz(t, allowAll)
	cl := NewClient(Options{})
	for _, src := range []string{"$request.header.Authorization", "$request.querystring.missing", "$stageVariables.none", "$context.nope"} {
		r := cl.Authorize(context.Background(), req("GET", "/pets", ""), authorizer(z.srv.URL, true, 300, "$context.requestId", src))
		mustOutcome(t, r, auth.OutcomeUnauthorized, src)
	}
	mustCalls(t, z, 0)
}

func TestSimpleDenyIsForbiddenAndCached(t *testing.T) {
	z := newAuthz(t, `{"isAuthorized":false}`)
	cl := NewClient(Options{})
	a := authorizer(z.srv.URL, true, 300)
	for range 2 {
		mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/pets", "tok"), a), auth.OutcomeForbidden, "isAuthorized=false")
	}
	mustCalls(t, z, 1)
}

func TestCachedIAMPolicyIsEvaluatedForEachRoute(t *testing.T) {
	z := newAuthz(t, `{"principalId":"user-7","usageIdentifierKey":"key-1","context":{"org":"acme"},
		"policyDocument":{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:turnpike:execute-api:shop:pets/prod/GET/pets"},
			{"Effect":"Allow","Action":["execute-api:*"],"Resource":["arn:turnpike:execute-api:shop:pets/*/GET/toys/*"]},
			{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:turnpike:execute-api:shop:pets/prod/*/toys/secret"}]}}`)
	cl := NewClient(Options{})
	a := authorizer(z.srv.URL, false, 300)
	r := cl.Authorize(context.Background(), req("GET", "/pets", "tok"), a)
	mustOutcome(t, r, auth.OutcomeAllow, "")
	if r.PrincipalID != "user-7" || r.UsageIdentifierKey != "key-1" || r.Context["org"] != "acme" {
		t.Fatalf("result %+v", r)
	}
	mustOutcome(t, cl.Authorize(context.Background(), req("DELETE", "/pets/1", "tok"), a), auth.OutcomeForbidden, "does not allow")
	mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/pets/1", "tok"), a), auth.OutcomeForbidden, "does not allow")
	mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/toys/ball", "tok"), a), auth.OutcomeAllow, "")
	mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/toys/secret", "tok"), a), auth.OutcomeExplicitDeny, "denies")
	mustCalls(t, z, 1)
}

func TestFailuresFailClosedAndAreNotCached(t *testing.T) {
	cases := []struct {
		name, body string
		code       int
		delay      time.Duration
		simple     bool
		want       auth.Outcome
		errSubstr  string
	}{
		{name: "timeout", body: allowAll, code: 200, delay: 700 * time.Millisecond, simple: true, want: auth.OutcomeError, errSubstr: "within 500ms"},
		{name: "not JSON", body: "yes", code: 200, simple: true, want: auth.OutcomeError, errSubstr: "malformed"},
		{name: "simple answer without isAuthorized", body: `{"context":{}}`, code: 200, simple: true, want: auth.OutcomeError, errSubstr: "isAuthorized"},
		{name: "isAuthorized as a string", body: `{"isAuthorized":"true"}`, code: 200, simple: true, want: auth.OutcomeError, errSubstr: "malformed"},
		{name: "policy without statements", body: `{"principalId":"u"}`, code: 200, want: auth.OutcomeError, errSubstr: "Statement"},
		{name: "statement with a bad effect", body: `{"policyDocument":{"Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}}`, code: 200, want: auth.OutcomeError, errSubstr: "Effect"},
		{name: "statement without resource", body: `{"policyDocument":{"Statement":[{"Effect":"Allow","Action":"*"}]}}`, code: 200, want: auth.OutcomeError, errSubstr: "Resource"},
		{name: "authorizer error status", body: "boom", code: 500, simple: true, want: auth.OutcomeError, errSubstr: "500"},
		{name: "authorizer redirect", body: "", code: 302, simple: true, want: auth.OutcomeError, errSubstr: "302"},
		{name: "authorizer 401", body: "", code: 401, simple: true, want: auth.OutcomeUnauthorized, errSubstr: "401"},
		{name: "answer over the size bound", body: `{"isAuthorized":true,"context":{"x":"` + strings.Repeat("a", MaxAnswerBytes) + `"}}`, code: 200, simple: true, want: auth.OutcomeError, errSubstr: "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z := newAuthz(t, tc.body)
			z.code, z.delay = tc.code, tc.delay
			cl := NewClient(Options{})
			a := authorizer(z.srv.URL, tc.simple, 300)
			for range 2 {
				mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/pets", "tok"), a), tc.want, tc.errSubstr)
			}
			mustCalls(t, z, 2)
		})
	}
}

func TestServiceAuthorizerUsesReadyEndpointsThroughTheEgressGuard(t *testing.T) {
	z := newAuthz(t, allowAll)
	ap := netip.MustParseAddrPort(strings.TrimPrefix(z.srv.URL, "http://"))
	svc := &table.ServiceTarget{Namespace: "shop", Name: "authz", Port: 8080, PortName: "http"}
	a := authorizer("", true, 0)
	a.Request.URI, a.Request.Service, a.Request.Path = "", svc, "/authorize"
	store := upstream.NewStore()
	cl := NewClient(Options{Store: store})
	mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/pets", "tok"), a), auth.OutcomeError, "no ready endpoint")
	store.Update(table.EndpointSets{svc.Key(): {{Address: ap.Addr().String(), Port: int32(ap.Port())}}})
	mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/pets", "tok"), a), auth.OutcomeAllow, "")
	denied := NewClient(Options{Store: store, DenyEgress: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	mustOutcome(t, denied.Authorize(context.Background(), req("GET", "/pets", "tok"), a), auth.OutcomeError, "egress denied")
	mustCalls(t, z, 1)
}

func TestEventsFollowTheLambdaPayloadFormats(t *testing.T) {
	z := newAuthz(t, allowAll)
	cl := NewClient(Options{})
	a := authorizer(z.srv.URL, true, 0)
	q := req("GET", "/pets/7", "tok")
	q.PathParams = map[string]string{"id": "7"}
	q.RouteKey = "GET /pets/{id}"
	cl.Authorize(context.Background(), q, a)
	ev := z.lastEvent()
	ctx, _ := ev["requestContext"].(map[string]any)
	checks := map[string]any{
		"version": "2.0", "type": "REQUEST", "routeArn": "arn:turnpike:execute-api:shop:pets/prod/GET/pets/7",
		"routeKey": "GET /pets/{id}", "rawPath": "/prod/pets/7", "rawQueryString": "q=1",
	}
	for k, want := range checks {
		if ev[k] != want {
			t.Errorf("2.0 %s = %v, want %v", k, ev[k], want)
		}
	}
	if h, _ := ev["headers"].(map[string]any); h["authorization"] != "tok" || ctx["stage"] != "prod" || ctx["requestId"] != "rid" {
		t.Errorf("2.0 headers %v context %v", h, ctx)
	}
	a.Request.PayloadFormatVersion = "1.0"
	a.Request.SimpleResponses = false
	z.answer(200, `{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:turnpike:execute-api:shop:pets/prod/GET/pets/*"}]}}`)
	mustOutcome(t, cl.Authorize(context.Background(), q, a), auth.OutcomeAllow, "")
	ev = z.lastEvent()
	checks = map[string]any{
		"version": "1.0", "methodArn": "arn:turnpike:execute-api:shop:pets/prod/GET/pets/7", "identitySource": "tok",
		"resource": "/pets/{id}", "httpMethod": "GET", "path": "/prod/pets/7",
	}
	for k, want := range checks {
		if ev[k] != want {
			t.Errorf("1.0 %s = %v, want %v", k, ev[k], want)
		}
	}
}

func TestConcurrentMissesShareOneCall(t *testing.T) {
	z := newAuthz(t, allowAll)
	z.delay = 100 * time.Millisecond
	cl := NewClient(Options{})
	a := authorizer(z.srv.URL, true, 300)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/pets", "tok"), a), auth.OutcomeAllow, "")
		})
	}
	wg.Wait()
	mustCalls(t, z, 1)
}

func TestCacheEvictsTheLeastRecentlyUsedBeyondItsBounds(t *testing.T) {
	z := newAuthz(t, allowAll)
	cl := NewClient(Options{MaxEntries: 2})
	a := authorizer(z.srv.URL, true, 300)
	for _, tok := range []string{"t1", "t2", "t1", "t3", "t1", "t2"} {
		cl.Authorize(context.Background(), req("GET", "/pets", tok), a)
	}
	// t1 miss, t2 miss, t1 hit, t3 miss (evicts t2), t1 hit, t2 miss.
	mustCalls(t, z, 4)
	if n := cl.cache.len(); n != 2 {
		t.Fatalf("cache holds %d entries, want 2", n)
	}
	small := NewClient(Options{MaxBytes: 10})
	small.Authorize(context.Background(), req("GET", "/pets", "t1"), a)
	if n := small.cache.len(); n != 0 {
		t.Fatalf("an answer over the byte bound was cached (%d entries)", n)
	}
}

func TestGlobMatchesIAMWildcards(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "anything/at/all", true},
		{"arn:x:pets/*/GET/pets", "arn:x:pets/prod/GET/pets", true},
		{"arn:x:pets/*/GET/pets", "arn:x:pets/prod/GET/pets/1", false},
		{"arn:x:pets/prod/GET/pets*", "arn:x:pets/prod/GET/pets/1", true},
		{"arn:x:pets/prod/?ET/*", "arn:x:pets/prod/GET/a", true},
		{"arn:x:pets/prod/GET/*", "arn:x:pets/prod/DELETE/a", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"ARN", "arn", false},
		{"", "", true},
		{"", "a", false},
		{strings.Repeat("*a", 50), strings.Repeat("a", 100) + "b", false},
	}
	for i, tc := range cases {
		if got := glob(tc.p, tc.s); got != tc.want {
			t.Errorf("case %d: glob(%q, %q) = %v", i, tc.p, tc.s, got)
		}
	}
}

func TestCacheKeysDoNotCollideAcrossValueBoundaries(t *testing.T) {
	if cacheKey("k", []string{"a,b"}) == cacheKey("k", []string{"a", "b"}) ||
		cacheKey("k", []string{"1:a"}) == cacheKey("k", []string{"1", "a"}) {
		t.Fatal("cache keys collide")
	}
}

// Cache keys are hashes: a client sending huge identity values (denials are
// cached too) must not make the cache hold them (review finding 4).
func TestHugeIdentityValuesDoNotGrowTheCache(t *testing.T) {
	z := newAuthz(t, `{"isAuthorized":false}`)
	a := authorizer(z.srv.URL, true, 300)
	deny := func(cl *Client, tok string) {
		t.Helper()
		mustOutcome(t, cl.Authorize(context.Background(), req("GET", "/pets", tok), a), auth.OutcomeForbidden, "isAuthorized=false")
	}

	short, long := NewClient(Options{}), NewClient(Options{})
	deny(short, "t")
	deny(long, strings.Repeat("x", 64<<10))
	if s, l := short.cache.size(), long.cache.size(); s != l || l > len(`{"isAuthorized":false}`)+entryOverhead {
		t.Fatalf("accounted bytes: %d for a 1-byte identity, %d for a 64 KiB one", s, l)
	}

	// What the cache really holds: 200 distinct 64 KiB identities (12.5 MiB
	// as raw keys) must stay far below that.
	const n, size = 200, 64 << 10
	cl := NewClient(Options{})
	pad := strings.Repeat("x", size)
	deny(cl, "0"+pad) // warm up connections and buffers
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 1; i < n; i++ {
		deny(cl, strconv.Itoa(i)+pad) // each token is garbage once answered
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := cl.cache.len(); got != n {
		t.Fatalf("cache holds %d entries, want %d", got, n)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 2<<20 {
		t.Fatalf("caching %d denials of 64 KiB identities grew the heap by %d bytes", n-1, grew)
	}
	runtime.KeepAlive(cl)
}

func TestCacheKeysSeparateConfigurations(t *testing.T) {
	if cacheKey("ka", []string{"b"}) == cacheKey("k", []string{"ab"}) ||
		cacheKey("k1", []string{"v"}) == cacheKey("k2", []string{"v"}) {
		t.Fatal("cache keys collide across configurations")
	}
}

// A client's forwarding headers never reach the authorizer: X-Forwarded-For
// is the source IP the gateway saw, in both payload formats (review
// finding 9).
func TestEventsCarryTheGatewaysForwardingHeadersNotTheClients(t *testing.T) {
	z := newAuthz(t, allowAll)
	cl := NewClient(Options{})
	a := authorizer(z.srv.URL, true, 0)
	q := req("GET", "/pets", "tok")
	h := q.HTTP.Header
	h.Add("X-Forwarded-For", "10.0.0.1")
	h.Add("X-Forwarded-For", "10.0.0.2")
	h.Set("X-Forwarded-Proto", "https")
	h.Set("X-Forwarded-Host", "admin.internal")
	h.Set("X-Forwarded-Port", "443")
	h.Set("X-Real-Ip", "10.0.0.3")
	h.Set("Forwarded", "for=10.0.0.4")
	h.Set("X-Custom", "kept")
	want := map[string]string{
		"x-forwarded-for": "192.0.2.1", "x-forwarded-proto": "http", "x-forwarded-host": "pets.shop.execute-api.localhost",
		"authorization": "tok", "x-custom": "kept",
	}
	gone := []string{"x-forwarded-port", "x-real-ip", "forwarded"}

	mustOutcome(t, cl.Authorize(context.Background(), q, a), auth.OutcomeAllow, "")
	headers, _ := z.lastEvent()["headers"].(map[string]any)
	for k, v := range want {
		if headers[k] != v {
			t.Errorf("2.0 headers[%s] = %v, want %q", k, headers[k], v)
		}
	}
	for _, k := range gone {
		if v, ok := headers[k]; ok {
			t.Errorf("2.0 headers[%s] = %v, want none", k, v)
		}
	}

	a.Request.PayloadFormatVersion = "1.0"
	a.Request.SimpleResponses = false
	z.answer(200, `{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}}`)
	mustOutcome(t, cl.Authorize(context.Background(), q, a), auth.OutcomeAllow, "")
	ev := z.lastEvent()
	single, _ := ev["headers"].(map[string]any)
	multi, _ := ev["multiValueHeaders"].(map[string]any)
	for k, v := range want {
		ck := http.CanonicalHeaderKey(k)
		if single[ck] != v || !jsonEqual(multi[ck], []string{v}) {
			t.Errorf("1.0 %s = %v / %v, want %q", ck, single[ck], multi[ck], v)
		}
	}
	for _, k := range gone {
		ck := http.CanonicalHeaderKey(k)
		if _, ok := single[ck]; ok {
			t.Errorf("1.0 headers[%s] = %v, want none", ck, single[ck])
		}
		if _, ok := multi[ck]; ok {
			t.Errorf("1.0 multiValueHeaders[%s] = %v, want none", ck, multi[ck])
		}
	}
	if got := q.HTTP.Header.Values("X-Forwarded-For"); len(got) != 2 {
		t.Errorf("the request's own headers were changed: X-Forwarded-For %v", got)
	}
}
