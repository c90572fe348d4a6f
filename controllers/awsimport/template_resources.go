package awsimport

import (
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// samAPI reads an AWS::Serverless::Api.
func (t *templateImport) samAPI(id string, p map[string]any) {
	a := t.api(id, false)
	a.useBody(p["DefinitionBody"])
	if s := str(p["StageName"]); s != "" {
		a.stage = s
	}
	if n := str(p["Name"]); n != "" {
		a.name = n
	}
	a.extras.variables = stringMap(p["Variables"])
	if p["DefinitionUri"] != nil {
		t.rep.add("", "", id+".DefinitionUri", "a definition in S3 is not read; inline it as DefinitionBody or import the file itself")
	}
	if cors := samRESTCors(p["Cors"]); cors != nil {
		a.setExt(extCORS, cors)
	}
	if b, ok := p["DisableExecuteApiEndpoint"].(bool); ok {
		a.setExt(extEndpointConfig, map[string]any{"disableExecuteApiEndpoint": b})
	}
	if v, ok := p["BinaryMediaTypes"].([]any); ok {
		a.setExt(extBinaryMediaTypes, v)
	}
	if v := asMap(p["GatewayResponses"]); v != nil {
		a.setExt(extGatewayResponses, samGatewayResponses(v))
	}
	t.samMethodSettings(a, p)
	samModels(a.doc, asMap(p["Models"]))
	if auth := asMap(p["Auth"]); auth != nil {
		t.samAuth(id, a, auth)
	}
	t.unsupportedProps(id, p, "AccessLogSetting", "CanarySetting", "Domain", "EndpointConfiguration", "TracingEnabled", "MinimumCompressionSize")
}

// samMethodSettings: the "/*" "*" method setting is the stage's default
// throttle; CacheClusterEnabled with CachingEnabled turns the stage cache on.
func (t *templateImport) samMethodSettings(a *templateAPI, p map[string]any) {
	for _, s := range anyList(p["MethodSettings"]) {
		m := asMap(s)
		if str(m["ResourcePath"]) != "/*" || str(m["HttpMethod"]) != "*" {
			t.rep.add("", "", a.id+".MethodSettings", "settings of %s %s: only the \"/*\" \"*\" setting (the stage default) is carried over", str(m["HttpMethod"]), str(m["ResourcePath"]))
			continue
		}
		rate, rok := m["ThrottlingRateLimit"].(float64)
		burst, bok := m["ThrottlingBurstLimit"].(float64)
		if rok || bok {
			a.extras.throttle = &v1alpha1.Throttle{RateLimit: int32(min(rate, 1e6)), BurstLimit: int32(min(burst, 1e6))}
		}
		if on, _ := p["CacheClusterEnabled"].(bool); on {
			if c, _ := m["CachingEnabled"].(bool); c {
				ttl := int32(300)
				if n, ok := m["CacheTtlInSeconds"].(float64); ok {
					ttl = int32(min(max(n, 0), 3600))
				}
				a.extras.cache = &v1alpha1.StageCache{Enabled: true, TTLSeconds: ttl}
			}
		}
	}
}

// samUsagePlan keeps SAM's Auth.UsagePlan (CreateUsagePlan PER_API) as a
// usage plan resource of its own.
func (t *templateImport) samUsagePlan(id string, up map[string]any) {
	if str(up["CreateUsagePlan"]) != "PER_API" {
		t.rep.add("", "", id+".Auth.UsagePlan", "only CreateUsagePlan PER_API is carried over")
		return
	}
	t.resources[id+"UsagePlan"] = map[string]any{"Type": typeUsagePlan, "Properties": map[string]any{
		"ApiStages": []any{map[string]any{"ApiId": id, "Stage": t.apis[id].stage}},
		"Throttle":  up["Throttle"], "Quota": up["Quota"], "UsagePlanName": up["UsagePlanName"]}}
}

// samHTTPAPI reads an AWS::Serverless::HttpApi.
func (t *templateImport) samHTTPAPI(id string, p map[string]any) {
	a := t.api(id, true)
	a.useBody(p["DefinitionBody"])
	a.doc[extImportExport] = "1.0"
	if s := str(p["StageName"]); s != "" {
		a.stage = s
	}
	if n := str(p["Name"]); n != "" {
		a.name = n
	}
	a.extras.variables = stringMap(p["StageVariables"])
	if cors := v2Cors(p["CorsConfiguration"]); cors != nil {
		a.setExt(extCORS, cors)
	}
	if b, ok := p["DisableExecuteApiEndpoint"].(bool); ok {
		a.setExt(extEndpointConfig, map[string]any{"disableExecuteApiEndpoint": b})
	}
	if s := asMap(p["DefaultRouteSettings"]); s != nil {
		a.extras.throttle = v2Throttle(s)
	}
	if auth := asMap(p["Auth"]); auth != nil {
		t.samHTTPAuth(id, a, auth)
	}
	t.unsupportedProps(id, p, "AccessLogSettings", "Domain", "FailOnWarnings", "RouteSettings", "DefinitionUri")
}

// samHTTPAuth converts SAM HttpApi JWT and Lambda authorizers.
func (t *templateImport) samHTTPAuth(id string, a *templateAPI, auth map[string]any) {
	schemes := map[string]any{}
	authorizers := asMap(auth["Authorizers"])
	for _, name := range sortedKeys(authorizers) {
		m := asMap(authorizers[name])
		var az map[string]any
		if jwt := asMap(m["JwtConfiguration"]); jwt != nil {
			az = map[string]any{"type": "jwt", "jwtConfiguration": map[string]any{"issuer": jwt["issuer"], "audience": jwt["audience"]}, "identitySource": m["IdentitySource"]}
		} else if arn := str(m["FunctionArn"]); arn != "" {
			az = map[string]any{"type": "request", "authorizerUri": arn, "authorizerPayloadFormatVersion": m["AuthorizerPayloadFormatVersion"],
				"enableSimpleResponses": m["EnableSimpleResponses"], "identitySource": asMap(m["Identity"])["Headers"]}
		} else {
			t.rep.add("", "", id+".Auth.Authorizers."+name, "neither JwtConfiguration nor FunctionArn; not carried over")
			continue
		}
		schemes[name] = map[string]any{"type": "apiKey", "name": "Authorization", "in": "header", extAuthorizer: az}
	}
	if len(schemes) > 0 {
		comps := asMap(a.doc["components"])
		if comps == nil {
			comps = map[string]any{}
			a.doc["components"] = comps
		}
		comps["securitySchemes"] = schemes
	}
	if d := str(auth["DefaultAuthorizer"]); d != "" {
		a.doc["security"] = []any{map[string]any{d: []any{}}}
	}
}

// restAPI reads an AWS::ApiGateway::RestApi with an inline Body.
func (t *templateImport) restAPI(id string, p map[string]any) {
	if p["Body"] == nil {
		t.rep.add("", "", id, "a RestApi without an inline Body (AWS::ApiGateway::Resource and Method resources, or BodyS3Location) is not read; export the API and import the export")
		return
	}
	a := t.api(id, false)
	a.useBody(p["Body"])
	if n := str(p["Name"]); n != "" {
		a.name = n
	} else if info := asMap(a.doc["info"]); str(info["title"]) != "" {
		a.name = str(info["title"])
	}
	if v, ok := p["BinaryMediaTypes"].([]any); ok {
		a.setExt(extBinaryMediaTypes, v)
	}
	if v := str(p["ApiKeySourceType"]); v != "" {
		a.setExt(extAPIKeySource, v)
	}
	if b, ok := p["DisableExecuteApiEndpoint"].(bool); ok {
		a.setExt(extEndpointConfig, map[string]any{"disableExecuteApiEndpoint": b})
	}
	if p["Policy"] != nil {
		t.rep.add("", "", id+".Policy", "resource policies are not supported; restrict callers with an authorizer, API keys or a NetworkPolicy")
	}
}

// v2API reads an AWS::ApiGatewayV2::Api: a Body, or quick create (Target).
func (t *templateImport) v2API(id string, p map[string]any) {
	if pt := str(p["ProtocolType"]); pt != "" && pt != "HTTP" {
		t.rep.add("", "", id, "protocol %s is not supported by import", pt)
		return
	}
	a := t.api(id, true)
	a.useBody(p["Body"])
	a.doc[extImportExport] = "1.0"
	if n := str(p["Name"]); n != "" {
		a.name = n
	}
	if d := str(p["Description"]); d != "" {
		asMap(a.doc["info"])["description"] = d
	}
	if cors := v2Cors(p["CorsConfiguration"]); cors != nil {
		a.setExt(extCORS, cors)
	}
	if b, ok := p["DisableExecuteApiEndpoint"].(bool); ok {
		a.setExt(extEndpointConfig, map[string]any{"disableExecuteApiEndpoint": b})
	}
	if target := str(p["Target"]); target != "" {
		a.addRouteKey(str(p["RouteKey"]), t.targetOperation(target))
	}
}

// targetOperation is the operation of a quick-create Target: a Lambda
// function ARN or an HTTP URL.
func (t *templateImport) targetOperation(target string) map[string]any {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		return map[string]any{extIntegration: map[string]any{"type": "http_proxy", "httpMethod": "ANY", "uri": target, "payloadFormatVersion": "1.0"}}
	}
	return lambdaOperation(target, "2.0")
}

