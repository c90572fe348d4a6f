package lambda

import "strings"

// AppendEventV1 appends the payload format 1.0 proxy event (REST APIs;
// HTTP APIs with payloadFormatVersion 1.0: DG:set-up-lambda-proxy-
// integrations, DG:http-api-develop-integrations-lambda) to dst. Empty
// query, path parameters, stage variables and body are null, as AWS sends
// them; headers and queryStringParameters hold the last value of a name,
// the multiValue* maps all of them. HTTP APIs add "version": "1.0" and send
// the full path (with the stage) as `path`; REST sends the path after the
// stage (APIPath).
func AppendEventV1(dst []byte, r *Request) []byte {
	e := newEnc(dst)
	e.b = append(e.b, '{')
	if r.API == HTTP {
		e.str("version", "1.0")
	}
	e.requestV1(r, "null")
	e.contextV1(r, true)
	e.body(r, false)
	e.close()
	return e.done()
}

// AppendAuthorizerEventV1 appends a REQUEST authorizer's event: REST's
// REQUEST type (DG:api-gateway-lambda-authorizer-input), which is also an
// HTTP API authorizer's payload format 1.0 (DG:http-api-lambda-authorizer:
// "If you need compatibility with REST APIs, use version 1.0"). HTTP APIs
// add version, identitySource and authorizationToken (the identity values
// joined with ","). Empty maps are {} as in AWS's samples; no body.
func AppendAuthorizerEventV1(dst []byte, r *Request, in *AuthorizerInput) []byte {
	e := newEnc(dst)
	e.b = append(e.b, '{')
	if r.API == HTTP {
		e.str("version", "1.0")
	}
	e.str("type", "REQUEST")
	e.str("methodArn", in.ARN)
	if r.API == HTTP {
		joined := strings.Join(in.IdentitySource, ",")
		e.str("identitySource", joined)
		e.str("authorizationToken", joined)
	}
	e.requestV1(r, "{}")
	e.contextV1(r, false)
	e.close()
	return e.done()
}

// AppendTokenAuthorizerEvent appends a REST TOKEN authorizer's event
// {type, authorizationToken, methodArn} (aws-lambda-go's
// apigw-custom-auth-request.json).
func AppendTokenAuthorizerEvent(dst []byte, token, methodARN string) []byte {
	e := newEnc(dst)
	e.b = append(e.b, '{')
	e.str("type", "TOKEN")
	e.str("authorizationToken", token)
	e.str("methodArn", methodARN)
	e.close()
	return e.done()
}

// requestV1 writes resource, path, httpMethod, the headers, the query,
// pathParameters and stageVariables; empty maps as emptyAs.
func (e *enc) requestV1(r *Request, emptyAs string) {
	e.str("resource", r.ResourcePath)
	if r.API == REST {
		e.str("path", r.apiPath())
	} else {
		e.str("path", r.Path)
	}
	e.str("httpMethod", r.Method)
	e.headersV1(r)
	e.queryV1(r, emptyAs)
	e.stringMap("pathParameters", r.PathParameters, emptyAs)
	e.stringMap("stageVariables", r.StageVariables, emptyAs)
}

// contextV1 writes the 1.0 requestContext; withAuthorizer adds the
// authorizer's result.
func (e *enc) contextV1(r *Request, withAuthorizer bool) {
	e.open("requestContext")
	e.str("accountId", r.AccountID)
	e.str("apiId", r.APIID)
	if a := r.Authorizer; withAuthorizer && a != nil {
		e.authorizerV1(a)
	}
	e.str("domainName", r.DomainName)
	e.str("domainPrefix", r.domainPrefix())
	e.str("extendedRequestId", r.extendedRequestID())
	e.str("httpMethod", r.Method)
	e.identityV1(r)
	e.str("path", r.Path)
	e.str("protocol", r.Protocol)
	e.str("requestId", r.RequestID)
	e.time("requestTime", r.Time)
	e.int("requestTimeEpoch", r.Time.UnixMilli())
	e.strOrNull("resourceId", r.ResourceID)
	e.str("resourcePath", r.ResourcePath)
	e.str("stage", r.Stage)
	e.close()
}

// identityV1 writes requestContext.identity. The IAM and Cognito fields
// are null, as AWS sends them for callers that are neither (Turnpike has
// no IAM or Cognito callers); apiKey and apiKeyId appear when a key was
// checked, clientCert under mutual TLS.
func (e *enc) identityV1(r *Request) {
	e.open("identity")
	for _, k := range [...]string{"cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller"} {
		e.null(k)
	}
	if r.APIKey != "" {
		e.str("apiKey", r.APIKey)
	}
	if r.APIKeyID != "" {
		e.str("apiKeyId", r.APIKeyID)
	}
	e.str("sourceIp", r.SourceIP)
	for _, k := range [...]string{"principalOrgId", "accessKey", "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn"} {
		e.null(k)
	}
	e.str("userAgent", r.UserAgent)
	e.null("user")
	if c := r.ClientCert; c != nil {
		e.clientCert(c)
	}
	e.close()
}

// authorizerV1 writes the 1.0 requestContext.authorizer: a JWT's
// {claims, scopes} (claims as strings, scopes null when none), or a Lambda
// authorizer's principalId, integrationLatency and context keys side by
// side, context values as the authorizer returned them (DG:api-gateway-
// lambda-authorizer-output: "API Gateway passes the context object ...
// directly to the backend Lambda function").
func (e *enc) authorizerV1(a *Authorizer) {
	e.open("authorizer")
	switch a.Kind {
	case AuthorizerJWT:
		e.anyMap("claims", a.Claims, true)
		if len(a.Scopes) == 0 {
			e.null("scopes")
			break
		}
		e.openArray("scopes")
		for _, s := range a.Scopes {
			e.elem(s)
		}
		e.closeArray()
	case AuthorizerLambda:
		e.lambdaAuthorizerMembers(a)
	}
	e.close()
}

// lambdaAuthorizerMembers writes principalId, integrationLatency and the
// context keys (a context key named like either is dropped: AWS reserves
// them).
func (e *enc) lambdaAuthorizerMembers(a *Authorizer) {
	e.str("principalId", a.PrincipalID)
	if a.IntegrationLatency >= 0 {
		e.int("integrationLatency", a.IntegrationLatency)
	}
	if len(a.Context) == 0 {
		return
	}
	ctx := a.Context
	if _, ok := ctx["principalId"]; ok {
		ctx = without(ctx, "principalId", "integrationLatency")
	} else if _, ok := ctx["integrationLatency"]; ok {
		ctx = without(ctx, "principalId", "integrationLatency")
	}
	e.anyMembers(ctx, false)
}

func without(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}
