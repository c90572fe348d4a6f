package throttle

import (
	"context"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Verdict is the outcome of a Check.
type Verdict uint8

// Verdicts.
const (
	// Allowed: every bucket and the quota admitted the request.
	Allowed Verdict = iota
	// Throttled: a bucket is empty (429 "Too Many Requests").
	Throttled
	// QuotaExceeded: the buckets admit but the quota is used up (429 "Limit Exceeded").
	QuotaExceeded
	// Unavailable: the shared store failed and the failure mode is closed (503).
	Unavailable
)

// GatewayID is the identity of the gateway-wide bucket.
const GatewayID = "gateway"

// QuotaCheck is the quota of a Check: its counter's identity and its terms.
type QuotaCheck struct {
	ID string
	table.Quota
}

// Check is one step's buckets and quota. Gateway is the per-replica
// gateway-wide bucket; Buckets may be shared between replicas.
type Check struct {
	Gateway *Bucket
	Buckets []Bucket
	Quota   *QuotaCheck
}

// Result is a Limiter's answer.
type Result struct {
	Verdict Verdict
	// RetryAfter is set for Throttled and QuotaExceeded.
	RetryAfter time.Duration
	// Bucket is the ID of the bucket that refused a Throttled request
	// (GatewayID for the gateway-wide bucket), for hints and logs.
	Bucket string
	// Quota is set when the Check had a quota: its state after the check.
	Quota *QuotaState
	// StoreErr is the shared store's error, if any (the Verdict then follows
	// the failure mode: Allowed when open, Unavailable when closed).
	StoreErr error
}

// QuotaState is a quota counter as the RateLimit-* headers show it.
type QuotaState struct {
	Limit, Remaining int64
	// Reset is the time left in the period.
	Reset time.Duration
}

// Limiter takes tokens. Implementations are safe for concurrent use.
type Limiter interface {
	// Take checks every bucket and the quota of c and, only if all admit,
	// takes one token from each and counts one request.
	Take(ctx context.Context, c *Check) Result
	// Usage returns how many requests the quota counter id has counted in
	// the current period of q.
	Usage(ctx context.Context, id string, q table.Quota) (int64, error)
}

// quotaState builds the QuotaState of a counter at used in [start, end) at now.
func quotaState(q table.Quota, used int64, end, now time.Time) *QuotaState {
	return &QuotaState{Limit: q.Limit, Remaining: max(q.Limit-used, 0), Reset: end.Sub(now)}
}
