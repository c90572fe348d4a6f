package lambda

// AppendEventV2 appends the payload format 2.0 proxy event of an HTTP API
// (DG:http-api-develop-integrations-lambda) to dst. Keys AWS leaves out
// when empty are left out: cookies, queryStringParameters, pathParameters,
// stageVariables, body, requestContext.authorizer and
// requestContext.authentication (as in aws-lambda-go's
// apigw-v2-request-no-authorizer.json, captured from AWS).
func AppendEventV2(dst []byte, r *Request) []byte {
	e := newEnc(dst)
	e.b = append(e.b, '{')
	e.str("version", "2.0")
	e.requestV2(r)
	e.contextV2(r, true)
	e.stringMap("pathParameters", r.PathParameters, "omit")
	e.stringMap("stageVariables", r.StageVariables, "omit")
	e.body(r, true)
	e.close()
	return e.done()
}

// AppendAuthorizerEventV2 appends an HTTP API Lambda authorizer's payload
// format 2.0 REQUEST event (DG:http-api-lambda-authorizer): the request
// without its body, plus routeArn and identitySource.
func AppendAuthorizerEventV2(dst []byte, r *Request, in *AuthorizerInput) []byte {
	e := newEnc(dst)
	e.b = append(e.b, '{')
	e.str("version", "2.0")
	e.str("type", "REQUEST")
	e.str("routeArn", in.ARN)
	e.openArray("identitySource")
	for _, v := range in.IdentitySource {
		e.elem(v)
	}
	e.closeArray()
	e.requestV2(r)
	e.contextV2(r, false)
	e.stringMap("pathParameters", r.PathParameters, "omit")
	e.stringMap("stageVariables", r.StageVariables, "omit")
	e.close()
	return e.done()
}

// requestV2 writes routeKey, rawPath, rawQueryString, cookies, headers and
// queryStringParameters.
func (e *enc) requestV2(r *Request) {
	e.str("routeKey", r.RouteKey)
	e.str("rawPath", r.Path)
	e.str("rawQueryString", r.RawQuery)
	e.cookiesV2(r)
	e.headersV2(r)
	e.queryV2(r)
}

// contextV2 writes requestContext; withAuthorizer adds the authorizer's
// result (proxy events, not authorizer events).
func (e *enc) contextV2(r *Request, withAuthorizer bool) {
	e.open("requestContext")
	e.str("accountId", r.AccountID)
	e.str("apiId", r.APIID)
	if c := r.ClientCert; c != nil {
		e.open("authentication")
		e.clientCert(c)
		e.close()
	}
	if a := r.Authorizer; withAuthorizer && a != nil {
		e.authorizerV2(a)
	}
	e.str("domainName", r.DomainName)
	e.str("domainPrefix", r.domainPrefix())
	e.open("http")
	e.str("method", r.Method)
	e.str("path", r.Path)
	e.str("protocol", r.Protocol)
	e.str("sourceIp", r.SourceIP)
	e.str("userAgent", r.UserAgent)
	e.close()
	e.str("requestId", r.RequestID)
	e.str("routeKey", r.RouteKey)
	e.str("stage", r.Stage)
	e.time("time", r.Time)
	e.int("timeEpoch", r.Time.UnixMilli())
	e.close()
}

// authorizerV2 writes requestContext.authorizer: {jwt: {claims, scopes}}
// with every claim as a string, or {lambda: context} with the context's
// JSON values as the authorizer returned them.
func (e *enc) authorizerV2(a *Authorizer) {
	e.open("authorizer")
	switch a.Kind {
	case AuthorizerJWT:
		e.open("jwt")
		e.anyMap("claims", a.Claims, true)
		if len(a.Scopes) > 0 {
			e.openArray("scopes")
			for _, s := range a.Scopes {
				e.elem(s)
			}
			e.closeArray()
		}
		e.close()
	case AuthorizerLambda:
		e.anyMap("lambda", a.Context, false)
	}
	e.close()
}

// clientCert writes the clientCert object (2.0 authentication, 1.0
// identity).
func (e *enc) clientCert(c *ClientCert) {
	e.open("clientCert")
	e.str("clientCertPem", c.PEM)
	e.str("subjectDN", c.SubjectDN)
	e.str("issuerDN", c.IssuerDN)
	e.str("serialNumber", c.SerialNumber)
	e.open("validity")
	e.certTime("notBefore", c.NotBefore)
	e.certTime("notAfter", c.NotAfter)
	e.close()
	e.close()
}
