package main

import (
	"fmt"
	"strings"
	"time"
)

func (r *results) writeSwap(b *strings.Builder) {
	fmt.Fprintf(b, "### Table swaps under load\n\n")
	fmt.Fprintf(b, "`bin/bench swap-server` embeds `dataplane.Server` on a real loopback listener (core %d) and, "+
		"at the given rate, makes a table of %d SERVICE routes (the served Api's routes alternate between literal and "+
		"greedy, so consecutive routers differ) and `Swap`s it in, while vegeta and then wrk (`-c%d`, %s each) "+
		"send `GET /prod/hello` to that Api. *fresh*: the whole table (one Api) is built for every swap; "+
		"*merge*: the served Api (GET /hello and %d routes) is built and `table.Merge`d with %d Apis of %d routes "+
		"built once, as the incremental translator does for a one-Route change. *Busy* is the share of the proxy "+
		"core spent building and swapping (the same core serves the requests). Swaps are due on a fixed schedule; "+
		"a loop woken late does the swaps it owes back to back, and *achieved* is the swaps done over the server's run.\n\n",
		r.env.ProxyCore, swapRoutes+1, r.env.Conns, r.env.SwapDur, swapRoutes/swapParts, swapParts-1, swapRoutes/swapParts)
	b.WriteString("| Rate asked | Build | Swaps | achieved | busy | vegeta rate | vegeta requests | vegeta failed | wrk requests | wrk failed (socket / non-2xx) |\n" +
		"|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Swaps {
		fmt.Fprintf(b, "| %d/s | %s | %d | %.0f/s | %.0f%% | %d/s | %d | %d | %d | %d / %d |\n", s.SwapPerSec, s.Mode, s.Swaps,
			s.achieved(), 100*s.busyShare(), int(s.Open.Rate+0.5), s.Open.Requests, s.Open.Errors,
			s.Closed.Requests, s.Closed.SocketErrors, s.Closed.StatusErrors)
	}
	b.WriteString("\n")
}

// swapBudgets are the budget rows of the swap cases.
func (r *results) swapBudgets(yes func(bool) string) []budget {
	var l []budget
	for _, s := range r.Swaps {
		l = append(l, budget{fmt.Sprintf("Zero failed requests at %d swaps/s (%s)", s.SwapPerSec, s.Mode),
			fmt.Sprintf("%d failed of %d (%d swaps, %.0f/s) | %s", s.failed(), int64(s.Open.Requests)+s.Closed.Requests,
				s.Swaps, s.achieved(), yes(s.holds()))})
	}
	return l
}

func (r *results) writePropagation(b *strings.Builder) {
	fmt.Fprintf(b, "### A Route applied (standalone file) to its first 200\n\n")
	fmt.Fprintf(b, "`turnpike standalone` over a directory with N SERVICE routes `GET /r{i}/{id}` in one file; "+
		"then, %d times, a new file with one Route is written aside and renamed into the directory, and "+
		"`GET /prod/new{i}` is polled every 2 ms until it answers 200. The watcher debounces file events by 100 ms.\n\n",
		propagationSamples)
	b.WriteString("| Routes | startup to first 200 | apply → 200: median | max | samples | gateway RSS |\n|---|---|---|---|---|---|\n")
	for _, p := range r.Propagation {
		var l []string
		for _, d := range p.Samples {
			l = append(l, d.Round(time.Millisecond).String())
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %d MiB |\n", p.Routes, p.Startup.Round(time.Millisecond),
			p.median().Round(time.Millisecond), p.max().Round(time.Millisecond), strings.Join(l, ", "), p.RSSKiB>>10)
	}
	b.WriteString("\n![Propagation time by table size](bench-propagation.png)\n\n")
	r.writeKube(b)
}

