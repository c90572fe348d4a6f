package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	ws "github.com/coder/websocket"
)

// `bench websocket` (issue 14): WebSocket message round trips through
// Turnpike to an HTTP integration and back, against a direct WebSocket
// echo server on the same core; @connections posts per second; and the
// memory one idle connection costs the gateway. The gateway and the echo
// server run on the proxy core, the HTTP backend and the clients on the
// load core, one system at a time.

const (
	wsHost   = "chat.bench.execute-api.localhost"
	wsKeyID  = "AKIDBENCHWEBSOCKET01"
	wsSecret = "bench-secret-bench-secret-bench-secret00"
)

// wsConfig are the flags of `bench websocket`.
type wsConfig struct {
	config
	idle int // idle connections for the memory measurement
}

// wsResults are the numbers of one run.
type wsResults struct {
	Gateway, Direct   roundTrips
	Posts             roundTrips // @connections POSTs, answered 200
	Idle              int
	IdleBytesPerConn  float64
	RSSBefore, RSSAft int64
}

// roundTrips counts one closed-loop run.
type roundTrips struct {
	N        int64
	Duration time.Duration
	P50, P99 time.Duration
	Errors   int64
}

func (r roundTrips) rate() float64 { return float64(r.N) / r.Duration.Seconds() }

func websocketMain(args []string) error {
	fs := flag.NewFlagSet("websocket", flag.ContinueOnError)
	var wc wsConfig
	defineFlags(fs, &wc.config)
	fs.IntVar(&wc.idle, "ws-idle", 10000, "idle connections for the memory measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if wc.quick {
		wc.duration, wc.idle = 2*time.Second, 2000
	}
	dir, err := os.MkdirTemp("", "turnpike-bench-ws-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var res wsResults
	if err := runWebSocketBench(wc, dir, &res); err != nil {
		return err
	}
	report := res.markdown(wc)
	fmt.Println(report)
	if wc.quick {
		return nil
	}
	return replaceBetween(wc.outDoc, report, "<!-- BEGIN make bench websocket", "<!-- END make bench websocket -->", "<!-- END make bench ratelimit -->")
}

func runWebSocketBench(wc wsConfig, dir string, res *wsResults) error {
	backend, err := startEchoBackend()
	if err != nil {
		return err
	}
	defer backend.Close()
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "chat.yaml"), []byte(wsConfigYAML("http://"+backend.Addr().String()+"/echo")), 0o600); err != nil {
		return err
	}
	gw, err := startPinned("turnpike", wc.proxyCore, nil, nil, append(turnpikeArgs(wc.config, dir, addr, ""),
		"--websocket-max-lifetime", "1h", "--websocket-idle-timeout", "1h")...)
	if err != nil {
		return err
	}
	defer gw.stop()
	if err := waitHTTP(gw, "http://"+addr+"/prod", wsHost, nil, http.StatusUpgradeRequired, 30*time.Second); err != nil {
		return err
	}
	if res.Gateway, err = roundTripLoad(wc, "ws://"+addr+"/prod", wsHost); err != nil {
		return err
	}
	if res.Posts, err = postLoad(wc, addr); err != nil {
		return err
	}
	if err := idleMemory(wc, gw, addr, res); err != nil {
		return err
	}
	echoAddr, err := freeAddr()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	echo, err := startPinned("ws-echo", wc.proxyCore, nil, os.Stderr, self, "ws-echo", "-addr", echoAddr)
	if err != nil {
		return err
	}
	defer echo.stop()
	if err := waitHTTP(echo, "http://"+echoAddr+"/", "", nil, http.StatusUpgradeRequired, 10*time.Second); err != nil {
		return err
	}
	res.Direct, err = roundTripLoad(wc, "ws://"+echoAddr+"/", "")
	return err
}