// v2Route reads an AWS::ApiGatewayV2::Route and its Integration.
func (t *templateImport) v2Route(id string, p map[string]any) {
	a, ok := t.apis[str(p["ApiId"])]
	if !ok {
		t.rep.add("", "", id, "the route's ApiId names no API of the template")
		return
	}
	op := map[string]any{}
	intID, found := strings.CutPrefix(str(p["Target"]), "integrations/")
	in := asMap(asMap(t.resources[intID])["Properties"])
	if !found || in == nil {
		t.rep.add("", "", id+".Target", "the route's Target names no integration of the template; the route is not created")
		return
	}
	op[extIntegration] = map[string]any{"type": strings.ToLower(str(in["IntegrationType"])), "uri": in["IntegrationUri"],
		"httpMethod": in["IntegrationMethod"], "payloadFormatVersion": in["PayloadFormatVersion"],
		"requestParameters": in["RequestParameters"], "timeoutInMillis": in["TimeoutInMillis"]}
	if rp := v2ResponseParameters(asMap(in["ResponseParameters"])); rp != nil {
		asMap(op[extIntegration])["responseParameters"] = rp
	}
	switch strings.ToUpper(str(p["AuthorizationType"])) {
	case "JWT", "CUSTOM":
		op["security"] = []any{map[string]any{str(p["AuthorizerId"]): anyList(p["AuthorizationScopes"])}}
	case "AWS_IAM":
		op[extAuth] = map[string]any{"type": "AWS_IAM"}
	}
	if b, _ := p["ApiKeyRequired"].(bool); b {
		op["security"] = append(anyList(op["security"]), map[string]any{"api_key": []any{}})
	}
	a.addRouteKey(str(p["RouteKey"]), op)
}

