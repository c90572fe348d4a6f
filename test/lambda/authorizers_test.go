package lambda_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func authorizer(name, typ, identity, extra string) string {
	return `apiVersion: turnpike.io/v1alpha1
kind: Authorizer
metadata: {name: ` + name + `, namespace: shop}
spec:
  apiName: pets
  type: ` + typ + `
  identitySources: ["` + identity + `"]
  request: {function: {name: authz-fn, port: 8080}, resultTtlSeconds: 0` + extra + `}`
}

// An HTTP API's Lambda authorizer (payload 2.0, simple responses) allows
// and denies, and its context reaches the function's event.
func TestAnHTTPAPILambdaAuthorizerAllowsDeniesAndPassesItsContext(t *testing.T) {
	fn := startFunction(t, "proxy-v2")
	authz := startFunction(t, "authorizer-v2")
	g := standalone(t, []string{api("HTTP", ""), functionService("pets-fn", fn), functionService("authz-fn", authz),
		authorizer("lambda-authz", "REQUEST", "$request.header.Authorization", `, payloadFormatVersion: "2.0", enableSimpleResponses: true`),
		functionRoute("get-pet", "GET /pets/{id}", "pets-fn", "") + "\n  authorizationType: CUSTOM\n  authorizerName: lambda-authz"})

	res, body := send(t, g, "GET", "/prod/pets/7?mode=echo", http.Header{"Authorization": {"Bearer allow"}}, "")
	if res.StatusCode != 201 {
		t.Fatalf("allowed: %d %s", res.StatusCode, body)
	}
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	lambdaCtx := e.RequestContext.Authorizer.Lambda
	if lambdaCtx["user"] != "u-42" || lambdaCtx["tier"] != "gold" || !strings.HasSuffix(lambdaCtx["routeArn"].(string), "/prod/GET/pets/7") {
		t.Errorf("authorizer context in the event: %v", lambdaCtx)
	}
	if res, body := send(t, g, "GET", "/prod/pets/7?mode=echo", http.Header{"Authorization": {"Bearer deny"}}, ""); res.StatusCode != 403 || !strings.Contains(body, `"Forbidden"`) {
		t.Errorf("denied: %d %s", res.StatusCode, body)
	}
	if res, _ := send(t, g, "GET", "/prod/pets/7?mode=echo", nil, ""); res.StatusCode != 401 {
		t.Errorf("no identity source: %d", res.StatusCode)
	}
}

// A REST TOKEN authorizer function: allow (the principal and context reach
// the function), an explicit deny (REST's message), and "Unauthorized"
// (401, as on AWS).
func TestARESTTokenAuthorizerFunction(t *testing.T) {
	fn := startFunction(t, "proxy-v1")
	authz := startFunction(t, "token")
	g := standalone(t, []string{api("REST", ""), functionService("pets-fn", fn), functionService("authz-fn", authz),
		authorizer("token-authz", "TOKEN", "$request.header.Authorization", ""),
		functionRoute("get-pet", "GET /pets/{id}", "pets-fn", "") + "\n  authorizationType: CUSTOM\n  authorizerName: token-authz"})

	res, body := send(t, g, "GET", "/prod/pets/7?mode=echo", http.Header{"Authorization": {"allow"}}, "")
	if res.StatusCode != 202 {
		t.Fatalf("allowed: %d %s", res.StatusCode, body)
	}
	var e events.APIGatewayProxyRequest
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	if a := e.RequestContext.Authorizer; a["principalId"] != "token-user" || a["user"] != "token-user" {
		t.Errorf("authorizer in the event: %v", a)
	}
	if res, body := send(t, g, "GET", "/prod/pets/7", http.Header{"Authorization": {"deny"}}, ""); res.StatusCode != 403 ||
		!strings.Contains(body, "User is not authorized to access this resource with an explicit deny") {
		t.Errorf("explicit deny: %d %s", res.StatusCode, body)
	}
	if res, body := send(t, g, "GET", "/prod/pets/7", http.Header{"Authorization": {"unauthorized"}}, ""); res.StatusCode != 401 {
		t.Errorf(`"Unauthorized" from the function: %d %s`, res.StatusCode, body)
	}
}

// A REST REQUEST authorizer function (payload 1.0, IAM policy).
func TestARESTRequestAuthorizerFunction(t *testing.T) {
	fn := startFunction(t, "proxy-v1")
	authz := startFunction(t, "authorizer-v1")
	g := standalone(t, []string{api("REST", ""), functionService("pets-fn", fn), functionService("authz-fn", authz),
		authorizer("req-authz", "REQUEST", "$request.header.Authorization", `, payloadFormatVersion: "1.0"`),
		functionRoute("get-pet", "GET /pets/{id}", "pets-fn", "") + "\n  authorizationType: CUSTOM\n  authorizerName: req-authz"})
	if res, body := send(t, g, "GET", "/prod/pets/7?mode=echo", http.Header{"Authorization": {"allow"}}, ""); res.StatusCode != 202 {
		t.Errorf("allowed: %d %s", res.StatusCode, body)
	}
	if res, body := send(t, g, "GET", "/prod/pets/7", http.Header{"Authorization": {"other"}}, ""); res.StatusCode != 403 {
		t.Errorf("denied: %d %s", res.StatusCode, body)
	}
}
