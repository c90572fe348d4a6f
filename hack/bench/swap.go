package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnpike-io/turnpike/dataplane"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// swapRoutes is the number of routes besides GET /hello in each table the
// swap server serves (both build modes).
const swapRoutes = 1000

// swapParts is the number of Apis of a table in the merge mode: the served
// Api (GET /hello and swapRoutes/swapParts routes, rebuilt on every swap)
// and swapParts-1 Apis of as many routes, built once.
const swapParts = 10

// Build modes of the swap server.
const (
	// swapFresh builds the whole table (one Api of swapRoutes+1 routes)
	// again for every swap: a full translation's table build.
	swapFresh = "fresh"
	// swapMerge rebuilds only the served Api's part and merges it with the
	// unchanged parts (table.Merge), as the incremental translator does for
	// a one-Route change.
	swapMerge = "merge"
)

// swapServerMain is `bench swap-server`: a dataplane.Server on a real
// listener whose table is rebuilt and swapped -rate times a second for -d,
// then it prints "SWAPS n BUSY ns" (swaps done, time spent building and
// swapping) and exits.
func swapServerMain(args []string) error {
	fs := flag.NewFlagSet("swap-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	backend := fs.Int("backend-port", 0, "port of the backend on 127.0.0.1")
	d := fs.Duration("d", 20*time.Second, "how long to serve and swap")
	perSec := fs.Int("rate", 100, "swaps per second")
	mode := fs.String("build", swapFresh, "how each table is made: fresh (whole table built) or merge (served Api rebuilt, merged with unchanged parts)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	build, err := swapBuilder(*mode)
	if err != nil {
		return err
	}
	s := dataplane.NewServer(dataplane.Options{
		Logger: logr.Discard(), AccessLog: io.Discard, Metrics: prometheus.NewRegistry(),
		GatewayThrottle: table.Throttle{RateLimit: 1_000_000, BurstLimit: 1_000_000},
	})
	s.UpdateEndpoints(table.EndpointSets{swapService.Key(): {{Address: "127.0.0.1", Port: int32(*backend)}}})
	first, err := build(0)
	if err != nil {
		return err
	}
	s.Swap(first)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, dataplane.Listeners{HTTP: ln}) }()
	n, busy, err := swapLoop(ctx, s, *perSec, build)
	if rerr := <-done; err == nil {
		err = rerr
	}
	fmt.Printf("SWAPS %d BUSY %d\n", n, busy.Nanoseconds())
	return err
}

// swapLoop builds a new table and swaps it in perSec times a second until
// ctx is done; it returns the number of swaps and the time spent building
// and swapping. Swaps are due on a fixed schedule (the i-th at i/perSec
// seconds): a loop woken late (the core also serves the load) does the
// swaps it owes back to back, so the count reaches perSec per second
// whenever the core has the time on average; one that cannot keep up falls
// behind, which the caller sees in the count.
func swapLoop(ctx context.Context, s *dataplane.Server, perSec int, build func(gen int) (*table.Table, error)) (int, time.Duration, error) {
	interval := time.Second / time.Duration(perSec)
	start := time.Now()
	timer := time.NewTimer(interval)
	defer timer.Stop()
	n := 0
	var busy time.Duration
	for {
		select {
		case <-ctx.Done():
			return n, busy, nil
		case <-timer.C:
		}
		for due := int(time.Since(start) / interval); n < due && ctx.Err() == nil; {
			t0 := time.Now()
			t, err := build(n + 1)
			if err != nil {
				return n, busy, err
			}
			s.Swap(t)
			busy += time.Since(t0)
			n++
		}
		timer.Reset(time.Until(start.Add(time.Duration(n+1) * interval)))
	}
}

// swapService is the one Service every route of the swap tables targets.
var swapService = table.ServiceTarget{Namespace: "bench", Name: "backend", Port: 80}

// swapBuilder returns the table maker of mode: gen is the swap's number.
func swapBuilder(mode string) (func(gen int) (*table.Table, error), error) {
	switch mode {
	case swapFresh:
		return swapTable, nil
	case swapMerge:
		return newSwapMerger()
	}
	return nil, fmt.Errorf("unknown build mode %q (fresh or merge)", mode)
}

// swapTable builds a fresh table of swapRoutes routes plus GET /hello. Odd
// and even generations differ in their routes (literal vs greedy siblings),
// so consecutive tables have different routers.
func swapTable(gen int) (*table.Table, error) {
	return table.New([]*table.Api{swapApi("bench", apiHost, "r", swapRoutes, gen, true)})
}

