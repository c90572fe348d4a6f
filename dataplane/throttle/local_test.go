package throttle

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// fakeClock is an injected clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2024, 2, 28, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func bucket(id string, rate, burst int32) Bucket {
	return Bucket{ID: id, Throttle: table.Throttle{RateLimit: rate, BurstLimit: burst}}
}

// admitted takes n times and counts the Allowed verdicts.
func admitted(l Limiter, c *Check, n int) int {
	ok := 0
	for range n {
		if l.Take(context.Background(), c).Verdict == Allowed {
			ok++
		}
	}
	return ok
}

func TestANewBucketAdmitsItsBurstThenRefillsAtItsRate(t *testing.T) {
	clk := newClock()
	l := NewLocal(clk.now)
	c := &Check{Buckets: []Bucket{bucket("b", 10, 5)}}
	if got := admitted(l, c, 20); got != 5 {
		t.Fatalf("burst: admitted %d, want 5", got)
	}
	res := l.Take(context.Background(), c)
	if res.Verdict != Throttled || res.RetryAfter != 100*time.Millisecond {
		t.Fatalf("empty bucket: got %+v, want Throttled with RetryAfter 100ms", res)
	}
	clk.advance(time.Second)
	if got := admitted(l, c, 20); got != 5 {
		t.Fatalf("after 1s at 10/s the bucket holds its burst of 5: admitted %d", got)
	}
	clk.advance(300 * time.Millisecond)
	if got := admitted(l, c, 20); got != 3 {
		t.Fatalf("after 300ms at 10/s: admitted %d, want 3", got)
	}
}

func TestARefusedRequestTakesNoTokenFromAnyBucket(t *testing.T) {
	clk := newClock()
	l := NewLocal(clk.now)
	wide := bucket("wide", 0, 10)
	narrow := bucket("narrow", 0, 2)
	both := &Check{Gateway: &wide, Buckets: []Bucket{narrow}}
	if got := admitted(l, both, 5); got != 2 {
		t.Fatalf("admitted %d, want 2 (the narrow burst)", got)
	}
	alone := &Check{Buckets: []Bucket{wide}}
	if got := admitted(l, alone, 20); got != 8 {
		t.Fatalf("the wide bucket lost tokens to refused requests: admitted %d, want 8", got)
	}
}

func TestZeroRateOrBurstNeverAdmitsOnceEmpty(t *testing.T) {
	clk := newClock()
	l := NewLocal(clk.now)
	zeroBurst := &Check{Buckets: []Bucket{bucket("z", 100, 0)}}
	res := l.Take(context.Background(), zeroBurst)
	if res.Verdict != Throttled || res.RetryAfter != neverRetry {
		t.Fatalf("burst 0: got %+v", res)
	}
	zeroRate := &Check{Buckets: []Bucket{bucket("r", 0, 1)}}
	admitted(l, zeroRate, 1)
	clk.advance(24 * time.Hour)
	if res := l.Take(context.Background(), zeroRate); res.Verdict != Throttled || res.RetryAfter != neverRetry {
		t.Fatalf("rate 0 refilled: got %+v", res)
	}
}

func TestAChangedBurstKeepsTheTokensClampedToTheNewBurst(t *testing.T) {
	clk := newClock()
	l := NewLocal(clk.now)
	admitted(l, &Check{Buckets: []Bucket{bucket("b", 0, 10)}}, 4) // 6 left
	if got := admitted(l, &Check{Buckets: []Bucket{bucket("b", 0, 3)}}, 10); got != 3 {
		t.Fatalf("lowered burst: admitted %d, want 3", got)
	}
	admitted(l, &Check{Buckets: []Bucket{bucket("c", 0, 5)}}, 4) // 1 left
	if got := admitted(l, &Check{Buckets: []Bucket{bucket("c", 0, 50)}}, 10); got != 1 {
		t.Fatalf("raised burst must not refill: admitted %d, want 1", got)
	}
}

func TestAClockSteppingBackAddsNoTokens(t *testing.T) {
	clk := newClock()
	l := NewLocal(clk.now)
	c := &Check{Buckets: []Bucket{bucket("b", 1000, 1)}}
	admitted(l, c, 1)
	clk.advance(-time.Hour)
	if got := admitted(l, c, 5); got != 0 {
		t.Fatalf("admitted %d after the clock stepped back", got)
	}
}

