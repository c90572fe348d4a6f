package throttle

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/test/redis/redistest"
)

// newRedis returns a Redis limiter on a private redis-server; clk pins the
// script's clock (nil: Redis TIME).
func newRedis(t *testing.T, srv *redistest.Server, clk *fakeClock, closed bool) (*Redis, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	r, err := NewRedis(RedisOptions{URL: srv.URL(), FailClosed: closed, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if clk != nil {
		r.now = clk.now
		r.gateway = NewLocal(clk.now)
	}
	return r, reg
}

// step is one action of a parity scenario: move the clock, then take n times.
type step struct {
	advance time.Duration
	check   *Check
	n       int
}

func quotaCheck(id string, limit int64, p table.QuotaPeriod, offset int32) *QuotaCheck {
	return &QuotaCheck{ID: id, Quota: table.Quota{Limit: limit, Period: p, Offset: offset}}
}

// parityScenarios are the cases of local_test.go and the calendar edges,
// played against Local and Redis on the same pinned clock.
func parityScenarios() map[string][]step {
	gw := bucket("gw", 0, 10)
	burst := &Check{Buckets: []Bucket{bucket("b", 10, 5)}}
	twoLevels := &Check{Gateway: &gw, Buckets: []Bucket{bucket("narrow", 0, 2), bucket("wide", 0, 10)}}
	wideAlone := &Check{Buckets: []Bucket{bucket("wide", 0, 10)}}
	q := quotaCheck("q", 3, table.QuotaDay, 0)
	return map[string][]step{
		"burst then refill at the rate": {{0, burst, 7}, {time.Second, burst, 7}, {300 * time.Millisecond, burst, 4}, {7 * time.Millisecond, burst, 2}},
		"a refusal costs no token":      {{0, twoLevels, 4}, {0, wideAlone, 10}},
		"zero rate and zero burst":      {{0, &Check{Buckets: []Bucket{bucket("z", 100, 0)}}, 2}, {0, &Check{Buckets: []Bucket{bucket("r", 0, 1)}}, 2}, {24 * time.Hour, &Check{Buckets: []Bucket{bucket("r", 0, 1)}}, 2}},
		"a changed burst is clamped": {
			{0, &Check{Buckets: []Bucket{bucket("c", 0, 10)}}, 4}, {0, &Check{Buckets: []Bucket{bucket("c", 0, 3)}}, 5},
			{0, &Check{Buckets: []Bucket{bucket("d", 0, 5)}}, 4}, {0, &Check{Buckets: []Bucket{bucket("d", 0, 50)}}, 3},
		},
		"the clock steps back":     {{0, &Check{Buckets: []Bucket{bucket("s", 1000, 1)}}, 2}, {-time.Hour, &Check{Buckets: []Bucket{bucket("s", 1000, 1)}}, 2}},
		"huge rates and idle time": {{0, &Check{Buckets: []Bucket{bucket("h", 1_000_000, 1_000_000)}}, 3}, {200 * 365 * 24 * time.Hour, &Check{Buckets: []Bucket{bucket("h", 1_000_000, 1_000_000)}}, 2}},
		"the largest burst":        {{0, &Check{Buckets: []Bucket{bucket("m", 1<<31-1, 1<<31-1)}}, 3}, {time.Microsecond, &Check{Buckets: []Bucket{bucket("m", 1<<31-1, 1<<31-1)}}, 1}},
		"odd rates round up":       {{0, &Check{Buckets: []Bucket{bucket("o", 3, 1)}}, 2}, {333333 * time.Microsecond, &Check{Buckets: []Bucket{bucket("o", 3, 1)}}, 1}, {time.Microsecond, &Check{Buckets: []Bucket{bucket("o", 3, 1)}}, 2}},
		"quota counts admitted requests only": {
			{0, &Check{Buckets: []Bucket{bucket("qb", 0, 2)}, Quota: q}, 5}, {0, &Check{Quota: q}, 2}, {12 * time.Hour, &Check{Quota: q}, 4},
		},
		"throttled before quota": {{0, &Check{Quota: quotaCheck("t", 1, table.QuotaDay, 0)}, 2}, {0, &Check{Buckets: []Bucket{bucket("tz", 1, 0)}, Quota: quotaCheck("t", 1, table.QuotaDay, 0)}, 1}},
		"weekly quota across its start": {
			{0, &Check{Quota: quotaCheck("w", 2, table.QuotaWeek, 4)}, 3}, {36 * time.Hour, &Check{Quota: quotaCheck("w", 2, table.QuotaWeek, 4)}, 3},
			{5 * 24 * time.Hour, &Check{Quota: quotaCheck("w", 2, table.QuotaWeek, 4)}, 3},
		},
		"monthly quota across a leap day and a year end": {
			{0, &Check{Quota: quotaCheck("mo", 2, table.QuotaMonth, 0)}, 3}, {36 * time.Hour, &Check{Quota: quotaCheck("mo", 2, table.QuotaMonth, 0)}, 3},
			{300 * 24 * time.Hour, &Check{Quota: quotaCheck("mo", 2, table.QuotaMonth, 27)}, 3}, {40 * 24 * time.Hour, &Check{Quota: quotaCheck("mo", 2, table.QuotaMonth, 27)}, 3},
		},
	}
}

// describe renders a Result for comparison.
func describe(r Result) string {
	s := fmt.Sprintf("%d retry=%v bucket=%q", r.Verdict, r.RetryAfter, r.Bucket)
	if r.Quota != nil {
		s += fmt.Sprintf(" quota=%+v", *r.Quota)
	}
	return s
}

func TestTheRedisScriptAnswersLikeLocalOnEveryCase(t *testing.T) {
	srv := redistest.Start(t)
	for name, steps := range parityScenarios() {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			local := NewLocal(clk.now)
			shared, _ := newRedis(t, srv, clk, false)
			shared.client.FlushAll(context.Background())
			var want, got []string
			for i, s := range steps {
				clk.advance(s.advance)
				for j := range s.n {
					want = append(want, fmt.Sprintf("%d.%d %s", i, j, describe(local.Take(context.Background(), s.check))))
					got = append(got, fmt.Sprintf("%d.%d %s", i, j, describe(shared.Take(context.Background(), s.check))))
				}
			}
			if w, g := strings.Join(want, "\n"), strings.Join(got, "\n"); w != g {
				t.Fatalf("Redis differs from Local\nlocal:\n%s\nredis:\n%s", w, g)
			}
		})
	}
}

