package throttle

import (
	"context"
	"sync"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// sweepEvery is how often Local drops state that is indistinguishable from
// no state (full buckets, counters of past periods), so deleted keys and
// routes do not leak memory.
const sweepEvery = time.Minute

// Local keeps buckets and quota counters in process memory. One mutex guards
// all of them: checking several buckets before taking any must be atomic, and
// the critical section is a few map lookups and integer operations.
type Local struct {
	now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*localBucket
	quotas    map[string]*localQuota
	lastSweep time.Time
}

type localBucket struct {
	bucketState
	th table.Throttle // the configuration last used, for the sweep
}

type localQuota struct {
	start, end time.Time
	used       int64
}

// NewLocal returns an empty Local on clock now (nil: time.Now).
func NewLocal(now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	return &Local{now: now, buckets: map[string]*localBucket{}, quotas: map[string]*localQuota{}}
}

// Take implements Limiter.
func (l *Local) Take(_ context.Context, c *Check) Result { return l.run(c) }

// Usage implements Limiter.
func (l *Local) Usage(_ context.Context, id string, q table.Quota) (int64, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if qs := l.quotas[id]; qs != nil {
		if start, _ := PeriodBounds(q, now); qs.start.Equal(start) {
			return qs.used, nil
		}
	}
	return 0, nil
}

func (l *Local) run(c *Check) Result {
	now := l.now()
	us := now.UnixMicro()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	var res Result
	var gw *localBucket
	if c.Gateway != nil {
		gw = l.bucket(c.Gateway)
		gw.refill(us, c.Gateway.Throttle)
		if res.RetryAfter = gw.retryAfter(c.Gateway.Throttle); res.RetryAfter > 0 {
			res.Bucket = c.Gateway.ID
		}
	}
	for i := range c.Buckets {
		s := l.bucket(&c.Buckets[i])
		s.refill(us, c.Buckets[i].Throttle)
		if ra := s.retryAfter(c.Buckets[i].Throttle); ra > res.RetryAfter {
			res.RetryAfter, res.Bucket = ra, c.Buckets[i].ID
		}
	}
	var qs *localQuota
	if c.Quota != nil {
		qs = l.quota(c.Quota, now)
		res.Quota = quotaState(c.Quota.Quota, qs.used, qs.end, now)
	}
	switch {
	case res.RetryAfter > 0:
		res.Verdict = Throttled
		return res
	case qs != nil && qs.used >= c.Quota.Limit:
		res.Verdict, res.RetryAfter = QuotaExceeded, qs.end.Sub(now)
		return res
	}
	if gw != nil {
		gw.tokens -= Unit
	}
	for i := range c.Buckets {
		l.buckets[c.Buckets[i].ID].tokens -= Unit
	}
	if qs != nil {
		qs.used++
		res.Quota.Remaining = max(c.Quota.Limit-qs.used, 0)
	}
	return res
}

func (l *Local) bucket(b *Bucket) *localBucket {
	s := l.buckets[b.ID]
	if s == nil {
		s = &localBucket{}
		l.buckets[b.ID] = s
	}
	s.th = b.Throttle
	return s
}

// quota returns the counter of q for the period containing now, starting a
// new count when the period changed.
func (l *Local) quota(q *QuotaCheck, now time.Time) *localQuota {
	start, end := PeriodBounds(q.Quota, now)
	s := l.quotas[q.ID]
	if s == nil || !s.start.Equal(start) {
		s = &localQuota{start: start, end: end}
		l.quotas[q.ID] = s
	}
	return s
}

func (l *Local) sweep(now time.Time) {
	l.lastSweep = now
	us := now.UnixMicro()
	for id, b := range l.buckets {
		b.refill(us, b.th)
		if b.full(b.th) {
			delete(l.buckets, id)
		}
	}
	for id, q := range l.quotas {
		if !now.Before(q.end) {
			delete(l.quotas, id)
		}
	}
}
