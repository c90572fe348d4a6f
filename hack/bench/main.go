// Command bench is the load and scale harness of `make bench` (issue 8): it
// compares Turnpike with nginx as reverse proxies of one fast loopback
// backend, measures how fast a Route goes live in a table of 10,000 routes
// and counts failed requests while tables are swapped 100 times a second,
// then writes the results section of docs/benchmarks.md and its plots.
//
// All traffic stays on loopback and every load loop is bounded in time. The
// proxy under test runs on one core (taskset), the backend and the load
// generators on the other. Run it through hack/bench/run.sh, which installs
// nginx and wrk and builds bin/turnpike first.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// benchMemLimit is the GOMEMLIMIT of the gateways under test.
const benchMemLimit = "921MiB"

// config are the flags of a full run.
type config struct {
	// kubeRoutes is the table size of `bin/bench kube` (0: kubeRoutes).
	kubeRoutes int
	// kubeApis spreads the Routes of `bin/bench kube` over this many Apis;
	// kubeProfile, when set, is where it saves a CPU profile of edits.
	kubeApis    int
	kubeProfile string
	turnpike    string
	outDoc      string
	plotDir     string
	proxyCore   int
	loadCore    int
	conns       int
	duration    time.Duration
	rounds      int
	openDur     time.Duration
	swapDur     time.Duration
	quick       bool
}

func main() {
	subs := map[string]func([]string) error{"swap-server": swapServerMain, "swap": swapMain, "attack": attackMain,
		"ratelimit": rateLimitMain, "kube": kubeMain, "scale": scaleMain, "cache": cacheMain, "websocket": websocketMain, "ws-echo": wsEchoMain}
	if len(os.Args) > 1 && subs[os.Args[1]] != nil {
		sub := subs[os.Args[1]]
		if err := sub(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, os.Args[1]+":", err)
			os.Exit(1)
		}
		return
	}
	var c config
	defineFlags(flag.CommandLine, &c)
	flag.Parse()
	if c.quick {
		c.duration, c.rounds, c.openDur, c.swapDur = 2*time.Second, 1, 2*time.Second, 2*time.Second
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// defineFlags defines the flags of a full run on fs (the ratelimit
// subcommand takes the same ones, so run.sh can pass its arguments to both).
func defineFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.turnpike, "turnpike", "bin/turnpike", "the turnpike binary under test")
	fs.StringVar(&c.outDoc, "doc", "docs/benchmarks.md", "markdown file whose generated section is replaced")
	fs.StringVar(&c.plotDir, "plots", "docs", "directory for the PNG plots")
	fs.IntVar(&c.proxyCore, "proxy-core", 0, "core of the proxy under test")
	fs.IntVar(&c.loadCore, "load-core", 1, "core of the backend and the load generators")
	fs.IntVar(&c.conns, "c", 32, "wrk connections (keep-alive)")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "duration of one wrk run")
	fs.IntVar(&c.rounds, "rounds", 3, "alternating rounds over the systems")
	fs.DurationVar(&c.openDur, "open-d", 10*time.Second, "duration of one open-loop (vegeta) run")
	fs.DurationVar(&c.swapDur, "swap-d", 10*time.Second, "duration of each load phase of the swap test")
	fs.BoolVar(&c.quick, "quick", false, "short runs to debug the harness; does not touch the docs")
}

// run does every measurement, then writes the report unless quick.
func run(c config) error {
	// Every Turnpike started from here runs as in a container with the
	// chart's 1 GiB memory limit (90%: GOMEMLIMIT, hence GOGC 400).
	if err := os.Setenv("GOMEMLIMIT", benchMemLimit); err != nil {
		return err
	}
	var res results
	res.Started = time.Now()
	res.env = environment(c)
	fmt.Fprintln(os.Stderr, "load before:", res.env.LoadBefore)
	dir, err := os.MkdirTemp("", "turnpike-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := runProxyBench(c, dir, &res); err != nil {
		return err
	}
	if err := runSwapBench(c, dir, &res); err != nil {
		return err
	}
	if err := runPropagation(c, dir, &res); err != nil {
		return err
	}
	if err := runKubePropagation(c, dir, &res); err != nil {
		return err
	}
	if err := runGoBenches(c, &res); err != nil {
		return err
	}
	res.env.LoadAfter = loadAvg()
	res.Elapsed = time.Since(res.Started).Round(time.Second)
	fmt.Fprintln(os.Stderr, "load after:", res.env.LoadAfter)
	report := res.markdown(c)
	fmt.Println(report)
	if c.quick { // plots go to a scratch directory, the docs stay untouched
		c.plotDir = filepath.Join(os.TempDir(), "turnpike-bench-plots")
		if err := os.MkdirAll(c.plotDir, 0o750); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "plots in", c.plotDir)
	}
	if err := writePlots(c.plotDir, &res); err != nil {
		return err
	}
	if c.quick {
		return nil
	}
	return replaceSection(c.outDoc, report)
}

// kubeMain runs only the serve-mode propagation measurement and prints its
// report section (`bin/bench kube`; the docs are not touched).
func kubeMain(args []string) error {
	var c config
	fs := flag.NewFlagSet("kube", flag.ContinueOnError)
	defineFlags(fs, &c)
	fs.IntVar(&c.kubeRoutes, "routes", kubeRoutes, "Routes created before the gateway starts (issue 18 measures 10000, 50000 and 100000)")
	fs.IntVar(&c.kubeApis, "apis", 1, "Apis the Routes are spread over (Route i belongs to Api i % apis; the measured Routes to the first)")
	fs.StringVar(&c.kubeProfile, "profile", "", "save a CPU profile of the gateway during 20 s of one-Route edits to this path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "turnpike-bench-kube-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var res results
	if err := runKubePropagation(c, dir, &res); err != nil {
		return err
	}
	var b strings.Builder
	res.writeKube(&b)
	fmt.Print(b.String())
	return nil
}