// wsConfigYAML is a WEBSOCKET Api whose $default route returns the HTTP
// backend's answer, with a management key for the posts.
func wsConfigYAML(backend string) string {
	return `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: chat, namespace: bench}
spec:
  protocol: WEBSOCKET
  managementApi: {credentialSecretNames: [admin]}
---
apiVersion: v1
kind: Secret
metadata: {name: admin, namespace: bench}
type: turnpike.io/aws-credentials
stringData: {accessKeyId: ` + wsKeyID + `, secretAccessKey: ` + wsSecret + `}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: bench}
spec: {apiName: chat}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: echo, namespace: bench}
spec:
  apiName: chat
  routeKey: $default
  websocket: {returnResponse: true}
  integration: {type: HTTP_PROXY, uri: "` + backend + `"}
`
}

// startEchoBackend is the HTTP integration: it answers each POST with its
// body, and "whoami" with the connection's id (in this process, on the
// load core).
func startEchoBackend() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) == "whoami" {
			b = []byte(r.Header.Get("X-Turnpike-Connection-Id"))
		}
		_, _ = w.Write(b) //nolint:gosec // G705: an echo for the benchmark's own clients
	})}
	go func() { _ = srv.Serve(l) }()
	return l, nil
}

// wsEchoMain is `bench ws-echo -addr A`: a bare WebSocket echo server, the
// direct baseline.
func wsEchoMain(args []string) error {
	fs := flag.NewFlagSet("ws-echo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Accept(w, r, &ws.AcceptOptions{CompressionMode: ws.CompressionDisabled})
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil || c.Write(context.Background(), typ, b) != nil {
				return
			}
		}
	})}
	return srv.ListenAndServe()
}

// roundTripLoad runs c.conns connections that each send a message and wait
// for its answer, for c.duration.
func roundTripLoad(c wsConfig, url, host string) (roundTrips, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.duration+30*time.Second)
	defer cancel()
	conns, err := dialMany(ctx, url, host, c.conns)
	if err != nil {
		return roundTrips{}, err
	}
	defer closeAll(conns)
	msg := []byte(`{"action":"echo","data":"0123456789abcdef0123456789abcdef"}`)
	var n, errs atomic.Int64
	lat := make([][]time.Duration, len(conns))
	start := time.Now()
	deadline := start.Add(c.duration)
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if conn.Write(ctx, ws.MessageText, msg) != nil {
					errs.Add(1)
					return
				}
				if _, _, err := conn.Read(ctx); err != nil {
					errs.Add(1)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return summarize(n.Load(), errs.Load(), time.Since(start), lat), nil
}

// postLoad sends signed @connections POSTs to connections of the gateway
// (c.conns callers, each to its own connection, which reads them) for
// c.duration.
func postLoad(c wsConfig, addr string) (roundTrips, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.duration+30*time.Second)
	defer cancel()
	conns, err := dialMany(ctx, "ws://"+addr+"/prod", wsHost, c.conns)
	if err != nil {
		return roundTrips{}, err
	}
	defer closeAll(conns)
	ids := make([]string, len(conns))
	for i, conn := range conns { // each learns its id from the backend
		if err := conn.Write(ctx, ws.MessageText, []byte("whoami")); err != nil {
			return roundTrips{}, err
		}
		_, id, err := conn.Read(ctx)
		if err != nil {
			return roundTrips{}, err
		}
		ids[i] = string(id)
		go func() { // drain what the posts deliver
			for {
				if _, _, err := conn.Read(ctx); err != nil {
					return
				}
			}
		}()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.conns, Proxy: nil}, Timeout: 10 * time.Second}
	var n, errs atomic.Int64
	lat := make([][]time.Duration, len(ids))
	start := time.Now()
	deadline := start.Add(c.duration)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if status, err := signedPost(ctx, client, addr, id, []byte("pushed")); err != nil || status != http.StatusOK {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return summarize(n.Load(), errs.Load(), time.Since(start), lat), nil
}

