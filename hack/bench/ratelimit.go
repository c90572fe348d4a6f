package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

// Names of the systems of the rate-limit scenario.
const (
	rlLocalOne = "one gateway, in-process limits"
	rlRedisTwo = "two gateways, one Redis"
	rlLocal    = "in-process limits"
	rlRedis    = "Redis limits"
)

// rlConfig are the flags of `bench ratelimit`: those of a full run plus the
// overload runs' plan throttle and duration.
type rlConfig struct {
	config
	rate, burst int
	servedDur   time.Duration
}

// servedRun is one overload run: vegeta sends 2R requests/s in all, split
// evenly over the gateways, for servedDur.
type servedRun struct {
	Name        string
	Gateways    int
	Attacks     []openResult // one per gateway
	StoreErrors float64      // turnpike_ratelimit_store_errors_total, summed
	RedisCalls  int64        // scripts Redis ran during the load (-1: no Redis)
}

// count sums one status code over the gateways.
func (s servedRun) count(code string) int {
	n := 0
	for _, a := range s.Attacks {
		n += a.StatusCodes[code]
	}
	return n
}

// sent is the number of requests sent and their rate, summed.
func (s servedRun) sent() (uint64, float64) {
	var n uint64
	var rate float64
	for _, a := range s.Attacks {
		n, rate = n+a.Requests, rate+a.Rate
	}
	return n, rate
}

// other counts answers neither 200 nor 429 (transport errors are code "0").
func (s servedRun) other() int {
	n := 0
	for _, a := range s.Attacks {
		for code, k := range a.StatusCodes {
			if code != "200" && code != "429" {
				n += k
			}
		}
	}
	return n
}

// span is the longest first-to-last-sent time over the gateways.
func (s servedRun) span() time.Duration {
	var d time.Duration
	for _, a := range s.Attacks {
		d = max(d, a.Duration)
	}
	return d
}

// rlResults is everything `bench ratelimit` measured.
type rlResults struct {
	Started          time.Time
	Elapsed          time.Duration
	env              env
	Redis            string
	Rate, Burst      int
	ServedDur        time.Duration
	Served           []servedRun
	Closed           []closedRun
	ClosedStoreErrs  float64
	ClosedRedisCalls int64
	CoreBusy         map[string][][2]float64 // per limiter and round: busy share of the proxy and load cores
	ClosedRounds     int
	ClosedDur        time.Duration
	ClosedConns      int
	LoadCore, PxCore int
}

