package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// kubePropagation is the serve-mode measurement: a Route applied with
// kubectl to a real API server that already holds Routes, to its first 200.
type kubePropagation struct {
	// Skipped says why nothing was measured (no envtest binaries).
	Skipped string
	Routes  int
	// Create is how long creating the initial Routes took (16 clients).
	Create time.Duration
	// Startup is from `turnpike serve` starting to the first 200.
	Startup time.Duration
	// Total is from `kubectl apply` starting to the first 200; Stored is
	// from kubectl returning (the object is in etcd) to the first 200.
	Total, Stored []time.Duration
	// Status is from `kubectl apply` starting to the new Route's status
	// (Ready for generation 1) being stored by the gateway.
	Status []time.Duration
	RSSKiB int64
	// Apis is how many Apis the Routes are spread over.
	Apis int
	// HeapBytes is the Go heap after a forced GC, after the edits.
	HeapBytes int64
	// Pending is turnpike_status_pending_objects when the gateway became
	// ready and after the edits; WriteRate the status writes per second
	// between the two.
	PendingAtReady, PendingAfter float64
	WriteRate                    float64

	backendPort int
}

// kubeRoutes is the table size of the serve-mode measurement.
const kubeRoutes = 10000

// runKubePropagation starts etcd and kube-apiserver from bin/k8s (built by
// `make envtest`, which `make test` runs; about 11 minutes the first time)
// on the load core, creates kubeRoutes Routes, starts `turnpike serve` on
// the proxy core and applies new Routes with kubectl. Without the binaries
// it records why and measures nothing (make bench must not take 11 minutes
// more on a fresh machine).
func runKubePropagation(c config, dir string, res *results) error {
	root, _ := os.Getwd()
	assets := filepath.Join(root, "bin", "k8s")
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		res.Kube.Skipped = "bin/k8s has no kube-apiserver: run `make envtest` (or `make test`) first"
		fmt.Fprintln(os.Stderr, "kubectl propagation skipped:", res.Kube.Skipped)
		return nil
	}
	backend, err := startBackend(c, dir)
	if err != nil {
		return err
	}
	defer backend.stop()
	logf.SetLogger(logr.Discard())
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("start envtest: %w", err)
	}
	defer func() { _ = env.Stop() }()
	if err := v1alpha1.AddToScheme(scheme.Scheme); err != nil {
		return err
	}
	cl, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return err
	}
	kc, err := kubeconfigFor(env, dir)
	if err != nil {
		return err
	}
	k := &res.Kube
	k.Routes, k.backendPort, k.Apis = kubeRoutes, backend.port, max(c.kubeApis, 1)
	if c.kubeRoutes > 0 {
		k.Routes = c.kubeRoutes
	}
	start := time.Now()
	if err := createBenchObjects(cl, backend.port, k.Routes, k.Apis); err != nil {
		return err
	}
	k.Create = time.Since(start)
	fmt.Fprintf(os.Stderr, "created %d Routes over %d Apis in %v\n", k.Routes, k.Apis, k.Create.Round(time.Millisecond))
	return measureServe(c, dir, kc, cl, k)
}

// kubeconfigFor writes a kubeconfig of a system:masters user for kubectl and
// the gateway.
func kubeconfigFor(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "bench-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	b, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, b, 0o600)
}

// measureServe starts the gateway and applies propagationSamples Routes.
func measureServe(c config, dir, kubeconfig string, cl client.Client, k *kubePropagation) error {
	addr, admin, err := twoPorts()
	if err != nil {
		return err
	}
	metricsPort, err := freePort()
	if err != nil {
		return err
	}
	metricsAddr := "127.0.0.1:" + strconv.Itoa(metricsPort)
	// The gateway runs as in a container with the chart's 1 GiB limit
	// (make bench sets this for every process; bin/bench kube only here).
	if err := os.Setenv("GOMEMLIMIT", benchMemLimit); err != nil {
		return err
	}
	start := time.Now()
	p, err := startPinned("turnpike serve", c.proxyCore, nil, nil, c.turnpike, "serve",
		"--kubeconfig", kubeconfig, "--leader-elect=false", "--deny-egress-cidrs", "169.254.0.0/16",
		"--http-addr", addr, "--https-addr", "", "--metrics-addr", metricsAddr, "--health-addr", "", "--admin-addr", admin,
		"--shutdown-delay", "0s", "--log-format", "text")
	if err != nil {
		return err
	}
	defer p.stop()
	if err := waitHTTP(p, "http://"+addr+benchPath, apiHost, nil, 200, 180*time.Second); err != nil {
		return err
	}
	k.Startup = time.Since(start)
	readyAt, writesAtReady := time.Now(), metricValue(metricsAddr, "turnpike_status_writes_total")
	k.PendingAtReady = metricValue(metricsAddr, "turnpike_status_pending_objects")
	for i := range propagationSamples {
		total, stored, err := kubectlApplyRoute(p, dir, kubeconfig, addr, k.backendPort, i)
		if err != nil {
			return err
		}
		status, err := waitRouteStatus(cl, fmt.Sprintf("kube%d", i), time.Now().Add(-total))
		if err != nil {
			return err
		}
		k.Total, k.Stored, k.Status = append(k.Total, total), append(k.Stored, stored), append(k.Status, status)
	}
	k.WriteRate = (metricValue(metricsAddr, "turnpike_status_writes_total") - writesAtReady) / time.Since(readyAt).Seconds()
	k.PendingAfter = metricValue(metricsAddr, "turnpike_status_pending_objects")
	k.RSSKiB = rssKiB(p.cmd.Process.Pid)
	k.HeapBytes = heapAfterGC(admin)
	fmt.Fprintf(os.Stderr, "kubectl propagation at %d routes: startup %v, apply→200 %v, stored→200 %v, apply→status %v, "+
		"status writes %.0f/s, pending %.0f → %.0f, heap %d MiB\n",
		k.Routes, k.Startup.Round(time.Millisecond), k.Total, k.Stored, k.Status, k.WriteRate, k.PendingAtReady, k.PendingAfter, k.HeapBytes>>20)
	if c.kubeProfile != "" {
		return profileKubeEdits(c, p, dir, kubeconfig, addr, admin, k.backendPort)
	}
	return nil
}

