package redis_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

func TestTwoGatewaysSharingRedisAdmitExactlyTheQuotaOfTenTimesAsManyConcurrentRequests(t *testing.T) {
	const limit = 40
	_, gws, _ := sharedPair(t, planYAML("", fmt.Sprintf("  quota: {limit: %d, period: DAY}\n", limit)), "--redis-failure-mode=closed")
	var answers tally
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 10 * limit {
		wg.Go(func() {
			<-start
			answers.add(gws[i%2].get("/keyed", aliceKey))
		})
	}
	close(start)
	wg.Wait()
	if ok, refused := answers.count(200, admittedAnswer), answers.count(429, limitExceeded); ok != limit || refused != 9*limit {
		t.Fatalf("admitted %d and refused %d of %d, want %d and %d; answers: %v", ok, refused, 10*limit, limit, 9*limit, answers.m)
	}
	for i, g := range gws {
		if used, err := g.usage(); err != nil || used != limit {
			t.Fatalf("gateway %d reports %d used (%v), want the shared %d", i, used, err, limit)
		}
	}
}

func TestUnderSustainedOverloadTwoGatewaysAdmitTheBurstPlusTheRate(t *testing.T) {
	const rate, burst = 20, 10
	_, gws, _ := sharedPair(t, planYAML(fmt.Sprintf("  throttle: {rateLimit: %d, burstLimit: %d}\n", rate, burst), ""))
	var answers tally
	var wg sync.WaitGroup
	begin := time.Now()
	stop := begin.Add(3 * time.Second)
	for w := range 8 { // 4 clients per gateway, each far faster than 20/s
		wg.Go(func() {
			for time.Now().Before(stop) {
				answers.add(gws[w%2].get("/keyed", aliceKey))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin).Seconds()
	ok, refused := answers.count(200, admittedAnswer), answers.count(429, tooMany)
	expect := burst + rate*elapsed
	t.Logf("%.2fs: admitted %d (burst + rate × elapsed = %.0f), refused %d", elapsed, ok, expect, refused)
	if float64(ok) > expect+rate || float64(ok) < expect-rate {
		t.Fatalf("admitted %d in %.2fs, want %.0f ± %d; answers: %v", ok, elapsed, expect, rate, answers.m)
	}
	if ok+refused != sum(answers.m) {
		t.Fatalf("answers other than 200 and 429: %v", answers.m)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestARedisOutageFailsOpenOrClosedAndCountingResumesWhenItReturns runs an
// open and a closed gateway on one Redis and stops Redis between requests.
func TestARedisOutageFailsOpenOrClosedAndCountingResumesWhenItReturns(t *testing.T) {
	srv, gws, dir := sharedPair(t, planYAML("", "  quota: {limit: 1000, period: DAY}\n"))
	closed := startGateway(t, dir, "--redis-url="+srv.URL(), "--redis-failure-mode=closed")
	open := gws[0]
	for _, g := range []*gateway{open, closed} {
		if code, body, err := g.get("/keyed", aliceKey); code != 200 || err != nil {
			t.Fatalf("before the outage: %d %s %v", code, body, err)
		}
	}
	srv.Stop()
	for range 5 {
		if code, body, err := open.get("/keyed", aliceKey); code != 200 || body != admittedAnswer {
			t.Fatalf("open during the outage: %d %s %v, want 200", code, body, err)
		}
		if code, body, err := closed.get("/keyed", aliceKey); code != 503 || body != unavailable {
			t.Fatalf("closed during the outage: %d %s %v, want 503 %s", code, body, err, unavailable)
		}
	}
	if n := open.storeErrors(t); n != 5 {
		t.Fatalf("open gateway: turnpike_ratelimit_store_errors_total = %v, want 5", n)
	}
	if n := closed.storeErrors(t); n != 5 {
		t.Fatalf("closed gateway: turnpike_ratelimit_store_errors_total = %v, want 5", n)
	}
	srv.StartAgain() // empty: counting starts over in the new Redis
	harness.Eventually(t, 30*time.Second, "the closed gateway reaches Redis again", func() error {
		if code, body, err := closed.get("/keyed", aliceKey); code != 200 {
			return fmt.Errorf("%d %s %w", code, body, err)
		}
		return nil
	})
	for range 3 {
		if code, body, err := open.get("/keyed", aliceKey); code != 200 {
			t.Fatalf("open after the outage: %d %s %v", code, body, err)
		}
	}
	for _, g := range []*gateway{open, closed} {
		if used, err := g.usage(); err != nil || used != 4 {
			t.Fatalf("after the outage the shared count is %d (%v), want 4 (1 closed + 3 open)", used, err)
		}
	}
}

func TestAThrottledKeyStaysThrottledAcrossAnUnrelatedRouteChange(t *testing.T) {
	_, gws, dir := sharedPair(t, planYAML("  throttle: {rateLimit: 0, burstLimit: 3}\n", ""))
	for i := range 3 {
		if code, body, err := gws[i%2].get("/keyed", aliceKey); code != 200 {
			t.Fatalf("request %d: %d %s %v", i, code, body, err)
		}
	}
	writeFile(t, dir, "other.yaml", `apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: other, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /other
  integration: {type: MOCK, mock: {body: other}}
`)
	for i, g := range gws {
		harness.Eventually(t, 30*time.Second, fmt.Sprintf("gateway %d serves the new route", i), func() error {
			if code, body, err := g.get("/other", ""); code != 200 || body != "other" {
				return fmt.Errorf("%d %s %w", code, body, err)
			}
			return nil
		})
		if code, body, err := g.get("/keyed", aliceKey); code != 429 || body != tooMany {
			t.Fatalf("gateway %d after the table swap: %d %s %v, want 429 %s", i, code, body, err, tooMany)
		}
	}
}
