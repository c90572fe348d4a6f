package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// scaleApis is how many Apis (and files) the scale configurations have:
// each file holds one Api, its Stage "prod" and routes/scaleApis MOCK Routes.
const scaleApis = 100

// scaleConfig are the flags of `bin/bench scale`.
type scaleConfig struct {
	config
	sizes   string
	edits   int
	profile string
	profSec int
}

// scaleResult is one size's measurement.
type scaleResult struct {
	Routes int
	// Startup is from process start to the first 200 of the last Api.
	Startup time.Duration
	// Edits are the times from one Route's MOCK body changed in one file
	// (written aside, renamed in) to the first 200 with the new body.
	Edits []time.Duration
	// RSSKiB and HeapBytes are read after the edits (heap after a forced GC).
	RSSKiB    int64
	HeapBytes int64
	Load      string
}

// scaleMain is `bin/bench scale`: standalone gateways over 100 Apis × N/100
// MOCK Routes in 100 files, at each size of -sizes; prints a markdown table.
// With -profile FILE, a CPU profile of edits at the largest size is saved.
func scaleMain(args []string) error {
	var c scaleConfig
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	defineFlags(fs, &c.config)
	fs.StringVar(&c.sizes, "sizes", "10000,50000,100000", "total Route counts, comma-separated")
	fs.IntVar(&c.edits, "edits", 5, "one-Route edits measured at each size")
	fs.StringVar(&c.profile, "profile", "", "save a CPU profile of edits at the largest size here")
	fs.IntVar(&c.profSec, "profile-seconds", 20, "length of the CPU profile")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.Setenv("GOMEMLIMIT", benchMemLimit); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "turnpike-bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var out []scaleResult
	sizes := strings.Split(c.sizes, ",")
	for i, s := range sizes {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		prof := ""
		if i == len(sizes)-1 {
			prof = c.profile
		}
		r, err := scaleAt(c, dir, n, prof)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "scale %d routes: startup %v, edits %v, RSS %d MiB, heap %d MiB, load %s\n",
			n, r.Startup, r.Edits, r.RSSKiB>>10, r.HeapBytes>>20, r.Load)
		out = append(out, r)
	}
	fmt.Print(scaleMarkdown(out))
	return nil
}

// scaleAt measures one size: cold start, edits, memory, and optionally a
// CPU profile taken while edits keep coming.
func scaleAt(c scaleConfig, dir string, n int, profile string) (scaleResult, error) {
	out := scaleResult{Routes: n}
	cdir := filepath.Join(dir, "scale-"+strconv.Itoa(n))
	if err := os.MkdirAll(cdir, 0o750); err != nil {
		return out, err
	}
	per := n / scaleApis
	for a := range scaleApis {
		if err := writeScaleFile(cdir, a, per, "v0"); err != nil {
			return out, err
		}
	}
	addr, admin, err := twoPorts()
	if err != nil {
		return out, err
	}
	args := replaceArg(turnpikeArgs(c.config, cdir, addr, ""), "--admin-addr", admin)
	start := time.Now()
	p, err := startPinned("turnpike", c.proxyCore, nil, nil, args...)
	if err != nil {
		return out, err
	}
	defer p.stop()
	if err := waitHTTP(p, "http://"+addr+"/prod/r0", scaleHost(scaleApis-1), nil, 200, 300*time.Second); err != nil {
		return out, err
	}
	out.Startup = time.Since(start)
	for i := range c.edits {
		d, err := scaleEdit(p, cdir, addr, per, i+1)
		if err != nil {
			return out, err
		}
		out.Edits = append(out.Edits, d)
	}
	// Let the last reload's status logging and garbage settle first.
	time.Sleep(2 * time.Second)
	out.RSSKiB = rssKiB(p.cmd.Process.Pid)
	out.HeapBytes = heapAfterGC(admin)
	out.Load = loadAvg()
	if profile != "" {
		if err := profileEdits(c, p, cdir, addr, admin, per, profile); err != nil {
			return out, err
		}
	}
	return out, nil
}

// replaceArg sets the value following flag name in args.
func replaceArg(args []string, name, value string) []string {
	for i := range len(args) - 1 {
		if args[i] == name {
			args[i+1] = value
		}
	}
	return args
}

// twoPorts returns a data-plane and an admin address on loopback.
func twoPorts() (string, string, error) {
	a, err := freePort()
	if err != nil {
		return "", "", err
	}
	b, err := freePort()
	if err != nil {
		return "", "", err
	}
	return "127.0.0.1:" + strconv.Itoa(a), "127.0.0.1:" + strconv.Itoa(b), nil
}

