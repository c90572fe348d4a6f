package main

import (
	"fmt"
	"os"
	"time"
)

// closedRun is one wrk run of one system in one round.
type closedRun struct {
	System string    `json:"system"`
	Round  int       `json:"round"`
	Result wrkResult `json:"result"`
}

// openRun is one vegeta run of one system.
type openRun struct {
	System string     `json:"system"`
	Round  int        `json:"round"`
	Result openResult `json:"result"`
}

// runProxyBench measures the four systems closed loop with wrk in
// alternating rounds, then open loop with vegeta at half of nginx's rate.
func runProxyBench(c config, dir string, res *results) error {
	f, err := startFleet(c, dir)
	if err != nil {
		return err
	}
	defer f.stop()
	w, err := newWrkRunner(dir, c.loadCore, c.conns)
	if err != nil {
		return err
	}
	for _, name := range systemOrder { // warm-up: connections, pools, JIT-free but cache-warm
		if _, err := w.run(f.targets[name], 2*time.Second); err != nil {
			return err
		}
	}
	for round := range c.rounds {
		for i := range systemOrder {
			name := systemOrder[(i+round)%len(systemOrder)] // rotate who goes first
			r, err := w.run(f.targets[name], c.duration)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "round %d %-20s %8.0f rps  p50 %5dus p99 %6dus p99.9 %6dus errors %d/%d\n",
				round+1, name, r.RPS(), r.P50, r.P99, r.P999, r.SocketErrors, r.StatusErrors)
			res.Closed = append(res.Closed, closedRun{System: name, Round: round + 1, Result: r})
		}
	}
	res.HalfNginx = int(res.medianRPS(sysNginx) / 2)
	res.OpenRate = calibrateOpenRate(f.targets[sysDirect], res.HalfNginx)
	rounds := c.rounds // three rounds: the median survives one disturbed run
	for round := range rounds {
		for i := range systemOrder {
			name := systemOrder[(i+round)%len(systemOrder)]
			r := attack(f.targets[name], res.OpenRate, c.openDur)
			fmt.Fprintf(os.Stderr, "open %d %-20s %6d rps sent %8.0f answered  p50 %v p99 %v p99.9 %v errors %d\n",
				round+1, name, res.OpenRate, r.Throughput, r.P50, r.P99, r.P999, r.Errors)
			res.Open = append(res.Open, openRun{System: name, Round: round + 1, Result: r})
		}
	}
	if st, err := os.Stat(f.accessLog); err == nil {
		res.AccessLogBytes = st.Size()
	}
	return nil
}

// Open-loop calibration: the generator and the backend share the load core,
// and past some rate that core, not the system under test, sets the
// latency (vegeta then also falls behind its schedule). The open-loop runs
// use the highest rate, up to half of nginx's top rate, at which the
// backend alone, driven directly, still answers on schedule: at least 97%
// of the rate sent and a p99 under calibrationP99.
const (
	calibrationP99   = 5 * time.Millisecond
	calibrationRun   = 3 * time.Second
	calibrationSteps = 8
)

func calibrateOpenRate(direct target, want int) int {
	rate := want
	for range calibrationSteps {
		r := attack(direct, rate, calibrationRun)
		ok := r.Rate >= 0.97*float64(rate) && r.P99 < calibrationP99 && r.Errors == 0
		fmt.Fprintf(os.Stderr, "open-loop calibration: %d/s to the backend: sent %.0f/s, p99 %v: %v\n",
			rate, r.Rate, r.P99, map[bool]string{true: "ok", false: "generator or backend saturated"}[ok])
		if ok {
			return rate
		}
		rate = rate * 4 / 5 / 100 * 100
	}
	return rate
}
