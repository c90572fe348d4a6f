package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkScript prints wrk's summary as one JSON line prefixed with "BENCH ".
// Latencies are in microseconds.
const wrkScript = `done = function(s, lat, req)
  local e = s.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"socket_errors":%d,"status_errors":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d,"mean":%.1f}\n',
    s.requests, s.duration, e.connect + e.read + e.write + e.timeout, e.status,
    lat:percentile(50), lat:percentile(90), lat:percentile(99), lat:percentile(99.9), lat.mean))
end
`

// wrkResult is one closed-loop run.
type wrkResult struct {
	Requests     int64   `json:"requests"`
	DurationUS   int64   `json:"duration_us"`
	SocketErrors int64   `json:"socket_errors"`
	StatusErrors int64   `json:"status_errors"`
	P50          int64   `json:"p50"`
	P90          int64   `json:"p90"`
	P99          int64   `json:"p99"`
	P999         int64   `json:"p999"`
	Mean         float64 `json:"mean"`
}

// RPS is the run's throughput.
func (r wrkResult) RPS() float64 {
	if r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

// wrkRunner runs wrk pinned to a core with a fixed connection count.
type wrkRunner struct {
	core   int
	conns  int
	script string
}

// newWrkRunner writes the Lua script into dir.
func newWrkRunner(dir string, core, conns int) (*wrkRunner, error) {
	p := filepath.Join(dir, "report.lua")
	if err := os.WriteFile(p, []byte(wrkScript), 0o644); err != nil {
		return nil, err
	}
	return &wrkRunner{core: core, conns: conns, script: p}, nil
}

// run drives t for d and parses the result. wrk stops by itself after d.
func (w *wrkRunner) run(t target, d time.Duration) (wrkResult, error) {
	args := []string{"-c", strconv.Itoa(w.core), "wrk", "-t1", "-c" + strconv.Itoa(w.conns),
		"-d" + strconv.Itoa(int(d.Seconds())) + "s", "--timeout", "5s", "-s", w.script}
	for _, h := range t.headerList() {
		args = append(args, "-H", h)
	}
	args = append(args, t.url)
	var out, errb bytes.Buffer
	cmd := exec.Command("taskset", args...) //nolint:gosec // fixed program, harness-built arguments
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w: %s", t.name, err, errb.String())
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "BENCH "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return r, fmt.Errorf("wrk %s output %q: %w", t.name, line, err)
			}
			return r, nil
		}
	}
	return wrkResult{}, fmt.Errorf("wrk %s printed no summary: %s", t.name, out.String())
}