// v2ResponseParameters converts CloudFormation's response mapping shape
// ({"200": {ResponseParameters: [{Destination, Source}]}}) into OpenAPI's.
func v2ResponseParameters(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	out := map[string]any{}
	for code, v := range m {
		params := map[string]any{}
		for _, e := range anyList(asMap(v)["ResponseParameters"]) {
			params[str(asMap(e)["Destination"])] = asMap(e)["Source"]
		}
		out[code] = params
	}
	return out
}

// v2Authorizer reads an AWS::ApiGatewayV2::Authorizer as a security scheme.
func (t *templateImport) v2Authorizer(id string, p map[string]any) {
	a, ok := t.apis[str(p["ApiId"])]
	if !ok {
		t.rep.add("", "", id, "the authorizer's ApiId names no API of the template")
		return
	}
	az := map[string]any{"type": strings.ToLower(str(p["AuthorizerType"])), "identitySource": p["IdentitySource"]}
	if jwt := asMap(p["JwtConfiguration"]); jwt != nil {
		az["jwtConfiguration"] = map[string]any{"issuer": jwt["Issuer"], "audience": jwt["Audience"]}
	}
	for _, k := range []string{"AuthorizerUri", "AuthorizerPayloadFormatVersion", "EnableSimpleResponses", "AuthorizerResultTtlInSeconds"} {
		if v, ok := p[k]; ok {
			az[strings.ToLower(k[:1])+k[1:]] = v
		}
	}
	comps := asMap(a.doc["components"])
	if comps == nil {
		comps = map[string]any{}
		a.doc["components"] = comps
	}
	schemes := asMap(comps["securitySchemes"])
	if schemes == nil {
		schemes = map[string]any{}
		comps["securitySchemes"] = schemes
	}
	schemes[id] = map[string]any{"type": "apiKey", "name": "Authorization", "in": "header", extAuthorizer: az}
}

// v2Overrides applies ApiGatewayManagedOverrides to a quick-create route.
func (t *templateImport) v2Overrides(id string, p map[string]any) {
	a, ok := t.apis[str(p["ApiId"])]
	if !ok {
		return
	}
	route := asMap(p["Route"])
	item := asMap(asMap(a.doc["paths"])["/$default"])
	op := asMap(item[extAnyMethod])
	if op == nil || route == nil {
		t.rep.add("", "", id, "overrides of anything but the quick-create route are not carried over")
		return
	}
	if az := str(route["AuthorizerId"]); az != "" {
		op["security"] = []any{map[string]any{az: anyList(route["AuthorizationScopes"])}}
	}
	if p["Integration"] != nil || p["Stage"] != nil {
		t.rep.add("", "", id, "only the Route of ApiGatewayManagedOverrides is carried over")
	}
}

