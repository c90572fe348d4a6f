package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnpike-io/turnpike/dataplane"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// swapRoutes is the size of each table the swap server alternates between.
const swapRoutes = 1000

// swapServerMain is `bench swap-server`: a dataplane.Server on a real
// listener whose table is rebuilt and swapped 100 times a second for -d,
// then it prints "SWAPS n" and exits.
func swapServerMain(args []string) error {
	fs := flag.NewFlagSet("swap-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	backend := fs.Int("backend-port", 0, "port of the backend on 127.0.0.1")
	d := fs.Duration("d", 20*time.Second, "how long to serve and swap")
	perSec := fs.Int("rate", 100, "swaps per second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s := dataplane.NewServer(dataplane.Options{
		Logger: logr.Discard(), AccessLog: io.Discard, Metrics: prometheus.NewRegistry(),
		GatewayThrottle: table.Throttle{RateLimit: 1_000_000, BurstLimit: 1_000_000},
	})
	s.UpdateEndpoints(table.EndpointSets{swapService.Key(): {{Address: "127.0.0.1", Port: int32(*backend)}}})
	first, err := swapTable(0)
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
	n, err := swapLoop(ctx, s, *perSec)
	if rerr := <-done; err == nil {
		err = rerr
	}
	fmt.Printf("SWAPS %d\n", n)
	return err
}

// swapLoop builds a new table and swaps it in perSec times a second until
// ctx is done; it returns the number of swaps.
func swapLoop(ctx context.Context, s *dataplane.Server, perSec int) (int, error) {
	tick := time.NewTicker(time.Second / time.Duration(perSec))
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n, nil
		case <-tick.C:
		}
		t, err := swapTable(n + 1)
		if err != nil {
			return n, err
		}
		s.Swap(t)
		n++
	}
}

// swapService is the one Service every route of the swap tables targets.
var swapService = table.ServiceTarget{Namespace: "bench", Name: "backend", Port: 80}

// swapTable builds a fresh table of swapRoutes routes plus GET /hello. Odd
// and even generations differ in their routes (literal vs greedy siblings),
// so consecutive tables have different routers.
func swapTable(gen int) (*table.Table, error) {
	svc := swapService
	routes := []*table.Route{serviceRoute("GET /hello", &svc)}
	for i := range swapRoutes {
		key := fmt.Sprintf("GET /r%d/{id}", i)
		if gen%2 == 1 {
			key = fmt.Sprintf("ANY /r%d/{proxy+}", i)
		}
		routes = append(routes, serviceRoute(key, &svc))
	}
	st := &table.Stage{Name: "prod", Object: "bench/prod", Routes: routes}
	api := &table.Api{Namespace: "bench", Name: "bench", Protocol: table.ProtocolHTTP,
		Hosts: []string{apiHost}, MaxRequestBodyBytes: 10 << 20, Stages: []*table.Stage{st}}
	return table.New([]*table.Api{api})
}

// serviceRoute is a SERVICE route to svc.
func serviceRoute(key string, svc *table.ServiceTarget) *table.Route {
	return &table.Route{Key: key, Object: "bench/" + key, Integration: table.Integration{
		Type: table.IntegrationService, TimeoutMillis: 10000, Service: svc,
	}}
}

// swapResult is the swap test's outcome.
type swapResult struct {
	Swaps      int        `json:"swaps"`
	Open       openResult `json:"open"`
	Closed     wrkResult  `json:"closed"`
	SwapPerSec int        `json:"swap_per_sec"`
}

// runSwapBench starts the swap server on the proxy core and loads it with
// vegeta (fixed rate) and then wrk (closed loop) while it swaps.
func runSwapBench(c config, dir string, res *results) error {
	backend, err := startBackend(c, dir)
	if err != nil {
		return err
	}
	defer backend.stop()
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	total := 2*c.swapDur + 4*time.Second
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var out safeBuffer
	p, err := startPinned("swap-server", c.proxyCore, &out, os.Stderr, self, "swap-server", "-addr", addr,
		"-backend-port", strconv.Itoa(backend.port), "-d", total.String())
	if err != nil {
		return err
	}
	defer p.stop()
	t := target{name: "swap", url: "http://" + addr + "/prod/hello", header: map[string]string{"Host": apiHost}}
	if err := waitHTTP(p, t.url, apiHost, nil, 200, 10*time.Second); err != nil {
		return err
	}
	r := swapResult{SwapPerSec: 100}
	r.Open = attack(t, max(1000, res.OpenRate/2), c.swapDur)
	w, err := newWrkRunner(dir, c.loadCore, c.conns)
	if err != nil {
		return err
	}
	if r.Closed, err = w.run(t, c.swapDur); err != nil {
		return err
	}
	<-p.done
	if _, err := fmt.Sscanf(out.String(), "SWAPS %d", &r.Swaps); err != nil {
		return fmt.Errorf("swap server output %q: %w", out.String(), err)
	}
	fmt.Fprintf(os.Stderr, "swap: %d swaps; vegeta %d requests %d errors; wrk %d requests %d/%d errors\n",
		r.Swaps, r.Open.Requests, r.Open.Errors, r.Closed.Requests, r.Closed.SocketErrors, r.Closed.StatusErrors)
	res.Swap = r
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
