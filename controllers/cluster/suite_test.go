package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/translate"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// The suite runs one real kube-apiserver and etcd (envtest) for the whole
// package, started by the first test that needs it and stopped by TestMain.
var (
	envOnce  sync.Once
	envErr   error
	testEnv  *envtest.Environment
	certDir  string
	restCfg  *rest.Config
	k8s      client.Client
	nsSerial atomic.Int64
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(testLogger())
	klog.SetLogger(testLogger()) // client-go (leader election, reflectors)
	code := m.Run()
	if testEnv != nil {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping envtest:", err)
		}
	}
	if certDir != "" {
		_ = os.RemoveAll(certDir)
	}
	os.Exit(code)
}

// testLogger logs to stderr when TURNPIKE_TEST_LOG is set, else discards:
// goroutines of the source may log after a test ended, which testr forbids.
func testLogger() logr.Logger {
	if os.Getenv("TURNPIKE_TEST_LOG") == "" {
		return logr.Discard()
	}
	return funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: 1})
}

// repoRoot walks up from the test's working directory to the go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "go.mod not found above the test directory")
		dir = parent
	}
}

// requireEnv starts the shared control plane once, or skips the test when
// TURNPIKE_SKIP_ENVTEST=1. Missing binaries fail the test: they are built by
// `make test` (hack/envtest-assets.sh), never downloaded.
func requireEnv(t *testing.T) {
	t.Helper()
	if os.Getenv("TURNPIKE_SKIP_ENVTEST") == "1" {
		t.Skip("TURNPIKE_SKIP_ENVTEST=1: skipping tests that need a kube-apiserver")
	}
	root := repoRoot(t)
	assets := filepath.Join(root, "bin", "k8s")
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			t.Fatalf("envtest binary %s is missing in %s: run `make test` or hack/envtest-assets.sh "+
				"(or set TURNPIKE_SKIP_ENVTEST=1 to skip these tests)", bin, assets)
		}
	}
	envOnce.Do(func() { envErr = startEnv(root, assets) })
	require.NoError(t, envErr, "starting envtest")
}

func startEnv(root, assets string) error {
	var err error
	// A fixed certificate directory keeps the serving certificate across an
	// API-server restart (the outage test), so existing clients reconnect.
	if certDir, err = os.MkdirTemp("", "turnpike-envtest-"); err != nil {
		return err
	}
	testEnv = &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	testEnv.ControlPlane.GetAPIServer().CertDir = certDir
	// The outage test kills the API server; waiting for its graceful
	// shutdown (open watches) only slows the suite down.
	testEnv.ControlPlane.GetAPIServer().StopTimeout = 3 * time.Second
	if restCfg, err = testEnv.Start(); err != nil {
		return err
	}
	scheme, err := NewScheme()
	if err != nil {
		return err
	}
	k8s, err = client.New(restCfg, client.Options{Scheme: scheme})
	return err
}

// newNamespace creates a fresh namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e6, nsSerial.Add(1))
	require.NoError(t, k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	return ns
}

// recordingDataplane is a fake dataplane that keeps every swapped table,
// and hands tables and endpoints on to a real one once serveWith set it.
type recordingDataplane struct {
	mu        sync.Mutex
	tables    []*table.Table
	endpoints []table.EndpointSets
	next      controllers.Dataplane
}

func (d *recordingDataplane) Swap(t *table.Table) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tables = append(d.tables, t)
	if d.next != nil {
		d.next.Swap(t)
	}
}

func (d *recordingDataplane) UpdateEndpoints(e table.EndpointSets) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.endpoints = append(d.endpoints, e)
	if d.next != nil {
		d.next.UpdateEndpoints(e)
	}
}

// serveWith makes next serve every table from now on, the current one first.
func (d *recordingDataplane) serveWith(next controllers.Dataplane) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next = next
	if n := len(d.tables); n > 0 {
		next.Swap(d.tables[n-1])
	}
	if n := len(d.endpoints); n > 0 {
		next.UpdateEndpoints(d.endpoints[n-1])
	}
}

