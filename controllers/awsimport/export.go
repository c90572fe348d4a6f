package awsimport

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// ExportInput is what export reads: one Api and the Routes and Authorizers
// that name it (others are ignored).
type ExportInput struct {
	Api         v1alpha1.Api
	Routes      []v1alpha1.Route
	Authorizers []v1alpha1.Authorizer
}

// Export writes the Api as an OpenAPI 3.0 document with AWS's
// x-amazon-apigateway-* extensions, as YAML. What AWS cannot express (a
// Service target, a non-Lambda authorizer, body limit and error hints) goes
// into x-turnpike-* extensions, so that importing the document serves the
// same answers. The output is deterministic.
func Export(in ExportInput) ([]byte, error) {
	if in.Api.Spec.Protocol == v1alpha1.ProtocolWebSocket {
		return nil, fmt.Errorf("the Api %q is a WEBSOCKET Api: export writes HTTP and REST Apis only", in.Api.Name)
	}
	e := &exporter{api: in.Api, doc: &openapi3.T{OpenAPI: "3.0.1", Extensions: map[string]any{}, Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{SecuritySchemes: openapi3.SecuritySchemes{}, Extensions: map[string]any{}}}}
	e.info()
	authorizers := map[string]v1alpha1.Authorizer{}
	for _, a := range in.Authorizers {
		if a.Spec.ApiName == in.Api.Name && a.Namespace == in.Api.Namespace {
			authorizers[a.Name] = a
		}
	}
	routes := slices.Clone(in.Routes)
	slices.SortFunc(routes, func(a, b v1alpha1.Route) int { return strings.Compare(a.Spec.RouteKey, b.Spec.RouteKey) })
	for _, r := range routes {
		if r.Spec.ApiName != in.Api.Name || r.Namespace != in.Api.Namespace {
			continue
		}
		if err := e.route(r, authorizers); err != nil {
			return nil, fmt.Errorf("route %q: %w", r.Name, err)
		}
	}
	if len(e.validators) > 0 {
		e.doc.Extensions[extRequestValidators] = e.validators
	}
	js, err := json.Marshal(e.doc)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(js)
}

type exporter struct {
	api        v1alpha1.Api
	doc        *openapi3.T
	validators map[string]any
}

// info writes the document's info and the Api's own settings.
func (e *exporter) info() {
	s := e.api.Spec
	e.doc.Info = &openapi3.Info{Title: e.api.Name, Version: "1.0", Description: s.Description}
	if s.Protocol != v1alpha1.ProtocolREST {
		// AWS marks HTTP API exports so; import reads it back as protocol HTTP.
		e.doc.Extensions[extImportExport] = "1.0"
	}
	if c := s.CORS; c != nil {
		cors := map[string]any{}
		setList(cors, "allowOrigins", c.AllowOrigins)
		setList(cors, "allowMethods", c.AllowMethods)
		setList(cors, "allowHeaders", c.AllowHeaders)
		setList(cors, "exposeHeaders", c.ExposeHeaders)
		if c.MaxAgeSeconds > 0 {
			cors["maxAge"] = c.MaxAgeSeconds
		}
		if c.AllowCredentials {
			cors["allowCredentials"] = true
		}
		e.doc.Extensions[extCORS] = cors
	}
	if s.ApiKeySource == v1alpha1.ApiKeySourceAuthorizer {
		e.doc.Extensions[extAPIKeySource] = string(s.ApiKeySource)
	}
	if len(s.BinaryMediaTypes) > 0 {
		e.doc.Extensions[extBinaryMediaTypes] = s.BinaryMediaTypes
	}
	if len(s.GatewayResponses) > 0 {
		gr := map[string]any{}
		for k, v := range s.GatewayResponses {
			m := map[string]any{}
			if v.StatusCode != 0 {
				m["statusCode"] = fmt.Sprint(v.StatusCode)
			}
			if len(v.ResponseParameters) > 0 {
				m["responseParameters"] = v.ResponseParameters
			}
			if len(v.ResponseTemplates) > 0 {
				m["responseTemplates"] = v.ResponseTemplates
			}
			gr[k] = m
		}
		e.doc.Extensions[extGatewayResponses] = gr
	}
	if s.DisableDefaultEndpoint {
		e.doc.Extensions[extEndpointConfig] = map[string]any{"disableExecuteApiEndpoint": true}
	}
	tp := map[string]any{}
	if s.MaxRequestBodyBytes != 0 && s.MaxRequestBodyBytes != v1alpha1.DefaultMaxRequestBodyBytes {
		tp["maxRequestBodyBytes"] = s.MaxRequestBodyBytes
	}
	if s.ErrorHints {
		tp["errorHints"] = true
	}
	if len(tp) > 0 {
		e.doc.Extensions[extTurnpikeAPI] = tp
	}
}