// kubectlApplyRoute applies Route "kube{i}" with kubectl and polls its path
// until it answers 200.
func kubectlApplyRoute(p *proc, dir, kubeconfig, addr string, port, i int) (total, stored time.Duration, err error) {
	name := fmt.Sprintf("kube%d", i)
	file := filepath.Join(dir, name+".yaml")
	text := fmt.Sprintf(`apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: %s, namespace: bench}
spec:
  apiName: bench
  routeKey: GET /%s
  integration: {type: HTTP_PROXY, uri: "%s"}
`, name, name, proxyURI(port))
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "apply", "-f", file).CombinedOutput() //nolint:gosec // the harness's own files
	if err != nil {
		return 0, 0, fmt.Errorf("kubectl apply: %w: %s", err, out)
	}
	applied := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := "http://" + addr + "/prod/" + name
	for ctx.Err() == nil {
		if code, err := get(ctx, url, apiHost, nil); err == nil && code == 200 {
			now := time.Now()
			return now.Sub(start), now.Sub(applied), nil
		}
		if gone, err := p.exited(); gone {
			return 0, 0, fmt.Errorf("turnpike exited: %w", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, 0, fmt.Errorf("route %s did not serve within 30s of kubectl apply", name)
}

// createBenchObjects creates namespace bench with Api "bench", Stage "prod",
// Route "hello" and n Routes "GET /r{i}/{id}" (16 concurrent clients), all
// proxying to the backend on 127.0.0.1:port.
func createBenchObjects(cl client.Client, port, n, apis int) error {
	ctx := context.Background()
	ns := "bench"
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&v1alpha1.Api{ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: ns}, Spec: v1alpha1.ApiSpec{Protocol: "HTTP"}},
		&v1alpha1.Stage{ObjectMeta: metav1.ObjectMeta{Name: "prod", Namespace: ns}, Spec: v1alpha1.StageSpec{ApiName: "bench"}},
		benchRoute(ns, "hello", "GET /hello", port),
	}
	for a := 1; a < apis; a++ { // more Apis "a{a}", each with its Stage prod
		api := benchApiName(a)
		objs = append(objs, &v1alpha1.Api{ObjectMeta: metav1.ObjectMeta{Name: api, Namespace: ns}, Spec: v1alpha1.ApiSpec{Protocol: "HTTP"}},
			&v1alpha1.Stage{ObjectMeta: metav1.ObjectMeta{Name: api + "-prod", Namespace: ns}, Spec: v1alpha1.StageSpec{ApiName: api, StageName: "prod"}})
	}
	for _, o := range objs {
		if err := cl.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return createRoutes(ctx, cl, ns, n, apis, port)
}

// benchApiName is the name of the Api that Route i % apis belongs to.
func benchApiName(a int) string {
	if a == 0 {
		return "bench"
	}
	return fmt.Sprintf("a%d", a)
}

func createRoutes(ctx context.Context, cl client.Client, ns string, n, apis, port int) error {
	work := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := benchRoute(ns, fmt.Sprintf("r%d", i), fmt.Sprintf("GET /r%d/{id}", i), port)
				r.Spec.ApiName = benchApiName(i % apis)
				if err := cl.Create(ctx, r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case work <- i:
		case err = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err = <-errs:
		return err
	default:
		return nil
	}
}

// benchRoute is an HTTP_PROXY Route to the loopback backend (the API server
// refuses loopback EndpointSlice addresses, so SERVICE routes cannot reach
// it; translation and propagation do not depend on the integration type).
func benchRoute(ns, name, key string, port int) *v1alpha1.Route {
	return &v1alpha1.Route{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.RouteSpec{
			ApiName:     "bench",
			RouteKey:    key,
			Integration: v1alpha1.Integration{Type: "HTTP_PROXY", URI: proxyURI(port)},
		},
	}
}

func proxyURI(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/" }
