package awsimport

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// convertAPI builds the Api from the document's top-level extensions.
func (c *converter) convertAPI() {
	ext := c.doc.Extensions
	a := v1alpha1.Api{TypeMeta: typeMeta("Api"), ObjectMeta: objectMeta(c.apiName, c.opts.Namespace)}
	a.Spec.Protocol = c.protocol
	if c.doc.Info != nil {
		a.Spec.Description = truncate(strings.TrimSpace(c.doc.Info.Description), 1024)
	}
	if v, ok := ext[extCORS].(map[string]any); ok {
		a.Spec.CORS = c.corsFromExtension(v)
	}
	if v, ok := ext[extAPIKeySource]; ok {
		switch s := strings.ToUpper(str(v)); s {
		case "HEADER", "AUTHORIZER":
			a.Spec.ApiKeySource = v1alpha1.ApiKeySource(s)
		default:
			c.report.add("", "", extAPIKeySource, "%q is not HEADER or AUTHORIZER; HEADER is used", str(v))
		}
	}
	a.Spec.BinaryMediaTypes = c.binaryMediaTypes(ext[extBinaryMediaTypes])
	a.Spec.GatewayResponses = c.gatewayResponses(ext[extGatewayResponses])
	if v, ok := ext[extEndpointConfig].(map[string]any); ok {
		c.endpointConfig(&a, v)
	}
	for _, s := range c.doc.Servers {
		if v, ok := s.Extensions[extEndpointConfig].(map[string]any); ok {
			c.endpointConfig(&a, v)
		}
	}
	if v, ok := ext[extTurnpikeAPI].(map[string]any); ok {
		if n, ok := v["maxRequestBodyBytes"].(float64); ok {
			a.Spec.MaxRequestBodyBytes = int64(n)
		}
		if b, ok := v["errorHints"].(bool); ok {
			a.Spec.ErrorHints = b
		}
	}
	c.unhandledExtensions(ext, "", "", extCORS, extAPIKeySource, extBinaryMediaTypes, extGatewayResponses,
		extEndpointConfig, extImportExport, extRequestValidators, extRequestValidator, extIntegrations)
	c.api = a
}

func (c *converter) endpointConfig(a *v1alpha1.Api, v map[string]any) {
	if b, ok := v["disableExecuteApiEndpoint"].(bool); ok {
		a.Spec.DisableDefaultEndpoint = b
	}
	if ids, ok := v["vpcEndpointIds"].([]any); ok && len(ids) > 0 {
		c.report.add("", "", extEndpointConfig+".vpcEndpointIds", "private endpoints (VPC endpoints) are not supported; the Api is served on the gateway's listeners")
	}
}

// corsFromExtension converts x-amazon-apigateway-cors (HTTP API shape).
func (c *converter) corsFromExtension(v map[string]any) *v1alpha1.CORS {
	cors := &v1alpha1.CORS{
		AllowOrigins:  strings1(v["allowOrigins"]),
		AllowMethods:  upper(strings1(v["allowMethods"])),
		AllowHeaders:  strings1(v["allowHeaders"]),
		ExposeHeaders: strings1(v["exposeHeaders"]),
	}
	if n, ok := v["maxAge"].(float64); ok && n > 0 {
		cors.MaxAgeSeconds = int32(min(n, 86400))
	}
	if b, ok := v["allowCredentials"].(bool); ok {
		cors.AllowCredentials = b
	}
	return c.checkCORS(cors, extCORS)
}

// checkCORS drops what the CRD would refuse, with a report item each.
func (c *converter) checkCORS(cors *v1alpha1.CORS, ext string) *v1alpha1.CORS {
	origin := regexp.MustCompile(`^(\*|null|https?://(\*|(\*\.)?[A-Za-z0-9.-]+)(:[0-9]{1,5})?)$`)
	cors.AllowOrigins = c.keep(cors.AllowOrigins, origin, ext+".allowOrigins", "is not an origin Turnpike can match (scheme://host[:port], scheme://*.suffix, * or null)")
	token := regexp.MustCompile(`^(\*|[A-Za-z0-9!#$%&'*+.^_|~-]{1,128})$`)
	cors.AllowHeaders = c.keep(cors.AllowHeaders, token, ext+".allowHeaders", "is not a header name")
	cors.ExposeHeaders = c.keep(cors.ExposeHeaders, token, ext+".exposeHeaders", "is not a header name")
	cors.AllowMethods = c.keep(cors.AllowMethods, regexp.MustCompile(`^(\*|[A-Z]{1,16})$`), ext+".allowMethods", "is not a method")
	if cors.AllowCredentials && slices.Contains(cors.AllowOrigins, "*") {
		cors.AllowCredentials = false
		c.report.add("", "", ext+".allowCredentials", "browsers refuse credentials with the origin \"*\", so allowCredentials is dropped; list the origins instead")
	}
	return cors
}

func (c *converter) keep(vals []string, re *regexp.Regexp, ext, why string) []string {
	var out []string
	for _, v := range vals {
		if re.MatchString(v) {
			out = append(out, v)
		} else {
			c.report.add("", "", ext, "%q %s", v, why)
		}
	}
	return out
}

var mediaTypeRE = regexp.MustCompile(`^[A-Za-z0-9!#$&^_.+*-]+/[A-Za-z0-9!#$&^_.+*-]+$`)

