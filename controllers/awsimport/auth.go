package awsimport

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// schemeKind is what a security scheme becomes.
type schemeKind int

const (
	schemeAPIKey     schemeKind = iota // the api_key scheme: apiKeyRequired
	schemeAuthorizer                   // an Authorizer
	schemeIAM                          // AWS_IAM (SigV4): not supported
	schemeUnknown                      // not an AWS scheme: ignored with a report item
)

// scheme is one security scheme of the document.
type scheme struct {
	kind schemeKind
	// authorizer is the Authorizer's name (schemeAuthorizer).
	authorizer string
	authType   v1alpha1.AuthorizationType
}

// convertSchemes turns the document's security schemes into Authorizers.
func (c *converter) convertSchemes() error {
	c.schemes = map[string]*scheme{}
	if c.doc.Components == nil {
		return nil
	}
	for _, name := range sortedKeys(c.doc.Components.SecuritySchemes) {
		ref := c.doc.Components.SecuritySchemes[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		s, err := c.convertScheme(name, ref.Value)
		if err != nil {
			return err
		}
		c.schemes[name] = s
	}
	return nil
}

func (c *converter) convertScheme(name string, ss *openapi3.SecurityScheme) (*scheme, error) {
	authType := strings.ToLower(str(ss.Extensions[extAuthType]))
	raw, hasAuthorizer := ss.Extensions[extAuthorizer].(map[string]any)
	switch {
	case authType == "awssigv4" || authType == "aws_iam":
		return &scheme{kind: schemeIAM}, nil
	case !hasAuthorizer && ss.Type == "apiKey" && strings.EqualFold(ss.Name, "x-api-key") && ss.In == "header":
		return &scheme{kind: schemeAPIKey}, nil
	case !hasAuthorizer:
		c.report.add("", "", "components.securitySchemes."+name, "a security scheme without %s is not an AWS authorizer; operations that use it are served without it", extAuthorizer)
		return &scheme{kind: schemeUnknown}, nil
	}
	a := v1alpha1.Authorizer{TypeMeta: typeMeta("Authorizer"),
		ObjectMeta: objectMeta(authorizerName(c.apiName, name), c.opts.Namespace)}
	a.Spec.ApiName = c.apiName
	typ := strings.ToLower(str(raw["type"]))
	var authz v1alpha1.AuthorizationType
	var err error
	switch typ {
	case "jwt":
		authz, err = c.jwtAuthorizer(&a, name, raw)
	case "cognito_user_pools":
		authz, err = c.cognitoAuthorizer(&a, name, raw)
	case "token", "request":
		authz, err = c.lambdaAuthorizer(&a, name, typ, raw)
	default:
		return nil, fmt.Errorf("components.securitySchemes.%s.%s: type %q is not one of jwt, token, request, cognito_user_pools", name, extAuthorizer, typ)
	}
	if err != nil {
		return nil, err
	}
	if authz == "" { // reported; the operations are not created
		return &scheme{kind: schemeIAM}, nil
	}
	c.authorizers = append(c.authorizers, a)
	return &scheme{kind: schemeAuthorizer, authorizer: a.Name, authType: authz}, nil
}

func (c *converter) jwtAuthorizer(a *v1alpha1.Authorizer, name string, raw map[string]any) (v1alpha1.AuthorizationType, error) {
	cfg, _ := raw["jwtConfiguration"].(map[string]any)
	a.Spec.Type = v1alpha1.AuthorizerJWT
	a.Spec.JWT = &v1alpha1.JWTAuthorizer{Issuer: str(cfg["issuer"]), Audiences: strings1(cfg["audience"])}
	if a.Spec.JWT.Issuer == "" {
		return "", fmt.Errorf("components.securitySchemes.%s.%s.jwtConfiguration: issuer is required", name, extAuthorizer)
	}
	a.Spec.IdentitySources = c.identitySources(name, raw["identitySource"])
	c.turnpikeAuthorizer(a, raw)
	return v1alpha1.AuthorizationJWT, nil
}

// cognitoAuthorizer: a REST Cognito user pool authorizer validates the
// pool's tokens: a JWT authorizer with the pool's issuer. REST does not check
// the audience, so none is set.
func (c *converter) cognitoAuthorizer(a *v1alpha1.Authorizer, name string, raw map[string]any) (v1alpha1.AuthorizationType, error) {
	arns := strings1(raw["providerARNs"])
	re := regexp.MustCompile(`^arn:aws[a-z-]*:cognito-idp:([a-z0-9-]+):[0-9]*:userpool/([A-Za-z0-9_-]+)$`)
	if len(arns) == 0 || !re.MatchString(arns[0]) {
		c.report.add("", "", "components.securitySchemes."+name+"."+extAuthorizer+".providerARNs", "no Cognito user pool ARN; operations that use it are not created")
		return "", nil
	}
	if len(arns) > 1 {
		c.report.add("", "", "components.securitySchemes."+name+"."+extAuthorizer+".providerARNs", "only the first of %d user pools is used (a JWT authorizer has one issuer)", len(arns))
	}
	m := re.FindStringSubmatch(arns[0])
	a.Spec.Type = v1alpha1.AuthorizerJWT
	a.Spec.JWT = &v1alpha1.JWTAuthorizer{Issuer: fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", m[1], m[2])}
	a.Spec.IdentitySources = c.identitySources(name, raw["identitySource"])
	c.report.note("Authorizer %q: the Cognito user pool authorizer became a JWT authorizer for issuer %s", a.Name, a.Spec.JWT.Issuer)
	return v1alpha1.AuthorizationJWT, nil
}

// lambdaAuthorizer converts a TOKEN or REQUEST Lambda authorizer into an
// Authorizer of the same type calling the function
// (Authorizer.spec.request.function): a TOKEN authorizer keeps its TOKEN
// event, so a handler written for it runs unchanged.
func (c *converter) lambdaAuthorizer(a *v1alpha1.Authorizer, name, typ string, raw map[string]any) (v1alpha1.AuthorizationType, error) {
	where := "components.securitySchemes." + name + "." + extAuthorizer
	a.Spec.Type = v1alpha1.AuthorizerRequest
	if typ == "token" {
		a.Spec.Type = v1alpha1.AuthorizerToken
	}
	r := &v1alpha1.RequestAuthorizer{PayloadFormatVersion: "1.0"}
	if c.protocol == v1alpha1.ProtocolHTTP {
		r.PayloadFormatVersion = payloadFormat(str(raw["authorizerPayloadFormatVersion"]), "2.0")
		r.EnableSimpleResponses, _ = raw["enableSimpleResponses"].(bool)
	}
	if n, ok := raw["authorizerResultTtlInSeconds"].(float64); ok {
		ttl := int32(min(max(n, 0), 3600))
		r.ResultTTLSeconds = &ttl
	}
	a.Spec.Request = r
	a.Spec.IdentitySources = c.identitySources(name, raw["identitySource"])
	if typ == "token" && len(a.Spec.IdentitySources) == 0 {
		a.Spec.IdentitySources = []string{"$request.header.Authorization"}
	}
	if v := str(raw["identityValidationExpression"]); v != "" {
		c.report.add("", "", where+".identityValidationExpression", "the token is not checked against %q before the authorizer is called", v)
	}
	if v := str(raw["authorizerCredentials"]); v != "" {
		c.report.add("", "", where+".authorizerCredentials", "IAM roles do not apply; the function is called directly")
	}
	if c.turnpikeAuthorizer(a, raw) {
		return v1alpha1.AuthorizationCustom, nil
	}
	fn, ok := lambdaFunction(str(raw["authorizerUri"]))
	if !ok {
		c.report.add("", "", where+".authorizerUri", "%q is not a Lambda function; operations that use it are not created", str(raw["authorizerUri"]))
		return "", nil
	}
	t := c.functionTarget(fn)
	r.Function = &v1alpha1.AuthorizerFunction{Name: t.Name, Port: t.Port}
	return v1alpha1.AuthorizationCustom, nil
}

// turnpikeAuthorizer applies x-turnpike-authorizer (written by export for
// what AWS cannot express: a Service or URI authorizer, a JWKS URI,
// algorithms). It reports whether it set the REQUEST target.
func (c *converter) turnpikeAuthorizer(a *v1alpha1.Authorizer, raw map[string]any) bool {
	v, ok := raw[extTurnpikeAuthorizer]
	if !ok {
		return false
	}
	var spec v1alpha1.AuthorizerSpec
	if err := remarshal(v, &spec); err != nil {
		return false
	}
	if a.Spec.JWT != nil && spec.JWT != nil {
		a.Spec.JWT.JWKSURI, a.Spec.JWT.Algorithms = spec.JWT.JWKSURI, spec.JWT.Algorithms
	}
	r := spec.Request
	if a.Spec.Request == nil || r == nil {
		return false
	}
	if r.PayloadFormatVersion != "" {
		a.Spec.Request.PayloadFormatVersion = r.PayloadFormatVersion
	}
	if r.EnableSimpleResponses {
		a.Spec.Request.EnableSimpleResponses = true
	}
	if r.TimeoutMillis != 0 {
		a.Spec.Request.TimeoutMillis = r.TimeoutMillis
	}
	if r.Service == nil && r.URI == "" && r.Function == nil {
		return false
	}
	a.Spec.Request.Service, a.Spec.Request.URI, a.Spec.Request.Function = r.Service, r.URI, r.Function
	return true
}

// authorizerName is "{api}-{scheme}", or the scheme's name when it already
// starts with "{api}-" (as in Turnpike's own exports), so export and import
// keep names.
func authorizerName(api, scheme string) string {
	n := dnsSubdomain(scheme)
	if strings.HasPrefix(n, api+"-") {
		return n
	}
	return dnsSubdomain(api + "-" + scheme)
}

var identityRE = regexp.MustCompile(`^\$(request\.(header|querystring)|context|stageVariables)\.[A-Za-z0-9._-]+$`)

// identitySources converts AWS identity sources, REST form
// ("method.request.header.Auth, context.x") or HTTP form
// ("$request.header.Auth"; a list or a comma-separated string).
func (c *converter) identitySources(name string, v any) []string {
	var parts []string
	for _, s := range strings1(v) {
		parts = append(parts, strings.Split(s, ",")...)
	}
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		conv := p
		switch {
		case strings.HasPrefix(p, "method.request.header."), strings.HasPrefix(p, "method.request.querystring."):
			conv = "$" + strings.TrimPrefix(p, "method.")
		case strings.HasPrefix(p, "method.request.multivalueheader."):
			conv = "$request.header." + strings.TrimPrefix(p, "method.request.multivalueheader.")
		case strings.HasPrefix(p, "method.request.multivaluequerystring."):
			conv = "$request.querystring." + strings.TrimPrefix(p, "method.request.multivaluequerystring.")
		case strings.HasPrefix(p, "context."), strings.HasPrefix(p, "stageVariables."):
			conv = "$" + p
		}
		if !identityRE.MatchString(conv) {
			c.report.add("", "", "components.securitySchemes."+name+"."+extAuthorizer+".identitySource", "%q is not a header, query string, context or stage variable source", p)
			continue
		}
		out = append(out, conv)
	}
	return out
}

// security applies an operation's security requirements to a Route. It
// returns false when the operation must not be created (IAM authorization or
// an authorizer that could not be converted): serving it open would be worse
// than not serving it.
func (c *converter) security(r *v1alpha1.Route, po pathOp) bool {
	reqs := c.doc.Security
	if po.op.Security != nil {
		reqs = *po.op.Security
	}
	if auth, ok := po.op.Extensions[extAuth].(map[string]any); ok && strings.EqualFold(str(auth["type"]), "aws_iam") {
		c.report.add(po.path, po.method, extAuth, "IAM authorization (SigV4) is not supported; the route is not created rather than served open")
		return false
	}
	authorizers := 0
	for _, req := range reqs {
		for _, name := range sortedKeys(req) {
			s := c.schemes[name]
			if s == nil && name == "api_key" {
				// AWS's own samples name API keys so without defining the scheme.
				s = &scheme{kind: schemeAPIKey}
			}
			if s == nil {
				// AWS's samples name IAM "sigv4" without defining it; an
				// undefined requirement is never dropped: the route would be open.
				c.report.add(po.path, po.method, "security."+name, "no such security scheme (IAM authorization if it is sigv4); the route is not created rather than served open")
				return false
			}
			switch s.kind {
			case schemeAPIKey:
				r.Spec.ApiKeyRequired = true
			case schemeIAM:
				c.report.add(po.path, po.method, "security."+name, "IAM authorization (SigV4) or an authorizer that was not carried over; the route is not created rather than served open")
				return false
			case schemeAuthorizer:
				authorizers++
				if authorizers > 1 {
					c.report.add(po.path, po.method, "security."+name, "a route has one authorizer; only the first is used")
					continue
				}
				r.Spec.AuthorizationType = s.authType
				r.Spec.AuthorizerName = s.authorizer
				if s.authType == v1alpha1.AuthorizationJWT {
					r.Spec.AuthorizationScopes = req[name]
				} else if len(req[name]) > 0 {
					c.report.add(po.path, po.method, "security."+name, "scopes apply only to JWT authorizers")
				}
			}
		}
	}
	return true
}
