package gatewayresp

import (
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

func mustCompile(t *testing.T, specs map[string]Spec) *Responses {
	t.Helper()
	rs, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestResolveFallsBackToTheDefaultsAsAWSDoes(t *testing.T) {
	rs := mustCompile(t, map[string]Spec{
		"DEFAULT_4XX":                  {StatusCode: 400, ResponseTemplates: map[string]string{"application/json": `{"d4":1}`}},
		"DEFAULT_5XX":                  {ResponseParameters: map[string]string{"gatewayresponse.header.x-d5": "'1'"}},
		"THROTTLED":                    {ResponseTemplates: map[string]string{"application/json": `{"t":1}`}},
		"MISSING_AUTHENTICATION_TOKEN": {StatusCode: 404},
	})
	tests := []struct {
		name       string
		typ        Type
		status     int
		wantStatus int
		wantOwn    Type // which customisation applies ("" none)
	}{
		{"an own response with its own status", MissingAuthenticationToken, 403, 404, MissingAuthenticationToken},
		{"an own response without a status takes DEFAULT_4XX's", Throttled, 429, 400, Throttled},
		{"an unconfigured 4XX type falls back to DEFAULT_4XX", Unauthorized, 401, 400, Default4XX},
		{"an unconfigured 5XX type falls back to DEFAULT_5XX and keeps its status", IntegrationTimeout, 504, 504, Default5XX},
		{"DEFAULT_5XX itself", Default5XX, 503, 503, Default5XX},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, r := rs.Resolve(tc.typ, tc.status)
			if status != tc.wantStatus || r != rs.byType[tc.wantOwn] {
				t.Fatalf("got %d %p, want %d and %s's (%p)", status, r, tc.wantStatus, tc.wantOwn, rs.byType[tc.wantOwn])
			}
		})
	}
	var none *Responses
	if status, r := none.Resolve(Throttled, 429); status != 429 || r != nil {
		t.Fatalf("an Api without gateway responses changes nothing: %d %v", status, r)
	}
}