func (r *results) writeKube(b *strings.Builder) {
	k := r.Kube
	b.WriteString("### A Route applied with kubectl (serve mode) to its first 200\n\n")
	if k.Skipped != "" {
		b.WriteString("Not measured in this run: " + k.Skipped + ".\n\n")
		return
	}
	fmt.Fprintf(b, "etcd and kube-apiserver (built from Go modules into `bin/k8s` by `make envtest`) run on the load core "+
		"with the CRDs installed; %d Routes `GET /r{i}/{id}` spread over %d Api(s) are created through the API (16 clients, %s), then "+
		"`turnpike serve --leader-elect=false` starts on the proxy core (status writes on, `--kube-api-qps` 50). %d times, `kubectl apply -f` "+
		"creates one more Route in Api `bench` and `GET /prod/kube{i}` is polled every 2 ms until it answers 200. *apply → 200* "+
		"includes kubectl's own start-up and request; *stored → 200* starts when kubectl returns (the Route is in etcd): "+
		"the gateway's watch, coalescing (50 ms hold-off), translation of the Apis that changed and swap; *apply → status* "+
		"ends when the gateway has stored the new Route's `Ready=True` (polled every 20 ms), while the first status pass "+
		"over the other Routes goes on (*pending*: `turnpike_status_pending_objects` at ready → after the edits).\n\n",
		k.Routes, max(k.Apis, 1), k.Create.Round(time.Millisecond), len(k.Total))
	b.WriteString("| Routes | startup to first 200 | apply → 200 (median / max) | stored → 200 (median / max) | samples (apply → 200) | apply → status (median / max) | status writes/s, pending | gateway RSS | Go heap after GC |\n|---|---|---|---|---|---|---|---|---|\n")
	var l []string
	for _, d := range k.Total {
		l = append(l, d.Round(time.Millisecond).String())
	}
	fmt.Fprintf(b, "| %d | %s | %s / %s | %s / %s | %s | %s / %s | %.0f/s, %.0f → %.0f | %d MiB | %d MiB |\n\n", k.Routes, k.Startup.Round(time.Millisecond),
		medianDur(k.Total), maxDur(k.Total), medianDur(k.Stored), maxDur(k.Stored), strings.Join(l, ", "),
		medianDur(k.Status), maxDur(k.Status), k.WriteRate, k.PendingAtReady, k.PendingAfter, k.RSSKiB>>10, k.HeapBytes>>20)
}

func medianDur(ds []time.Duration) time.Duration {
	return propagation{Samples: ds}.median().Round(time.Millisecond)
}

func maxDur(ds []time.Duration) time.Duration {
	return propagation{Samples: ds}.max().Round(time.Millisecond)
}

func (r *results) writeGoBench(b *strings.Builder) {
	b.WriteString("### Micro-benchmarks (best of the repeated counts, pinned to the proxy core; noise on this machine is one-sided, upwards)\n\n```\n")
	for _, c := range r.GoBenchCmds {
		b.WriteString(c + "\n")
	}
	b.WriteString("```\n\n| Benchmark | ns/op | B/op | allocs/op |\n|---|---|---|---|\n")
	for _, g := range r.GoBench {
		fmt.Fprintf(b, "| %s | %.0f | %d | %d |\n", g.Name, g.NsPerOp, g.BytesPerOp, g.AllocsPerOp)
	}
	b.WriteString("\n")
}

// goBenchNamed returns the benchmark whose name ends with suffix.
func (r *results) goBenchNamed(suffix string) goBench {
	for _, g := range r.GoBench {
		if strings.HasSuffix(g.Name, suffix) {
			return g
		}
	}
	return goBench{}
}

// budget is one row of the budget table.
type budget struct{ name, measured string }

func (r *results) writeBudgets(b *strings.Builder) {
	b.WriteString("### Budgets of architecture.md\n\n| Budget | Measured | Holds |\n|---|---|---|\n")
	for _, x := range r.budgets() {
		fmt.Fprintf(b, "| %s | %s |\n", x.name, x.measured)
	}
	b.WriteString("\n")
}

