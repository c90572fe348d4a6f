package main

import (
	"fmt"
	"strings"
)

// medianRPS is the median closed-loop rate of system over the rounds.
func (r *cacheResults) medianRPS(system string) float64 {
	var v []float64
	for _, c := range r.Closed {
		if c.System == system {
			v = append(v, c.Result.RPS())
		}
	}
	return median(v)
}

// hitRatio is the median over rounds of cache-hit rps / other's rps.
func (r *cacheResults) hitRatio(other string) float64 { return medianRatio(r.Closed, cacheHit, other) }

func (r *cacheResults) goBench(name string) (goBench, bool) {
	for _, b := range r.GoBench {
		if b.Name == name {
			return b, true
		}
	}
	return goBench{}, false
}

// markdown renders the cache section.
func (r *cacheResults) markdown(c config) string {
	var b strings.Builder
	b.WriteString(cacheBeginMarker + "\n")
	e := r.env
	b.WriteString("## Response cache and request validation (`make bench`, `bin/bench cache`)\n\n")
	fmt.Fprintf(&b, "Run of %s, %s in all, commit %s, load average %s before and %s after (1, 5, 15 min; "+
		"other work shares the machine); otherwise the machine of the first section.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Elapsed, e.Commit, e.LoadBefore, e.LoadAfter)
	fmt.Fprintf(&b, "Commands: `make bench` runs `hack/bench/run.sh`, which after the rate-limit scenario runs "+
		"`taskset -c %d bin/bench cache` (alone: `hack/bench/run.sh cache`; `-quick` leaves the docs alone). "+
		"nginx (one worker, `proxy_cache` keyed by URI, 200s kept 5 minutes, `proxy_cache_lock on`) and one "+
		"`turnpike standalone` (a REST Api whose route GET /hello is served by stage `plain` without a cache and by "+
		"stage `cached` with `cache: {enabled: true}`) run on core %d; the nginx backend and wrk (`-t1 -c%d`, %s per "+
		"run, %d rotating rounds) on core %d. Both caches are warmed and checked (`X-Cache`: %s for nginx, %s for "+
		"Turnpike) before the runs.\n\n",
		c.loadCore, c.proxyCore, c.conns, c.duration, c.rounds, c.loadCore, r.HitCheck[cacheNginx], r.HitCheck[cacheHit])
	r.writeBudgets(&b)
	b.WriteString("### Closed loop (wrk)\n\n| System | Median requests/s | Runs (requests/s) | p50 / p99 of the median run |\n|---|---|---|---|\n")
	for _, s := range cacheOrder {
		var runs []string
		var best closedRun
		for _, cr := range r.Closed {
			if cr.System == s {
				runs = append(runs, fmt.Sprintf("%.0f", cr.Result.RPS()))
				if best.System == "" || abs(cr.Result.RPS()-r.medianRPS(s)) < abs(best.Result.RPS()-r.medianRPS(s)) {
					best = cr
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %d µs / %d µs |\n", s, r.medianRPS(s), strings.Join(runs, ", "), best.Result.P50, best.Result.P99)
	}
	b.WriteString("\n### Micro-benchmarks (go test, best of 5, pinned to the proxy core)\n\n| Benchmark | ns/op | B/op | allocs/op |\n|---|---|---|---|\n")
	for _, g := range r.GoBench {
		fmt.Fprintf(&b, "| %s | %.0f | %d | %d |\n", g.Name, g.NsPerOp, g.BytesPerOp, g.AllocsPerOp)
	}
	b.WriteString("\n```\n" + strings.Join(r.GoCmds, "\n") + "\n```\n")
	b.WriteString(cacheEndMarker + "\n")
	return b.String()
}

func (r *cacheResults) writeBudgets(b *strings.Builder) {
	b.WriteString("### Budgets of issue 15\n\n| Budget | Measured | Holds |\n|---|---|---|\n")
	ratio := r.hitRatio(cachePlain)
	fmt.Fprintf(b, "| A cache hit ≥ %.1f× Turnpike's plain proxy rate (wrk) | %.2f× (%.0f vs %.0f rps) | %s |\n",
		minHitRatio, ratio, r.medianRPS(cacheHit), r.medianRPS(cachePlain), yesNo(ratio >= minHitRatio))
	fmt.Fprintf(b, "| (for scale) a Turnpike cache hit vs an nginx proxy_cache hit, same cores | %.2f× (%.0f vs %.0f rps) | — |\n",
		r.hitRatio(cacheNginx), r.medianRPS(cacheHit), r.medianRPS(cacheNginx))
	if v, ok := r.goBench(validateBenchName); ok {
		fmt.Fprintf(b, "| Validating a 1 KiB body against a 20-property schema < 20 µs | %.1f µs | %s |\n",
			v.NsPerOp/1000, yesNo(v.NsPerOp < maxValidateNanos))
	}
	b.WriteString("\n")
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**NO**"
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