func TestCompileRefusesWhatTheGatewayCannotServe(t *testing.T) {
	tests := []struct {
		name string
		spec map[string]Spec
		want string
	}{
		{"an unknown type", map[string]Spec{"NOT_A_TYPE": {}}, `"NOT_A_TYPE" is not an AWS gateway response type`},
		{"an informational status", map[string]Spec{"THROTTLED": {StatusCode: 101}}, "statusCode: 101"},
		{"a key that is not a header", map[string]Spec{"THROTTLED": {ResponseParameters: map[string]string{"method.response.header.x": "'a'"}}}, "must be gatewayresponse.header.NAME"},
		{"a framing header", map[string]Spec{"THROTTLED": {ResponseParameters: map[string]string{"gatewayresponse.header.transfer-encoding": "'x'"}}}, "set by the gateway"},
		{"the request id", map[string]Spec{"THROTTLED": {ResponseParameters: map[string]string{"gatewayresponse.header.X-Request-Id": "'x'"}}}, "set by the gateway"},
		{"an unknown $context variable", map[string]Spec{"THROTTLED": {ResponseParameters: map[string]string{"gatewayresponse.header.x": "context.nope"}}}, "$context.nope is not a known variable"},
		{"an unknown source", map[string]Spec{"THROTTLED": {ResponseParameters: map[string]string{"gatewayresponse.header.x": "integration.response.header.y"}}}, "is not a static 'value'"},
		{"a static value with a line break", map[string]Spec{"THROTTLED": {ResponseParameters: map[string]string{"gatewayresponse.header.x": "'a\nb'"}}}, "line break"},
		{"VTL directives", map[string]Spec{"THROTTLED": {ResponseTemplates: map[string]string{"application/json": `#if($x)a#end`}}}, "Velocity"},
		{"$input", map[string]Spec{"THROTTLED": {ResponseTemplates: map[string]string{"application/json": `$input.path('$')`}}}, "Velocity"},
		{"an unknown template variable", map[string]Spec{"THROTTLED": {ResponseTemplates: map[string]string{"application/json": `{"a":"$context.nope"}`}}}, "$context.nope is not a known variable"},
		{"a key that is not a content type", map[string]Spec{"THROTTLED": {ResponseTemplates: map[string]string{"json": `{}`}}}, "must be a content type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestHeadersTakeEveryAWSValueForm(t *testing.T) {
	rs := mustCompile(t, map[string]Spec{"DEFAULT_4XX": {ResponseParameters: map[string]string{
		"gatewayresponse.header.x-static":  "'shop'",
		"gatewayresponse.header.x-context": "context.requestId",
		"gatewayresponse.header.x-dollar":  "$context.error.responseType",
		"gatewayresponse.header.x-stage":   "stageVariables.color",
		"gatewayresponse.header.x-origin":  "method.request.header.origin",
		"gatewayresponse.header.x-all":     "method.request.multivalueheader.x-multi",
		"gatewayresponse.header.x-q":       "method.request.querystring.q",
		"gatewayresponse.header.x-qs":      "method.request.multivaluequerystring.q",
		"gatewayresponse.header.x-path":    "method.request.path.id",
		"gatewayresponse.header.x-empty":   "method.request.header.absent",
	}}})
	_, r := rs.Resolve(Unauthorized, 401)
	src := &Source{
		Context:        &reqctx.Context{RequestID: "rid", ErrorResponseType: "UNAUTHORIZED"},
		Header:         map[string][]string{"Origin": {"https://app.example"}, "X-Multi": {"a", "b"}},
		RawQuery:       "q=1&q=2",
		Path:           urlpath.Params{Names: []string{"id"}, Values: []string{"7"}},
		StageVariables: map[string]string{"color": "blue"},
	}
	got := map[string]string{}
	r.EachHeader(src, func(k, v string) { got[k] = v })
	want := map[string]string{
		"X-Static": "shop", "X-Context": "rid", "X-Dollar": "UNAUTHORIZED", "X-Stage": "blue", "X-Origin": "https://app.example",
		"X-All": "a,b", "X-Q": "2", "X-Qs": "1,2", "X-Path": "7",
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestTemplatesRenderContextAndStageVariablesEscaped(t *testing.T) {
	rs := mustCompile(t, map[string]Spec{"DEFAULT_4XX": {ResponseTemplates: map[string]string{
		"application/json": `{"message":$context.error.messageString,"type":"$context.error.responseType","id":"$context.requestId","c":"$stageVariables.color","none":"$context.authorizer.error","n":$context.status}`,
		"text/plain":       `oops: $context.error.message`,
	}}})
	_, r := rs.Resolve(Throttled, 429)
	src := &Source{
		Context:        &reqctx.Context{RequestID: "r1", ErrorMessage: `Too "Many"`, ErrorResponseType: "THROTTLED"},
		StageVariables: map[string]string{"color": "bl\"ue"},
	}
	tpl := r.Template("")
	if tpl.ContentType() != "application/json" {
		t.Fatalf("default template %s", tpl.ContentType())
	}
	got := string(tpl.Render(nil, src))
	want := `{"message":"Too \"Many\"","type":"THROTTLED","id":"r1","c":"bl\"ue","none":"","n":0}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if tpl := r.Template("text/html, text/plain;q=0.9"); tpl.ContentType() != "text/plain" || string(tpl.Render(nil, src)) != `oops: Too \"Many\"` {
		t.Fatalf("Accept picks text/plain: %s %s", tpl.ContentType(), tpl.Render(nil, src))
	}
	only := mustCompile(t, map[string]Spec{"THROTTLED": {ResponseTemplates: map[string]string{"text/xml": `<e/>`}}})
	if _, r := only.Resolve(Throttled, 429); r.Template("application/json").ContentType() != "text/xml" {
		t.Fatal("without application/json the first template is used")
	}
	if _, r := mustCompile(t, map[string]Spec{"THROTTLED": {StatusCode: 503}}).Resolve(Throttled, 429); r.Template("") != nil {
		t.Fatal("a response without templates keeps the built-in body")
	}
}

func TestAmznErrorTypes(t *testing.T) {
	for _, tc := range []struct {
		typ    Type
		status int
		want   string
	}{
		{MissingAuthenticationToken, 403, "MissingAuthenticationTokenException"},
		{Unauthorized, 401, "UnauthorizedException"},
		{AccessDenied, 403, "AccessDeniedException"},
		{InvalidAPIKey, 403, "ForbiddenException"},
		{Throttled, 429, "TooManyRequestsException"},
		{QuotaExceeded, 429, "LimitExceededException"},
		{BadRequestBody, 400, "BadRequestException"},
		{Default4XX, 400, "BadRequestException"},
		{Default4XX, 404, "NotFoundException"},
		{Default5XX, 503, "ServiceUnavailableException"},
		{Default5XX, 500, "InternalServerErrorException"},
	} {
		if got := tc.typ.AmznErrorType(tc.status); got != tc.want {
			t.Errorf("%s %d: %s, want %s", tc.typ, tc.status, got, tc.want)
		}
	}
}
