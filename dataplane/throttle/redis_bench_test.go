package throttle

import (
	"context"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/test/redis/redistest"
)

// benchCheck is a keyed request's full check: gateway, stage route, plan and
// plan route buckets and a monthly quota, all large enough never to refuse.
func benchCheck() *Check {
	gw := bucket(GatewayID, 1<<31-1, 1<<31-1)
	return &Check{
		Gateway: &gw,
		Buckets: []Bucket{bucket("stage", 1<<31-1, 1<<31-1), bucket("plan", 1<<31-1, 1<<31-1), bucket("plan-route", 1<<31-1, 1<<31-1)},
		Quota:   &QuotaCheck{ID: "quota", Quota: table.Quota{Limit: 1 << 50, Period: table.QuotaMonth}},
	}
}

// benchmarkTake takes from 8 goroutines per core (requests in flight, as a
// busy gateway has them).
func benchmarkTake(b *testing.B, l Limiter) {
	c := benchCheck()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := l.Take(context.Background(), c); res.Verdict != Allowed {
				b.Fatalf("refused: %+v", res)
			}
		}
	})
}

func BenchmarkTakeLocal(b *testing.B) { benchmarkTake(b, NewLocal(nil)) }

func BenchmarkTakeRedis(b *testing.B) {
	srv := redistest.Start(b)
	// a 1 s read timeout: the benchmark measures throughput, and on a busy
	// 2-core machine the slowest 0.1% of scripts can pass the 100 ms default
	r, err := NewRedis(RedisOptions{URL: srv.URL() + "?read_timeout=1s", FailClosed: true})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	benchmarkTake(b, r)
}