// rateLimitMain is `bench ratelimit`: the served rate of a usage plan at 2×
// overload (one gateway with in-process buckets, then two gateways sharing
// one redis-server), and closed-loop throughput with Redis vs in-process
// limits set far above the load. It writes its own generated section of
// the doc unless -quick.
func rateLimitMain(args []string) error {
	fs := flag.NewFlagSet("ratelimit", flag.ContinueOnError)
	var rc rlConfig
	defineFlags(fs, &rc.config)
	fs.IntVar(&rc.rate, "rl-rate", 500, "the usage plan's rateLimit R in the overload runs (they send 2R requests/s)")
	fs.IntVar(&rc.burst, "rl-burst", 100, "the usage plan's burstLimit in the overload runs")
	fs.DurationVar(&rc.servedDur, "rl-d", 30*time.Second, "duration of each overload run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if rc.quick {
		rc.duration, rc.rounds, rc.servedDur = 2*time.Second, 1, 5*time.Second
	}
	if err := os.Setenv("GOMEMLIMIT", benchMemLimit); err != nil { // as in run
		return err
	}
	res := rlResults{Started: time.Now(), env: environment(rc.config), Rate: rc.rate, Burst: rc.burst,
		ServedDur: rc.servedDur, ClosedRounds: rc.rounds, ClosedDur: rc.duration, ClosedConns: rc.conns,
		LoadCore: rc.loadCore, PxCore: rc.proxyCore, CoreBusy: map[string][][2]float64{}}
	res.Redis = strings.TrimSpace(strings.SplitN(cmdOut("redis-server", "--version"), " sha=", 2)[0])
	fmt.Fprintln(os.Stderr, "load before:", res.env.LoadBefore)
	dir, err := os.MkdirTemp("", "turnpike-bench-rl-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	backend, err := startBackend(rc.config, dir)
	if err != nil {
		return err
	}
	defer backend.stop()
	backendPort := backend.port
	if err := runServed(rc, dir, backendPort, &res); err != nil {
		return err
	}
	if err := runTopLoad(rc, dir, backendPort, &res); err != nil {
		return err
	}
	res.env.LoadAfter = loadAvg()
	res.Elapsed = time.Since(res.Started).Round(time.Second)
	fmt.Fprintln(os.Stderr, "load after:", res.env.LoadAfter)
	report := res.markdown()
	fmt.Println(report)
	if rc.quick {
		return nil
	}
	return replaceBetween(rc.outDoc, report, rlBeginMarker, rlEndMarker, endMarker)
}

// startRedis starts a private redis-server (no persistence) on a free
// loopback port on the load core, as an external service would run, and
// returns it with its URL.
func startRedis(c config) (*proc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := startPinned("redis-server", c.loadCore, nil, nil, "redis-server", "--port", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			return p, "redis://" + addr, nil
		}
		if gone, _ := p.exited(); gone || time.Now().After(deadline) {
			p.stop()
			return nil, "", fmt.Errorf("redis-server on %s did not come up: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gateway is one running `turnpike standalone` of the scenario.
type gateway struct {
	p       *proc
	t       target
	metrics string // host:port of /metrics
}

// startGateway starts `turnpike standalone` over cdir on the proxy core,
// sharing limits through redisURL when set (failure mode closed, so that a
// check Redis could not answer is a 503 and never an unchecked 200), and
// waits for a keyed 200.
func startGateway(c config, dir, cdir, name, redisURL string) (*gateway, error) {
	ports := make([]int, 2)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	addr, metrics := "127.0.0.1:"+strconv.Itoa(ports[0]), "127.0.0.1:"+strconv.Itoa(ports[1])
	argv := turnpikeArgs(c, cdir, addr, metrics)
	if redisURL != "" {
		argv = append(argv, "--redis-url", redisURL, "--redis-failure-mode", "closed")
	}
	argv = append(argv, "--shutdown-delay", "0s") // stop at once between runs
	errPath := filepath.Join(dir, strings.NewReplacer(" ", "-", ",", "").Replace(name)+".stderr")
	errf, err := os.Create(errPath)
	if err != nil {
		return nil, err
	}
	defer errf.Close()
	p, err := startPinned(name, c.proxyCore, nil, errf, argv...)
	if err != nil {
		return nil, err
	}
	g := &gateway{p: p, metrics: metrics, t: target{name: name, url: "http://" + addr + benchPath,
		header: map[string]string{"Host": apiHost, "Origin": origin, "X-Api-Key": apiKey}}}
	if err := waitHTTP(p, g.t.url, apiHost, g.t.header, 200, 30*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, errPath)
	}
	return g, nil
}

// runServed does the two overload runs with the plan throttle R, burst B.
func runServed(rc rlConfig, dir string, backendPort int, res *rlResults) error {
	cdir := filepath.Join(dir, "served")
	if err := os.MkdirAll(cdir, 0o750); err != nil {
		return err
	}
	tc := turnpikeConfig{backendPort: backendPort, full: true, planRate: rc.rate, planBurst: rc.burst}
	if err := tc.write(cdir); err != nil {
		return err
	}
	for _, s := range []struct {
		name   string
		n      int
		shared bool
	}{{rlLocalOne, 1, false}, {rlRedisTwo, 2, true}} {
		r, err := servedOnce(rc, dir, cdir, s.name, s.n, s.shared)
		if err != nil {
			return err
		}
		res.Served = append(res.Served, r)
	}
	return nil
}

// servedOnce starts n gateways (sharing a fresh redis-server when shared),
// lets their buckets fill, then sends 2R/n requests/s to each at once.
func servedOnce(rc rlConfig, dir, cdir, name string, n int, shared bool) (servedRun, error) {
	run := servedRun{Name: name, Gateways: n}
	var procs []*proc
	defer func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop()
		}
	}()
	url := ""
	if shared {
		p, u, err := startRedis(rc.config)
		if err != nil {
			return run, err
		}
		procs, url = append(procs, p), u
	}
	gws := make([]*gateway, n)
	for i := range gws {
		g, err := startGateway(rc.config, dir, cdir, fmt.Sprintf("%s %d", name, i+1), url)
		if err != nil {
			return run, err
		}
		gws[i], procs = g, append(procs, g.p)
	}
	time.Sleep(time.Second) // the readiness probes' tokens come back: every bucket starts full
	run.RedisCalls = -1
	var calls0 int64
	if shared {
		c, err := redisScriptCalls(url)
		if err != nil {
			return run, err
		}
		calls0 = c
	}
	run.Attacks = make([]openResult, n)
	var wg sync.WaitGroup
	for i, g := range gws {
		wg.Go(func() { run.Attacks[i] = attack(g.t, 2*rc.rate/n, rc.servedDur) })
	}
	wg.Wait()
	if shared {
		c, err := redisScriptCalls(url)
		if err != nil {
			return run, err
		}
		run.RedisCalls = c - calls0
	}
	for _, g := range gws {
		e, err := storeErrors(g.metrics)
		if err != nil {
			return run, err
		}
		run.StoreErrors += e
	}
	sent, rate := run.sent()
	fmt.Fprintf(os.Stderr, "served %-32s sent %d (%.0f/s) 200: %d 429: %d other: %d store errors: %.0f redis scripts: %d span %v\n",
		name, sent, rate, run.count("200"), run.count("429"), run.other(), run.StoreErrors, run.RedisCalls, run.span())
	return run, nil
}

// runTopLoad measures closed-loop throughput through one gateway with
// in-process limits and one with Redis limits, same route and plan, limits
// far above the load, in alternating rounds.
func runTopLoad(rc rlConfig, dir string, backendPort int, res *rlResults) error {
	cdir := filepath.Join(dir, "top")
	if err := os.MkdirAll(cdir, 0o750); err != nil {
		return err
	}
	if err := (turnpikeConfig{backendPort: backendPort, full: true}).write(cdir); err != nil {
		return err
	}
	rp, url, err := startRedis(rc.config)
	if err != nil {
		return err
	}
	defer rp.stop()
	local, err := startGateway(rc.config, dir, cdir, rlLocal, "")
	if err != nil {
		return err
	}
	defer local.p.stop()
	shared, err := startGateway(rc.config, dir, cdir, rlRedis, url)
	if err != nil {
		return err
	}
	defer shared.p.stop()
	w, err := newWrkRunner(dir, rc.loadCore, rc.conns)
	if err != nil {
		return err
	}
	order := []*gateway{local, shared}
	for _, g := range order {
		if _, err := w.run(g.t, 2*time.Second); err != nil {
			return err
		}
	}
	errs0, err := storeErrors(shared.metrics)
	if err != nil {
		return err
	}
	calls0, err := redisScriptCalls(url)
	if err != nil {
		return err
	}
	for round := range rc.rounds {
		for i := range order {
			g := order[(i+round)%len(order)]
			before := cpuTimes()
			r, err := w.run(g.t, rc.duration)
			if err != nil {
				return err
			}
			busy := busyShare(before, cpuTimes())
			res.CoreBusy[g.t.name] = append(res.CoreBusy[g.t.name],
				[2]float64{busy[rc.proxyCore], busy[rc.loadCore]})
			fmt.Fprintf(os.Stderr, "top %d %-20s %8.0f rps  p50 %5dus p99 %6dus errors %d/%d busy proxy %.0f%% load %.0f%%\n",
				round+1, g.t.name, r.RPS(), r.P50, r.P99, r.SocketErrors, r.StatusErrors,
				100*busy[rc.proxyCore], 100*busy[rc.loadCore])
			res.Closed = append(res.Closed, closedRun{System: g.t.name, Round: round + 1, Result: r})
		}
	}
	errs, err := storeErrors(shared.metrics)
	if err != nil {
		return err
	}
	calls, err := redisScriptCalls(url)
	res.ClosedStoreErrs, res.ClosedRedisCalls = errs-errs0, calls-calls0
	return err
}

// redisScriptCalls is the number of EVALSHA and EVAL commands the Redis at
// url has run (INFO commandstats): proof that the checks went to Redis.
func redisScriptCalls(url string) (int64, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return 0, err
	}
	cl := redis.NewClient(opt)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := cl.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		for _, cmd := range []string{"cmdstat_evalsha:calls=", "cmdstat_eval:calls="} {
			if rest, ok := strings.CutPrefix(line, cmd); ok {
				v, err := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("INFO commandstats %q: %w", line, err)
				}
				n += v
			}
		}
	}
	return n, nil
}

