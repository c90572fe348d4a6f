package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// ThrottleLevel is the level of the token bucket that refused a request with
// 429 "Too Many Requests": the label of turnpike_throttled_total.
type ThrottleLevel uint8

// Throttle levels, in the order the dataplane checks them.
const (
	// ThrottleGateway is the gateway-wide bucket (--rate-limit, --burst-limit).
	ThrottleGateway ThrottleLevel = iota
	// ThrottleRoute is the stage's bucket for the route (stage default or
	// route setting).
	ThrottleRoute
	// ThrottlePlan is a usage plan's bucket of one API key.
	ThrottlePlan
	// ThrottlePlanRoute is a usage plan's per-route bucket of one API key.
	ThrottlePlanRoute
	numThrottleLevels
)

// throttleLevels are the label values, indexed by ThrottleLevel.
var throttleLevels = [numThrottleLevels]string{"gateway", "route", "plan", "plan_route"}

// String is the label value of l ("" for an unknown level).
func (l ThrottleLevel) String() string {
	if l >= numThrottleLevels {
		return ""
	}
	return throttleLevels[l]
}

// AuthorizerType is the label of the authorizer metrics.
type AuthorizerType uint8

// Authorizer types.
const (
	AuthorizerJWT AuthorizerType = iota
	AuthorizerRequest
	numAuthorizerTypes
)

// authorizerTypes are the label values, indexed by AuthorizerType.
var authorizerTypes = [numAuthorizerTypes]string{"jwt", "request"}

// String is the label value of t ("" for an unknown type).
func (t AuthorizerType) String() string {
	if t >= numAuthorizerTypes {
		return ""
	}
	return authorizerTypes[t]
}

// LabelLevel and LabelType are the labels of the throttle and authorizer
// metrics.
const (
	LabelLevel = "level"
	LabelType  = "type"
)

// limitCounters are the throttle, quota and authorizer counters. Every child
// is resolved in New (labels are the fixed sets above), so counting is one
// atomic add and never allocates; every series exists from the start at 0,
// which lets rate() and ratios work before the first refusal.
type limitCounters struct {
	throttled  [numThrottleLevels]prometheus.Counter
	quota      prometheus.Counter
	authCalls  [numAuthorizerTypes]prometheus.Counter
	authErrors [numAuthorizerTypes]prometheus.Counter
	authCache  *authCacheCollector
}

func newLimitCounters() (limitCounters, []prometheus.Collector) {
	throttled := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "turnpike_throttled_total",
		Help: "Requests refused with 429 Too Many Requests, by the level of the bucket that was empty (gateway, route, plan, plan_route).",
	}, []string{LabelLevel})
	quota := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "turnpike_quota_exceeded_total",
		Help: "Requests refused with 429 Limit Exceeded because the API key used up its usage plan's quota.",
	})
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "turnpike_authorizer_calls_total",
		Help: "Requests decided by an authorizer, by authorizer type (jwt, request); REQUEST answers served from the cache count too.",
	}, []string{LabelType})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "turnpike_authorizer_errors_total",
		Help: "Authorizer decisions that failed (500: unreachable, timed out, malformed answer, signing keys unavailable), by authorizer type.",
	}, []string{LabelType})
	c := limitCounters{quota: quota, authCache: newAuthCacheCollector()}
	for l := range numThrottleLevels {
		c.throttled[l] = throttled.WithLabelValues(l.String())
	}
	for t := range numAuthorizerTypes {
		c.authCalls[t] = calls.WithLabelValues(t.String())
		c.authErrors[t] = errs.WithLabelValues(t.String())
	}
	return c, []prometheus.Collector{throttled, quota, calls, errs, c.authCache}
}

// Throttled counts one 429 "Too Many Requests" at level l.
func (m *Metrics) Throttled(l ThrottleLevel) {
	if m == nil || l >= numThrottleLevels {
		return
	}
	m.limits.throttled[l].Inc()
}

// QuotaExceeded counts one 429 "Limit Exceeded".
func (m *Metrics) QuotaExceeded() {
	if m == nil {
		return
	}
	m.limits.quota.Inc()
}

// AuthorizerDecided counts one authorizer decision of type t; failed is set
// when the authorizer could not decide (the request got 500).
func (m *Metrics) AuthorizerDecided(t AuthorizerType, failed bool) {
	if m == nil || t >= numAuthorizerTypes {
		return
	}
	m.limits.authCalls[t].Inc()
	if failed {
		m.limits.authErrors[t].Inc()
	}
}

// SetAuthorizerCache makes turnpike_authorizer_cache_hits_total and
// turnpike_authorizer_cache_misses_total read stats at scrape time: the
// REQUEST answer cache keeps its own counters, so a lookup costs no metric
// update. Until it is set the two metrics are not exported.
func (m *Metrics) SetAuthorizerCache(stats func() (hits, misses uint64)) {
	if m == nil || stats == nil {
		return
	}
	m.limits.authCache.stats.Store(&stats)
}

// authCacheCollector exports the REQUEST answer cache counters at scrape time.
type authCacheCollector struct {
	hits, misses *prometheus.Desc
	stats        atomic.Pointer[func() (hits, misses uint64)]
}

func newAuthCacheCollector() *authCacheCollector {
	return &authCacheCollector{
		hits: prometheus.NewDesc("turnpike_authorizer_cache_hits_total",
			"REQUEST authorizer answers served from the answer cache.", nil, nil),
		misses: prometheus.NewDesc("turnpike_authorizer_cache_misses_total",
			"REQUEST authorizer answer cache lookups that found nothing or an expired answer (the authorizer is then called).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *authCacheCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.hits; ch <- c.misses }

// Collect implements prometheus.Collector.
func (c *authCacheCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.stats.Load()
	if f == nil {
		return
	}
	hits, misses := (*f)()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(misses))
}