func setList(m map[string]any, k string, v []string) {
	if len(v) > 0 {
		m[k] = v
	}
}

var routeVarRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\+?\}`)

// route adds one Route as an operation.
func (e *exporter) route(r v1alpha1.Route, authorizers map[string]v1alpha1.Authorizer) error {
	path, method := "/$default", anyMethod
	op := &openapi3.Operation{Extensions: map[string]any{}, Responses: openapi3.NewResponses()}
	if r.Spec.RouteKey == v1alpha1.DefaultRouteKey {
		op.Extensions["isDefaultRoute"] = true
	} else {
		m, p, ok := strings.Cut(r.Spec.RouteKey, " ")
		if !ok {
			return fmt.Errorf("route key %q is not METHOD /path", r.Spec.RouteKey)
		}
		method, path = m, p
		for _, v := range routeVarRE.FindAllStringSubmatch(p, -1) {
			op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: openapi3.NewPathParameter(v[1]).WithSchema(openapi3.NewStringSchema())})
		}
	}
	in, err := e.integration(r, path)
	if err != nil {
		return err
	}
	op.Extensions[extIntegration] = in
	if s := r.Spec.Integration.Service; s != nil {
		op.Extensions[extTurnpikeService] = map[string]any{"name": s.Name, "port": s.Port}
	}
	if err := e.security(op, r, authorizers); err != nil {
		return err
	}
	e.validation(op, r)
	item := e.doc.Paths.Value(path)
	if item == nil {
		item = &openapi3.PathItem{}
		e.doc.Paths.Set(path, item)
	}
	if method == anyMethod {
		if item.Extensions == nil {
			item.Extensions = map[string]any{}
		}
		item.Extensions[extAnyMethod] = op
	} else {
		item.SetOperation(method, op)
	}
	return nil
}

// integration writes x-amazon-apigateway-integration.
func (e *exporter) integration(r v1alpha1.Route, path string) (map[string]any, error) {
	in := r.Spec.Integration
	var out map[string]any
	switch in.Type {
	case v1alpha1.IntegrationTypeHTTPProxy, v1alpha1.IntegrationTypeService:
		out = e.httpIntegration(in, path)
	case v1alpha1.IntegrationTypeFunction:
		out = e.functionIntegration(in)
	case v1alpha1.IntegrationTypeMock:
		out = mockIntegrationOut(in.Mock)
	default:
		return nil, fmt.Errorf("integration type %q cannot be exported", in.Type)
	}
	if in.TimeoutMillis != 0 && in.TimeoutMillis != v1alpha1.DefaultTimeoutMillis {
		out["timeoutInMillis"] = in.TimeoutMillis
	}
	if len(in.RequestParameters) > 0 {
		out["requestParameters"] = in.RequestParameters
	}
	if len(in.ResponseParameters) > 0 {
		out["responseParameters"] = in.ResponseParameters
	}
	if r.Spec.Cache != nil && len(r.Spec.Cache.KeyParameters) > 0 {
		var keys []string
		for _, k := range r.Spec.Cache.KeyParameters {
			keys = append(keys, "method.request."+k)
		}
		out["cacheKeyParameters"] = keys
	}
	return out, nil
}

// httpIntegration: HTTP_PROXY as is; SERVICE as the Service's cluster DNS
// name (meaningful to a reader and to AWS; import reads x-turnpike-service).
func (e *exporter) httpIntegration(in v1alpha1.Integration, path string) map[string]any {
	out := map[string]any{"type": "http_proxy", "httpMethod": "ANY", "uri": in.URI}
	if e.api.Spec.Protocol != v1alpha1.ProtocolREST {
		out["type"], out["payloadFormatVersion"] = "HTTP_PROXY", "1.0"
	}
	if in.Type == v1alpha1.IntegrationTypeService {
		p := strings.ReplaceAll(path, "+}", "}")
		if path == "/$default" {
			p = "/"
		}
		out["uri"] = fmt.Sprintf("http://%s.%s.svc.cluster.local:%d%s", in.Service.Name, namespaceOr(e.api.Namespace), in.Service.Port, p)
	}
	return out
}

// functionIntegration: FUNCTION as a Lambda proxy integration of a function
// named after the Service.
func (e *exporter) functionIntegration(in v1alpha1.Integration) map[string]any {
	out := map[string]any{"type": "aws_proxy", "httpMethod": "POST",
		"uri": fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/arn:aws:lambda:%s:%s:function:%s/invocations", fakeRegion, fakeRegion, fakeAccount, in.Service.Name)}
	pf := in.PayloadFormatVersion
	if e.api.Spec.Protocol != v1alpha1.ProtocolREST || (pf != "" && pf != "1.0") {
		if pf == "" {
			pf = "2.0"
		}
		out["payloadFormatVersion"] = pf
	}
	return out
}

// mockIntegrationOut writes a MOCK as AWS's mock integration: the status
// selected by the request template, headers as 'quoted' response
// parameters, the body as the response template of its content type.
func mockIntegrationOut(mock *v1alpha1.Mock) map[string]any {
	if mock == nil {
		mock = &v1alpha1.Mock{}
	}
	status := mock.StatusCode
	if status == 0 {
		status = 200
	}
	resp := map[string]any{"statusCode": fmt.Sprint(status)}
	params := map[string]any{}
	ct := "application/json"
	for _, h := range sortedKeys(mock.Headers) {
		if strings.EqualFold(h, "content-type") {
			ct = mock.Headers[h]
			continue
		}
		params["method.response.header."+h] = "'" + mock.Headers[h] + "'"
	}
	if len(params) > 0 {
		resp["responseParameters"] = params
	}
	if mock.Body != "" {
		resp["responseTemplates"] = map[string]any{ct: mock.Body}
	}
	return map[string]any{"type": "mock", "requestTemplates": map[string]any{"application/json": fmt.Sprintf(`{"statusCode": %d}`, status)},
		"responses": map[string]any{"default": resp}}
}

func namespaceOr(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// security writes the Route's authorizer and API key requirement.
func (e *exporter) security(op *openapi3.Operation, r v1alpha1.Route, authorizers map[string]v1alpha1.Authorizer) error {
	var reqs openapi3.SecurityRequirements
	if r.Spec.AuthorizerName != "" && r.Spec.AuthorizationType != v1alpha1.AuthorizationNone {
		a, ok := authorizers[r.Spec.AuthorizerName]
		if !ok {
			return fmt.Errorf("its Authorizer %q does not exist", r.Spec.AuthorizerName)
		}
		e.scheme(a)
		scopes := r.Spec.AuthorizationScopes
		if scopes == nil {
			scopes = []string{}
		}
		reqs = append(reqs, openapi3.SecurityRequirement{a.Name: scopes})
	}
	if r.Spec.ApiKeyRequired {
		e.doc.Components.SecuritySchemes["api_key"] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{Type: "apiKey", Name: "x-api-key", In: "header"}}
		reqs = append(reqs, openapi3.SecurityRequirement{"api_key": []string{}})
	}
	if len(reqs) > 0 {
		op.Security = &reqs
	}
	return nil
}

// scheme writes an Authorizer as a security scheme. What AWS's authorizer
// object cannot say (a Service or URI target, the JWKS URI and algorithms,
// a REST authorizer's payload format) goes into x-turnpike-authorizer.
func (e *exporter) scheme(a v1alpha1.Authorizer) {
	rest := e.api.Spec.Protocol == v1alpha1.ProtocolREST
	s := &openapi3.SecurityScheme{Type: "apiKey", Name: identityHeader(a.Spec.IdentitySources), In: "header", Extensions: map[string]any{}}
	az := map[string]any{}
	extra := map[string]any{}
	if len(a.Spec.IdentitySources) > 0 {
		az["identitySource"] = identitySourceOut(a.Spec.IdentitySources, rest)
	}
	switch a.Spec.Type {
	case v1alpha1.AuthorizerJWT:
		s.Type, s.Name, s.In = "oauth2", "", ""
		s.Flows = &openapi3.OAuthFlows{}
		az["type"] = "jwt"
		az["jwtConfiguration"] = map[string]any{"issuer": a.Spec.JWT.Issuer, "audience": nonNil(a.Spec.JWT.Audiences)}
		if a.Spec.JWT.JWKSURI != "" || len(a.Spec.JWT.Algorithms) > 0 {
			extra["jwt"] = v1alpha1.JWTAuthorizer{JWKSURI: a.Spec.JWT.JWKSURI, Algorithms: a.Spec.JWT.Algorithms}
		}
	case v1alpha1.AuthorizerRequest, v1alpha1.AuthorizerToken:
		r := a.Spec.Request
		s.Extensions[extAuthType] = "custom"
		az["type"] = strings.ToLower(string(a.Spec.Type))
		if r.ResultTTLSeconds != nil {
			az["authorizerResultTtlInSeconds"] = *r.ResultTTLSeconds
		}
		fn := "external"
		if r.Function != nil {
			fn = r.Function.Name
		}
		az["authorizerUri"] = fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/arn:aws:lambda:%s:%s:function:%s/invocations", fakeRegion, fakeRegion, fakeAccount, fn)
		target := v1alpha1.RequestAuthorizer{Service: r.Service, URI: r.URI, Function: r.Function, TimeoutMillis: r.TimeoutMillis}
		if rest {
			// A REST authorizer is payload 1.0 with IAM-policy answers;
			// anything else is Turnpike's own.
			if r.PayloadFormatVersion != "" && r.PayloadFormatVersion != "1.0" {
				target.PayloadFormatVersion = r.PayloadFormatVersion
			}
			target.EnableSimpleResponses = r.EnableSimpleResponses
		} else {
			az["authorizerPayloadFormatVersion"] = r.PayloadFormatVersion
			az["enableSimpleResponses"] = r.EnableSimpleResponses
		}
		extra["request"] = target
	}
	if len(extra) > 0 {
		az[extTurnpikeAuthorizer] = extra
	}
	s.Extensions[extAuthorizer] = az
	e.doc.Components.SecuritySchemes[a.Name] = &openapi3.SecuritySchemeRef{Value: s}
}

// identitySourceOut writes identity sources as AWS does: REST's
// "method.request.header.X, context.y" form, HTTP's "$request.header.X".
func identitySourceOut(sources []string, rest bool) string {
	if !rest {
		return strings.Join(sources, ",")
	}
	out := make([]string, len(sources))
	for i, src := range sources {
		switch {
		case strings.HasPrefix(src, "$request."):
			out[i] = "method." + strings.TrimPrefix(src, "$")
		default:
			out[i] = strings.TrimPrefix(src, "$")
		}
	}
	return strings.Join(out, ", ")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// identityHeader is the header name of the first header identity source.
func identityHeader(sources []string) string {
	for _, s := range sources {
		if h, ok := strings.CutPrefix(s, "$request.header."); ok {
			return h
		}
	}
	return "Authorization"
}

// validation writes requestValidation as AWS request validators: required
// parameters and a body schema, with a validator per combination.
func (e *exporter) validation(op *openapi3.Operation, r v1alpha1.Route) {
	rv := r.Spec.RequestValidation
	if rv == nil {
		return
	}
	params, body := len(rv.RequiredParameters) > 0, rv.BodySchema != nil
	name := map[[2]bool]string{{true, true}: "all", {true, false}: "params-only", {false, true}: "body-only"}[[2]bool{params, body}]
	if name == "" {
		return
	}
	if e.validators == nil {
		e.validators = map[string]any{}
	}
	e.validators[name] = map[string]any{"validateRequestParameters": params, "validateRequestBody": body}
	op.Extensions[extRequestValidator] = name
	for _, p := range rv.RequiredParameters {
		in, pname, _ := strings.Cut(p, ".")
		if in == "path" {
			continue // declared with the route's path parameters
		}
		where := map[string]string{"querystring": "query", "header": "header"}[in]
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: &openapi3.Parameter{Name: pname, In: where, Required: true, Schema: openapi3.NewStringSchema().NewRef()}})
	}
	if body {
		var schema openapi3.Schema
		if err := json.Unmarshal(rv.BodySchema.Raw, &schema); err == nil {
			op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithJSONSchema(&schema)}
		}
	}
}