func TestTheScriptsQuotaPeriodsEndWherePeriodBoundsSays(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	r, _ := newRedis(t, srv, clk, false)
	quotas := []table.Quota{{Period: table.QuotaDay}}
	for _, off := range []int32{0, 3, 6} {
		quotas = append(quotas, table.Quota{Period: table.QuotaWeek, Offset: off})
	}
	for _, off := range []int32{0, 1, 14, 27} {
		quotas = append(quotas, table.Quota{Period: table.QuotaMonth, Offset: off})
	}
	clk.t = time.Date(2023, 11, 30, 23, 59, 59, 999_999_000, time.UTC)
	for range 600 { // every 37h17m over about 2.5 years, leap day included
		now := clk.now()
		for _, q := range quotas {
			q.Limit = 10
			reply, err := r.eval(context.Background(), "usage", nil, &QuotaCheck{ID: "p", Quota: q})
			if err != nil {
				t.Fatal(err)
			}
			_, end := PeriodBounds(q, now)
			if got := time.Duration(reply[4]) * time.Microsecond; got != end.Sub(now) {
				t.Fatalf("%s %+v: the script's period ends in %v, PeriodBounds in %v", now, q, got, end.Sub(now))
			}
		}
		clk.advance(37*time.Hour + 17*time.Minute)
	}
}

func TestRedisTimeRefillsAndKeysExpireWhenIdle(t *testing.T) {
	srv := redistest.Start(t)
	r, _ := newRedis(t, srv, nil, false)
	c := &Check{Buckets: []Bucket{bucket("real", 10, 2)}, Quota: quotaCheck("realq", 100, table.QuotaDay, 0)}
	if got := admitted(r, c, 5); got != 2 {
		t.Fatalf("admitted %d on Redis's clock, want the burst of 2", got)
	}
	res := r.Take(context.Background(), c)
	if res.Verdict != Throttled || res.RetryAfter <= 0 || res.RetryAfter > 100*time.Millisecond || res.Bucket != "real" {
		t.Fatalf("empty bucket: %s", describe(res))
	}
	ctx := context.Background()
	if ttl := r.client.PTTL(ctx, KeyPrefix+"b:real").Val(); ttl <= time.Second || ttl > 1200*time.Millisecond {
		t.Fatalf("bucket TTL %v, want the time to refill (200ms) plus a second", ttl)
	}
	if ttl := r.client.PTTL(ctx, KeyPrefix+"q:realq").Val(); ttl <= time.Minute || ttl > 24*time.Hour+time.Minute {
		t.Fatalf("quota TTL %v, want the rest of the day plus a minute", ttl)
	}
	time.Sleep(150 * time.Millisecond)
	if got := admitted(r, c, 1); got != 1 {
		t.Fatal("no refill after 150ms at 10/s")
	}
	if used, err := r.Usage(ctx, "realq", c.Quota.Quota); err != nil || used != 3 {
		t.Fatalf("usage %d %v, want 3", used, err)
	}
}