func TestHugeIdleTimesDoNotOverflow(t *testing.T) {
	clk := newClock()
	l := NewLocal(clk.now)
	c := &Check{Buckets: []Bucket{bucket("b", 1_000_000, 1_000_000)}}
	admitted(l, c, 10)
	clk.advance(200 * 365 * 24 * time.Hour)
	if got := admitted(l, c, 1); got != 1 {
		t.Fatal("bucket broken after a long idle time")
	}
	l.mu.Lock()
	tok := l.buckets["b"].tokens
	l.mu.Unlock()
	if tok != (1_000_000-1)*Unit {
		t.Fatalf("tokens %d, want a full bucket minus one", tok)
	}
}

func TestTheQuotaCountsOnlyRequestsEveryBucketAdmitted(t *testing.T) {
	clk := newClock()
	l := NewLocal(clk.now)
	q := &QuotaCheck{ID: "q", Quota: table.Quota{Limit: 3, Period: table.QuotaDay}}
	c := &Check{Buckets: []Bucket{bucket("b", 0, 2)}, Quota: q}
	if got := admitted(l, c, 5); got != 2 {
		t.Fatalf("admitted %d, want 2", got)
	}
	used, _ := l.Usage(context.Background(), "q", q.Quota)
	if used != 2 {
		t.Fatalf("quota counted %d, want 2 (throttled requests do not count)", used)
	}
	open := &Check{Quota: q}
	res := l.Take(context.Background(), open)
	if res.Verdict != Allowed || res.Quota.Remaining != 0 || res.Quota.Limit != 3 || res.Quota.Reset != 12*time.Hour {
		t.Fatalf("third request: %+v %+v", res, res.Quota)
	}
	res = l.Take(context.Background(), open)
	if res.Verdict != QuotaExceeded || res.RetryAfter != 12*time.Hour {
		t.Fatalf("fourth request: %+v", res)
	}
	clk.advance(12 * time.Hour)
	if res := l.Take(context.Background(), open); res.Verdict != Allowed || res.Quota.Remaining != 2 {
		t.Fatalf("a new day starts a new count: %+v %+v", res, res.Quota)
	}
}

func TestAThrottledRequestIsReportedBeforeAnExhaustedQuota(t *testing.T) {
	l := NewLocal(newClock().now)
	q := &QuotaCheck{ID: "q", Quota: table.Quota{Limit: 1, Period: table.QuotaDay}}
	admitted(l, &Check{Quota: q}, 1)
	res := l.Take(context.Background(), &Check{Buckets: []Bucket{bucket("b", 1, 0)}, Quota: q})
	if res.Verdict != Throttled {
		t.Fatalf("got %v, want Throttled", res.Verdict)
	}
}

func TestTheSweepDropsOnlyStateEqualToNoState(t *testing.T) {
	clk := newClock()
	l := NewLocal(clk.now)
	admitted(l, &Check{Buckets: []Bucket{bucket("refills", 100, 1)}}, 1)
	admitted(l, &Check{Buckets: []Bucket{bucket("stays-empty", 0, 1)}}, 1)
	admitted(l, &Check{Quota: &QuotaCheck{ID: "q", Quota: table.Quota{Limit: 5, Period: table.QuotaDay}}}, 1)
	clk.advance(2 * sweepEvery)
	admitted(l, &Check{}, 1) // triggers the sweep
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.buckets["refills"]; ok {
		t.Error("a full bucket was kept")
	}
	if _, ok := l.buckets["stays-empty"]; !ok {
		t.Error("an empty bucket was dropped: it would come back full")
	}
	if _, ok := l.quotas["q"]; !ok {
		t.Error("a counter of the current period was dropped")
	}
}

func TestConcurrentTakesAdmitExactlyTheBurst(t *testing.T) {
	l := NewLocal(newClock().now)
	c := &Check{Buckets: []Bucket{bucket("b", 0, 100)}, Quota: &QuotaCheck{ID: "q", Quota: table.Quota{Limit: 60, Period: table.QuotaMonth}}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := admitted(l, c, 50)
			mu.Lock()
			ok += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if ok != 60 {
		t.Fatalf("admitted %d of 400, want the quota of 60", ok)
	}
}
