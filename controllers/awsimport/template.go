package awsimport

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// Resource types a template import reads.
const (
	typeServerlessAPI     = "AWS::Serverless::Api"
	typeServerlessHTTPAPI = "AWS::Serverless::HttpApi"
	typeServerlessFn      = "AWS::Serverless::Function"
	typeRestAPI           = "AWS::ApiGateway::RestApi"
	typeUsagePlan         = "AWS::ApiGateway::UsagePlan"
	typeV2API             = "AWS::ApiGatewayV2::Api"
	typeV2Route           = "AWS::ApiGatewayV2::Route"
	typeV2Integration     = "AWS::ApiGatewayV2::Integration"
	typeV2Stage           = "AWS::ApiGatewayV2::Stage"
	typeV2Authorizer      = "AWS::ApiGatewayV2::Authorizer"
	typeV2Overrides       = "AWS::ApiGatewayV2::ApiGatewayManagedOverrides"
	typeRestStage         = "AWS::ApiGateway::Stage"
	// SAM's implicit APIs, made from Function events without an API id.
	implicitRestAPI = "ServerlessRestApi"
	implicitHTTPAPI = "ServerlessHttpApi"
)

// templateAPI is one API a template defines: an OpenAPI document (given or
// built from the template's resources) and its stage.
type templateAPI struct {
	id     string
	name   string
	doc    map[string]any
	http   bool
	stage  string
	extras stageExtras
}

// templateImport holds the state of one template import.
type templateImport struct {
	opts      Options
	stageSet  bool
	resources map[string]any
	rep       *Report
	apis      map[string]*templateAPI
	order     []string
}

