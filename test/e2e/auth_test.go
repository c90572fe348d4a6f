package e2e

import (
	"path/filepath"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"
)

const authObjects = `apiVersion: turnpike.io/v1alpha1
kind: Authorizer
metadata: {name: ext, namespace: shop}
spec:
  apiName: pets
  type: REQUEST
  identitySources: ["$request.header.authorization"]
  request:
    service: {name: no-such-authz, port: 8080, path: /authorize}
    enableSimpleResponses: true
---
apiVersion: turnpike.io/v1alpha1
kind: Authorizer
metadata: {name: bad-issuer, namespace: shop}
spec:
  apiName: pets
  type: JWT
  jwt:
    issuer: "https://"
    audiences: [pets]
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: missing-authorizer, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /private
  authorizationType: CUSTOM
  authorizerName: nope
  integration: {type: MOCK, mock: {body: secret}}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: guarded, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /guarded
  authorizationType: JWT
  authorizerName: bad-issuer
  integration: {type: MOCK, mock: {body: secret}}
`

// TestServeModeAuthorizerConditionsAndRoutesThatCannotUseThem applies
// Authorizers that cannot work (a missing Service, an issuer URL without a
// host) and Routes naming a missing or broken Authorizer: each gets a
// condition that says why, the Routes answer 500 (never their integration),
// and the rest of the Api keeps serving.
func TestServeModeAuthorizerConditionsAndRoutesThatCannotUseThem(t *testing.T) {
	c := startCluster(t)
	if _, err := c.kubectl(t, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples")); err != nil {
		t.Fatal(err)
	}
	applyYAML(t, c, authObjects)
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=false")

	g.expect(t, "/prod/private", 500, `"message":"Internal Server Error"`)
	g.expect(t, "/prod/guarded", 500, `"message":"Internal Server Error"`)
	g.expect(t, "/prod/health", 200, `{"status":"ok"}`)

	for obj, want := range map[string]string{
		"authorizers.turnpike.io/ext":           "False/ServiceNotFound",
		"authorizers.turnpike.io/bad-issuer":    "False/Invalid",
		"routes.turnpike.io/missing-authorizer": "False/AuthorizerNotFound",
	} {
		waitFor(t, c, obj+" Ready "+want, func() (bool, string) {
			out, _ := c.kubectl(t, "get", obj, "-n", "shop",
				"-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}`)
			return out == want, out
		})
	}
	waitFor(t, c, "route guarded not Ready", func() (bool, string) {
		out, _ := c.kubectl(t, "get", "routes.turnpike.io/guarded", "-n", "shop",
			"-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "False", out
	})
}
