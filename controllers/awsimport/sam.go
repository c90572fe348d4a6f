package awsimport

import (
	"strings"
)

// SAM's Auth of an AWS::Serverless::Api, its Models and the Auth and
// RequestModel of Api events, turned into the OpenAPI that SAM itself
// would generate (security schemes, security requirements, request
// validators), so the document importer does the rest.

// samAuth converts SAM's Auth: ApiKeyRequired, UsagePlan, Lambda (TOKEN or
// REQUEST) and Cognito authorizers, DefaultAuthorizer.
func (t *templateImport) samAuth(id string, a *templateAPI, auth map[string]any) {
	for _, k := range sortedKeys(auth) {
		switch k {
		case "ApiKeyRequired":
			if b, _ := auth[k].(bool); b {
				a.doc["security"] = append(anyList(a.doc["security"]), map[string]any{"api_key": []any{}})
			}
		case "UsagePlan":
			t.samUsagePlan(id, asMap(auth[k]))
		case "Authorizers":
			for _, name := range sortedKeys(asMap(auth[k])) {
				t.samAuthorizer(id, a, name, asMap(asMap(auth[k])[name]))
			}
		case "DefaultAuthorizer":
			if d := str(auth[k]); d == "AWS_IAM" {
				addScheme(a.doc, "AWS_IAM", map[string]any{"type": "apiKey", "name": "Authorization", "in": "header", extAuthType: "awsSigv4"})
				a.doc["security"] = append(anyList(a.doc["security"]), map[string]any{"AWS_IAM": []any{}})
			} else if d != "" && d != "NONE" {
				a.doc["security"] = append(anyList(a.doc["security"]), map[string]any{d: []any{}})
			}
		case "AddDefaultAuthorizerToCorsPreflight":
		default:
			t.rep.add("", "", id+".Auth."+k, "this SAM Auth property is not carried over")
		}
	}
}

// samAuthorizer converts one entry of SAM's Auth.Authorizers.
func (t *templateImport) samAuthorizer(id string, a *templateAPI, name string, m map[string]any) {
	identity := asMap(m["Identity"])
	var sources []string
	if h := str(identity["Header"]); h != "" {
		sources = append(sources, "method.request.header."+h)
	}
	for _, h := range strings1(identity["Headers"]) {
		sources = append(sources, "method.request.header."+h)
	}
	for _, q := range strings1(identity["QueryStrings"]) {
		sources = append(sources, "method.request.querystring."+q)
	}
	for _, c := range strings1(identity["Context"]) {
		sources = append(sources, "context."+c)
	}
	for _, v := range strings1(identity["StageVariables"]) {
		sources = append(sources, "stageVariables."+v)
	}
	az := map[string]any{}
	if n, ok := identity["ReauthorizeEvery"]; ok {
		az["authorizerResultTtlInSeconds"] = n
	}
	if v := str(identity["ValidationExpression"]); v != "" {
		az["identityValidationExpression"] = v
	}
	switch {
	case m["UserPoolArn"] != nil:
		az["type"] = "cognito_user_pools"
		az["providerARNs"] = strings1(m["UserPoolArn"])
		if len(sources) == 0 {
			sources = []string{"method.request.header.Authorization"}
		}
	case m["FunctionArn"] != nil:
		az["type"] = strings.ToLower(str(m["FunctionPayloadType"]))
		if az["type"] == "" {
			az["type"] = "token"
		}
		az["authorizerUri"] = "arn:aws:apigateway:" + fakeRegion + ":lambda:path/2015-03-31/functions/" + str(m["FunctionArn"]) + "/invocations"
		if m["FunctionInvokeRole"] != nil {
			az["authorizerCredentials"] = str(m["FunctionInvokeRole"])
		}
		if az["type"] == "token" && len(sources) == 0 {
			sources = []string{"method.request.header.Authorization"}
		}
	default:
		t.rep.add("", "", id+".Auth.Authorizers."+name, "neither FunctionArn nor UserPoolArn; not carried over")
		return
	}
	az["identitySource"] = strings.Join(sources, ", ")
	addScheme(a.doc, name, map[string]any{"type": "apiKey", "name": "Authorization", "in": "header", extAuthorizer: az})
}