// newSwapMerger builds the unchanged parts of the merge mode once and
// returns the maker of each swap's table: the served Api (GET /hello plus
// swapRoutes/swapParts routes that alternate as in swapTable) compiled
// fresh, merged with the unchanged parts. The parts are never written
// after they are built (table.Merge's invariant), so every published table
// shares them.
func newSwapMerger() (func(gen int) (*table.Table, error), error) {
	per := swapRoutes / swapParts
	parts := make([]*table.Table, swapParts)
	for i := 1; i < swapParts; i++ {
		name := "p" + strconv.Itoa(i)
		part, err := table.New([]*table.Api{swapApi(name, name+".bench.example", name+"r", per, 0, false)})
		if err != nil {
			return nil, err
		}
		parts[i] = part
	}
	return func(gen int) (*table.Table, error) {
		served, err := table.New([]*table.Api{swapApi("bench", apiHost, "r", per, gen, true)})
		if err != nil {
			return nil, err
		}
		own := slices.Clone(parts) // parts[0] is this swap's own
		own[0] = served
		return table.Merge(own)
	}, nil
}

// swapApi is the Api name of namespace bench on host with n SERVICE routes
// below /prefix{i} (GET /{prefix}{i}/{id} in even generations, ANY
// /{prefix}{i}/{proxy+} in odd ones) and, with hello, GET /hello.
func swapApi(name, host, prefix string, n, gen int, hello bool) *table.Api {
	svc := swapService
	var routes []*table.Route
	if hello {
		routes = append(routes, serviceRoute("GET /hello", &svc))
	}
	for i := range n {
		key := fmt.Sprintf("GET /%s%d/{id}", prefix, i)
		if gen%2 == 1 {
			key = fmt.Sprintf("ANY /%s%d/{proxy+}", prefix, i)
		}
		routes = append(routes, serviceRoute(key, &svc))
	}
	st := &table.Stage{Name: "prod", Object: "bench/prod", Routes: routes}
	return &table.Api{Namespace: "bench", Name: name, Protocol: table.ProtocolHTTP,
		Hosts: []string{host}, MaxRequestBodyBytes: 10 << 20, Stages: []*table.Stage{st}}
}

// serviceRoute is a SERVICE route to svc.
func serviceRoute(key string, svc *table.ServiceTarget) *table.Route {
	return &table.Route{Key: key, Object: "bench/" + key, Integration: table.Integration{
		Type: table.IntegrationService, TimeoutMillis: 10000, Service: svc,
	}}
}

// swapResult is the outcome of one swap case.
type swapResult struct {
	Mode       string        `json:"mode"` // swapFresh or swapMerge
	SwapPerSec int           `json:"swap_per_sec"`
	Swaps      int           `json:"swaps"`
	Duration   time.Duration `json:"duration"` // how long the server swapped
	Busy       time.Duration `json:"busy"`     // spent building and swapping
	Open       openResult    `json:"open"`
	Closed     wrkResult     `json:"closed"`
}

// swapCase is one rate and build mode of the swap test.
type swapCase struct {
	rate int
	mode string
}

// swapCases are the cases `make bench` runs: the 100 swaps/s of
// architecture.md with whole tables built, and the 1,000 swaps/s of issue 18
// with the served Api rebuilt and merged (a whole 1,001-route build takes
// ~2 ms, so 1,000 of them a second do not fit on the proxy's one core).
var swapCases = []swapCase{{100, swapFresh}, {1000, swapMerge}}

// runSwapBench runs every swap case in turn.
func runSwapBench(c config, dir string, res *results) error {
	for _, sc := range swapCases {
		r, err := runSwapCase(c, dir, sc, max(1000, res.OpenRate/2))
		if err != nil {
			return err
		}
		res.Swaps = append(res.Swaps, r)
	}
	return nil
}

