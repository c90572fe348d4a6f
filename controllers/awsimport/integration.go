package awsimport

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// Integration types of x-amazon-apigateway-integration (any case).
const (
	typeHTTP      = "http"
	typeHTTPProxy = "http_proxy"
	typeAWS       = "aws"
	typeAWSProxy  = "aws_proxy"
	typeMock      = "mock"
)

// integrationSpec is what an operation's integration becomes. skip says the
// route is not created (reported).
type integrationSpec struct {
	in   v1alpha1.Integration
	skip bool
}

// integration converts the operation's x-amazon-apigateway-integration.
func (c *converter) integration(po pathOp, routePath string) (integrationSpec, error) {
	raw, err := c.integrationObject(po)
	if err != nil || raw == nil {
		return integrationSpec{skip: true}, err
	}
	where := extIntegration
	typ := strings.ToLower(str(raw["type"]))
	var spec integrationSpec
	switch typ {
	case typeHTTP, typeHTTPProxy:
		spec = c.httpIntegration(po, routePath, raw, typ)
	case typeAWSProxy:
		spec = c.lambdaIntegration(po, raw)
	case typeMock:
		spec = c.mockIntegration(po, raw)
	case typeAWS:
		if _, isFn := lambdaFunction(str(raw["uri"])); isFn {
			c.report.add(po.path, po.method, where, "a Lambda non-proxy integration (type aws, with VTL mapping templates) is not supported, only Lambda proxy (aws_proxy); the route is not created")
		} else {
			c.report.add(po.path, po.method, where, "an AWS service integration (%s) is not supported; the route is not created", awsService(str(raw["uri"])))
		}
		return integrationSpec{skip: true}, nil
	default:
		return integrationSpec{}, fmt.Errorf("paths.%s.%s.%s: type %q is not one of aws, aws_proxy, http, http_proxy, mock", po.path, strings.ToLower(po.method), where, str(raw["type"]))
	}
	if spec.skip {
		return spec, nil
	}
	if n, ok := raw["timeoutInMillis"].(float64); ok && n > 0 {
		spec.in.TimeoutMillis = int32(min(max(n, 50), 300000))
	}
	c.integrationLeftovers(po, raw, typ)
	if (typ == typeHTTPProxy || typ == typeHTTP) && spec.in.Type != v1alpha1.IntegrationTypeService {
		if id := str(raw["connectionId"]); id != "" {
			c.report.add(po.path, po.method, extIntegration+".connectionId", "VPC link %q does not apply; the URI's host is dialled (or its --service-map Service)", id)
		}
	}
	return spec, nil
}

// integrationObject returns the operation's integration, following a $ref
// into components.x-amazon-apigateway-integrations (HTTP APIs). nil: none
// (reported).
func (c *converter) integrationObject(po pathOp) (map[string]any, error) {
	raw, ok := po.op.Extensions[extIntegration].(map[string]any)
	if !ok {
		c.report.add(po.path, po.method, extIntegration, "the operation has no integration; the route is not created")
		return nil, nil
	}
	ref, ok := raw["$ref"].(string)
	if !ok {
		return raw, nil
	}
	const prefix = "#/components/" + extIntegrations + "/"
	name, found := strings.CutPrefix(ref, prefix)
	var all map[string]any
	if c.doc.Components != nil {
		all, _ = c.doc.Components.Extensions[extIntegrations].(map[string]any)
	}
	target, _ := all[name].(map[string]any)
	if !found || target == nil {
		return nil, fmt.Errorf("paths.%s.%s.%s: $ref %q does not name an integration in components.%s", po.path, strings.ToLower(po.method), extIntegration, ref, extIntegrations)
	}
	return target, nil
}