// storeErrors reads turnpike_ratelimit_store_errors_total from a gateway's
// /metrics (summed over its labels; 0 when absent).
func storeErrors(addr string) (float64, error) {
	return metricSum(addr, throttle.StoreErrorsMetric)
}

// metricSum reads a gateway's /metrics and sums the series of the metric
// name over their labels (0 when absent).
func metricSum(addr, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (!strings.HasPrefix(rest, "{") && !strings.HasPrefix(rest, " ")) {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum, sc.Err()
}

// cpuTimes reads /proc/stat: per core, busy and total jiffies.
func cpuTimes() map[int][2]float64 {
	b, _ := os.ReadFile("/proc/stat")
	m := map[int][2]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		core, err := strconv.Atoi(strings.TrimPrefix(f[0], "cpu"))
		if err != nil {
			continue
		}
		var busy, total float64
		for i, v := range f[1:] {
			x, _ := strconv.ParseFloat(v, 64)
			if i == 8 || i == 9 { // guest time is already in user and nice
				continue
			}
			total += x
			if i != 3 && i != 4 { // idle and iowait
				busy += x
			}
		}
		m[core] = [2]float64{busy, total}
	}
	return m
}

// busyShare is each core's busy share between two cpuTimes readings.
func busyShare(a, b map[int][2]float64) map[int]float64 {
	m := map[int]float64{}
	for core, t := range b {
		if dt := t[1] - a[core][1]; dt > 0 {
			m[core] = (t[0] - a[core][0]) / dt
		}
	}
	return m
}
