package awsimport

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// importYAML imports an inline document.
func importYAML(t *testing.T, doc string, opts Options) *Result {
	t.Helper()
	res, err := Import([]byte(doc), opts)
	if err != nil {
		t.Fatal(err)
	}
	validateObjects(t, res)
	return res
}

// REST requestParameters map onto Turnpike's mapping syntax; path
// parameters rename URI variables or become an overwrite:path template.
func TestRESTRequestParametersMapping(t *testing.T) {
	res := importYAML(t, `
swagger: "2.0"
info: {title: mapping, version: "1"}
paths:
  /pets/{petId}:
    get:
      parameters: [{name: petId, in: path, required: true, type: string}]
      responses: {}
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: http://backend.example.com/v1/{version}/pets/{id}
        requestParameters:
          integration.request.path.id: method.request.path.petId
          integration.request.path.version: method.request.querystring.v
          integration.request.header.x-user: context.authorizer.principalId
          integration.request.header.x-static: "'fixed'"
          integration.request.querystring.owner: method.request.body.owner.name
          integration.request.header.Authorization: method.request.header.token
          integration.request.header.x-res: context.resourcePath
`, Options{})
	in := res.Routes[0].Spec.Integration
	want := map[string]string{
		"overwrite:path":              "/v1/${request.querystring.v}/pets/${request.path.petId}",
		"overwrite:header.x-user":     "${context.authorizer.principalId}",
		"overwrite:header.x-static":   "fixed",
		"overwrite:querystring.owner": "${request.body.owner.name}",
	}
	if diff := cmp.Diff(want, in.RequestParameters); diff != "" {
		t.Errorf("requestParameters (-want +got):\n%s", diff)
	}
	if in.URI != "http://backend.example.com" {
		t.Errorf("uri = %q, want the host only (the path is the overwrite:path template)", in.URI)
	}
	if n := len(res.Report.Items); n != 2 {
		t.Errorf("want 2 items (reserved Authorization, unknown context.resourcePath), got:\n%s", reportOf(t, res))
	}
	// Only renames: the URI keeps its path with the route's variable names.
	res = importYAML(t, `
swagger: "2.0"
info: {title: rename, version: "1"}
paths:
  /pets/{petId}:
    get:
      responses: {}
      x-amazon-apigateway-integration:
        type: http_proxy
        uri: http://backend.example.com/pets/{id}
        requestParameters: {integration.request.path.id: method.request.path.petId}
`, Options{})
	if got := res.Routes[0].Spec.Integration.URI; got != "http://backend.example.com/pets/{petId}" {
		t.Errorf("uri = %q", got)
	}
}

// Lambda authorizers (TOKEN, REQUEST) become REQUEST Authorizers calling the
// function; Cognito user pools become JWT; IAM routes are not created.
func TestAuthorizersFromSecuritySchemes(t *testing.T) {
	res := importYAML(t, `
swagger: "2.0"
info: {title: auth, version: "1"}
securityDefinitions:
  tok:
    type: apiKey
    name: Authorization
    in: header
    x-amazon-apigateway-authtype: custom
    x-amazon-apigateway-authorizer:
      type: token
      authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Authz/invocations
      authorizerResultTtlInSeconds: 60
  req:
    type: apiKey
    name: x-id
    in: header
    x-amazon-apigateway-authtype: custom
    x-amazon-apigateway-authorizer:
      type: request
      identitySource: method.request.header.x-id, method.request.querystring.tenant, context.stage
      authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:Authz/invocations
  pool:
    type: apiKey
    name: Authorization
    in: header
    x-amazon-apigateway-authtype: cognito_user_pools
    x-amazon-apigateway-authorizer:
      type: cognito_user_pools
      providerARNs: [arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC]
  sigv4: {type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4}
paths:
  /a: {get: {security: [{tok: []}], responses: {}, x-amazon-apigateway-integration: {type: http_proxy, uri: "http://b.example.com/a"}}}
  /b: {get: {security: [{req: []}], responses: {}, x-amazon-apigateway-integration: {type: http_proxy, uri: "http://b.example.com/b"}}}
  /c: {get: {security: [{pool: [email]}], responses: {}, x-amazon-apigateway-integration: {type: http_proxy, uri: "http://b.example.com/c"}}}
  /d: {get: {security: [{sigv4: []}], responses: {}, x-amazon-apigateway-integration: {type: http_proxy, uri: "http://b.example.com/d"}}}
`, Options{ServiceMap: ServiceMap{"Authz": {Name: "authz", Port: 9000}}})
	if len(res.Routes) != 3 {
		t.Fatalf("want 3 routes (the IAM one not created), got %d", len(res.Routes))
	}
	byName := map[string]v1alpha1.AuthorizerSpec{}
	for _, a := range res.Authorizers {
		byName[a.Name] = a.Spec
	}
	tok := byName["auth-tok"]
	if tok.Type != v1alpha1.AuthorizerToken || tok.Request.Function == nil || tok.Request.Function.Name != "authz" || tok.Request.Function.Port != 9000 ||
		*tok.Request.ResultTTLSeconds != 60 || tok.Request.PayloadFormatVersion != "1.0" || !cmp.Equal(tok.IdentitySources, []string{"$request.header.Authorization"}) {
		t.Errorf("token authorizer: %+v %+v", tok, tok.Request)
	}
	if got := byName["auth-req"].IdentitySources; !cmp.Equal(got, []string{"$request.header.x-id", "$request.querystring.tenant", "$context.stage"}) {
		t.Errorf("request authorizer identity sources: %v", got)
	}
	if p := byName["auth-pool"]; p.Type != v1alpha1.AuthorizerJWT || p.JWT.Issuer != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC" {
		t.Errorf("cognito authorizer: %+v", p)
	}
	if r := res.Routes[2].Spec; r.AuthorizationType != v1alpha1.AuthorizationJWT || !cmp.Equal(r.AuthorizationScopes, []string{"email"}) {
		t.Errorf("GET /c: %+v", r)
	}
	if r := res.Routes[0].Spec; r.AuthorizationType != v1alpha1.AuthorizationCustom || r.AuthorizerName != "auth-tok" {
		t.Errorf("GET /a: %+v", r)
	}
	// Probes of a Lambda authorizer: TestProbeSAMExamples/api_lambda_token_auth.
}

