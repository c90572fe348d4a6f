package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// propagation is the Route-to-first-200 measurement at one table size.
type propagation struct {
	Routes int `json:"routes"`
	// Startup is from process start to the first 200 of the initial table.
	Startup time.Duration `json:"startup"`
	// Samples are the times from a new Route file renamed into place to
	// its first 200.
	Samples []time.Duration `json:"samples"`
	// RSSKiB is the gateway's resident memory after the last sample.
	RSSKiB int64 `json:"rss_kib"`
}

// propagationSizes are the table sizes measured; the budget is at 10,000.
var propagationSizes = []int{10, 1000, 10000}

// propagationSamples is how many Routes are applied at each size.
const propagationSamples = 5

// runPropagation measures, at each table size, how long a Route file
// written into a standalone directory takes to serve its first 200.
func runPropagation(c config, dir string, res *results) error {
	backend, err := startBackend(c, dir)
	if err != nil {
		return err
	}
	defer backend.stop()
	for _, n := range propagationSizes {
		p, err := propagateAt(c, dir, backend.port, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "propagation at %d routes: startup %v, samples %v, RSS %d MiB\n",
			n, p.Startup, p.Samples, p.RSSKiB>>10)
		res.Propagation = append(res.Propagation, p)
	}
	return nil
}

// propagateAt starts a gateway over n routes and applies new Routes one at
// a time, each as a new file (written aside, then renamed in).
func propagateAt(c config, dir string, backendPort, n int) (propagation, error) {
	out := propagation{Routes: n}
	cdir := filepath.Join(dir, "prop-"+strconv.Itoa(n))
	if err := os.MkdirAll(cdir, 0o750); err != nil {
		return out, err
	}
	if err := (turnpikeConfig{backendPort: backendPort, extraRoutes: n}).write(cdir); err != nil {
		return out, err
	}
	port, err := freePort()
	if err != nil {
		return out, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	start := time.Now()
	p, err := startPinned("turnpike", c.proxyCore, nil, nil, turnpikeArgs(c, cdir, addr, "")...)
	if err != nil {
		return out, err
	}
	defer p.stop()
	if err := waitHTTP(p, "http://"+addr+benchPath, apiHost, nil, 200, 120*time.Second); err != nil {
		return out, err
	}
	out.Startup = time.Since(start)
	for i := range propagationSamples {
		d, err := applyRoute(p, cdir, addr, i)
		if err != nil {
			return out, err
		}
		out.Samples = append(out.Samples, d)
	}
	out.RSSKiB = rssKiB(p.cmd.Process.Pid)
	return out, nil
}

// applyRoute writes Route "new{i}" and polls its path until it answers 200.
func applyRoute(p *proc, dir, addr string, i int) (time.Duration, error) {
	name := fmt.Sprintf("new%d", i)
	text := routeYAML(name, "GET /"+name, false)
	tmp := filepath.Join(dir, ".tmp-"+name)
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return 0, err
	}
	url := "http://" + addr + "/prod/" + name
	start := time.Now()
	if err := os.Rename(tmp, filepath.Join(dir, "80-"+name+".yaml")); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if code, err := get(ctx, url, apiHost, nil); err == nil && code == 200 {
			return time.Since(start), nil
		}
		if gone, err := p.exited(); gone {
			return 0, fmt.Errorf("turnpike exited: %w", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("route %s did not serve within 30s", name)
}

// rssKiB reads VmRSS of pid's child (taskset execs, so it is pid itself).
func rssKiB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// safeBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