// importTemplate imports a SAM or CloudFormation template. goformation
// parses it (JSON or YAML with short-form intrinsics such as !Sub and
// !GetAtt) and resolves intrinsics with templateHandlers; each API becomes
// an OpenAPI document, imported like an export.
func importTemplate(data []byte, opts Options, stageSet bool) (*Result, error) {
	processed, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: templateHandlers()})
	if err != nil {
		return nil, fmt.Errorf("not a valid CloudFormation template: %w", err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(processed, &tpl); err != nil {
		return nil, fmt.Errorf("not a valid CloudFormation template: %w", err)
	}
	t := &templateImport{opts: opts, stageSet: stageSet, resources: asMap(tpl["Resources"]), rep: &Report{}, apis: map[string]*templateAPI{}}
	if err := t.collect(); err != nil {
		return nil, err
	}
	if len(t.order) == 0 {
		return nil, fmt.Errorf("the template defines no API (%s, %s, %s, %s, or Function events of type Api or HttpApi)", typeServerlessAPI, typeServerlessHTTPAPI, typeRestAPI, typeV2API)
	}
	if opts.Name != "" && len(t.order) > 1 {
		return nil, fmt.Errorf("--name: the template defines %d APIs (%s); --name names one", len(t.order), strings.Join(t.order, ", "))
	}
	return t.convert()
}

// collect finds the APIs of the template and builds their documents.
func (t *templateImport) collect() error {
	for _, id := range sortedKeys(t.resources) {
		res := asMap(t.resources[id])
		props := asMap(res["Properties"])
		switch str(res["Type"]) {
		case typeServerlessAPI:
			t.samAPI(id, props)
		case typeServerlessHTTPAPI:
			t.samHTTPAPI(id, props)
		case typeRestAPI:
			t.restAPI(id, props)
		case typeV2API:
			t.v2API(id, props)
		}
	}
	for _, id := range sortedKeys(t.resources) {
		res := asMap(t.resources[id])
		switch str(res["Type"]) {
		case typeServerlessFn:
			t.functionEvents(id, res)
		case typeV2Route:
			t.v2Route(id, asMap(res["Properties"]))
		case typeV2Authorizer:
			t.v2Authorizer(id, asMap(res["Properties"]))
		case typeV2Stage:
			t.v2Stage(asMap(res["Properties"]))
		case typeV2Overrides:
			t.v2Overrides(id, asMap(res["Properties"]))
		case typeRestStage:
			t.restStage(id, asMap(res["Properties"]))
		default:
			t.otherResource(id, str(res["Type"]))
		}
	}
	return nil
}

// handledTypes are the resource types the import reads.
var handledTypes = []string{typeServerlessAPI, typeServerlessHTTPAPI, typeServerlessFn, typeRestAPI, typeUsagePlan,
	typeV2API, typeV2Route, typeV2Integration, typeV2Stage, typeV2Authorizer, typeV2Overrides, typeRestStage,
	// Read through the resources above, or nothing to carry over:
	"AWS::ApiGateway::Deployment", "AWS::ApiGatewayV2::Deployment", "AWS::ApiGateway::UsagePlanKey", "AWS::ApiGateway::ApiKey", "AWS::ApiGateway::Account"}

// otherResource reports API Gateway, WAF and client certificate resources
// that the import does not carry over; other resources (functions, roles,
// tables) are not part of an API and are ignored.
func (t *templateImport) otherResource(id, typ string) {
	switch {
	case slices.Contains(handledTypes, typ):
	case strings.HasPrefix(typ, "AWS::WAFv2::") || strings.HasPrefix(typ, "AWS::WAFRegional::"):
		t.rep.add("", "", id+" ("+typ+")", "WAF is not supported; put a WAF in front of the gateway")
	case typ == "AWS::ApiGateway::ClientCertificate":
		t.rep.add("", "", id+" ("+typ+")", "client certificates for backends are not supported")
	case strings.HasPrefix(typ, "AWS::ApiGateway::DomainName") || strings.HasPrefix(typ, "AWS::ApiGatewayV2::DomainName") ||
		typ == "AWS::ApiGateway::BasePathMapping" || typ == "AWS::ApiGatewayV2::ApiMapping":
		t.rep.add("", "", id+" ("+typ+")", "custom domains are not carried over; set Stage.spec.domains (docs/custom-domains.md)")
	case strings.HasPrefix(typ, "AWS::ApiGateway::") || strings.HasPrefix(typ, "AWS::ApiGatewayV2::"):
		t.rep.add("", "", id+" ("+typ+")", "this resource type is not carried over")
	}
}

// api returns the API of logical ID id, creating it.
func (t *templateImport) api(id string, http bool) *templateAPI {
	if a, ok := t.apis[id]; ok {
		return a
	}
	a := &templateAPI{id: id, name: id, http: http, doc: map[string]any{"openapi": "3.0.1", "info": map[string]any{"title": id, "version": "1.0"}, "paths": map[string]any{}}}
	if http {
		a.doc[extImportExport] = "1.0"
		a.stage = v1alpha1.DefaultStageName
	} else {
		a.stage = "Prod"
	}
	t.apis[id] = a
	t.order = append(t.order, id)
	return a
}

// useBody replaces the API's document by an inline definition.
func (t *templateAPI) useBody(body any) {
	if m := asMap(body); m != nil {
		t.doc = m
		if _, ok := m["paths"]; !ok {
			m["paths"] = map[string]any{}
		}
	}
}

// setExt sets a top-level extension unless the document has it.
func (t *templateAPI) setExt(k string, v any) {
	if _, ok := t.doc[k]; !ok && v != nil {
		t.doc[k] = v
	}
}

// addOperation adds an operation to the document unless it has one for
// path and method (an inline definition wins, as SAM merges).
func (t *templateAPI) addOperation(path, method string, op map[string]any) {
	paths := asMap(t.doc["paths"])
	item := asMap(paths[path])
	if item == nil {
		item = map[string]any{}
		paths[path] = item
	}
	key := strings.ToLower(method)
	if strings.EqualFold(method, "ANY") {
		key = extAnyMethod
	}
	existing := asMap(item[key])
	switch {
	case existing == nil:
		item[key] = op
	case existing[extIntegration] == nil:
		// SAM puts an event's integration into the definition's operation.
		existing[extIntegration] = op[extIntegration]
	}
}

// addRouteKey adds an operation for an HTTP API route key ("GET /pets",
// "ANY /x", "$default").
func (t *templateAPI) addRouteKey(key string, op map[string]any) {
	if key == "" || key == v1alpha1.DefaultRouteKey {
		op["isDefaultRoute"] = true
		path := "/$default"
		if _, ok := asMap(t.doc["paths"])["$default"]; ok {
			path = "$default" // SAM's own spelling in a DefinitionBody
		}
		t.addOperation(path, "ANY", op)
		return
	}
	method, path, ok := strings.Cut(key, " ")
	if !ok {
		path, method = key, "ANY"
	}
	t.addOperation(path, method, op)
}

// lambdaOperation is an operation with a Lambda proxy integration.
func lambdaOperation(fnARN, payloadFormat string) map[string]any {
	in := map[string]any{"type": "aws_proxy", "httpMethod": "POST",
		"uri": fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", fakeRegion, fnARN)}
	if payloadFormat != "" {
		in["payloadFormatVersion"] = payloadFormat
	}
	return map[string]any{extIntegration: in, "responses": map[string]any{}}
}

// convert imports every API's document and gathers the usage plans.
func (t *templateImport) convert() (*Result, error) {
	out := &Result{}
	names := map[string]string{}
	for _, id := range t.order {
		a := t.apis[id]
		opts := t.opts
		if opts.Name == "" {
			opts.Name = dnsLabel(a.name)
		}
		if !t.stageSet && a.stage != "" {
			opts.Stage = a.stage
		}
		js, err := json.Marshal(a.doc)
		if err != nil {
			return nil, err
		}
		kind := kindOpenAPI3
		if _, ok := a.doc["swagger"]; ok {
			kind = kindSwagger2
		}
		res, err := importDocument(js, kind, opts, t.rep, &a.extras)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id, err)
		}
		names[id] = opts.Name
		out.Apis = append(out.Apis, res.Apis...)
		out.Stages = append(out.Stages, res.Stages...)
		out.Authorizers = append(out.Authorizers, res.Authorizers...)
		out.Routes = append(out.Routes, res.Routes...)
	}
	out.UsagePlans = t.usagePlans(names, out.Stages)
	out.Report = *t.rep
	return out, nil
}
