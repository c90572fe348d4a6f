package dataplane

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/metrics"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// Messages of the throttle and API key answers (api.md, Errors). Part of the
// AWS-compatible contract: never reword them.
const (
	msgThrottled     = "Too Many Requests"
	msgQuotaExceeded = "Limit Exceeded"
	msgLimiterDown   = "Service Unavailable"
)

// Default gateway-wide bucket (api.md: like an AWS account, per replica).
const (
	DefaultRateLimit  = 10000
	DefaultBurstLimit = 5000
)

// limits is the per-request state of the throttle and API key steps; it
// lives in the pooled exchange so that a check allocates nothing.
type limits struct {
	// grant is the request's API key grant, key the key (for Lambda
	// events' identity.apiKey); set once the key is checked.
	grant   *table.KeyGrant
	key     string
	buckets [3]throttle.Bucket
	quota   throttle.QuotaCheck
	check   throttle.Check
}

// newLimiter returns the limiter and gateway bucket of o: Options.Limiter,
// else a per-process throttle.Local; GatewayThrottle, else the defaults.
func newLimiter(o Options) (throttle.Limiter, throttle.Bucket) {
	l := o.Limiter
	if l == nil {
		l = throttle.NewLocal(nil)
	}
	gw := o.GatewayThrottle
	if gw == (table.Throttle{}) {
		gw = table.Throttle{RateLimit: DefaultRateLimit, BurstLimit: DefaultBurstLimit}
	}
	return l, throttle.Bucket{ID: throttle.GatewayID, Throttle: gw}
}

// throttle is the throttle step, before authorization (api.md, UsagePlan
// throttling):
// the gateway-wide bucket and the route's stage/route bucket are checked and,
// only if both admit, one token is taken from each. This holds for every
// route, apiKeyRequired or not, so requests that authorization or the key
// check will refuse still spend these tokens: a flood of bad tokens or keys
// is throttled here before it reaches an authorizer.
//
// A keyed route without an authorizer has nothing between this step and the
// key check but a local hash lookup, so checkAPIKey runs both steps there
// (fused): with a shared store that is one round trip instead of two.
func (x *exchange) throttle() bool {
	if x.ws != nil && x.ws.Type == websocket.Disconnect {
		return true // $disconnect is best effort, never refused for a rate
	}
	if x.fusedLimitSteps() {
		return true // fused: checkAPIKey takes this step's buckets with the plan's
	}
	return x.admit(x.s.limiter.Take(x.r.Context(), x.stageStep()))
}

// fusedLimitSteps: the route needs an API key and has no authorizer, so the
// stage step and the plan step run together in checkAPIKey.
func (x *exchange) fusedLimitSteps() bool {
	return x.route.ApiKeyRequired && x.route.Auth == nil
}

// stageStep fills the request's check with the first step's buckets: the
// gateway-wide bucket and the route's stage/route bucket.
func (x *exchange) stageStep() *throttle.Check {
	c := &x.lim.check
	c.Gateway, c.Buckets, c.Quota = &x.s.gateway, x.lim.buckets[:0], nil
	if th := x.route.Throttle; th != nil {
		c.Buckets = append(c.Buckets, throttle.Bucket{ID: x.route.ThrottleID(), Throttle: *th})
	}
	return c
}

// admit answers a refused check: 429 with Retry-After, or 503 when the
// shared store is down and the failure mode is closed (never 429 then).
func (x *exchange) admit(res throttle.Result) bool {
	switch res.Verdict {
	case throttle.Allowed:
		return true
	case throttle.Unavailable:
		x.fail(gatewayresp.Default5XX, http.StatusServiceUnavailable, msgLimiterDown,
			fmt.Sprintf("the shared rate-limit store failed (%v) and --redis-failure-mode is closed", res.StoreErr))
		return false
	case throttle.QuotaExceeded:
		x.s.metrics.QuotaExceeded()
		x.w.Header()["Retry-After"] = []string{strconv.FormatInt(ceilSeconds(res.RetryAfter), 10)}
		x.fail(gatewayresp.QuotaExceeded, http.StatusTooManyRequests, msgQuotaExceeded,
			fmt.Sprintf("the API key %s used up the quota of usage plan %s/%s", x.lim.grant.Key.ID, x.lim.grant.Plan.Namespace, x.lim.grant.Plan.Name))
		return false
	}
	x.s.metrics.Throttled(x.throttleLevel(res.Bucket))
	x.w.Header()["Retry-After"] = []string{strconv.FormatInt(ceilSeconds(res.RetryAfter), 10)}
	x.fail(gatewayresp.Throttled, http.StatusTooManyRequests, msgThrottled, x.throttleHint(res.Bucket))
	return false
}

// throttleLevel is the metrics level of the bucket that refused, decided as
// throttleHint decides; a bucket of no known level counts as the route's.
func (x *exchange) throttleLevel(id string) metrics.ThrottleLevel {
	g := x.lim.grant
	switch {
	case id == throttle.GatewayID:
		return metrics.ThrottleGateway
	case id == x.route.ThrottleID():
		return metrics.ThrottleRoute
	case g != nil && id == g.BucketID:
		return metrics.ThrottlePlan
	case g != nil:
		return metrics.ThrottlePlanRoute
	}
	return metrics.ThrottleRoute
}

// throttleHint names the level of the bucket that refused, never a key hash.
func (x *exchange) throttleHint(id string) string {
	g := x.lim.grant
	switch {
	case id == throttle.GatewayID:
		return "the gateway-wide bucket (--rate-limit/--burst-limit) is empty"
	case id == x.route.ThrottleID():
		return fmt.Sprintf("the throttle of route %q in stage %q is exhausted", x.route.Key, x.stage.Name)
	case g != nil && id == g.BucketID:
		return fmt.Sprintf("the API key %s exceeded the throttle of usage plan %s/%s", g.Key.ID, g.Plan.Namespace, g.Plan.Name)
	case g != nil:
		return fmt.Sprintf("the API key %s exceeded the route throttle of usage plan %s/%s for %q", g.Key.ID, g.Plan.Namespace, g.Plan.Name, x.route.Key)
	}
	return "a token bucket is empty"
}

// ceilSeconds rounds d up to whole seconds, at least 1 (HTTP delta-seconds).
func ceilSeconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}
