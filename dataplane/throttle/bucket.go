package throttle

import (
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Unit is the number of micro-tokens in one token. A bucket of rate r gains
// r micro-tokens per microsecond, which is r tokens per second exactly.
const Unit = 1_000_000

// neverRetry is the Retry-After of a bucket that can never admit a request
// again (rate 0 or burst 0): a minute, so clients back off without being
// told "never".
const neverRetry = time.Minute

// Bucket is one token bucket of a Check: its stable identity and its size.
type Bucket struct {
	// ID is the stable identity (table.Route.ThrottleID, KeyGrant.BucketID, ...).
	ID string
	table.Throttle
}

// bucketState is a bucket's content: micro-tokens at the time last (µs).
type bucketState struct {
	tokens, last int64
}

// refill brings s to time now (µs) for a bucket of rate and burst. A new
// bucket (last == 0) starts full. A clock that steps back adds nothing. The
// arithmetic never overflows: tokens stays within [0, burst*Unit] and the
// product elapsed*rate is only formed when it is below the missing amount
// plus one rate.
func (s *bucketState) refill(now int64, th table.Throttle) {
	capacity := int64(th.BurstLimit) * Unit
	if s.last == 0 {
		s.tokens, s.last = capacity, now
		return
	}
	elapsed := max(now-s.last, 0)
	need := capacity - s.tokens
	switch {
	case need <= 0:
		s.tokens = capacity // full, or the burst was lowered
	case th.RateLimit > 0:
		rate := int64(th.RateLimit)
		if elapsed >= (need+rate-1)/rate {
			s.tokens = capacity
		} else {
			s.tokens += elapsed * rate
		}
	}
	s.last = max(now, s.last)
}

// full reports whether the refilled bucket is indistinguishable from a new one.
func (s *bucketState) full(th table.Throttle) bool {
	return s.tokens >= int64(th.BurstLimit)*Unit
}

// retryAfter is how long until the refilled bucket holds one token.
func (s *bucketState) retryAfter(th table.Throttle) time.Duration {
	if s.tokens >= Unit {
		return 0
	}
	if th.RateLimit <= 0 || th.BurstLimit <= 0 {
		return neverRetry
	}
	rate := int64(th.RateLimit)
	return time.Duration((Unit-s.tokens+rate-1)/rate) * time.Microsecond
}
