package cluster

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// createManifest creates the YAML object in ns as a user would (unstructured,
// so zero values the Go types would omit reach the API server).
func createManifest(t *testing.T, ns, manifest string) error {
	t.Helper()
	obj := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(manifest), &obj.Object))
	obj.SetNamespace(ns)
	return k8s.Create(context.Background(), obj)
}

const (
	routeHead = "apiVersion: turnpike.io/v1alpha1\nkind: Route\nmetadata: {name: r}\nspec:\n  apiName: pets\n"
	stageHead = "apiVersion: turnpike.io/v1alpha1\nkind: Stage\n"
	apiHead   = "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: pets}\n"
	planHead  = "apiVersion: turnpike.io/v1alpha1\nkind: UsagePlan\nmetadata: {name: gold}\n"
	authHead  = "apiVersion: turnpike.io/v1alpha1\nkind: Authorizer\nmetadata: {name: cognito}\n"
	mockInt   = "  integration: {type: MOCK}\n"
)

// TestTheAPIServerRejectsInvalidObjectsWithTheRuleMessage checks every CRD
// schema and CEL rule the contract names, against the real API server.
func TestTheAPIServerRejectsInvalidObjectsWithTheRuleMessage(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	cases := []struct {
		name     string
		manifest string
		want     []string
	}{
		{"a route key with an unknown method", routeHead + "  routeKey: FETCH x\n" + mockInt,
			[]string{`routeKey must be "METHOD /path"`}},
		{"a greedy variable that is not the last segment", routeHead + "  routeKey: GET /a/{p+}/b\n" + mockInt,
			[]string{"a greedy variable {name+} may only be the last path segment"}},
		{"a dot segment in the route path", routeHead + "  routeKey: GET /a/./b\n" + mockInt,
			[]string{"path segments '.' and '..' are not allowed"}},
		{"a dot-dot segment in the route path", routeHead + "  routeKey: GET /a/../b\n" + mockInt,
			[]string{"path segments '.' and '..' are not allowed"}},
		{"an HTTP_PROXY integration without uri", routeHead + "  routeKey: GET /a\n  integration: {type: HTTP_PROXY}\n",
			[]string{"integration.uri is required for type HTTP_PROXY"}},
		{"a SERVICE integration without service", routeHead + "  routeKey: GET /a\n  integration: {type: SERVICE}\n",
			[]string{"integration.service is required for type SERVICE and FUNCTION"}},
		{"an integration timeout below 50 ms", routeHead + "  routeKey: GET /a\n  integration: {type: MOCK, timeoutMillis: 10}\n",
			[]string{"timeoutMillis", "greater than or equal to 50"}},
		{"an integration timeout above 300000 ms", routeHead + "  routeKey: GET /a\n  integration: {type: MOCK, timeoutMillis: 300001}\n",
			[]string{"timeoutMillis", "less than or equal to 300000"}},
		{"a stage name with a slash", stageHead + "metadata: {name: prod}\nspec: {apiName: pets, stageName: prod/v1}\n",
			[]string{"spec.stageName", "should match"}},
		{"a stage whose metadata.name has a dot and no stageName", stageHead + "metadata: {name: v1.0}\nspec: {apiName: pets}\n",
			[]string{"spec.stageName: Required value: metadata.name contains '.', which a stage name cannot: set spec.stageName"}},
		{"a canary above 100 percent", stageHead + "metadata: {name: prod}\nspec: {apiName: pets, canary: {percentTraffic: 101}}\n",
			[]string{"percentTraffic", "less than or equal to 100"}},
		{"CORS credentials with the wildcard origin", apiHead + "spec: {cors: {allowOrigins: ['*'], allowCredentials: true}}\n",
			[]string{"allowCredentials cannot be true when allowOrigins contains"}},
		{"a weekly quota starting on day 7", planHead + "spec:\n  apiStages: [{apiName: pets, stage: prod}]\n  apiKeySelector: {}\n  quota: {limit: 10, period: WEEK, offset: 7}\n",
			[]string{"offset is the start day of the week, 0 (Sunday) to 6"}},
		{"a JWT authorizer without jwt", authHead + "spec: {apiName: pets, type: JWT}\n",
			[]string{"jwt is required when type is JWT"}},
		{"a zero maximum request body", apiHead + "spec: {maxRequestBodyBytes: 0}\n",
			[]string{"maxRequestBodyBytes", "greater than or equal to 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := createManifest(t, ns, tc.manifest)
			require.Error(t, err, "the API server must reject it")
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestTheAPIServerAcceptsAValidObjectOfEachKind(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	for name, manifest := range map[string]string{
		"Api":        apiHead + "spec: {cors: {allowOrigins: ['https://app.example.com'], allowCredentials: true}, maxRequestBodyBytes: 1}\n",
		"Stage":      stageHead + "metadata: {name: v1.0}\nspec: {apiName: pets, stageName: v1, canary: {percentTraffic: 100}}\n",
		"Route":      routeHead + "  routeKey: GET /pets/{proxy+}\n  integration: {type: SERVICE, service: {name: pets, port: 80}, timeoutMillis: 50}\n",
		"Authorizer": authHead + "spec: {apiName: pets, type: JWT, jwt: {issuer: 'https://issuer.example.com'}}\n",
		"UsagePlan":  planHead + "spec:\n  apiStages: [{apiName: pets, stage: prod}]\n  apiKeySelector: {}\n  quota: {limit: 10, period: WEEK, offset: 6}\n",
	} {
		t.Run("a valid "+name, func(t *testing.T) {
			require.NoError(t, createManifest(t, ns, manifest))
		})
	}
}
