package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

const keyedObjects = `apiVersion: turnpike.io/v1alpha1
kind: UsagePlan
metadata: {name: gold, namespace: shop}
spec:
  apiStages:
    - {apiName: pets, stage: prod}
  apiKeySelector: {matchLabels: {turnpike.io/usage-plan: gold}}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: keyed, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /keyed
  apiKeyRequired: true
  integration: {type: MOCK, mock: {body: keyed}}
`

// keySecret is an API key Secret of plan gold.
func keySecret(name, key string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: shop
  labels: {turnpike.io/usage-plan: gold}
type: turnpike.io/api-key
stringData: {key: %q}
`, name, key)
}

// getWithKey sends GET path with the sample Api's Host and an x-api-key.
func (g *gatewayProcess) getWithKey(path, key string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+g.http+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = "pets.shop.execute-api.localhost"
	req.Header.Set("x-api-key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// expectKey waits until GET path with key answers status with a body
// containing want, and returns how long that took.
func (g *gatewayProcess) expectKey(t *testing.T, path, key string, status int, want string) time.Duration {
	t.Helper()
	start := time.Now()
	harness.Eventually(t, 30*time.Second, fmt.Sprintf("GET %s with key %.6s... -> %d %q", path, key, status, want), func() error {
		code, body, err := g.getWithKey(path, key)
		if err != nil {
			return err
		}
		if code != status || !strings.Contains(body, want) {
			return fmt.Errorf("got %d %s", code, body)
		}
		return nil
	})
	return time.Since(start)
}

// answersNow checks one request with key, without waiting.
func (g *gatewayProcess) answersNow(t *testing.T, path, key string, status int, want string) {
	t.Helper()
	code, body, err := g.getWithKey(path, key)
	if err != nil || code != status || !strings.Contains(body, want) {
		t.Fatalf("GET %s with key %.6s...: got %d %s %v, want %d %q", path, key, code, body, err, status, want)
	}
}

// scrape returns the gateway's /metrics page.
func (g *gatewayProcess) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + g.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// planStatus reads the UsagePlan gold's key count and Programmed condition
// as "apiKeys/status/reason".
func planStatus(t *testing.T, c *cluster) string {
	out, _ := c.kubectl(t, "get", "usageplans.turnpike.io/gold", "-n", "shop", "-o",
		`jsonpath={.status.apiKeys}/{.status.conditions[?(@.type=="Programmed")].status}/{.status.conditions[?(@.type=="Programmed")].reason}`)
	return out
}

// TestServeModeServesAPIKeySecretsAsTheyAreCreatedRotatedAndDeleted runs the
// gateway in serve mode and manages a usage plan's keys only through key
// Secrets: a key created while the gateway runs is served within seconds, a
// rotated key replaces the old value at once, a deleted key is refused, and
// a key of the wrong length is reported on the plan (InvalidApiKey) and never
// served, while status.apiKeys counts the served keys throughout.
func TestServeModeServesAPIKeySecretsAsTheyAreCreatedRotatedAndDeleted(t *testing.T) {
	const (
		first   = "alice-0123456789abcdefghij"
		rotated = "alice-rotated-9876543210zyxwvu"
		short   = "too-short-key"
	)
	c := startCluster(t)
	if _, err := c.kubectl(t, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples")); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, c, keyedObjects)
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=false")

	g.expect(t, "/prod/keyed", 403, `"message":"Forbidden"`) // no x-api-key
	g.expectKey(t, "/prod/keyed", first, 403, `"message":"Forbidden"`)
	g.answersNow(t, "/prod/health", "", 200, `{"status":"ok"}`)

	applyYAML(t, c, keySecret("alice", first))
	took := g.expectKey(t, "/prod/keyed", first, 200, "keyed")
	if took > 10*time.Second {
		t.Errorf("a new key Secret took %v to be served", took)
	}
	t.Logf("a new key Secret was served after %v", took)
	waitFor(t, c, "plan gold serves 1 key", func() (bool, string) {
		s := planStatus(t, c)
		return s == "1/True/Programmed", s
	})

	applyYAML(t, c, keySecret("alice", rotated))
	g.expectKey(t, "/prod/keyed", rotated, 200, "keyed")
	g.answersNow(t, "/prod/keyed", first, 403, `"message":"Forbidden"`) // the same table: the old value is gone
	if s := planStatus(t, c); !strings.HasPrefix(s, "1/") {
		t.Errorf("after rotation the plan still serves one key, status %q", s)
	}

	applyYAML(t, c, keySecret("short", short))
	waitFor(t, c, "plan gold reports the short key", func() (bool, string) {
		s := planStatus(t, c)
		return s == "1/False/InvalidApiKey", s
	})
	msg, _ := c.kubectl(t, "get", "usageplans.turnpike.io/gold", "-n", "shop", "-o",
		`jsonpath={.status.conditions[?(@.type=="Programmed")].message}`)
	if !strings.Contains(msg, `Secret "short"`) || !strings.Contains(msg, "13 characters") || !strings.Contains(msg, "not served") {
		t.Errorf("the InvalidApiKey message should name the Secret and its length: %q", msg)
	}
	g.answersNow(t, "/prod/keyed", short, 403, `"message":"Forbidden"`)
	g.answersNow(t, "/prod/keyed", rotated, 200, "keyed") // the plan's valid key keeps serving

	// The refusals so far were 403s: the throttle, quota and authorizer
	// series are on the served registry, all at 0.
	scrape := g.scrape(t)
	for _, want := range []string{
		`turnpike_throttled_total{level="plan"} 0`, `turnpike_throttled_total{level="gateway"} 0`,
		"turnpike_quota_exceeded_total 0", `turnpike_authorizer_calls_total{type="request"} 0`,
		"turnpike_authorizer_cache_hits_total 0",
	} {
		if !strings.Contains(scrape, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if _, err := c.kubectl(t, "delete", "secret", "alice", "-n", "shop"); err != nil {
		t.Fatal(err)
	}
	g.expectKey(t, "/prod/keyed", rotated, 403, `"message":"Forbidden"`)
	if _, err := c.kubectl(t, "delete", "secret", "short", "-n", "shop"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, "plan gold serves no key, is Programmed again and says it has no key", func() (bool, string) {
		s := planStatus(t, c)
		return s == "0/True/NoApiKeys", s
	})
}