// binaryMediaTypes converts x-amazon-apigateway-binary-media-types. AWS's
// exports escape "/" as "~1" (a JSON pointer habit); both forms are read.
func (c *converter) binaryMediaTypes(v any) []string {
	var out []string
	for _, t := range strings1(v) {
		t = strings.ReplaceAll(t, "~1", "/")
		if !mediaTypeRE.MatchString(t) || len(t) > 256 {
			c.report.add("", "", extBinaryMediaTypes, "%q is not a media type (type/subtype, wildcards allowed)", t)
			continue
		}
		out = append(out, t)
	}
	if len(out) > 32 {
		c.report.add("", "", extBinaryMediaTypes, "only the first 32 of %d media types are kept", len(out))
		out = out[:32]
	}
	return out
}

// gatewayResponseTypes are the keys Api.spec.gatewayResponses accepts.
var gatewayResponseTypes = []string{"DEFAULT_4XX", "DEFAULT_5XX", "ACCESS_DENIED", "API_CONFIGURATION_ERROR",
	"AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE", "BAD_REQUEST_PARAMETERS", "BAD_REQUEST_BODY",
	"EXPIRED_TOKEN", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "INVALID_API_KEY", "INVALID_SIGNATURE",
	"MISSING_AUTHENTICATION_TOKEN", "QUOTA_EXCEEDED", "REQUEST_TOO_LARGE", "RESOURCE_NOT_FOUND", "THROTTLED",
	"UNAUTHORIZED", "UNSUPPORTED_MEDIA_TYPE", "WAF_FILTERED"}

var gatewayHeaderRE = regexp.MustCompile(`^gatewayresponse[.]header[.][A-Za-z0-9!#$%&*+.^_|~-]{1,128}$`)

// gatewayResponses converts x-amazon-apigateway-gateway-responses, AWS's
// own shape, into Api.spec.gatewayResponses.
func (c *converter) gatewayResponses(v any) map[string]v1alpha1.GatewayResponse {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := map[string]v1alpha1.GatewayResponse{}
	for _, typ := range sortedKeys(m) {
		raw, _ := m[typ].(map[string]any)
		if !slices.Contains(gatewayResponseTypes, typ) {
			c.report.add("", "", extGatewayResponses+"."+typ, "is not a gateway response type Turnpike produces")
			continue
		}
		var gr v1alpha1.GatewayResponse
		if s := str(raw["statusCode"]); s != "" {
			n, err := strconv.ParseInt(s, 10, 32)
			if err != nil || n < 100 || n > 599 {
				c.report.add("", "", extGatewayResponses+"."+typ+".statusCode", "%q is not a status code; the type's default status is kept", s)
			} else {
				gr.StatusCode = int32(n)
			}
		}
		if p, ok := raw["responseParameters"].(map[string]any); ok {
			gr.ResponseParameters = map[string]string{}
			for _, k := range sortedKeys(p) {
				if !gatewayHeaderRE.MatchString(k) || len(str(p[k])) > 1024 {
					c.report.add("", "", extGatewayResponses+"."+typ+".responseParameters", "%q is not a gatewayresponse.header.NAME mapping", k)
					continue
				}
				gr.ResponseParameters[k] = str(p[k])
			}
		}
		if t, ok := raw["responseTemplates"].(map[string]any); ok {
			gr.ResponseTemplates = map[string]string{}
			for _, k := range sortedKeys(t) {
				gr.ResponseTemplates[k] = str(t[k])
			}
		}
		out[typ] = gr
	}
	return out
}

// stage builds the Stage of the Api. vars are stage variables a template
// gave; variables that Routes use and vars lack are noted.
func (c *converter) stage(vars map[string]string) v1alpha1.Stage {
	name := c.apiName + "-" + strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(c.opts.Stage, "$"), "_", "-"))
	s := v1alpha1.Stage{TypeMeta: typeMeta("Stage"), ObjectMeta: objectMeta(dnsSubdomain(name), c.opts.Namespace)}
	s.Spec.ApiName = c.apiName
	s.Spec.StageName = c.opts.Stage
	s.Spec.Variables = vars
	for _, v := range sortedKeys(c.stageVariables) {
		if _, ok := vars[v]; !ok {
			c.report.note("Routes of Api %q use the stage variable %q: set it in Stage %q (spec.variables), else those Routes answer 500", c.apiName, v, s.Name)
		}
	}
	return s
}

// strings1 returns v as a list of strings (a list, or one string).
func strings1(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, str(e))
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}

func upper(s []string) []string {
	for i := range s {
		s[i] = strings.ToUpper(s[i])
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var nonSubdomain = regexp.MustCompile(`[^a-z0-9.-]+`)

// dnsSubdomain makes s a valid object name (DNS subdomain, at most 253).
func dnsSubdomain(s string) string {
	s = strings.Trim(nonSubdomain.ReplaceAllString(strings.ToLower(s), "-"), "-.")
	s = regexp.MustCompile(`[-.]{2,}`).ReplaceAllStringFunc(s, func(m string) string { return m[:1] })
	if len(s) > 253 {
		s = strings.TrimRight(s[:253], "-.")
	}
	if s == "" {
		return fmt.Sprintf("x%d", len(s))
	}
	return s
}