// httpIntegration: http_proxy, and http (non-proxy) served as a proxy.
func (c *converter) httpIntegration(po pathOp, routePath string, raw map[string]any, typ string) integrationSpec {
	uri := str(raw["uri"])
	if t, ok := c.opts.ServiceMap[uri]; ok && !strings.HasPrefix(uri, "http") {
		// A VPC link's target (a load balancer listener or Cloud Map
		// service ARN) mapped to a Service.
		in := v1alpha1.Integration{Type: v1alpha1.IntegrationTypeService, Service: &v1alpha1.IntegrationService{Name: t.Name, Port: t.Port}}
		c.requestParameters(po, raw, &in)
		return integrationSpec{in: in}
	}
	if !regexp.MustCompile(`^(https?://|[$][{]stageVariables[.])`).MatchString(uri) {
		c.report.add(po.path, po.method, extIntegration+".uri", "%q is not an http:// or https:// URL (map a VPC link target with --service-map); the route is not created", uri)
		return integrationSpec{skip: true}
	}
	in := v1alpha1.Integration{Type: v1alpha1.IntegrationTypeHTTPProxy, URI: uri}
	if typ == typeHTTP {
		c.report.add(po.path, po.method, extIntegration+".type", "an HTTP (non-proxy) integration is served as HTTP proxy: every request header and query parameter is forwarded, not only the mapped ones, and the backend's answer is returned as it is")
	}
	if m := strings.ToUpper(str(raw["httpMethod"])); m != "" && m != "ANY" && m != po.method {
		c.report.add(po.path, po.method, extIntegration+".httpMethod", "the backend receives the request's own method, not %s", m)
	}
	if ct := str(raw["connectionType"]); strings.EqualFold(ct, "VPC_LINK") {
		c.report.note("%s %s: a VPC link integration; map its host with --service-map to reach a Service", po.method, po.path)
	}
	c.requestParameters(po, raw, &in)
	c.useService(po, &in, routePath)
	c.noteStageVariables(in.URI)
	return integrationSpec{in: in}
}

// lambdaIntegration: aws_proxy to a Lambda function becomes FUNCTION.
func (c *converter) lambdaIntegration(po pathOp, raw map[string]any) integrationSpec {
	if sub := str(raw["integrationSubtype"]); sub != "" {
		c.report.add(po.path, po.method, extIntegration+".integrationSubtype", "an AWS service integration (%s) is not supported; the route is not created", sub)
		return integrationSpec{skip: true}
	}
	in := v1alpha1.Integration{Type: v1alpha1.IntegrationTypeFunction}
	def := "1.0"
	if c.protocol == v1alpha1.ProtocolHTTP {
		def = "2.0"
	}
	in.PayloadFormatVersion = payloadFormat(str(raw["payloadFormatVersion"]), def)
	if t, ok := c.turnpikeService(po); ok {
		in.Service = &v1alpha1.IntegrationService{Name: t.Name, Port: t.Port}
		return integrationSpec{in: in}
	}
	fn, ok := lambdaFunction(str(raw["uri"]))
	if !ok {
		c.report.add(po.path, po.method, extIntegration+".uri", "%q is not a Lambda function (an AWS service proxy is not supported); the route is not created", str(raw["uri"]))
		return integrationSpec{skip: true}
	}
	t := c.functionTarget(fn)
	in.Service = &v1alpha1.IntegrationService{Name: t.Name, Port: t.Port}
	c.requestParameters(po, raw, &in)
	return integrationSpec{in: in}
}

// payloadFormat normalises "1", 1.0, "1.0" to "1.0" (and 2 to "2.0"); def
// when empty.
func payloadFormat(v, def string) string {
	switch v {
	case "1", "1.0":
		return "1.0"
	case "2", "2.0":
		return "2.0"
	}
	return def
}

// lambdaFn is a Lambda function named by an integration or authorizer URI.
type lambdaFn struct {
	// name is the function name; arn the function ARN without qualifier
	// ("" when the URI named the function only).
	name, arn string
}

