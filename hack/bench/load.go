package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// System names, in the order of every table.
const (
	sysDirect = "backend direct"
	sysNginx  = "nginx"
	sysPlain  = "Turnpike plain"
	sysFull   = "Turnpike full chain"
)

var systemOrder = []string{sysDirect, sysNginx, sysPlain, sysFull}

// fleet is the running processes of the proxy comparison.
type fleet struct {
	procs   []*proc
	targets map[string]target
	// accessLog is the full-chain Turnpike's access log file.
	accessLog string
}

// stop stops every process, the last started first.
func (f *fleet) stop() {
	for i := len(f.procs) - 1; i >= 0; i-- {
		f.procs[i].stop()
	}
}

// startFleet starts the backend (load core), nginx and two Turnpikes (proxy
// core) and waits until each answers 200 through its path.
func startFleet(c config, dir string) (*fleet, error) {
	f := &fleet{targets: map[string]target{}}
	ports := make([]int, 6)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(ports[i]) }
	err := f.startNginx(c, dir, addr(0), addr(1))
	if err == nil {
		err = f.startTurnpike(c, dir, sysPlain, ports[0], addr(2), addr(4), false)
	}
	if err == nil {
		err = f.startTurnpike(c, dir, sysFull, ports[0], addr(3), addr(5), true)
	}
	if err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

// startNginx starts the backend on the load core and the nginx proxy on the
// proxy core.
func (f *fleet) startNginx(c config, dir, backend, proxyAddr string) error {
	bconf, err := writeBackendConf(dir, backend)
	if err != nil {
		return err
	}
	pconf, err := writeProxyConf(dir, proxyAddr, backend)
	if err != nil {
		return err
	}
	for _, s := range []struct {
		name, conf, addr string
		core             int
	}{{sysDirect, bconf, backend, c.loadCore}, {sysNginx, pconf, proxyAddr, c.proxyCore}} {
		p, err := startPinned(s.name, s.core, nil, nil, "nginx", "-c", s.conf, "-e", filepath.Join(filepath.Dir(s.conf), "error.log"))
		if err != nil {
			return err
		}
		f.procs = append(f.procs, p)
		t := target{name: s.name, url: "http://" + s.addr + "/hello", header: map[string]string{}}
		if err := waitHTTP(p, t.url, "", nil, 200, 10*time.Second); err != nil {
			return err
		}
		f.targets[s.name] = t
	}
	return nil
}

// startTurnpike starts `turnpike standalone` over a generated directory.
func (f *fleet) startTurnpike(c config, dir, name string, backendPort int, addr, metrics string, full bool) error {
	cdir := filepath.Join(dir, map[bool]string{false: "plain", true: "full"}[full])
	if err := os.MkdirAll(cdir, 0o750); err != nil {
		return err
	}
	if err := (turnpikeConfig{backendPort: backendPort, full: full}).write(cdir); err != nil {
		return err
	}
	// The access log is stdout: a file for the full chain, /dev/null otherwise.
	logPath := os.DevNull
	if full {
		logPath = filepath.Join(dir, "access-full.log")
		f.accessLog = logPath
	}
	out, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer out.Close()
	errPath := filepath.Join(dir, filepath.Base(cdir)+".stderr")
	errf, err := os.Create(errPath)
	if err != nil {
		return err
	}
	defer errf.Close()
	p, err := startTurnpikeProc(c, name, cdir, addr, metrics, out, errf)
	if err != nil {
		return err
	}
	f.procs = append(f.procs, p)
	t := target{name: name, url: "http://" + addr + benchPath, header: map[string]string{"Host": apiHost}}
	if full {
		t.header["Origin"] = origin
		t.header["X-Api-Key"] = apiKey
	}
	if err := waitHTTP(p, t.url, apiHost, t.header, 200, 30*time.Second); err != nil {
		return fmt.Errorf("%w (log: %s)", err, errPath)
	}
	f.targets[name] = t
	return nil
}

// sortedCopy returns v sorted, leaving v alone.
func sortedCopy(v []float64) []float64 {
	s := append([]float64(nil), v...)
	slices.Sort(s)
	return s
}

// median of v (0 for none).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := sortedCopy(v)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// startTurnpikeProc runs `turnpike standalone` on the proxy core with the
// gateway-wide bucket set high (its default 10000/s would cap the run).
func startTurnpikeProc(c config, name, dir, addr, metrics string, stdout, stderr *os.File) (*proc, error) {
	return startPinned(name, c.proxyCore, stdout, stderr, turnpikeArgs(c, dir, addr, metrics)...)
}

// turnpikeArgs is a standalone command line on loopback listeners only
// (no HTTPS, health or admin listener; metrics only when metrics is set).
func turnpikeArgs(c config, dir, addr, metrics string) []string {
	return []string{c.turnpike, "standalone", "-f", dir,
		"--http-addr", addr, "--https-addr", "", "--metrics-addr", metrics, "--health-addr", "", "--admin-addr", "",
		"--rate-limit", "1000000", "--burst-limit", "1000000", "--log-format", "text"}
}
