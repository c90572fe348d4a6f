package main

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// results is everything one run measured.
type results struct {
	Started        time.Time
	Elapsed        time.Duration
	env            env
	Closed         []closedRun
	OpenRate       int // the open-loop rate used (calibrated)
	HalfNginx      int // half of nginx's closed-loop top rate (the budget's rate)
	Open           []openRun
	AccessLogBytes int64
	Swaps          []swapResult // one per swapCases entry
	Propagation    []propagation
	Kube           kubePropagation
	GoBench        []goBench
	GoBenchCmds    []string
	LookupRatios   []float64 // 100,000-route over 10-route time, per repetition
}

// env describes the machine and the tools.
type env struct {
	CPU, Cores, Memory, Kernel string
	Go, Nginx, Wrk, Vegeta     string
	Commit                     string
	LoadBefore, LoadAfter      string
	ProxyCore, LoadCore, Conns int
	Duration, OpenDur, SwapDur time.Duration
	Rounds                     int
}

// environment collects the machine description and the load average.
func environment(c config) env {
	e := env{
		Kernel: strings.TrimSpace(cmdOut("uname", "-sr")),
		Go:     runtime.Version(), Vegeta: "github.com/tsenart/vegeta/v12 v12.13.0 (library)",
		Nginx:      strings.TrimSpace(strings.TrimPrefix(cmdOut("nginx", "-v"), "nginx version: ")),
		Commit:     strings.TrimSpace(cmdOut("git", "rev-parse", "--short", "HEAD")),
		LoadBefore: loadAvg(), ProxyCore: c.proxyCore, LoadCore: c.loadCore, Conns: c.conns,
		Duration: c.duration, OpenDur: c.openDur, SwapDur: c.swapDur, Rounds: c.rounds,
	}
	if l := strings.SplitN(cmdOut("wrk", "--version"), "Copyright", 2); len(l) > 0 {
		e.Wrk = strings.TrimSpace(l[0])
	}
	info, _ := os.ReadFile("/proc/cpuinfo") // nproc would say 1: we run pinned
	cores := 0
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			e.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			cores++
		}
	}
	e.Cores = strconv.Itoa(cores)
	mem, _ := os.ReadFile("/proc/meminfo")
	if f := strings.Fields(string(mem)); len(f) > 1 {
		e.Memory = f[1] + " kB"
	}
	return e
}

// cmdOut runs a command and returns its combined output ("" on failure to
// start; tools print versions on stderr and exit non-zero at times).
func cmdOut(name string, args ...string) string {
	var b bytes.Buffer
	cmd := exec.Command(name, args...) //nolint:gosec // fixed tool names
	cmd.Stdout, cmd.Stderr = &b, &b
	_ = cmd.Run()
	return b.String()
}

// loadAvg is /proc/loadavg's first three fields.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// closedOf returns the closed-loop results of system, in round order.
func (r *results) closedOf(system string) []wrkResult {
	var l []wrkResult
	for _, c := range r.Closed {
		if c.System == system {
			l = append(l, c.Result)
		}
	}
	return l
}

// openOf returns the open-loop results of system, in round order.
func (r *results) openOf(system string) []openResult {
	var l []openResult
	for _, o := range r.Open {
		if o.System == system {
			l = append(l, o.Result)
		}
	}
	return l
}

// medianRPS is the median closed-loop throughput of system.
func (r *results) medianRPS(system string) float64 {
	return median(mapWrk(r.closedOf(system), func(w wrkResult) float64 { return w.RPS() }))
}

// closedPct is the median over rounds of a closed-loop percentile, in µs.
func (r *results) closedPct(system string, pick func(wrkResult) int64) float64 {
	return median(mapWrk(r.closedOf(system), func(w wrkResult) float64 { return float64(pick(w)) }))
}

// openPct is the median over rounds of an open-loop percentile, in µs.
func (r *results) openPct(system string, pick func(openResult) time.Duration) float64 {
	var v []float64
	for _, o := range r.openOf(system) {
		v = append(v, float64(pick(o).Nanoseconds())/1e3)
	}
	return median(v)
}

// rpsRatio is the median over rounds of system's rps over nginx's rps in
// the same round.
func (r *results) rpsRatio(system string) float64 {
	ng, sys := r.closedOf(sysNginx), r.closedOf(system)
	var v []float64
	for i := range min(len(ng), len(sys)) {
		if ng[i].RPS() > 0 {
			v = append(v, sys[i].RPS()/ng[i].RPS())
		}
	}
	return median(v)
}

// mapWrk applies f to each result.
func mapWrk(l []wrkResult, f func(wrkResult) float64) []float64 {
	v := make([]float64, len(l))
	for i, w := range l {
		v[i] = f(w)
	}
	return v
}
