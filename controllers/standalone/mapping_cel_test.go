package standalone

import (
	"context"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/mapping"
)

// mappedRoute is a Route whose integration carries the given mapping YAML.
func mappedRoute(params string) string {
	return routeHeader + "spec:\n  apiName: a\n  routeKey: 'GET /x'\n  integration:\n    type: SERVICE\n    service: {name: s, port: 80}\n" + params
}

// TestParameterMappingRulesRejectReservedHeadersAndBadKeys runs the Route
// CRD's CEL rules (compiled with the API server's cost estimator) on
// mappings the schema must refuse.
func TestParameterMappingRulesRejectReservedHeadersAndBadKeys(t *testing.T) {
	v := newTestValidator(t)
	cases := []struct {
		name, params, want string
	}{
		{"a request mapping of Host", "    requestParameters: {'overwrite:header.Host': x}\n", "parameter mapping cannot change reserved headers"},
		{"a request mapping of an x-forwarded header", "    requestParameters: {'remove:header.X-Forwarded-For': ''}\n", "parameter mapping cannot change reserved headers"},
		{"a request mapping of content-length", "    requestParameters: {'append:header.content-length': '1'}\n", "cannot change reserved headers"},
		{"a response mapping of transfer-encoding", "    responseParameters: {'200': {'overwrite:header.Transfer-Encoding': chunked}}\n", "cannot change reserved headers"},
		{"an unknown request operation", "    requestParameters: {'replace:header.x-a': v}\n", "requestParameters keys are append|overwrite|remove:header.NAME"},
		{"appending to the path", "    requestParameters: {'append:path': /x}\n", "requestParameters keys are"},
		{"a query string in a response", "    responseParameters: {'200': {'append:querystring.a': b}}\n", "responseParameters mapping keys are"},
		{"a response key that is no status code", "    responseParameters: {'2xx': {'overwrite:statuscode': '200'}}\n", "responseParameters keys are status codes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.DefaultAndValidate(context.Background(), decodeYAML(t, mappedRoute(tc.params)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestParameterMappingRulesAcceptEveryOperation(t *testing.T) {
	v := newTestValidator(t)
	params := "    requestParameters:\n" +
		"      'append:header.x-user': $context.authorizer.claims.sub\n" +
		"      'overwrite:header.X-Pet': 'pet-${request.path.petId}'\n" +
		"      'remove:header.x-debug': ''\n" +
		"      'append:querystring.page': '2'\n" +
		"      'overwrite:querystring.q': $request.body.query\n" +
		"      'remove:querystring.secret': ''\n" +
		"      'overwrite:path': /v2$request.path\n" +
		"    responseParameters:\n" +
		"      '404': {'overwrite:statuscode': '410', 'append:header.x-gone': 'yes', 'remove:header.x-internal': ''}\n"
	if _, err := v.DefaultAndValidate(context.Background(), decodeYAML(t, mappedRoute(params))); err != nil {
		t.Fatal(err)
	}
}

// TestEveryReservedHeaderIsRefusedByTheSchemaAndTheCompiler keeps the CEL
// rule and mapping.ReservedHeader in step: each name the rule lists (one
// example per prefix) is refused by both.
func TestEveryReservedHeaderIsRefusedByTheSchemaAndTheCompiler(t *testing.T) {
	v := newTestValidator(t)
	for _, h := range []string{
		"Access-Control-Allow-Origin", "apigw-requestid", "proxy-authorization", "x-amz-date", "x-amzn-trace-id",
		"x-forwarded-host", "x-turnpike-canary", "Authorization", "connection", "content-encoding", "content-length",
		"content-location", "forwarded", "host", "keep-alive", "origin", "te", "trailer", "trailers",
		"transfer-encoding", "upgrade", "via",
	} {
		if !mapping.ReservedHeader(h) {
			t.Errorf("mapping.ReservedHeader(%q) is false", h)
		}
		_, err := v.DefaultAndValidate(context.Background(), decodeYAML(t, mappedRoute("    requestParameters: {'overwrite:header."+h+"': x}\n")))
		if err == nil || !strings.Contains(err.Error(), "reserved headers") {
			t.Errorf("%s: schema error %v", h, err)
		}
	}
	if mapping.ReservedHeader("x-user") {
		t.Error("x-user is not reserved")
	}
}
