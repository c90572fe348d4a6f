// Package hardening attacks the built turnpike binary over raw sockets:
// request framing and smuggling, backend-side framing, paths and hosts, and
// resource limits (issue 17, reliability checklist §2). Every test runs the
// binary in standalone mode on YAML written here, with loopback backends that
// count what they receive.
package hardening

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

func TestMain(m *testing.M) {
	code := m.Run()
	harness.RemoveBuilt()
	os.Exit(code)
}

// host is the default endpoint of the fixture's Api.
const host = "pets.shop.execute-api.localhost"

// fixture is the Api of every test: stage prod, a SERVICE route to a plain
// HTTP backend (requests without a body, or with a small one of known
// length, take the direct path) and an HTTP_PROXY route to an HTTPS backend
// (always the ReverseProxy path), both greedy so any path reaches them.
const fixture = `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: pets, namespace: shop}
spec: {maxRequestBodyBytes: 1048576}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: shop}
spec: {apiName: pets}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: direct, namespace: shop}
spec:
  apiName: pets
  routeKey: ANY /direct/{proxy+}
  integration: {type: SERVICE, service: {name: direct, port: 80}, timeoutMillis: 5000}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: rp, namespace: shop}
spec:
  apiName: pets
  routeKey: ANY /rp/{proxy+}
  integration: {type: HTTP_PROXY, uri: "https://127.0.0.1:TLSPORT/rp/{proxy}", timeoutMillis: 5000}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: keyed, namespace: shop}
spec:
  apiName: pets
  routeKey: ANY /keyed/{proxy+}
  apiKeyRequired: true
  integration: {type: SERVICE, service: {name: direct, port: 80}}
---
apiVersion: v1
kind: Service
metadata: {name: direct, namespace: shop}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: direct, namespace: shop, labels: {kubernetes.io/service-name: direct}}
addressType: IPv4
ports: [{name: http, port: PLAINPORT, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
`

// received is one request a backend got.
type received struct {
	Method, Path, Host string
	Header             http.Header
	Body               string
	BodyErr            string
}

// backend counts and records what it receives; it answers 200 "ok" after
// reading the whole body.
type backend struct {
	mu   sync.Mutex
	reqs []received
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	rec := received{Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Header: r.Header.Clone(), Body: string(body)}
	if err != nil {
		rec.BodyErr = err.Error()
	}
	b.mu.Lock()
	b.reqs = append(b.reqs, rec)
	b.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
}

// take returns what the backend received since the last take and forgets it.
func (b *backend) take() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.reqs
	b.reqs = nil
	return r
}

// env is a running gateway with its two counting backends.
type env struct {
	gw          *harness.Gateway
	plain, tls  *backend
	dir         string
	accessSince int
}

// start writes the fixture (plus extra YAML documents) and runs the gateway
// with extra flags.
func start(t *testing.T, extraYAML string, flags ...string) *env {
	t.Helper()
	e := &env{plain: &backend{}, tls: &backend{}, dir: t.TempDir()}
	plain := httptest.NewServer(e.plain)
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(e.tls)
	t.Cleanup(secure.Close)
	ca := filepath.Join(t.TempDir(), "backend-ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw})
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	y := strings.NewReplacer("PLAINPORT", port(plain.URL), "TLSPORT", port(secure.URL)).Replace(fixture)
	if extraYAML != "" {
		y += "---\n" + extraYAML
	}
	if err := os.WriteFile(filepath.Join(e.dir, "api.yaml"), []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	e.gw = harness.StartGateway(t, harness.GatewayConfig{
		Args:  []string{"standalone", "-f", e.dir},
		Extra: flags,
		Env:   []string{"SSL_CERT_FILE=" + ca}, // the gateway trusts the HTTPS backend
	})
	return e
}

func port(u string) string { return u[strings.LastIndex(u, ":")+1:] }

// accessEntry is the part of an access log line the tests read.
type accessEntry struct {
	Status           int    `json:"status"`
	Path             string `json:"path"`
	HTTPMethod       string `json:"httpMethod"`
	IntegrationError string `json:"integrationErrorMessage"`
	ErrorMessage     string `json:"errorMessage"`
	IntegrationStat  int    `json:"integrationStatus"`
}

// accessLog returns the access log entries written since the last call,
// waiting up to 2 s for at least want of them.
func (e *env) accessLog(t *testing.T, want int) []accessEntry {
	t.Helper()
	return e.accessLogWhere(t, func(es []accessEntry) bool { return len(es) >= want })
}

// accessLogWhere returns the access log entries written since the last
// call once ok accepts them, or after 2 s.
func (e *env) accessLogWhere(t *testing.T, ok func([]accessEntry) bool) []accessEntry {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		all := e.gw.Access.String()
		var out []accessEntry
		for _, l := range strings.Split(strings.TrimSpace(all[e.accessSince:]), "\n") {
			if l == "" {
				continue
			}
			var a accessEntry
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatalf("access log line %q: %v", l, err)
			}
			out = append(out, a)
		}
		if ok(out) || time.Now().After(deadline) {
			e.accessSince = len(all)
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric reads a gateway metric, 0 when it has no sample yet.
func (e *env) metric(t *testing.T, name string) float64 {
	t.Helper()
	v, err := e.gw.Metric(name)
	if err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatal(err)
	}
	return v
}

// clientSockets counts the established TCP connections whose local end is
// the gateway's HTTP listener (from /proc/net/tcp: the server side of every
// client connection the kernel holds for it, accepted or in the backlog).
func (e *env) clientSockets(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port(e.gw.HTTP))
	if err != nil {
		t.Fatal(err)
	}
	local := fmt.Sprintf(":%04X", p)
	n := 0
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1], local) && f[3] == "01" {
			n++
		}
	}
	return n
}
