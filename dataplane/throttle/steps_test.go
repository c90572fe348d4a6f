package throttle

import (
	"context"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/test/redis/redistest"
)

// The gateway checks an apiKeyRequired route in two steps (api.md): first
// the gateway-wide and stage buckets, then the plan's bucket and quota in a
// Check without the gateway bucket. A refusal of the second step leaves the
// first step's tokens taken and never touches (or refunds) the gateway
// bucket; a refusal of the first step costs nothing.
func TestTheTwoStepsOfAKeyRouteEachTakeTheirOwnTokens(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	shared, _ := newRedis(t, srv, clk, false)
	for name, l := range map[string]Limiter{"local": NewLocal(clk.now), "redis": shared} {
		t.Run(name, func(t *testing.T) {
			gw := bucket(GatewayID, 0, 10)
			stage := &Check{Gateway: &gw, Buckets: []Bucket{bucket(name+"-stage", 0, 4)}}
			plan := &Check{Buckets: []Bucket{bucket(name+"-plan", 0, 1)},
				Quota: &QuotaCheck{ID: name + "-q", Quota: table.Quota{Limit: 10, Period: table.QuotaDay}}}
			ctx := context.Background()
			admittedBoth := 0
			for range 4 {
				if res := l.Take(ctx, stage); res.Verdict != Allowed {
					t.Fatalf("step 1 refused early: %s", describe(res))
				}
				if l.Take(ctx, plan).Verdict == Allowed {
					admittedBoth++
				}
			}
			if admittedBoth != 1 {
				t.Fatalf("the plan bucket of 1 admitted %d", admittedBoth)
			}
			if res := l.Take(ctx, stage); res.Verdict != Throttled || res.Bucket != name+"-stage" {
				t.Fatalf("the plan's refusals should have cost their stage tokens: %s", describe(res))
			}
			// Gateway: 4 taken by step 1, none refunded by step 2's refusals,
			// none by step 1's refusal above: 6 left.
			if got := admitted(l, &Check{Gateway: &gw}, 10); got != 6 {
				t.Fatalf("gateway admitted %d more, want 6", got)
			}
			if used, err := l.Usage(ctx, name+"-q", plan.Quota.Quota); err != nil || used != 1 {
				t.Fatalf("quota used %d (%v), want 1", used, err)
			}
		})
	}
}