// budgets evaluates each budget ("measured | yes/NO").
func (r *results) budgets() []budget {
	yes := func(ok bool) string { return map[bool]string{true: "yes", false: "**NO**"}[ok] }
	full := r.rpsRatio(sysFull)
	dir99 := r.openPct(sysDirect, vegP99)
	fullAdd, ngAdd := r.openPct(sysFull, vegP99)-dir99, r.openPct(sysNginx, vegP99)-dir99
	lat := fullAdd / ngAdd
	l10, l100k := r.goBenchNamed("routes=10"), r.goBenchNamed(lookupLargest)
	lookup := median(r.LookupRatios) - 1
	tr := r.goBenchNamed("Translate10kRoutes")
	var prop time.Duration
	for _, p := range r.Propagation {
		if p.Routes == 10000 {
			prop = p.max()
		}
	}
	propText := fmt.Sprintf("file: max %s", prop.Round(time.Millisecond))
	if r.Kube.Skipped == "" && len(r.Kube.Total) > 0 {
		kmax := maxDur(r.Kube.Total)
		propText += fmt.Sprintf("; kubectl apply: max %s (stored → 200: max %s)", kmax, maxDur(r.Kube.Stored))
		prop = max(prop, kmax)
	} else {
		propText += "; kubectl: not measured"
	}
	fnRT := r.goBenchNamed("FunctionRoundTrip/2.0")
	fnSvc, fnFn := r.goBenchNamed("FunctionOverService/service"), r.goBenchNamed("FunctionOverService/function")
	return append([]budget{
		{"FUNCTION event encode + answer decode (1 KiB body) < 20 µs and < 10 allocations",
			fmt.Sprintf("%.1f µs, %d allocations (whole FUNCTION request over SERVICE to the same backend: +%.0f µs, +%d allocations) | %s",
				fnRT.NsPerOp/1e3, fnRT.AllocsPerOp, (fnFn.NsPerOp-fnSvc.NsPerOp)/1e3, fnFn.AllocsPerOp-fnSvc.AllocsPerOp,
				yes(fnRT.NsPerOp > 0 && fnRT.NsPerOp < 20e3 && fnRT.AllocsPerOp < 10))},
		{"Full chain ≥ 0.6× nginx rps", fmt.Sprintf("%.2f× (%.0f vs %.0f rps) | %s", full, r.medianRPS(sysFull), r.medianRPS(sysNginx), yes(full >= 0.6))},
		{"Added p99 at half nginx's rate ≤ 2× nginx's", r.latencyVerdict(lat, fullAdd, ngAdd, yes(lat <= 2))},
		{"Lookup 10 vs 100,000 routes within 5% (issue 18; architecture.md: 10 vs 10,000)", fmt.Sprintf("%+.1f%% (median of %d within-repetition ratios; best %.0f vs %.0f ns) | %s",
			lookup*100, len(r.LookupRatios), l10.NsPerOp, l100k.NsPerOp, yes(len(r.LookupRatios) > 0 && lookup <= 0.05))},
		{"Route applied at 10,000 routes serves within 1 s", fmt.Sprintf("%s | %s", propText, yes(prop > 0 && prop <= time.Second))},
		{"Translating 10,000 routes < 200 ms, < 200 MB", fmt.Sprintf("%.0f ms, %d MB allocated | %s", tr.NsPerOp/1e6, tr.BytesPerOp/1e6, yes(tr.NsPerOp < 200e6 && tr.BytesPerOp < 200e6))},
	}, r.swapBudgets(yes)...)
}

// median and max of the samples.
func (p propagation) median() time.Duration {
	v := make([]float64, len(p.Samples))
	for i, d := range p.Samples {
		v[i] = float64(d)
	}
	return time.Duration(median(v))
}

func (p propagation) max() time.Duration {
	var m time.Duration
	for _, d := range p.Samples {
		m = max(m, d)
	}
	return m
}

// latencyVerdict judges the open-loop budget. When vegeta could not send
// the rate to some system the latencies are the generator's, not the
// proxy's: no verdict. When the rate had to be lowered below half of
// nginx's top rate, the measured ratio is reported at that rate, and a
// full chain whose closed-loop top rate is below half of nginx's cannot hold
// the budget at the budget's rate (it would queue without bound).
func (r *results) latencyVerdict(ratio, fullAdd, ngAdd float64, verdict string) string {
	m := fmt.Sprintf("%.1f× at %d req/s (%s ms vs %s ms)", ratio, r.OpenRate, ms(fullAdd), ms(ngAdd))
	for _, s := range systemOrder {
		var sent []float64
		for _, o := range r.openOf(s) {
			sent = append(sent, o.Rate)
		}
		if median(sent) < 0.9*float64(r.OpenRate) {
			return fmt.Sprintf("%s, but vegeta sent only %.0f of %d requests/s to %s | not decided (generator-bound)",
				m, median(sent), r.OpenRate, s)
		}
	}
	if r.OpenRate >= r.HalfNginx {
		return m + " | " + verdict
	}
	if top := r.medianRPS(sysFull); top < float64(r.HalfNginx) {
		return fmt.Sprintf("%s; at half of nginx's rate (%d req/s) the full chain (top %.0f rps closed loop) "+
			"would be overloaded | **NO** at %d req/s (%s at %d req/s)", m, r.HalfNginx, top, r.HalfNginx,
			strings.Trim(verdict, "*"), r.OpenRate)
	}
	return fmt.Sprintf("%s (the generator's ceiling here; half of nginx's rate is %d req/s) | %s at %d req/s",
		m, r.HalfNginx, verdict, r.OpenRate)
}
