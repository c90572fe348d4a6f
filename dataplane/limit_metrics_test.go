package dataplane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

// throttledWant is the exposition of turnpike_throttled_total and
// turnpike_quota_exceeded_total for the given counts.
func throttledWant(gateway, route, plan, planRoute, quota int) string {
	return `
# HELP turnpike_quota_exceeded_total Requests refused with 429 Limit Exceeded because the API key used up its usage plan's quota.
# TYPE turnpike_quota_exceeded_total counter
turnpike_quota_exceeded_total ` + strconv.Itoa(quota) + `
# HELP turnpike_throttled_total Requests refused with 429 Too Many Requests, by the level of the bucket that was empty (gateway, route, plan, plan_route).
# TYPE turnpike_throttled_total counter
turnpike_throttled_total{level="gateway"} ` + strconv.Itoa(gateway) + `
turnpike_throttled_total{level="plan"} ` + strconv.Itoa(plan) + `
turnpike_throttled_total{level="plan_route"} ` + strconv.Itoa(planRoute) + `
turnpike_throttled_total{level="route"} ` + strconv.Itoa(route) + `
`
}

func TestEachThrottleRefusalIsCountedAtTheLevelOfTheEmptyBucketAndQuotaRefusalsApart(t *testing.T) {
	noQuota := &table.Plan{Namespace: "shop", Name: "gold", Throttle: &table.Throttle{BurstLimit: 1},
		Keys: []table.APIKey{{ID: "k", Object: "shop/k", Hash: hashKey(goldKey)}}}
	for _, tc := range []struct {
		name    string
		opts    Options
		plan    *table.Plan // replaces limitsApi's gold plan when set
		target  string
		key     string
		n       int
		refused int
		want    string
	}{
		{"gateway", Options{GatewayThrottle: table.Throttle{RateLimit: 1, BurstLimit: 2}}, nil, "/prod/open", "", 5, 3, throttledWant(3, 0, 0, 0, 0)},
		{"route", Options{}, nil, "/prod/slow", "", 3, 2, throttledWant(0, 2, 0, 0, 0)},
		{"plan", Options{}, noQuota, "/prod/keyed", goldKey, 3, 2, throttledWant(0, 0, 2, 0, 0)},
		{"plan route", Options{}, nil, "/prod/keyed2", goldKey, 3, 1, throttledWant(0, 0, 0, 1, 0)},
		{"quota", Options{}, nil, "/prod/keyed", goldKey, 5, 2, throttledWant(0, 0, 0, 0, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			tc.opts.Metrics = reg
			s, _ := newLimitsServer(t, tc.opts)
			if tc.plan != nil {
				s.Swap(withPlan(t, tc.plan))
			}
			if got := statuses(s, tc.target, tc.key, tc.n); got[429] != tc.refused {
				t.Fatalf("want %d refusals, got %v", tc.refused, got)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tc.want),
				"turnpike_throttled_total", "turnpike_quota_exceeded_total"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestForbiddenKeysAndUnavailableStoresAreNotCountedAsThrottled(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	s, _ := newLimitsServer(t, Options{Metrics: reg})
	if got := statuses(s, "/prod/keyed", otherKey, 3); got[403] != 3 {
		t.Fatalf("unknown keys: %v", got)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(throttledWant(0, 0, 0, 0, 0)),
		"turnpike_throttled_total", "turnpike_quota_exceeded_total"); err != nil {
		t.Fatal(err)
	}
	reg = prometheus.NewPedanticRegistry()
	s, _ = newLimitsServer(t, Options{Metrics: reg, Limiter: downLimiter{throttle.Unavailable}})
	if got := statuses(s, "/prod/keyed", goldKey, 2); got[http.StatusServiceUnavailable] != 2 {
		t.Fatalf("store down, failure mode closed: %v", got)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(throttledWant(0, 0, 0, 0, 0)),
		"turnpike_throttled_total", "turnpike_quota_exceeded_total"); err != nil {
		t.Fatal(err)
	}
}

func TestAuthorizerDecisionsErrorsAndAnswerCacheUseAreExported(t *testing.T) {
	srv, _ := authzServer(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwksDown := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer jwksDown.Close()
	jwtAuthz := &table.Authorizer{Object: "shop/jwt", Type: table.AuthorizerJWT,
		JWT: &table.JWTAuthorizer{Issuer: "https://issuer.example", Audiences: []string{"pets"}, JWKSURI: jwksDown.URL, Algorithms: []string{"ES256"}}}
	reg := prometheus.NewPedanticRegistry()
	s := NewServer(Options{Forwarder: &fakeForwarder{}, AllowHTTPJWKS: true, Metrics: reg})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod",
		authRoute(mockRoute("GET /simple", 200, "ok"), requestAuthz(srv.URL, true)),
		authRoute(mockRoute("GET /jwt", 200, "jwt"), jwtAuthz),
		mockRoute("GET /public", 200, "public"),
	))))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"iss": "https://issuer.example", "aud": "pets", "sub": "u", "exp": time.Now().Add(time.Hour).Unix()})
	obj, _ := signer.Sign(payload)
	token, _ := obj.CompactSerialize()

	for _, tc := range []struct {
		path, authz string
		status      int
	}{
		{"/prod/public", "", 200},         // no authorizer: not counted
		{"/prod/simple", "allow", 200},    // cache miss, call
		{"/prod/simple", "allow", 200},    // cache hit
		{"/prod/simple", "garbage", 500},  // cache miss, error
		{"/prod/simple", "", 401},         // identity source missing: no lookup
		{"/prod/jwt", "Bearer nope", 401}, // malformed token
		{"/prod/jwt", "Bearer " + token, 500},
	} {
		if w := doAuth(s, "GET", tc.path, tc.authz); w.Code != tc.status {
			t.Fatalf("%s (%s): got %d %s, want %d", tc.path, tc.authz, w.Code, trimBody(w), tc.status)
		}
	}
	want := `
# HELP turnpike_authorizer_cache_hits_total REQUEST authorizer answers served from the answer cache.
# TYPE turnpike_authorizer_cache_hits_total counter
turnpike_authorizer_cache_hits_total 1
# HELP turnpike_authorizer_cache_misses_total REQUEST authorizer answer cache lookups that found nothing or an expired answer (the authorizer is then called).
# TYPE turnpike_authorizer_cache_misses_total counter
turnpike_authorizer_cache_misses_total 2
# HELP turnpike_authorizer_calls_total Requests decided by an authorizer, by authorizer type (jwt, request); REQUEST answers served from the cache count too.
# TYPE turnpike_authorizer_calls_total counter
turnpike_authorizer_calls_total{type="jwt"} 2
turnpike_authorizer_calls_total{type="request"} 4
# HELP turnpike_authorizer_errors_total Authorizer decisions that failed (500: unreachable, timed out, malformed answer, signing keys unavailable), by authorizer type.
# TYPE turnpike_authorizer_errors_total counter
turnpike_authorizer_errors_total{type="jwt"} 1
turnpike_authorizer_errors_total{type="request"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"turnpike_authorizer_calls_total", "turnpike_authorizer_errors_total",
		"turnpike_authorizer_cache_hits_total", "turnpike_authorizer_cache_misses_total"); err != nil {
		t.Fatal(err)
	}
}