// current is the last swapped table (nil before the first) and the swap count.
func (d *recordingDataplane) current() (*table.Table, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.tables) == 0 {
		return nil, 0
	}
	return d.tables[len(d.tables)-1], len(d.tables)
}

func (d *recordingDataplane) lastEndpoints() (table.EndpointSets, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.endpoints) == 0 {
		return nil, 0
	}
	return d.endpoints[len(d.endpoints)-1], len(d.endpoints)
}

// recordingApplier keeps the last snapshot and forwards it.
type recordingApplier struct {
	next Applier
	last atomic.Pointer[translate.Snapshot]
}

func (r *recordingApplier) Apply(s *translate.Snapshot) {
	r.last.Store(s)
	r.next.Apply(s)
}

// harness is one gateway replica: a source, the real translator in a
// pipeline, a recording dataplane and a status writer, all on one namespace.
type harness struct {
	ns       string
	dp       *recordingDataplane
	pipeline *controllers.Pipeline
	writer   *StatusWriter
	source   *Source
	snaps    *recordingApplier
	reg      *prometheus.Registry
	// logs holds every line the replica logged.
	logs *logLines
	// stop stops the replica and waits for it; safe to call twice.
	stop func()
}

// logLines collects log lines (and prints them with TURNPIKE_TEST_LOG).
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	print := os.Getenv("TURNPIKE_TEST_LOG") != ""
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		l.lines = append(l.lines, prefix+" "+args)
		l.mu.Unlock()
		if print {
			fmt.Fprintln(os.Stderr, prefix, args)
		}
	}, funcr.Options{Verbosity: 1})
}

// matching returns the lines that contain every one of parts.
func (l *logLines) matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// startReplica runs a replica until the test ends. opts.Namespace is set to ns.
func startReplica(t *testing.T, ns string, opts Options) *harness {
	t.Helper()
	return startReplicaWith(t, ns, opts, translate.Options{DefaultDomain: "example.test"})
}

// startReplicaWith is startReplica with the translator's options.
func startReplicaWith(t *testing.T, ns string, opts Options, topts translate.Options) *harness {
	t.Helper()
	opts.Namespace = ns
	reg := prometheus.NewRegistry()
	h := &harness{ns: ns, dp: &recordingDataplane{}, reg: reg, logs: &logLines{}}
	log := h.logs.logger()
	var err error
	h.writer, err = NewStatusWriter(restCfg, opts, reg, log)
	require.NoError(t, err)
	// Wired as cmd's serve mode is: per-object sums, incremental translation.
	if opts.Sums == nil {
		opts.Sums = NewSums()
	}
	h.pipeline, err = controllers.NewPipelineWith(controllers.IncrementalTranslate(opts.Sums.Of), topts, h.dp, h.writer, log, reg,
		controllers.WithFingerprint(opts.Sums.Fingerprint))
	require.NoError(t, err)
	h.snaps = &recordingApplier{next: h.pipeline}
	h.source, err = NewSource(restCfg, opts, h.snaps, log, reg)
	require.NoError(t, err)
	h.writer.UseCache(h.source.Cached) // as Run does
	h.source.OnUpdate(h.writer.Recheck)
	require.NoError(t, h.source.Manager().Add(h.writer))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.source.Start(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(30 * time.Second):
				t.Error("replica did not stop within 30s")
			}
		})
	}
	t.Cleanup(h.stop)
	return h
}

// waitForTable waits until the dataplane's current table satisfies ok.
func (h *harness) waitForTable(t *testing.T, msg string, ok func(*table.Table) bool) *table.Table {
	t.Helper()
	var got *table.Table
	require.Eventually(t, func() bool {
		cur, _ := h.dp.current()
		if cur != nil && ok(cur) {
			got = cur
			return true
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, msg)
	return got
}

// routeKeys lists "stage key" for every route of the Api ns/name in tbl.
func routeKeys(tbl *table.Table, ns, name string) []string {
	var out []string
	for _, a := range tbl.Apis {
		if a.Namespace != ns || a.Name != name {
			continue
		}
		for _, s := range a.Stages {
			for _, r := range s.Routes {
				out = append(out, s.Name+" "+r.Key)
			}
		}
	}
	return out
}
