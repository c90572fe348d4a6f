package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

// condition returns "status/reason" of condition typ of a turnpike object.
func condition(t *testing.T, c *cluster, resource, ns, typ string) string {
	t.Helper()
	out, _ := c.kubectl(t, "get", resource, "-n", ns, "-o",
		fmt.Sprintf(`jsonpath={.status.conditions[?(@.type==%q)].status}/{.status.conditions[?(@.type==%q)].reason}`, typ, typ))
	return out
}

// waitCondition waits until condition typ of resource is want ("True/Ready").
func waitCondition(t *testing.T, c *cluster, resource, ns, typ, want string) {
	t.Helper()
	waitFor(t, c, resource+" "+typ+" "+want, func() (bool, string) {
		got := condition(t, c, resource, ns, typ)
		return got == want, got
	})
}

// jsonpath returns a field of a turnpike object.
func jsonpath(t *testing.T, c *cluster, resource, ns, path string) string {
	t.Helper()
	out, err := c.kubectl(t, "get", resource, "-n", ns, "-o", "jsonpath={"+path+"}")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// columns returns the columns of `kubectl get` for one object, without headers.
func columns(t *testing.T, c *cluster, args ...string) []string {
	t.Helper()
	out, err := c.kubectl(t, append([]string{"get", "--no-headers"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out)
}

const statusObjects = `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: lonely, namespace: shop}
---
apiVersion: turnpike.io/v1alpha1
kind: UsagePlan
metadata: {name: empty, namespace: shop}
spec:
  apiStages: [{apiName: pets, stage: prod}]
  apiKeySelector: {matchLabels: {turnpike.io/usage-plan: nobody}}
---
apiVersion: v1
kind: Service
metadata: {name: legacy-ext, namespace: shop}
spec: {type: ExternalName, externalName: legacy.example.com}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: ext, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /ext
  integration: {type: SERVICE, service: {name: legacy-ext, port: 8080}}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: get-pet-again, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /pets/{id}
  integration: {type: MOCK}
`

// TestServeModeStatusSaysWhatTheGatewayServes runs a gateway without an
// HTTPS listener against the samples and objects a new user gets wrong, and
// checks what kubectl shows (issue 19): a TLS domain is not promised over
// HTTPS, an ExternalName Service is refused with what to do, a Stage someone
// adds without the variables the Routes use is the one that reports it (the
// Routes stay Ready), a UsagePlan without keys says so, printer columns show
// defaulted stage names and zero counts, short names work, conflicts name
// the keys as written, the sample stage that cannot work in a cluster says
// why, and the process uses one identity for both its Leases. A second
// gateway, whose Lease namespace does not exist and whose egress list is
// emptied, says so on /readyz and still refuses the metadata service.
func TestServeModeStatusSaysWhatTheGatewayServes(t *testing.T) {
	c := startCluster(t)
	if _, err := c.kubectl(t, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples")); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=true", "--lease-namespace=default", "--https-addr=")
	g.expect(t, "/prod/health", 200, `{"status":"ok"}`)
	waitCondition(t, c, "tpstage/prod", "shop", "Ready", "True/Ready")

	// The sample stage dev points at loopback, which serve mode denies.
	waitCondition(t, c, "tpstage/dev", "shop", "Ready", "False/EgressDenied")
	if msg := jsonpath(t, c, "tpstage/dev", "shop", `.status.conditions[?(@.type=="Ready")].message`); !strings.Contains(msg, `Route "legacy"`) ||
		!strings.Contains(msg, "127.0.0.1") || !strings.Contains(msg, "502") {
		t.Errorf("stage dev says: %s", msg)
	}
	waitCondition(t, c, "tproute/legacy", "shop", "Ready", "True/Ready") // it works in prod

	// Printer columns: NAME API STAGE URL READY AGE.
	if cols := columns(t, c, "tpstage", "prod", "-n", "shop"); len(cols) < 3 || cols[2] != "prod" {
		t.Errorf("STAGE column of a Stage without spec.stageName: %v", cols)
	}

	applyYAML(t, c, statusObjects)
	waitCondition(t, c, "tpapi/lonely", "shop", "Ready", "True/Ready")
	// NAME PROTOCOL ENDPOINT ROUTES READY AGE
	if cols := columns(t, c, "tpapi", "lonely", "-n", "shop"); len(cols) < 4 || cols[3] != "0" {
		t.Errorf("ROUTES column of an Api without Routes: %v", cols)
	}
	waitCondition(t, c, "tpplan/empty", "shop", "Ready", "True/NoApiKeys")
	if cols := columns(t, c, "tpplan", "empty", "-n", "shop"); len(cols) < 2 || cols[1] != "0" {
		t.Errorf("KEYS column of a plan without keys: %v", cols)
	}
	waitCondition(t, c, "tproute/ext", "shop", "Ready", "False/ExternalNameService")
	if msg := jsonpath(t, c, "tproute/ext", "shop", `.status.conditions[?(@.type=="Ready")].message`); !strings.Contains(msg, "HTTP_PROXY") ||
		!strings.Contains(msg, "legacy.example.com") {
		t.Errorf("route ext says: %s", msg)
	}
	g.expect(t, "/prod/ext", 500, "Internal Server Error")
	waitCondition(t, c, "tproute/get-pet-again", "shop", "Ready", "False/RouteConflict")
	if msg := jsonpath(t, c, "tproute/get-pet-again", "shop", `.status.conditions[?(@.type=="Ready")].message`); !strings.Contains(msg, `"GET /pets/{id}"`) ||
		!strings.Contains(msg, `"GET /pets/{petId}"`) {
		t.Errorf("conflict message: %s", msg)
	}

	checkTLSDomainWithoutHTTPSListener(t, c)
	checkAStageSomeoneElseAdds(t, c)
	checkOneIdentityForBothLeases(t, c)
	checkAMissingLeaseNamespaceAndAnEmptyEgressList(t, c)
}

func checkTLSDomainWithoutHTTPSListener(t *testing.T, c *cluster) {
	t.Helper()
	crt, key := selfSignedPEM(t, "api.example.com")
	applyYAML(t, c, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: api-tls, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: %s, tls.key: %s}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: public, namespace: shop}
spec:
  apiName: pets
  domains: [{hostname: api.example.com, tls: {secretName: api-tls}}]
`, base64.StdEncoding.EncodeToString(crt), base64.StdEncoding.EncodeToString(key)))
	waitCondition(t, c, "tpstage/public", "shop", "Programmed", "False/NoHTTPSListener")
	urls := jsonpath(t, c, "tpstage/public", "shop", ".status.invokeURLs")
	if strings.Contains(urls, "https://") || !strings.Contains(urls, "http://api.example.com/") {
		t.Errorf("invokeURLs of a TLS domain on a gateway without HTTPS: %s", urls)
	}
}

func checkAStageSomeoneElseAdds(t *testing.T, c *cluster) {
	t.Helper()
	applyYAML(t, c, "apiVersion: turnpike.io/v1alpha1\nkind: Stage\nmetadata: {name: beta, namespace: shop}\nspec: {apiName: pets}\n")
	waitCondition(t, c, "tpstage/beta", "shop", "Ready", "False/StageVariableNotFound")
	msg := jsonpath(t, c, "tpstage/beta", "shop", `.status.conditions[?(@.type=="Ready")].message`)
	for _, route := range []string{`"legacy"`, `"list-pets"`} {
		if !strings.Contains(msg, route) {
			t.Errorf("stage beta does not name Route %s: %s", route, msg)
		}
	}
	for _, route := range []string{"tproute/legacy", "tproute/list-pets"} {
		if got := condition(t, c, route, "shop", "Ready"); got != "True/Ready" {
			t.Errorf("%s went %s because of a Stage someone else added", route, got)
		}
		if got := condition(t, c, route, "shop", "Stalled"); got != "False/Stable" {
			t.Errorf("%s Stalled %s", route, got)
		}
	}
	if msg := jsonpath(t, c, "tproute/list-pets", "shop", `.status.conditions[?(@.type=="Ready")].message`); !strings.Contains(msg, `stage "beta"`) {
		t.Errorf("route list-pets does not name stage beta: %s", msg)
	}
}

func checkOneIdentityForBothLeases(t *testing.T, c *cluster) {
	t.Helper()
	var status, replica string
	waitFor(t, c, "both Leases of the gateway", func() (bool, string) {
		status = jsonpath(t, c, "lease/turnpike-status", "default", ".spec.holderIdentity")
		replica, _ = c.kubectl(t, "get", "leases", "-n", "default", "-l", "turnpike.io/replica=true", "-o", "jsonpath={.items[*].spec.holderIdentity}")
		return status != "" && replica != "", status + " " + replica
	})
	if status != replica {
		t.Errorf("one process, two identities: status lease %q, replica lease %q", status, replica)
	}
}

func checkAMissingLeaseNamespaceAndAnEmptyEgressList(t *testing.T, c *cluster) {
	t.Helper()
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--lease-namespace=nope", "--deny-egress-cidrs=")
	harness.Eventually(t, 30*time.Second, "/readyz names the missing Lease namespace", func() error {
		resp, err := http.Get("http://" + g.health + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body := readAll(resp)
		if resp.StatusCode != 200 || !strings.Contains(body, "warning: status is not written") ||
			!strings.Contains(body, `the Lease namespace "nope" does not exist; create it`) {
			return fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return nil
	})
	if !strings.Contains(g.scrape(t), "turnpike_status_writes_blocked 1") {
		t.Error("turnpike_status_writes_blocked is not 1")
	}
	if !strings.Contains(g.out.String(), "denied=169.254.0.0/16,fe80::/10 fromFlag=true") {
		t.Errorf("the effective egress list is not logged or not guarded:\n%s", grepLines(g.out.String(), "egress"))
	}
	applyYAML(t, c, `apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: metadata, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /metadata
  integration: {type: HTTP_PROXY, uri: "http://169.254.169.254/latest/meta-data"}
`)
	g.expect(t, "/prod/metadata", 502, "Internal server error")
}

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