// OpenAPI 3.1 documents import like 3.0 ones; a 2020-12 body schema keeps
// its keywords (const, type lists) when $refs are inlined.
func TestOpenAPI31(t *testing.T) {
	res := importYAML(t, `
openapi: 3.1.0
info: {title: pets31, version: "1"}
x-amazon-apigateway-request-validators: {body: {validateRequestBody: true, validateRequestParameters: false}}
paths:
  /pets:
    post:
      x-amazon-apigateway-request-validator: body
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
      responses: {}
      x-amazon-apigateway-integration: {type: http_proxy, httpMethod: POST, uri: "http://backend.example.com/pets"}
components:
  schemas:
    Kind: {const: dog}
    Pet:
      type: object
      required: [kind]
      properties:
        kind: {$ref: "#/components/schemas/Kind"}
        name: {type: [string, "null"]}
`, Options{})
	got := string(res.Routes[0].Spec.RequestValidation.BodySchema.Raw)
	want := `{"properties":{"kind":{"const":"dog"},"name":{"type":["string","null"]}},"required":["kind"],"type":"object"}`
	if got != want {
		t.Errorf("bodySchema\n got %s\nwant %s", got, want)
	}
}

// --basepath: ignore (AWS's default), prepend, split.
func TestBasePathModes(t *testing.T) {
	for mode, want := range map[string]string{"": "GET /validation", "ignore": "GET /validation", "prepend": "GET /v1/validation", "split": "GET /validation"} {
		res := mustImport(t, "request-validation.json", Options{BasePath: mode})
		if got := res.Routes[0].Spec.RouteKey; got != want {
			t.Errorf("--basepath %q: %s, want %s", mode, got, want)
		}
	}
	doc := `{"swagger": "2.0", "info": {"title": "b", "version": "1"}, "basePath": "/a/b/c",
	  "paths": {"/e": {"get": {"responses": {}, "x-amazon-apigateway-integration": {"type": "mock"}}}}}`
	for mode, want := range map[string]string{"prepend": "GET /a/b/c/e", "split": "GET /b/c/e", "ignore": "GET /e"} {
		res, err := Import([]byte(doc), Options{BasePath: mode})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Routes[0].Spec.RouteKey; got != want {
			t.Errorf("--basepath %s of /a/b/c: %s, want %s", mode, got, want)
		}
	}
}

