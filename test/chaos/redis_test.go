package chaos

import (
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/turnpike-io/turnpike/test/harness"
	"github.com/turnpike-io/turnpike/test/redis/redistest"
)

const keyedFixture = apiAndStage + `apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: keyed, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /keyed
  apiKeyRequired: true
  integration: {type: MOCK, mock: {body: admitted}}
---
apiVersion: v1
kind: Secret
metadata: {name: alice, namespace: shop, labels: {turnpike.io/usage-plan: gold}}
type: turnpike.io/api-key
stringData: {key: alice-0123456789abcdefghij}
---
apiVersion: turnpike.io/v1alpha1
kind: UsagePlan
metadata: {name: gold, namespace: shop}
spec:
  apiStages: [{apiName: pets, stage: prod}]
  apiKeySelector: {matchLabels: {turnpike.io/usage-plan: gold}}
  throttle: {rateLimit: 50, burstLimit: 50}
`

// redisRate and redisBurst are the plan's per-key bucket.
const redisRate, redisBurst = 50, 50

// TestRedisKilledAndRestartedUnderLoad runs two gateways sharing one Redis
// (one fail-open, one fail-closed) under 200 requests/s each with one API
// key whose plan admits 50/s (burst 50), kills Redis for 3 s and starts it
// again (empty). During the outage the open gateway serves (200) and the
// closed one answers 503, never 429; within 1 s of Redis returning both
// count again; afterwards the two together admit no more than the bucket
// allows (burst + rate × time).
func TestRedisKilledAndRestartedUnderLoad(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	writeFile(t, dir, "api.yaml", keyedFixture)
	open := harness.StartGateway(t, harness.GatewayConfig{Args: []string{"standalone", "-f", dir}, Extra: []string{"--redis-url=" + srv.URL()}})
	closed := harness.StartGateway(t, harness.GatewayConfig{Args: []string{"standalone", "-f", dir},
		Extra: []string{"--redis-url=" + srv.URL(), "--redis-failure-mode=closed"}})
	key := hostHeader(host, "X-Api-Key", "alice-0123456789abcdefghij")
	var openLoad, closedLoad tally
	var mu sync.Mutex
	var results []timed // every result of both gateways
	record := func(gw string, codes ...int) func(*vegeta.Result) string {
		j := want(codes...)
		return func(r *vegeta.Result) string {
			mu.Lock()
			results = append(results, timed{gw: gw, at: r.Timestamp, code: int(r.Code)})
			mu.Unlock()
			return j(r)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		attack(&openLoad, 200, 10*time.Second, nil, nil, target{name: "open", method: "GET", url: "http://" + open.HTTP + "/prod/keyed",
			header: key, judge: record("open", 200, 429)})
	})
	wg.Go(func() {
		attack(&closedLoad, 200, 10*time.Second, nil, nil, target{name: "closed", method: "GET", url: "http://" + closed.HTTP + "/prod/keyed",
			header: key, judge: record("closed", 200, 429, 503)})
	})
	time.Sleep(3 * time.Second)
	killed := time.Now()
	srv.Stop()
	time.Sleep(3 * time.Second)
	srv.StartAgain()
	back := time.Now()
	wg.Wait()
	openLoad.check(t, "Redis outage, fail-open gateway at 200 rps")
	closedLoad.check(t, "Redis outage, fail-closed gateway at 200 rps")
	checkRedisOutage(t, results, start, killed, back)
}

// timed is one result: which gateway, when it was sent, its status.
type timed struct {
	gw   string
	at   time.Time
	code int
}

func checkRedisOutage(t *testing.T, results []timed, start, killed, back time.Time) {
	t.Helper()
	// During the outage (from 200 ms after the kill until Redis is back):
	// open serves, closed refuses with 503, nobody answers 429.
	for _, r := range results {
		if r.at.After(killed.Add(200*time.Millisecond)) && r.at.Before(back) {
			if (r.gw == "open" && r.code != 200) || (r.gw == "closed" && r.code != 503) {
				t.Errorf("during the outage the %s gateway answered %d", r.gw, r.code)
				break
			}
		}
	}
	// Recovery: the last 503 of the closed gateway after Redis returned.
	var lastDown time.Time
	for _, r := range results {
		if r.gw == "closed" && r.code == 503 && r.at.After(back) && r.at.After(lastDown) {
			lastDown = r.at
		}
	}
	recovery := max(lastDown.Sub(back), 0)
	t.Logf("Redis outage: recovery %v after redis-server accepted connections again", recovery.Round(time.Millisecond))
	if recovery > time.Second {
		t.Errorf("the closed gateway answered 503 for %v after Redis returned, want at most 1 s", recovery)
	}
	// No over-admission after recovery, both gateways together: from 1 s
	// after Redis returned (both count again by then) a bucket holding at
	// most its burst admits at most burst + rate × time.
	from := back.Add(time.Second)
	admitted, last := 0, from
	for _, r := range results {
		if r.code == 200 && r.at.After(from) {
			admitted++
			if r.at.After(last) {
				last = r.at
			}
		}
	}
	allowed := redisBurst + int(float64(redisRate)*last.Sub(from).Seconds()+0.5)
	t.Logf("Redis outage: from 1 s after Redis returned the two gateways admitted %d in %v (the bucket allows at most %d); before the outage: %d in 3 s",
		admitted, last.Sub(from).Round(time.Millisecond), allowed, countBefore(results, start, killed))
	if admitted > allowed {
		t.Errorf("over-admission after recovery: %d admitted, the bucket allows %d", admitted, allowed)
	}
}

func countBefore(results []timed, from, to time.Time) int {
	n := 0
	for _, r := range results {
		if r.code == 200 && r.at.After(from) && r.at.Before(to) {
			n++
		}
	}
	return n
}
