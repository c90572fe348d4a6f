// Package redis_test runs two built turnpike gateways on one YAML directory
// against one private redis-server, as two replicas sharing limits would run.
package redis_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"

	"github.com/turnpike-io/turnpike/test/redis/redistest"
)

const apiYAML = `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: pets, namespace: shop}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: shop}
spec: {apiName: pets}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: keyed, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /keyed
  apiKeyRequired: true
  integration: {type: MOCK, mock: {body: admitted}}
---
apiVersion: v1
kind: Secret
metadata:
  name: alice
  namespace: shop
  labels: {turnpike.io/usage-plan: gold}
type: turnpike.io/api-key
stringData: {key: ` + aliceKey + `}
`

const aliceKey = "alice-0123456789abcdefghij"

// planYAML is the gold plan with the given throttle and quota lines.
func planYAML(throttle, quota string) string {
	return `apiVersion: turnpike.io/v1alpha1
kind: UsagePlan
metadata: {name: gold, namespace: shop}
spec:
  apiStages: [{apiName: pets, stage: prod}]
  apiKeySelector: {matchLabels: {turnpike.io/usage-plan: gold}}
` + throttle + quota
}

// writeFile replaces dir/name atomically, as an editor or a sync would.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// gateway is one `turnpike standalone` process.
type gateway struct {
	http, health, metrics, admin string
	cmd                          *exec.Cmd
	out                          *harness.Buffer
}

// startGateway runs the binary on dir with loopback listeners and waits until
// it serves the gold plan's key (read on the admin listener: no quota spent).
func startGateway(t *testing.T, dir string, args ...string) *gateway {
	t.Helper()
	g := &gateway{http: harness.FreeAddr(t), health: harness.FreeAddr(t), metrics: harness.FreeAddr(t), admin: harness.FreeAddr(t), out: &harness.Buffer{}}
	args = append([]string{"standalone", "-f", dir, "--http-addr=" + g.http, "--https-addr=" + harness.FreeAddr(t), "--health-addr=" + g.health,
		"--metrics-addr=" + g.metrics, "--admin-addr=" + g.admin, "--shutdown-delay=0s", "--log-format=text"}, args...)
	g.cmd = exec.Command(harness.Build(t, "./cmd/turnpike"), args...)
	g.cmd.Stdout, g.cmd.Stderr = io.Discard, g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = g.cmd.Process.Signal(os.Interrupt)
		_ = g.cmd.Wait()
		if t.Failed() {
			t.Logf("gateway %s output:\n%s", g.http, g.out.String())
		}
	})
	harness.Eventually(t, 30*time.Second, "the gateway serves the gold plan", func() error {
		_, err := g.usage()
		return err
	})
	return g
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}

// get sends GET /prod/path with key (none when "") and returns status and body.
func (g *gateway) get(path, key string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+g.http+"/prod"+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = "pets.shop.execute-api.localhost"
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body)), err
}

var usedRE = regexp.MustCompile(`"used": (\d+)`)

// usage reads the gold plan's used count for its only key.
func (g *gateway) usage() (int64, error) {
	resp, err := client.Get("http://" + g.admin + "/usage/shop/gold")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"object": "shop/alice"`) {
		return 0, fmt.Errorf("usage report %d: %s", resp.StatusCode, body)
	}
	m := usedRE.FindSubmatch(body)
	if m == nil {
		return 0, nil // the plan has no quota
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

// storeErrors scrapes turnpike_ratelimit_store_errors_total.
func (g *gateway) storeErrors(t *testing.T) float64 {
	t.Helper()
	resp, err := client.Get("http://" + g.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^turnpike_ratelimit_store_errors_total (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("turnpike_ratelimit_store_errors_total is not exported:\n%s", body)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// tally counts answers by "status body".
type tally struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *tally) add(code int, body string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) {
			body = "network error"
		}
		code, body = 0, body+" "+err.Error()
	}
	c.m[fmt.Sprintf("%d %s", code, body)]++
}

func (c *tally) count(code int, body string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[fmt.Sprintf("%d %s", code, body)]
}

const (
	admittedAnswer = "admitted"
	limitExceeded  = `{"message":"Limit Exceeded"}`
	tooMany        = `{"message":"Too Many Requests"}`
	unavailable    = `{"message":"Service Unavailable"}`
)

// sharedPair writes the YAML (plan) and starts Redis and two gateways on it.
func sharedPair(t *testing.T, plan string, args ...string) (*redistest.Server, [2]*gateway, string) {
	t.Helper()
	srv := redistest.Start(t)
	dir := t.TempDir()
	writeFile(t, dir, "api.yaml", apiYAML)
	writeFile(t, dir, "plan.yaml", plan)
	args = append([]string{"--redis-url=" + srv.URL()}, args...)
	return srv, [2]*gateway{startGateway(t, dir, args...), startGateway(t, dir, args...)}, dir
}