// x-amazon-apigateway-any-method in Swagger 2.0: its $refs are resolved
// like those of any operation, and its required parameters validated.
func TestSwaggerAnyMethodRefs(t *testing.T) {
	res := importYAML(t, `
swagger: "2.0"
info: {title: any, version: "1"}
x-amazon-apigateway-request-validators: {params: {validateRequestParameters: true, validateRequestBody: false}}
parameters:
  tenant: {name: x-tenant, in: header, required: true, type: string}
paths:
  /{proxy+}:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-request-validator: params
      parameters:
        - {name: proxy, in: path, required: true, type: string}
        - {$ref: "#/parameters/tenant"}
      responses: {}
      x-amazon-apigateway-integration:
        type: http_proxy
        uri: http://backend.example.com/{proxy}
        requestParameters: {integration.request.path.proxy: method.request.path.proxy}
`, Options{})
	r := res.Routes[0].Spec
	if r.RouteKey != "ANY /{proxy+}" || r.Integration.URI != "http://backend.example.com/{proxy}" {
		t.Errorf("route: %+v", r)
	}
	if got := r.RequestValidation.RequiredParameters; !cmp.Equal(got, []string{"path.proxy", "header.x-tenant"}) {
		t.Errorf("required parameters %v", got)
	}
}

// A template: AWS::ApiGateway::RestApi with a Body, a usage plan naming it,
// and an HTTP API built from ApiGatewayV2 resources with a JWT authorizer.
func TestCloudFormationResources(t *testing.T) {
	res := importYAML(t, `
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Issuer: {Type: String, Default: "https://issuer.example.com"}
Resources:
  Rest:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: orders
      ApiKeySourceType: HEADER
      Body:
        openapi: 3.0.1
        info: {title: ignored, version: "1"}
        paths:
          /orders:
            get:
              security: [{api_key: []}]
              responses: {}
              x-amazon-apigateway-integration: {type: http_proxy, httpMethod: GET, uri: "http://orders.example.com/orders"}
  Plan:
    Type: AWS::ApiGateway::UsagePlan
    Properties:
      UsagePlanName: Basic
      ApiStages: [{ApiId: !Ref Rest, Stage: live}]
      Throttle: {RateLimit: 10, BurstLimit: 20}
      Quota: {Limit: 5000, Period: MONTH, Offset: 2}
  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: users, ProtocolType: HTTP}
  Jwt:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Http
      AuthorizerType: JWT
      IdentitySource: [$request.header.Authorization]
      JwtConfiguration: {Issuer: !Ref Issuer, Audience: [users-api]}
  UsersIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Http
      IntegrationType: HTTP_PROXY
      IntegrationMethod: ANY
      IntegrationUri: !Sub "http://users.example.com/${!stageVariables.version}/users"
      PayloadFormatVersion: "1.0"
  UsersRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Http
      RouteKey: GET /users
      AuthorizationType: JWT
      AuthorizerId: !Ref Jwt
      AuthorizationScopes: [users/read]
      Target: !Join [/, [integrations, !Ref UsersIntegration]]
  Live:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Http
      StageName: live
      StageVariables: {version: v2}
      DefaultRouteSettings: {ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100}
`, Options{Namespace: "shop"})
	// APIs come in logical ID order: Http (users), then Rest (orders).
	if len(res.Apis) != 2 || res.Apis[0].Name != "users" || res.Apis[1].Name != "orders" || res.Apis[0].Spec.Protocol != v1alpha1.ProtocolHTTP {
		t.Fatalf("apis: %+v", res.Apis)
	}
	up := res.UsagePlans[0].Spec
	if res.UsagePlans[0].Name != "basic" || up.ApiStages[0].ApiName != "orders" || up.ApiStages[0].Stage != "live" || up.Quota.Offset != 2 || up.Throttle.BurstLimit != 20 {
		t.Errorf("usage plan: %+v", res.UsagePlans[0])
	}
	users := res.Stages[0].Spec
	if users.StageName != "live" || users.Variables["version"] != "v2" || users.Throttle.RateLimit != 50 {
		t.Errorf("users stage: %+v", users)
	}
	r := res.Routes[0].Spec
	if r.RouteKey != "GET /users" || r.AuthorizerName != "users-jwt" || !cmp.Equal(r.AuthorizationScopes, []string{"users/read"}) ||
		r.Integration.URI != "http://users.example.com/${stageVariables.version}/users" {
		t.Errorf("users route: %+v", r)
	}
	if a := res.Authorizers[0].Spec; a.JWT.Issuer != "https://issuer.example.com" || !cmp.Equal(a.JWT.Audiences, []string{"users-api"}) {
		t.Errorf("authorizer: %+v", a)
	}
	if !res.Routes[1].Spec.ApiKeyRequired {
		t.Error("GET /orders: apiKeyRequired not set")
	}
}