var (
	invokeURIRE = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:[a-z0-9-]*:lambda:path/2015-03-31/functions/(.+)/invocations$`)
	functionRE  = regexp.MustCompile(`^(arn:aws[a-z-]*:lambda:[a-z0-9-]*:[0-9]*:function:([A-Za-z0-9_-]+))(:[A-Za-z0-9$_-]+)?$`)
)

// lambdaFunction parses an API Gateway Lambda invocation URI
// (arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FN_ARN/invocations)
// or a bare function ARN (HTTP APIs accept both).
func lambdaFunction(uri string) (lambdaFn, bool) {
	if m := invokeURIRE.FindStringSubmatch(uri); m != nil {
		uri = m[1]
	}
	m := functionRE.FindStringSubmatch(uri)
	if m == nil {
		return lambdaFn{}, false
	}
	return lambdaFn{name: m[2], arn: m[1]}, true
}

// functionTarget is the Service of a Lambda function: --service-map by ARN
// or name, else a Service named after the function on port 8080 (the
// Runtime Interface Emulator's port in Lambda container images), noted.
func (c *converter) functionTarget(fn lambdaFn) ServiceTarget {
	for _, key := range []string{fn.arn, fn.name} {
		if t, ok := c.opts.ServiceMap[key]; ok && key != "" {
			return t
		}
	}
	t := ServiceTarget{Name: dnsLabel(fn.name), Port: 8080}
	c.report.note("Lambda function %q: no --service-map entry, so Service %q port %d is used (a Lambda container image listens on 8080)", fn.name, t.Name, t.Port)
	return t
}

// awsService names the AWS service of an aws integration URI.
func awsService(uri string) string {
	parts := strings.Split(uri, ":")
	if len(parts) > 4 && parts[2] == "apigateway" {
		return parts[4]
	}
	return "AWS"
}

// integrationLeftovers reports the integration properties that are not
// carried over.
func (c *converter) integrationLeftovers(po pathOp, raw map[string]any, typ string) {
	proxy := typ == typeHTTPProxy || typ == typeAWSProxy
	for _, k := range sortedKeys(raw) {
		where := extIntegration + "." + k
		switch k {
		case "requestTemplates":
			if typ != typeMock && len(asMap(raw[k])) > 0 {
				c.report.add(po.path, po.method, where, "VTL mapping templates are not supported; the request body is passed through")
			}
		case "responses":
			if !proxy && typ != typeMock && hasResponseMapping(raw[k]) {
				c.report.add(po.path, po.method, where, "integration responses (status, header and body mapping of a non-proxy integration) are not supported; the backend's answer is returned as it is")
			}
		case "credentials":
			c.report.add(po.path, po.method, where, "IAM credentials do not apply; the backend is called directly")
		case "tlsConfig":
			c.report.add(po.path, po.method, where, "backend TLS settings (insecureSkipVerification, serverNameToVerify) are not supported; the backend certificate is verified as usual")
		case "contentHandling":
			c.report.add(po.path, po.method, where, "payload conversion (%s) is not supported; bodies pass unchanged", str(raw[k]))
		case "passthroughBehavior":
			if strings.EqualFold(str(raw[k]), "never") && !proxy {
				c.report.add(po.path, po.method, where, "passthroughBehavior never (415 for unmapped content types) is not supported")
			}
		case "cacheNamespace", "type", "uri", "httpMethod", "timeoutInMillis", "payloadFormatVersion", "connectionType",
			"connectionId", "requestParameters", "responseParameters", "cacheKeyParameters", "integrationSubtype":
		default:
			c.report.add(po.path, po.method, where, "this property is not supported")
		}
	}
}

// hasResponseMapping says whether integration responses change anything: a
// status other than the backend's, or header or body mapping.
func hasResponseMapping(v any) bool {
	for pattern, r := range asMap(v) {
		m := asMap(r)
		if len(asMap(m["responseParameters"])) > 0 || len(asMap(m["responseTemplates"])) > 0 {
			return true
		}
		if s := str(m["statusCode"]); s != "" && s != pattern && (pattern != "default" || s != "200") {
			return true
		}
	}
	return false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

var stageVarRE = regexp.MustCompile(`\$\{?stageVariables\.([A-Za-z0-9_]+)\}?`)

// noteStageVariables records the stage variables s uses.
func (c *converter) noteStageVariables(s string) {
	for _, m := range stageVarRE.FindAllStringSubmatch(s, -1) {
		c.stageVariables[m[1]] = true
	}
}