// signedPost sends one @connections POST signed with the AWS SDK's signer.
func signedPost(ctx context.Context, client *http.Client, addr, id string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/prod/@connections/"+id, strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	req.Host = wsHost
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: wsKeyID, SecretAccessKey: wsSecret}, req,
		hex.EncodeToString(sum[:]), "execute-api", "us-east-1", time.Now()); err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// idleMemory opens c.idle idle connections and reads the gateway's resident
// memory before and after.
func idleMemory(c wsConfig, gw *proc, addr string, res *wsResults) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	time.Sleep(500 * time.Millisecond)
	before, err := rss(gw)
	if err != nil {
		return err
	}
	conns, err := dialMany(ctx, "ws://"+addr+"/prod", wsHost, c.idle)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	time.Sleep(2 * time.Second) // let the gateway settle (GC)
	after, err := rss(gw)
	if err != nil {
		return err
	}
	res.Idle, res.RSSBefore, res.RSSAft = len(conns), before, after
	res.IdleBytesPerConn = float64(after-before) / float64(len(conns))
	return nil
}

// rss is the resident set of p's turnpike child (taskset execs it, so it
// is p's own pid).
func rss(p *proc) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

func dialMany(ctx context.Context, url, host string, n int) ([]*ws.Conn, error) {
	out := make([]*ws.Conn, 0, n)
	for range n {
		c, resp, err := ws.Dial(ctx, url, &ws.DialOptions{Host: host, CompressionMode: ws.CompressionDisabled})
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("connection %d of %d: %w", len(out)+1, n, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func closeAll(conns []*ws.Conn) {
	for _, c := range conns {
		_ = c.CloseNow()
	}
}

func summarize(n, errs int64, d time.Duration, lat [][]time.Duration) roundTrips {
	var all []float64
	for _, l := range lat {
		for _, v := range l {
			all = append(all, float64(v))
		}
	}
	s := sortedCopy(all)
	pct := func(p float64) time.Duration {
		if len(s) == 0 {
			return 0
		}
		return time.Duration(s[min(len(s)-1, int(p*float64(len(s))))])
	}
	return roundTrips{N: n, Duration: d, P50: pct(0.50), P99: pct(0.99), Errors: errs}
}

func freeAddr() (string, error) {
	p, err := freePort()
	return "127.0.0.1:" + strconv.Itoa(p), err
}

// markdown is the report section.
func (r *wsResults) markdown(c wsConfig) string {
	var b strings.Builder
	b.WriteString("<!-- BEGIN make bench websocket: generated by bin/bench websocket, do not edit by hand -->\n")
	fmt.Fprintf(&b, "### WebSocket\n\nGateway and echo server on core %d; HTTP backend and %d clients on core %d; %s per run.\n\n",
		c.proxyCore, c.conns, c.loadCore, c.duration)
	b.WriteString("| Run | round trips/s | p50 | p99 | errors |\n|---|---|---|---|---|\n")
	row := func(name string, rt roundTrips) {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %d |\n", name, rt.rate(), rt.P50.Round(time.Microsecond), rt.P99.Round(time.Microsecond), rt.Errors)
	}
	row("message → Turnpike → HTTP integration → client (route response)", r.Gateway)
	row("message → direct WebSocket echo (coder/websocket)", r.Direct)
	row("@connections POST (SigV4) → client", r.Posts)
	if r.Direct.rate() > 0 {
		fmt.Fprintf(&b, "\nTurnpike round trips: %.2f× the direct echo; @connections posts: %.2f× the direct echo's messages.\n",
			r.Gateway.rate()/r.Direct.rate(), r.Posts.rate()/r.Direct.rate())
	}
	fmt.Fprintf(&b, "\nMemory per idle connection: %.1f KiB (%d connections, gateway RSS %.1f → %.1f MiB; budget 20 KiB).\n",
		r.IdleBytesPerConn/1024, r.Idle, float64(r.RSSBefore)/(1<<20), float64(r.RSSAft)/(1<<20))
	b.WriteString("<!-- END make bench websocket -->\n")
	return b.String()
}