func TestConcurrentRedisTakesAdmitExactlyTheQuota(t *testing.T) {
	srv := redistest.Start(t)
	r, _ := newRedis(t, srv, nil, false)
	c := &Check{Buckets: []Bucket{bucket("cb", 0, 100)}, Quota: quotaCheck("cq", 60, table.QuotaMonth, 0)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			n := admitted(r, c, 50)
			mu.Lock()
			ok += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if ok != 60 {
		t.Fatalf("admitted %d of 400, want the quota of 60", ok)
	}
}

func TestAFlushedScriptCacheIsReloaded(t *testing.T) {
	srv := redistest.Start(t)
	r, _ := newRedis(t, srv, nil, false)
	c := &Check{Buckets: []Bucket{bucket("f", 0, 3)}}
	admitted(r, c, 1)
	r.client.ScriptFlush(context.Background())
	if got := admitted(r, c, 5); got != 2 {
		t.Fatalf("admitted %d after SCRIPT FLUSH, want the 2 left", got)
	}
}

// storeErrors reads StoreErrorsMetric from reg.
func storeErrors(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == StoreErrorsMetric {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("%s is not registered", StoreErrorsMetric)
	return 0
}

func TestADeadRedisFailsOpenOrClosedAndCountingResumesWhenItReturns(t *testing.T) {
	srv := redistest.Start(t)
	gw := bucket(GatewayID, 0, 3)
	c := &Check{Gateway: &gw, Buckets: []Bucket{bucket("d", 0, 100)}}
	open, openReg := newRedis(t, srv, nil, false)
	closed, closedReg := newRedis(t, srv, nil, true)
	srv.Stop()
	if res := open.Take(context.Background(), c); res.Verdict != Allowed || res.StoreErr == nil {
		t.Fatalf("open: %s err=%v, want Allowed with the store error", describe(res), res.StoreErr)
	}
	if n := storeErrors(t, openReg); n != 1 {
		t.Fatalf("open: %s = %v, want 1", StoreErrorsMetric, n)
	}
	for range 5 { // a 503 gives the gateway token back: 5 > burst 3
		if res := closed.Take(context.Background(), c); res.Verdict != Unavailable || res.StoreErr == nil {
			t.Fatalf("closed: %s, want Unavailable", describe(res))
		}
	}
	if _, err := closed.Usage(context.Background(), "x", table.Quota{Limit: 1}); err == nil {
		t.Fatal("Usage of a dead store returned no error")
	}
	srv.StartAgain()
	waitForStore(t, closed)
	if got := admitted(closed, c, 5); got != 3 {
		t.Fatalf("closed after recovery: admitted %d, want the gateway burst of 3 (no token lost to 503s)", got)
	}
	if n := storeErrors(t, closedReg); n != 5 {
		t.Fatalf("closed: %s = %v, want 5 (the failed takes; a failed usage read is returned, not counted)", StoreErrorsMetric, n)
	}
	used, err := goredis.NewClient(&goredis.Options{Addr: srv.Addr()}).HGet(context.Background(), KeyPrefix+"b:d", "t").Int64()
	if err != nil || used != 97*Unit {
		t.Fatalf("after recovery the shared bucket holds %d (%v), want 97 tokens", used, err)
	}
}

// waitForStore waits until r reaches Redis again (go-redis redials on its
// own, after a back-off once dials kept failing); Usage takes no token.
func waitForStore(t *testing.T, r *Redis) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := r.Usage(context.Background(), "probe", table.Quota{Limit: 1})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis did not come back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAHungRedisCostsARequestAboutTheTimeout(t *testing.T) {
	srv := redistest.Start(t)
	r, _ := newRedis(t, srv, nil, true)
	c := &Check{Buckets: []Bucket{bucket("h", 0, 100)}}
	admitted(r, c, 1) // a pooled connection exists
	srv.Pause()
	defer srv.Resume()
	start := time.Now()
	res := r.Take(context.Background(), c)
	if took := time.Since(start); res.Verdict != Unavailable || took > 4*DefaultRedisTimeout {
		t.Fatalf("hung Redis: %s after %v, want Unavailable within about %v", describe(res), took, DefaultRedisTimeout)
	}
}

// TestACheckCutShortByTheClientIsNotAStoreError: a request whose client went
// away (its context cancelled) must not count as a Redis failure, or the
// alert on the metric fires on client disconnects.
func TestACheckCutShortByTheClientIsNotAStoreError(t *testing.T) {
	srv := redistest.Start(t)
	r, reg := newRedis(t, srv, nil, true)
	c := &Check{Buckets: []Bucket{bucket("c", 0, 100)}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := r.Take(ctx, c); res.StoreErr == nil {
		t.Fatalf("a cancelled check answered %s without an error", describe(res))
	}
	if n := storeErrors(t, reg); n != 0 {
		t.Fatalf("%s = %v after a client cancel, want 0", StoreErrorsMetric, n)
	}
	srv.Stop()
	r.Take(context.Background(), c)
	if n := storeErrors(t, reg); n != 1 {
		t.Fatalf("%s = %v after a real failure, want 1", StoreErrorsMetric, n)
	}
}