// v2Stage reads an AWS::ApiGatewayV2::Stage: name, variables, throttle.
func (t *templateImport) v2Stage(p map[string]any) {
	a, ok := t.apis[str(p["ApiId"])]
	if !ok {
		return
	}
	if s := str(p["StageName"]); s != "" {
		a.stage = s
	}
	a.extras.variables = stringMap(p["StageVariables"])
	if s := asMap(p["DefaultRouteSettings"]); s != nil {
		a.extras.throttle = v2Throttle(s)
	}
}

// restStage reads an AWS::ApiGateway::Stage of a RestApi: its name,
// variables and method settings.
func (t *templateImport) restStage(id string, p map[string]any) {
	a, ok := t.apis[str(p["RestApiId"])]
	if !ok {
		return
	}
	if s := str(p["StageName"]); s != "" {
		a.stage = s
	}
	a.extras.variables = stringMap(p["Variables"])
	t.samMethodSettings(a, p)
	if p["ClientCertificateId"] != nil {
		t.rep.add("", "", id+".ClientCertificateId", "client certificates for backends are not supported")
	}
	t.unsupportedProps(id, p, "AccessLogSetting", "CanarySetting", "TracingEnabled")
}

// functionEvents adds the Api and HttpApi events of a SAM function.
func (t *templateImport) functionEvents(id string, res map[string]any) {
	props := asMap(res["Properties"])
	arn := functionARN(id, res)
	for _, name := range sortedKeys(asMap(props["Events"])) {
		ev := asMap(asMap(props["Events"])[name])
		ep := asMap(ev["Properties"])
		switch str(ev["Type"]) {
		case "Api":
			apiID := str(ep["RestApiId"])
			if apiID == "" {
				apiID = implicitRestAPI
			}
			op := lambdaOperation(arn, "")
			a := t.api(apiID, false)
			samEventOperation(a, op, ep)
			a.addOperation(str(ep["Path"]), str(ep["Method"]), op)
		case "HttpApi":
			apiID := str(ep["ApiId"])
			if apiID == "" {
				apiID = implicitHTTPAPI
			}
			pf := str(ep["PayloadFormatVersion"])
			if pf == "" {
				pf = "2.0"
			}
			a := t.api(apiID, true)
			if ep["Path"] == nil && ep["Method"] == nil {
				a.addRouteKey(v1alpha1.DefaultRouteKey, lambdaOperation(arn, pf))
				continue
			}
			a.addOperation(str(ep["Path"]), str(ep["Method"]), lambdaOperation(arn, pf))
		}
	}
}

// usagePlans converts AWS::ApiGateway::UsagePlan resources.
func (t *templateImport) usagePlans(names map[string]string, stages []v1alpha1.Stage) []v1alpha1.UsagePlan {
	var out []v1alpha1.UsagePlan
	for _, id := range sortedKeys(t.resources) {
		res := asMap(t.resources[id])
		if str(res["Type"]) != typeUsagePlan {
			continue
		}
		p := asMap(res["Properties"])
		name := dnsSubdomain(id)
		if n := str(p["UsagePlanName"]); n != "" {
			name = dnsSubdomain(n)
		}
		up := v1alpha1.UsagePlan{TypeMeta: typeMeta("UsagePlan"), ObjectMeta: objectMeta(name, t.opts.Namespace)}
		for _, s := range anyList(p["ApiStages"]) {
			m := asMap(s)
			api, ok := names[str(m["ApiId"])]
			if !ok {
				t.rep.add("", "", id+".ApiStages", "ApiId %q names no API of the template", str(m["ApiId"]))
				continue
			}
			stage := str(m["Stage"])
			switch {
			case t.stageSet:
				stage = t.opts.Stage
			case stage == "":
				stage = stageOf(stages, api)
			}
			up.Spec.ApiStages = append(up.Spec.ApiStages, v1alpha1.UsagePlanStage{ApiName: api, Stage: stage})
		}
		if len(up.Spec.ApiStages) == 0 {
			continue
		}
		up.Spec.Throttle = cfnThrottle(asMap(p["Throttle"]))
		if q := asMap(p["Quota"]); q != nil {
			limit, _ := q["Limit"].(float64)
			offset, _ := q["Offset"].(float64)
			up.Spec.Quota = &v1alpha1.Quota{Limit: int64(max(limit, 1)), Period: v1alpha1.QuotaPeriod(strings.ToUpper(str(q["Period"]))), Offset: int32(offset)}
		}
		up.Spec.ApiKeySelector = metav1.LabelSelector{MatchLabels: map[string]string{"turnpike.io/usage-plan": name}}
		t.rep.note("UsagePlan %q selects API key Secrets (type turnpike.io/api-key, key in data.key) labelled turnpike.io/usage-plan=%s; exports carry no keys, so create them", name, name)
		out = append(out, up)
	}
	return out
}