// runSwapCase starts the swap server on the proxy core and loads it with
// vegeta (openRate requests/s) and then wrk (closed loop) while it swaps.
func runSwapCase(c config, dir string, sc swapCase, openRate int) (swapResult, error) {
	r := swapResult{Mode: sc.mode, SwapPerSec: sc.rate, Duration: 2*c.swapDur + 4*time.Second}
	backend, err := startBackend(c, dir)
	if err != nil {
		return r, err
	}
	defer backend.stop()
	port, err := freePort()
	if err != nil {
		return r, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	var out safeBuffer
	p, err := startPinned("swap-server", c.proxyCore, &out, os.Stderr, self, "swap-server", "-addr", addr,
		"-backend-port", strconv.Itoa(backend.port), "-d", r.Duration.String(),
		"-rate", strconv.Itoa(sc.rate), "-build", sc.mode)
	if err != nil {
		return r, err
	}
	defer p.stop()
	t := target{name: "swap", url: "http://" + addr + "/prod/hello", header: map[string]string{"Host": apiHost}}
	if err := waitHTTP(p, t.url, apiHost, nil, 200, 10*time.Second); err != nil {
		return r, err
	}
	r.Open = attack(t, openRate, c.swapDur)
	w, err := newWrkRunner(dir, c.loadCore, c.conns)
	if err != nil {
		return r, err
	}
	if r.Closed, err = w.run(t, c.swapDur); err != nil {
		return r, err
	}
	<-p.done
	var busy int64
	if _, err := fmt.Sscanf(out.String(), "SWAPS %d BUSY %d", &r.Swaps, &busy); err != nil {
		return r, fmt.Errorf("swap server output %q: %w", out.String(), err)
	}
	r.Busy = time.Duration(busy)
	fmt.Fprintf(os.Stderr, "swap %d/s %s: %d swaps (%.0f/s, busy %.0f%%); vegeta %d requests %d errors; wrk %d requests %d/%d errors\n",
		sc.rate, sc.mode, r.Swaps, r.achieved(), 100*r.busyShare(), r.Open.Requests, r.Open.Errors,
		r.Closed.Requests, r.Closed.SocketErrors, r.Closed.StatusErrors)
	return r, nil
}

// achieved is the swap rate the server kept up (swaps per second).
func (r swapResult) achieved() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Swaps) / r.Duration.Seconds()
}

// busyShare is the share of the proxy core spent building and swapping.
func (r swapResult) busyShare() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return r.Busy.Seconds() / r.Duration.Seconds()
}

// holds is the budget's verdict: no failed request, and the server swapped
// at least 95% of the asked rate (a loop that falls behind would otherwise
// pass with fewer swaps than claimed; the 5% is the start-up before the
// first swap and the last swaps owed when the run ends).
func (r swapResult) holds() bool {
	return r.failed() == 0 && r.achieved() >= 0.95*float64(r.SwapPerSec)
}

// swapMain is `bench swap`: one swap case alone (e.g. `-rate 1000 -build
// merge`), with the proxy's flags; it prints the report section and leaves
// the docs alone.
func swapMain(args []string) error {
	var c config
	fs := flag.NewFlagSet("swap", flag.ContinueOnError)
	defineFlags(fs, &c)
	var sc swapCase
	fs.IntVar(&sc.rate, "rate", 1000, "swaps per second")
	fs.StringVar(&sc.mode, "build", swapMerge, "fresh or merge (see swap-server)")
	openRate := fs.Int("open-rate", 5700, "vegeta requests per second during the swaps")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "turnpike-bench-swap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	res := results{env: environment(c)}
	r, err := runSwapCase(c, dir, sc, *openRate)
	if err != nil {
		return err
	}
	res.Swaps = []swapResult{r}
	res.env.LoadAfter = loadAvg()
	var b strings.Builder
	res.writeSwap(&b)
	fmt.Printf("load average before %s, after %s\n\n%s", res.env.LoadBefore, res.env.LoadAfter, b.String())
	return nil
}

// failed is the number of failed requests of both load phases.
func (r swapResult) failed() int64 {
	return int64(r.Open.Errors) + r.Closed.SocketErrors + r.Closed.StatusErrors
}

// backendProc is a standalone nginx backend on the load core.
type backendProc struct {
	*proc
	port int
}

// startBackend starts the nginx backend alone (swap and propagation tests).
func startBackend(c config, dir string) (*backendProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf, err := writeBackendConf(filepath.Join(dir, "b"+strconv.Itoa(port)), "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	p, err := startPinned("backend", c.loadCore, nil, nil, "nginx", "-c", conf, "-e", filepath.Join(filepath.Dir(conf), "error.log"))
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(p, "http://127.0.0.1:"+strconv.Itoa(port)+"/", "", nil, 200, 10*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return &backendProc{proc: p, port: port}, nil
}
