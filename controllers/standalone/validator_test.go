package standalone

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func newTestValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func decodeYAML(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	u, _, err := document{firstLine: 1, contentLine: 1, body: []byte(text)}.decode()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

const routeHeader = "apiVersion: turnpike.io/v1alpha1\nkind: Route\nmetadata: {name: r, namespace: default}\n"
const stageHeader = "apiVersion: turnpike.io/v1alpha1\nkind: Stage\nmetadata: {name: prod, namespace: default}\n"

func TestValidatorRejectsInvalidObjectsWithTheAPIServersMessages(t *testing.T) {
	v := newTestValidator(t)
	cases := []struct {
		name string
		yaml string
		want string
	}{
		{"a route key with an unknown method", routeHeader + "spec: {apiName: a, routeKey: 'FETCH x', integration: {type: MOCK}}",
			`Route.turnpike.io "r" is invalid: spec.routeKey: Invalid value: "FETCH x": routeKey must be "METHOD /path" with METHOD one of GET`},
		{"a greedy variable that is not the last segment", routeHeader + "spec: {apiName: a, routeKey: 'GET /a/{p+}/b', integration: {type: MOCK}}",
			`spec.routeKey: Invalid value: "GET /a/{p+}/b": a greedy variable {name+} may only be the last path segment`},
		{"a dot-dot path segment", routeHeader + "spec: {apiName: a, routeKey: 'GET /a/../b', integration: {type: MOCK}}",
			`spec.routeKey: Invalid value: "GET /a/../b": path segments '.' and '..' are not allowed`},
		{"an HTTP_PROXY integration without uri", routeHeader + "spec: {apiName: a, routeKey: 'GET /x', integration: {type: HTTP_PROXY}}",
			`spec.integration: Invalid value: integration.uri is required for type HTTP_PROXY`},
		{"a timeout below 50 ms", routeHeader + "spec: {apiName: a, routeKey: 'GET /x', integration: {type: MOCK, timeoutMillis: 10}}",
			`spec.integration.timeoutMillis: Invalid value: 10: spec.integration.timeoutMillis in body should be greater than or equal to 50`},
		{"a timeout above 300000 ms", routeHeader + "spec: {apiName: a, routeKey: 'GET /x', integration: {type: MOCK, timeoutMillis: 300001}}",
			`spec.integration.timeoutMillis in body should be less than or equal to 300000`},
		{"an authorizer name with authorization NONE", routeHeader + "spec: {apiName: a, routeKey: 'GET /x', authorizerName: z, integration: {type: MOCK}}",
			`spec: Invalid value: authorizerName must be empty when authorizationType is NONE`},
		{"an unknown integration type, which skips the CEL rules", routeHeader + "spec: {apiName: a, routeKey: 'FETCH x', integration: {type: LAMBDA}}",
			`some validation rules were not checked because the object was invalid`},
		{"allowCredentials with the origin *", "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: a, namespace: default}\nspec: {cors: {allowOrigins: ['*'], allowCredentials: true}}",
			`spec.cors: Invalid value: allowCredentials cannot be true when allowOrigins contains "*"`},
		{"a stage name with a dot", stageHeader + "spec: {apiName: a, stageName: 'v1.0'}",
			`spec.stageName: Invalid value: "v1.0": spec.stageName in body should match '^(\$default|[A-Za-z0-9_-]+)$'`},
		{"a stage whose metadata name has a dot and no stageName", "apiVersion: turnpike.io/v1alpha1\nkind: Stage\nmetadata: {name: v1.0, namespace: default}\nspec: {apiName: a}",
			`metadata.name contains '.', which a stage name cannot: set spec.stageName`},
		{"a canary percentTraffic above 100", stageHeader + "spec: {apiName: a, canary: {percentTraffic: 101}}",
			`spec.canary.percentTraffic in body should be less than or equal to 100`},
		{"a canary percentTraffic below 0", stageHeader + "spec: {apiName: a, canary: {percentTraffic: -1}}",
			`spec.canary.percentTraffic in body should be greater than or equal to 0`},
		{"a WEEK quota with offset 7", "apiVersion: turnpike.io/v1alpha1\nkind: UsagePlan\nmetadata: {name: p, namespace: default}\nspec: {apiStages: [{apiName: a, stage: prod}], apiKeySelector: {}, quota: {limit: 10, period: WEEK, offset: 7}}",
			`spec.quota: Invalid value: offset is the start day of the week, 0 (Sunday) to 6, when period is WEEK`},
		{"a DAY quota with an offset", "apiVersion: turnpike.io/v1alpha1\nkind: UsagePlan\nmetadata: {name: p, namespace: default}\nspec: {apiStages: [{apiName: a, stage: prod}], apiKeySelector: {}, quota: {limit: 10, period: DAY, offset: 1}}",
			`offset must be 0 when period is DAY`},
		{"a JWT authorizer without jwt settings", "apiVersion: turnpike.io/v1alpha1\nkind: Authorizer\nmetadata: {name: z, namespace: default}\nspec: {apiName: a, type: JWT}",
			`spec: Invalid value: jwt is required when type is JWT`},
		{"a TOKEN authorizer with two identity sources", "apiVersion: turnpike.io/v1alpha1\nkind: Authorizer\nmetadata: {name: z, namespace: default}\nspec: {apiName: a, type: TOKEN, identitySources: ['$request.header.A', '$request.header.B'], request: {function: {name: f, port: 8080}}}",
			`a TOKEN authorizer takes its token from exactly one header`},
		{"a TOKEN authorizer reading the query string", "apiVersion: turnpike.io/v1alpha1\nkind: Authorizer\nmetadata: {name: z, namespace: default}\nspec: {apiName: a, type: TOKEN, identitySources: ['$request.querystring.t'], request: {function: {name: f, port: 8080}}}",
			`a TOKEN authorizer takes its token from exactly one header`},
		{"a REQUEST authorizer with both a service and a function", "apiVersion: turnpike.io/v1alpha1\nkind: Authorizer\nmetadata: {name: z, namespace: default}\nspec: {apiName: a, type: REQUEST, request: {service: {name: s, port: 80}, function: {name: f, port: 8080}}}",
			`set exactly one of request.service, request.uri and request.function`},
		{"concurrencyPerEndpoint on a SERVICE integration", routeHeader + "spec: {apiName: a, routeKey: 'GET /x', integration: {type: SERVICE, service: {name: s, port: 80}, concurrencyPerEndpoint: 2}}",
			`integration.concurrencyPerEndpoint applies only to type FUNCTION`},
		{"a name that is not a DNS subdomain", "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: Pets_API, namespace: default}\nspec: {}",
			`metadata.name: Invalid value: "Pets_API": a lowercase RFC 1123 subdomain`},
		{"a missing name", "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {namespace: default}\nspec: {}",
			`metadata.name: Required value: name or generateName is required`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.DefaultAndValidate(context.Background(), decodeYAML(t, tc.yaml))
			if err == nil {
				t.Fatalf("accepted, want an error containing %q", tc.want)
			}
			if !apierrors.IsInvalid(err) {
				t.Errorf("error is not an Invalid StatusError: %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err.Error(), tc.want)
			}
		})
	}
}

func TestValidatorAcceptsValidObjects(t *testing.T) {
	v := newTestValidator(t)
	cases := []struct {
		name string
		yaml string
	}{
		{"a plain GET route", routeHeader + "spec: {apiName: a, routeKey: 'GET /x', integration: {type: MOCK}}"},
		{"a greedy last segment", routeHeader + "spec: {apiName: a, routeKey: 'ANY /pets/{proxy+}', integration: {type: SERVICE, service: {name: s, port: 80}}}"},
		{"the $default route to an HTTP proxy", routeHeader + "spec: {apiName: a, routeKey: $default, integration: {type: HTTP_PROXY, uri: 'https://example.com/{p}'}}"},
		{"a JWT route with scopes", routeHeader + "spec: {apiName: a, routeKey: 'GET /x', authorizationType: JWT, authorizerName: z, authorizationScopes: [read], integration: {type: MOCK}}"},
		{"an Api with CORS credentials and listed origins", "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: a, namespace: default}\nspec: {cors: {allowOrigins: ['https://app.example.com'], allowCredentials: true}}"},
		{"a $default stage with a canary", stageHeader + "spec: {apiName: a, stageName: $default, canary: {percentTraffic: 100}}"},
		{"a WEEK quota starting on Saturday", "apiVersion: turnpike.io/v1alpha1\nkind: UsagePlan\nmetadata: {name: p, namespace: default}\nspec: {apiStages: [{apiName: a, stage: prod}], apiKeySelector: {}, quota: {limit: 10, period: WEEK, offset: 6}}"},
		{"a REQUEST authorizer calling a service", "apiVersion: turnpike.io/v1alpha1\nkind: Authorizer\nmetadata: {name: z, namespace: default}\nspec: {apiName: a, type: REQUEST, request: {service: {name: authz, port: 8080}}}"},
		{"a TOKEN authorizer invoking a function", "apiVersion: turnpike.io/v1alpha1\nkind: Authorizer\nmetadata: {name: z, namespace: default}\nspec: {apiName: a, type: TOKEN, identitySources: ['$request.header.Authorization'], request: {function: {name: authz-fn, port: 8080}}}"},
		{"a FUNCTION route with payload 1.0 and two invocations per endpoint", routeHeader + "spec: {apiName: a, routeKey: 'GET /x', integration: {type: FUNCTION, service: {name: fn, port: 8080}, payloadFormatVersion: '1.0', concurrencyPerEndpoint: 2}}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := v.DefaultAndValidate(context.Background(), decodeYAML(t, tc.yaml)); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
}

func TestValidatorDefaultsAnApiButGivesAStageNoStageName(t *testing.T) {
	v := newTestValidator(t)
	api := decodeYAML(t, "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: a, namespace: default}\nspec: {}")
	if _, err := v.DefaultAndValidate(context.Background(), api); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(api.Object, "spec", "protocol"); got != "HTTP" {
		t.Errorf("spec.protocol = %q, want HTTP", got)
	}
	if got, _, _ := unstructured.NestedInt64(api.Object, "spec", "maxRequestBodyBytes"); got != 10485760 {
		t.Errorf("spec.maxRequestBodyBytes = %d, want 10485760", got)
	}
	stage := decodeYAML(t, stageHeader+"spec: {apiName: a}")
	if _, err := v.DefaultAndValidate(context.Background(), stage); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(stage.Object, "spec", "stageName"); found {
		t.Errorf("spec.stageName was defaulted: %v", stage.Object["spec"])
	}
}

func TestValidatorPrunesUnknownFieldsWithWarningsAndDropsStatus(t *testing.T) {
	v := newTestValidator(t)
	u := decodeYAML(t, routeHeader+"spec: {apiName: a, routeKey: 'GET /x', colour: red, integration: {type: MOCK}}\nstatus: {observedGeneration: 3}")
	warnings, err := v.DefaultAndValidate(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || warnings[0] != `unknown field "spec.colour"` {
		t.Errorf("warnings = %q, want the unknown field spec.colour", warnings)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", "colour"); found {
		t.Error("spec.colour was not pruned")
	}
	if _, found := u.Object["status"]; found {
		t.Error("status was kept; a create request drops it")
	}
	if got, _, _ := unstructured.NestedInt64(u.Object, "spec", "integration", "timeoutMillis"); got != 29000 {
		t.Errorf("spec.integration.timeoutMillis = %d, want the default 29000", got)
	}
}