func stageOf(stages []v1alpha1.Stage, api string) string {
	for _, s := range stages {
		if s.Spec.ApiName == api {
			return s.Spec.StageName
		}
	}
	return ""
}

// cfnThrottle converts {RateLimit, BurstLimit}.
func cfnThrottle(m map[string]any) *v1alpha1.Throttle {
	if m == nil {
		return nil
	}
	rate, _ := m["RateLimit"].(float64)
	burst, _ := m["BurstLimit"].(float64)
	return &v1alpha1.Throttle{RateLimit: int32(min(rate, 1e6)), BurstLimit: int32(min(burst, 1e6))}
}

// v2Throttle converts {ThrottlingRateLimit, ThrottlingBurstLimit}.
func v2Throttle(m map[string]any) *v1alpha1.Throttle {
	rate, rok := m["ThrottlingRateLimit"].(float64)
	burst, bok := m["ThrottlingBurstLimit"].(float64)
	if !rok && !bok {
		return nil
	}
	return &v1alpha1.Throttle{RateLimit: int32(min(rate, 1e6)), BurstLimit: int32(min(burst, 1e6))}
}

// v2Cors converts an HTTP API CorsConfiguration into the
// x-amazon-apigateway-cors shape.
func v2Cors(v any) map[string]any {
	if b, ok := v.(bool); ok && b {
		return map[string]any{"allowOrigins": []any{"*"}, "allowMethods": []any{"*"}, "allowHeaders": []any{"*"}}
	}
	m := asMap(v)
	if m == nil {
		return nil
	}
	out := map[string]any{}
	for k, e := range m {
		out[strings.ToLower(k[:1])+k[1:]] = e
	}
	return out
}

// samRESTCors converts SAM Api Cors ("'*'" or {AllowOrigin: "'*'", ...},
// values quoted as in AWS header mappings).
func samRESTCors(v any) map[string]any {
	unq := func(x any) string { return strings.Trim(str(x), "'") }
	if s, ok := v.(string); ok {
		return map[string]any{"allowOrigins": []any{unq(s)}, "allowMethods": []any{"*"}, "allowHeaders": []any{"*"}}
	}
	m := asMap(v)
	if m == nil {
		return nil
	}
	list := func(x any) []any {
		var out []any
		for _, p := range splitList(unq(x)) {
			out = append(out, p)
		}
		return out
	}
	out := map[string]any{"allowOrigins": list(m["AllowOrigin"]), "allowMethods": list(m["AllowMethods"]), "allowHeaders": list(m["AllowHeaders"])}
	if n, err := strconv.Atoi(unq(m["MaxAge"])); err == nil {
		out["maxAge"] = float64(n)
	}
	if b, ok := m["AllowCredentials"].(bool); ok {
		out["allowCredentials"] = b
	}
	return out
}

// samGatewayResponses converts SAM's GatewayResponses shape into AWS's.
func samGatewayResponses(m map[string]any) map[string]any {
	out := map[string]any{}
	for typ, raw := range m {
		r := asMap(raw)
		gr := map[string]any{}
		if s := str(r["StatusCode"]); s != "" {
			gr["statusCode"] = s
		}
		params := map[string]any{}
		for h, v := range asMap(asMap(r["ResponseParameters"])["Headers"]) {
			params["gatewayresponse.header."+h] = v
		}
		if len(params) > 0 {
			gr["responseParameters"] = params
		}
		if tpl := asMap(r["ResponseTemplates"]); tpl != nil {
			gr["responseTemplates"] = tpl
		}
		out[strings.ToUpper(typ)] = gr
	}
	return out
}

// unsupportedProps reports the listed properties of a resource when set.
func (t *templateImport) unsupportedProps(id string, p map[string]any, keys ...string) {
	for _, k := range keys {
		if _, ok := p[k]; ok {
			t.rep.add("", "", id+"."+k, "this property is not carried over")
		}
	}
}

func stringMap(v any) map[string]string {
	m := asMap(v)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		out[k] = str(e)
	}
	return out
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}