// An operation whose security names an undefined scheme (AWS's samples name
// IAM "sigv4" so) is not created: dropping the requirement would open it.
func TestUndefinedSecuritySchemeFailsClosed(t *testing.T) {
	res := importYAML(t, `
swagger: "2.0"
info: {title: s3ish, version: "1"}
paths:
  /a:
    get:
      security: [{sigv4: []}]
      responses: {}
      x-amazon-apigateway-integration: {type: http_proxy, uri: "http://b.example.com/a"}
    x-amazon-apigateway-unknown-thing: {}
`, Options{})
	if len(res.Routes) != 0 {
		t.Fatalf("the route was created: %+v", res.Routes)
	}
	want := "not carried over: /a: x-amazon-apigateway-unknown-thing: this extension is not supported\n" +
		"not carried over: GET /a: security.sigv4: no such security scheme (IAM authorization if it is sigv4); the route is not created rather than served open\n"
	if got := string(reportOf(t, res)); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

// A RestApi's AWS::ApiGateway::Stage gives the stage name, variables and
// default throttle; WAF, backend client certificates and custom domains are
// reported.
func TestRestStageAndUnsupportedResources(t *testing.T) {
	res := importYAML(t, `
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        swagger: "2.0"
        info: {title: shop, version: "1"}
        paths:
          /a: {get: {responses: {}, x-amazon-apigateway-integration: {type: http_proxy, uri: "http://${stageVariables.host}/a"}}}
  Prod:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      StageName: prod
      Variables: {host: backend.example.com}
      ClientCertificateId: !Ref Cert
      MethodSettings: [{ResourcePath: "/*", HttpMethod: "*", ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9}]
  Cert: {Type: AWS::ApiGateway::ClientCertificate}
  Waf: {Type: AWS::WAFv2::WebACLAssociation, Properties: {ResourceArn: x, WebACLArn: y}}
  Domain: {Type: AWS::ApiGateway::DomainName, Properties: {DomainName: api.example.com}}
  Role: {Type: AWS::IAM::Role}
`, Options{})
	st := res.Stages[0].Spec
	if st.StageName != "prod" || st.Variables["host"] != "backend.example.com" || st.Throttle == nil || st.Throttle.RateLimit != 7 {
		t.Errorf("stage: %+v", st)
	}
	want := `not carried over: API: Cert (AWS::ApiGateway::ClientCertificate): client certificates for backends are not supported
not carried over: API: Domain (AWS::ApiGateway::DomainName): custom domains are not carried over; set Stage.spec.domains (docs/custom-domains.md)
not carried over: API: Prod.ClientCertificateId: client certificates for backends are not supported
not carried over: API: Waf (AWS::WAFv2::WebACLAssociation): WAF is not supported; put a WAF in front of the gateway
`
	if got := string(reportOf(t, res)); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}

// --service-map keys: a Lambda function's ARN, and a VPC link target ARN.
func TestServiceMapByARN(t *testing.T) {
	res := importYAML(t, `
openapi: 3.0.1
info: {title: arns, version: "1"}
x-amazon-apigateway-importexport-version: "1.0"
paths:
  /fn:
    get:
      responses: {}
      x-amazon-apigateway-integration: {type: AWS_PROXY, httpMethod: POST, payloadFormatVersion: "2.0", uri: "arn:aws:lambda:eu-west-1:111122223333:function:orders:live"}
  /vpc:
    get:
      responses: {}
      x-amazon-apigateway-integration: {type: HTTP_PROXY, httpMethod: ANY, connectionType: VPC_LINK, connectionId: abc123, payloadFormatVersion: "1.0",
        uri: "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/users/50dc6c495c0c9188/0467ef3c8400ae65"}
`, Options{ServiceMap: ServiceMap{
		"arn:aws:lambda:eu-west-1:111122223333:function:orders":                                                    {Name: "orders", Port: 8080},
		"arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/users/50dc6c495c0c9188/0467ef3c8400ae65": {Name: "users", Port: 80},
	}})
	fn, vpc := res.Routes[0].Spec.Integration, res.Routes[1].Spec.Integration
	if fn.Type != v1alpha1.IntegrationTypeFunction || fn.Service.Name != "orders" || fn.PayloadFormatVersion != "2.0" {
		t.Errorf("function: %+v", fn)
	}
	if vpc.Type != v1alpha1.IntegrationTypeService || vpc.Service.Name != "users" || vpc.Service.Port != 80 {
		t.Errorf("vpc link: %+v", vpc)
	}
	if len(res.Report.Notes) != 0 || len(res.Report.Items) != 0 {
		t.Errorf("report:\n%s", reportOf(t, res))
	}
}