// scaleHost is the default endpoint host of Api a.
func scaleHost(a int) string { return fmt.Sprintf("a%d.scale.execute-api.localhost", a) }

// editedApi is the Api whose file the edits rewrite (a middle one).
const editedApi = scaleApis / 2

// writeScaleFile writes file api-NNN.yaml: Api a{a}, Stage prod and per MOCK
// Routes GET /r{j}; Route r0 answers body0, the others "ok". It is written
// aside and renamed in, as an editor or a ConfigMap update does.
func writeScaleFile(dir string, a, per int, body0 string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: a%d, namespace: scale}\nspec: {protocol: HTTP}\n", a)
	fmt.Fprintf(&b, "---\napiVersion: turnpike.io/v1alpha1\nkind: Stage\nmetadata: {name: a%d-prod, namespace: scale}\nspec: {apiName: a%d, stageName: prod}\n", a, a)
	for j := range per {
		body := "ok"
		if j == 0 {
			body = body0
		}
		fmt.Fprintf(&b, "---\napiVersion: turnpike.io/v1alpha1\nkind: Route\nmetadata: {name: a%d-r%d, namespace: scale}\n"+
			"spec:\n  apiName: a%d\n  routeKey: GET /r%d\n  integration:\n    type: MOCK\n    mock: {statusCode: 200, body: %q}\n",
			a, j, a, j, body)
	}
	name := fmt.Sprintf("api-%03d.yaml", a)
	tmp := filepath.Join(dir, ".tmp-"+name)
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// scaleEdit rewrites the edited Api's file with Route r0's body "v{k}" and
// polls GET /prod/r0 every 2 ms until it answers that body.
func scaleEdit(p *proc, dir, addr string, per, k int) (time.Duration, error) {
	want := "v" + strconv.Itoa(k)
	start := time.Now()
	if err := writeScaleFile(dir, editedApi, per, want); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := "http://" + addr + "/prod/r0"
	for ctx.Err() == nil {
		if body, err := getBody(ctx, url, scaleHost(editedApi)); err == nil && body == want {
			return time.Since(start), nil
		}
		if gone, err := p.exited(); gone {
			return 0, fmt.Errorf("turnpike exited: %w", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("edit %s not live within 60s", want)
}

// getBody returns the body of a 200 answer (an error for any other status).
func getBody(ctx context.Context, url, host string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Host = host
	res, err := probeClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %w", res.StatusCode, err)
	}
	return string(b), nil
}

// heapAfterGC reads HeapAlloc from the admin listener's heap profile after
// a forced GC (0 when unreachable).
func heapAfterGC(admin string) int64 {
	res, err := http.Get("http://" + admin + "/debug/pprof/heap?gc=1&debug=1") //nolint:noctx // bench probe
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapAlloc = "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// profileEdits saves a CPU profile of the gateway taken while one-Route edits
// follow each other, and prints its top functions to stderr.
func profileEdits(c scaleConfig, p *proc, dir, addr, admin string, per int, path string) error {
	done := make(chan error, 1)
	go func() {
		done <- fetch("http://"+admin+"/debug/pprof/profile?seconds="+strconv.Itoa(c.profSec), path)
	}()
	deadline := time.Now().Add(time.Duration(c.profSec) * time.Second)
	edits := 0
	for k := 1000; time.Now().Before(deadline); k++ {
		if _, err := scaleEdit(p, dir, addr, per, k); err != nil {
			return err
		}
		edits++
	}
	if err := <-done; err != nil {
		return err
	}
	top, _ := exec.Command("go", "tool", "pprof", "-top", "-nodecount=40", c.turnpike, path).CombinedOutput() //nolint:gosec // the harness's own files
	fmt.Fprintf(os.Stderr, "CPU profile of %d edits at %d routes saved in %s\n%s\n", edits, per*scaleApis, path, top)
	return nil
}

// fetch saves the body of url to path.
func fetch(url, path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return err
}

// scaleMarkdown is the results table of a scale run.
func scaleMarkdown(rs []scaleResult) string {
	var b strings.Builder
	b.WriteString("| Routes | cold start to ready | one-Route edit → live: median | max | samples | RSS | Go heap after GC | load average |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		var l []string
		for _, d := range r.Edits {
			l = append(l, d.Round(time.Millisecond).String())
		}
		pr := propagation{Samples: r.Edits}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %d MiB | %d MiB | %s |\n", r.Routes, r.Startup.Round(time.Millisecond),
			pr.median().Round(time.Millisecond), pr.max().Round(time.Millisecond), strings.Join(l, ", "),
			r.RSSKiB>>10, r.HeapBytes>>20, r.Load)
	}
	return b.String()
}
