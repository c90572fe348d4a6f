package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCountingRefusalsAndAuthorizerDecisionsDoesNotAllocate(t *testing.T) {
	m := New(prometheus.NewRegistry(), nil)
	if a := testing.AllocsPerRun(1000, func() {
		m.Throttled(ThrottlePlanRoute)
		m.QuotaExceeded()
		m.AuthorizerDecided(AuthorizerRequest, true)
	}); a != 0 {
		t.Fatalf("want 0 allocations, got %v", a)
	}
	if got := testutil.ToFloat64(m.limits.throttled[ThrottlePlanRoute]); got != 1001 {
		t.Fatalf("plan_route: want 1001 (the warm-up run counts), got %v", got)
	}
}

func TestUnknownLevelsAndTypesAreIgnoredAndANilMetricsRecordsNothing(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, nil)
	m.Throttled(numThrottleLevels)
	m.AuthorizerDecided(numAuthorizerTypes, true)
	want := `
# HELP turnpike_throttled_total Requests refused with 429 Too Many Requests, by the level of the bucket that was empty (gateway, route, plan, plan_route).
# TYPE turnpike_throttled_total counter
turnpike_throttled_total{level="gateway"} 0
turnpike_throttled_total{level="plan"} 0
turnpike_throttled_total{level="plan_route"} 0
turnpike_throttled_total{level="route"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "turnpike_throttled_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.limits.authCache); n != 0 {
		t.Fatalf("the cache counters are not exported before SetAuthorizerCache, got %d series", n)
	}
	var none *Metrics
	none.Throttled(ThrottleGateway)
	none.QuotaExceeded()
	none.AuthorizerDecided(AuthorizerJWT, true)
	none.SetAuthorizerCache(func() (uint64, uint64) { return 1, 1 })
}

func TestTheAuthorizerCacheCountersAreReadAtScrapeTime(t *testing.T) {
	m := New(prometheus.NewRegistry(), nil)
	var hits, misses uint64 = 3, 1
	m.SetAuthorizerCache(func() (uint64, uint64) { return hits, misses })
	hits = 5
	want := `
# HELP turnpike_authorizer_cache_hits_total REQUEST authorizer answers served from the answer cache.
# TYPE turnpike_authorizer_cache_hits_total counter
turnpike_authorizer_cache_hits_total 5
# HELP turnpike_authorizer_cache_misses_total REQUEST authorizer answer cache lookups that found nothing or an expired answer (the authorizer is then called).
# TYPE turnpike_authorizer_cache_misses_total counter
turnpike_authorizer_cache_misses_total 1
`
	if err := testutil.CollectAndCompare(m.limits.authCache, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
