package awsimport

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/standalone"
	"github.com/turnpike-io/turnpike/controllers/translate"
	"github.com/turnpike-io/turnpike/dataplane"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const testDomain = "example.test"

// fixture reads testdata/aws/name, or testdata/name when name has a directory.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	path := filepath.Join("testdata", "aws", name)
	if strings.Contains(name, "/") {
		path = filepath.Join("testdata", name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustImport imports a fixture and fails the test on error.
func mustImport(t *testing.T, name string, opts Options) *Result {
	t.Helper()
	res, err := Import(fixture(t, name), opts)
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return res
}

// validateObjects runs every object through standalone mode's in-process
// CRD validation (schema, defaults and CEL rules, the API server's code).
func validateObjects(t *testing.T, res *Result) {
	t.Helper()
	v, err := standalone.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range res.Objects() {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetNamespace() == "" {
			u.SetNamespace("default")
		}
		warnings, err := v.DefaultAndValidate(context.Background(), u)
		if err != nil {
			t.Errorf("%s %q does not validate: %v", u.GetKind(), u.GetName(), err)
		}
		for _, w := range warnings {
			t.Errorf("%s %q: %s", u.GetKind(), u.GetName(), w)
		}
	}
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func yamlOf(t *testing.T, res *Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := res.WriteYAML(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func reportOf(t *testing.T, res *Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := res.Report.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gateway is standalone mode in process: the imported YAML (plus Services
// and EndpointSlices) in a directory, loaded and validated as `turnpike
// standalone -f` does, translated by the real pipeline and served by the
// real dataplane behind an httptest server.
type gateway struct {
	srv    *httptest.Server
	status []translate.ObjectStatus
}

type statusSink struct{ g *gateway }

func (s statusSink) Publish(st []translate.ObjectStatus) { s.g.status = st }

func startGateway(t *testing.T, files map[string]string) *gateway {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snap, errs, err := standalone.Load(dir, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Fatalf("standalone mode refused a file: %v", e)
	}
	g := &gateway{}
	dp := dataplane.NewServer(dataplane.Options{Logger: logr.Discard(), AccessLog: io.Discard,
		DenyEgress: upstream.DefaultDenyEgress(false), Metrics: prometheus.NewRegistry(),
		GatewayThrottle: table.Throttle{RateLimit: 10000, BurstLimit: 5000}, AllowHTTPJWKS: true})
	t.Cleanup(dp.Close)
	p, err := controllers.NewPipeline(translate.Options{DefaultDomain: testDomain}, dp, statusSink{g}, logr.Discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	p.Apply(snap)
	g.srv = httptest.NewServer(dp.Handler())
	t.Cleanup(g.srv.Close)
	return g
}

// do sends a request to Api api of namespace ns on its default endpoint.
func (g *gateway) do(t *testing.T, method, api, ns, target string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = api + "." + ns + "." + testDomain
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := g.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// backend is an httptest server that records the last request it got and
// answers 200 with a JSON body naming the path it saw.
type backend struct {
	srv *httptest.Server
	mu  sync.Mutex
	// last and lastBody are the last request and its body (under mu).
	last     *http.Request
	lastBody string
}

// req is the last request the backend got (nil before the first).
func (b *backend) req() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// body is the body of the last request.
func (b *backend) body() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastBody
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.last, b.lastBody = r.Clone(context.Background()), string(body)
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"query":%q}`, r.URL.EscapedPath(), r.URL.RawQuery)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// port is the backend's port.
func (b *backend) port() string {
	u, _ := url.Parse(b.srv.URL)
	return u.Port()
}

// serviceYAML is a Service and an EndpointSlice on loopback for b, so a
// --service-map NAME:80 entry reaches it in standalone mode.
func (b *backend) serviceYAML(name, ns string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  ports: [{name: http, port: 80, targetPort: %[3]s}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-local
  namespace: %[2]s
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
ports: [{name: http, port: %[3]s, protocol: TCP}]
endpoints:
  - addresses: ["127.0.0.1"]
    conditions: {ready: true}
`, name, ns, b.port())
}

// function stands in for a Lambda container image: the Runtime Interface
// Emulator's invocation endpoint, answering each event with handle's result.
type function struct {
	backend
	evMu    sync.Mutex
	lastEvt map[string]any
}

func newFunction(t *testing.T, handle func(event map[string]any) map[string]any) *function {
	t.Helper()
	f := &function{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/2015-03-31/functions/function/invocations" {
			http.NotFound(w, r)
			return
		}
		var ev map[string]any
		_ = json.NewDecoder(r.Body).Decode(&ev)
		f.evMu.Lock()
		f.lastEvt = ev
		f.evMu.Unlock()
		_ = json.NewEncoder(w).Encode(handle(ev))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// event is the last event the function got.
func (f *function) event() map[string]any {
	f.evMu.Lock()
	defer f.evMu.Unlock()
	return f.lastEvt
}
