package dataplane

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/metrics"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

// Messages of the throttle and API key answers (api.md, Errors). Part of the
// AWS-compatible contract: never reword them.
const (
	msgThrottled     = "Too Many Requests"
	msgQuotaExceeded = "Limit Exceeded"
	msgKeyForbidden  = "Forbidden"
	msgLimiterDown   = "Service Unavailable"
)

// Default gateway-wide bucket (api.md: like an AWS account, per replica).
const (
	DefaultRateLimit  = 10000
	DefaultBurstLimit = 5000
)

// apiKeyHeader is the canonical form of x-api-key.
const apiKeyHeader = "X-Api-Key" //nolint:gosec // G101: a header name, not a credential

// limits is the per-request state of the throttle and API key steps; it
// lives in the pooled exchange so that a check allocates nothing.
type limits struct {
	grant   *table.KeyGrant
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

// throttle is the step before authorization (api.md, UsagePlan throttling):
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
	if x.fusedLimitSteps() {
		return true
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

// checkAPIKey runs on routes with apiKeyRequired: the x-api-key must hash to
// a key of a plan of this stage (403 otherwise); then the plan's per-key
// bucket, its per-key route bucket and its quota are checked and taken at
// once (the second step of api.md). The tokens throttle took stay taken: a
// plan refusal costs the stage and gateway token, as the per-step rule says.
//
// Fused (a keyed route without an authorizer): a request with a missing or
// unknown key first takes the stage step's tokens (429 if they are gone, else
// 403), exactly as if throttle had run; a request with a valid key checks the
// stage step's and the plan step's buckets and takes them all at once, so a
// plan refusal there costs no token at all.
func (x *exchange) checkAPIKey() bool {
	if !x.route.ApiKeyRequired {
		return true
	}
	key, missing := x.presentedAPIKey()
	if key == "" {
		return x.refuseKey(missing)
	}
	sum := sha256.Sum256([]byte(key))
	g := x.stage.Grant(sum)
	// The map lookup finds a candidate by hash; the comparison that decides is
	// constant-time, so response timing tells nothing about stored hashes.
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], sum[:])
	if g == nil || subtle.ConstantTimeCompare(hexSum[:], []byte(g.Key.Hash)) != 1 {
		return x.refuseKey(fmt.Sprintf("the x-api-key is not a key of a usage plan of stage %q", x.stage.Name))
	}
	x.lim.grant = g
	c := &x.lim.check
	c.Gateway, c.Buckets, c.Quota = nil, x.lim.buckets[:0], nil
	if x.fusedLimitSteps() {
		c = x.stageStep()
	}
	if th := g.Plan.Throttle; th != nil {
		c.Buckets = append(c.Buckets, throttle.Bucket{ID: g.BucketID, Throttle: *th})
	}
	if th, id := g.RouteThrottle(x.route.Key); th != nil {
		c.Buckets = append(c.Buckets, throttle.Bucket{ID: id, Throttle: *th})
	}
	if q := g.Plan.Quota; q != nil {
		x.lim.quota = throttle.QuotaCheck{ID: g.QuotaID, Quota: *q}
		c.Quota = &x.lim.quota
	}
	res := x.s.limiter.Take(x.r.Context(), c)
	if res.Quota != nil {
		setQuotaHeaders(x.w.Header(), res.Quota.Limit, res.Quota.Remaining, ceilSeconds(res.Quota.Reset))
	}
	return x.admit(res)
}

// setQuotaHeaders sets RateLimit-Limit, -Remaining and -Reset. The three
// numbers share one string and the three values one array (two allocations
// instead of six on every keyed request).
func setQuotaHeaders(h http.Header, limit, remaining, reset int64) {
	var buf [64]byte
	b := strconv.AppendInt(buf[:0], limit, 10)
	i := len(b)
	b = strconv.AppendInt(b, remaining, 10)
	j := len(b)
	b = strconv.AppendInt(b, reset, 10)
	all := string(b)
	vals := [3]string{all[:i], all[i:j], all[j:]}
	v := vals[:] // escapes once: the header map keeps sub-slices
	h["Ratelimit-Limit"] = v[0:1:1]
	h["Ratelimit-Remaining"] = v[1:2:2]
	h["Ratelimit-Reset"] = v[2:3:3]
}

// refuseKey answers 403 for a missing or unknown key. On a fused route the
// stage step has not run yet: it runs first, so the refusal costs its tokens
// and an empty stage bucket answers 429, as on any other route.
func (x *exchange) refuseKey(hint string) bool {
	if x.fusedLimitSteps() && !x.admit(x.s.limiter.Take(x.r.Context(), x.stageStep())) {
		return false
	}
	x.fail(http.StatusForbidden, msgKeyForbidden, hint)
	return false
}

// presentedAPIKey is the request's API key: the x-api-key header, or with
// apiKeySource AUTHORIZER the usageIdentifierKey of the route's authorizer
// answer (the header is then ignored, as on AWS). When there is none, the
// second value says why, for the hint.
func (x *exchange) presentedAPIKey() (key, missing string) {
	if x.api.ApiKeyFromAuthorizer {
		if x.authz == nil || x.authz.UsageIdentifierKey == "" {
			return "", "the Api takes API keys from its authorizer (apiKeySource AUTHORIZER) and the authorizer's answer has no usageIdentifierKey"
		}
		return x.authz.UsageIdentifierKey, ""
	}
	if v := x.r.Header[apiKeyHeader]; len(v) > 0 && v[0] != "" {
		return v[0], ""
	}
	return "", "the route requires an API key and the request has no x-api-key header"
}

// admit answers a refused check: 429 with Retry-After, or 503 when the
// shared store is down and the failure mode is closed (never 429 then).
func (x *exchange) admit(res throttle.Result) bool {
	switch res.Verdict {
	case throttle.Allowed:
		return true
	case throttle.Unavailable:
		x.fail(http.StatusServiceUnavailable, msgLimiterDown,
			fmt.Sprintf("the shared rate-limit store failed (%v) and --redis-failure-mode is closed", res.StoreErr))
		return false
	case throttle.QuotaExceeded:
		x.s.metrics.QuotaExceeded()
		x.w.Header()["Retry-After"] = []string{strconv.FormatInt(ceilSeconds(res.RetryAfter), 10)}
		x.fail(http.StatusTooManyRequests, msgQuotaExceeded,
			fmt.Sprintf("the API key %s used up the quota of usage plan %s/%s", x.lim.grant.Key.ID, x.lim.grant.Plan.Namespace, x.lim.grant.Plan.Name))
		return false
	}
	x.s.metrics.Throttled(x.throttleLevel(res.Bucket))
	x.w.Header()["Retry-After"] = []string{strconv.FormatInt(ceilSeconds(res.RetryAfter), 10)}
	x.fail(http.StatusTooManyRequests, msgThrottled, x.throttleHint(res.Bucket))
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
