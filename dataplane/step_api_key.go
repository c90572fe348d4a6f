package dataplane

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"

	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

// msgKeyForbidden answers a missing or unknown API key (api.md, Errors).
const msgKeyForbidden = "Forbidden"

// apiKeyHeader is the canonical form of x-api-key.
const apiKeyHeader = "X-Api-Key" //nolint:gosec // G101: a header name, not a credential

// checkAPIKey is the API key and usage plan step, on routes with apiKeyRequired: the x-api-key must hash to
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
	x.lim.grant, x.lim.key = g, key
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