// addScheme adds a security scheme to an OpenAPI 3 or Swagger 2 document.
func addScheme(doc map[string]any, name string, scheme map[string]any) {
	var schemes map[string]any
	if _, swagger := doc["swagger"]; swagger {
		schemes = asMap(doc["securityDefinitions"])
		if schemes == nil {
			schemes = map[string]any{}
			doc["securityDefinitions"] = schemes
		}
	} else {
		comps := asMap(doc["components"])
		if comps == nil {
			comps = map[string]any{}
			doc["components"] = comps
		}
		schemes = asMap(comps["securitySchemes"])
		if schemes == nil {
			schemes = map[string]any{}
			comps["securitySchemes"] = schemes
		}
	}
	if _, ok := schemes[name]; !ok {
		schemes[name] = scheme
	}
}

// samModels adds SAM's Models to the document's schemas.
func samModels(doc map[string]any, models map[string]any) {
	if len(models) == 0 {
		return
	}
	var schemas map[string]any
	if _, swagger := doc["swagger"]; swagger {
		schemas = asMap(doc["definitions"])
		if schemas == nil {
			schemas = map[string]any{}
			doc["definitions"] = schemas
		}
	} else {
		comps := asMap(doc["components"])
		if comps == nil {
			comps = map[string]any{}
			doc["components"] = comps
		}
		schemas = asMap(comps["schemas"])
		if schemas == nil {
			schemas = map[string]any{}
			comps["schemas"] = schemas
		}
	}
	for k, v := range models {
		if _, ok := schemas[k]; !ok {
			schemas[k] = v
		}
	}
}

// samEventOperation applies an Api event's Auth and RequestModel to its
// operation, as SAM does. The Api's Auth defaults (DefaultAuthorizer,
// ApiKeyRequired) are the document's security, which SAM also applies to
// every operation that has no security of its own.
func samEventOperation(a *templateAPI, op, ep map[string]any) {
	if auth := asMap(ep["Auth"]); auth != nil {
		var sec []any
		switch az := str(auth["Authorizer"]); az {
		case "":
			sec = nil
		case "NONE":
			sec = []any{}
		case "AWS_IAM":
			addScheme(a.doc, "AWS_IAM", map[string]any{"type": "apiKey", "name": "Authorization", "in": "header", extAuthType: "awsSigv4"})
			sec = []any{map[string]any{"AWS_IAM": []any{}}}
		default:
			sec = []any{map[string]any{az: anyList(auth["AuthorizationScopes"])}}
		}
		if b, ok := auth["ApiKeyRequired"].(bool); ok {
			if sec == nil {
				sec = anyList(a.doc["security"])
			}
			var kept []any
			for _, r := range sec {
				if _, key := asMap(r)["api_key"]; !key {
					kept = append(kept, r)
				}
			}
			sec = kept
			if b {
				sec = append(sec, map[string]any{"api_key": []any{}})
			}
			if sec == nil {
				sec = []any{}
			}
		}
		if sec != nil {
			op["security"] = sec
		}
	}
	if rm := asMap(ep["RequestModel"]); rm != nil {
		model := str(rm["Model"])
		if _, swagger := a.doc["swagger"]; swagger {
			op["parameters"] = append(anyList(op["parameters"]), map[string]any{"in": "body", "name": model, "required": rm["Required"] == true,
				"schema": map[string]any{"$ref": "#/definitions/" + model}})
		} else {
			op["requestBody"] = map[string]any{"required": rm["Required"] == true,
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + model}}}}
		}
		body, _ := rm["ValidateBody"].(bool)
		params, _ := rm["ValidateParameters"].(bool)
		if body || params {
			name := map[[2]bool]string{{true, true}: "body-and-params", {true, false}: "body-only", {false, true}: "params-only"}[[2]bool{body, params}]
			validators := asMap(a.doc[extRequestValidators])
			if validators == nil {
				validators = map[string]any{}
				a.doc[extRequestValidators] = validators
			}
			validators[name] = map[string]any{"validateRequestBody": body, "validateRequestParameters": params}
			op[extRequestValidator] = name
		}
	}
}
