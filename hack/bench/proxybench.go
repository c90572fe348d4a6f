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
	res.OpenRate = int(res.medianRPS(sysNginx) / 2)
	rounds := max(1, c.rounds-1)
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
