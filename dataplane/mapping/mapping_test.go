package mapping

import (
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

func TestCompileRejectsWhatItCannotServeAndNamesTheKey(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"an unknown operation", map[string]string{"replace:header.x": "v"}, `requestParameters["replace:header.x"]: the key must start with "append:", "overwrite:" or "remove:"`},
		{"an unknown target", map[string]string{"append:cookie.x": "v"}, `expected header.NAME, querystring.NAME or path`},
		{"appending to the path", map[string]string{"append:path": "/x"}, `path can only be overwritten`},
		{"a reserved header", map[string]string{"overwrite:header.Host": "x"}, `header "Host" is reserved and cannot be mapped`},
		{"a reserved header prefix", map[string]string{"append:header.X-Forwarded-For": "x"}, `header "X-Forwarded-For" is reserved`},
		{"a header name that is no token", map[string]string{"append:header.a b": "x"}, `expected header.NAME`},
		{"an unclosed brace", map[string]string{"append:header.x": "${request.path"}, `"${" is not closed by "}"`},
		{"an unknown request source", map[string]string{"append:header.x": "$request.cookie.a"}, `$request.cookie.a: expected $request.header.NAME`},
		{"an unknown context variable", map[string]string{"append:header.x": "$context.nope"}, `unknown context variable "nope"`},
		{"an unknown root in braces", map[string]string{"append:header.x": "${env.HOME}"}, `$env.HOME: unknown variable`},
		{"a response variable in a request", map[string]string{"append:header.x": "$response.header.a"}, `$response is only available in responseParameters`},
		{"recursive descent", map[string]string{"append:header.x": "$request.body..a"}, `recursive descent (..) is not supported`},
		{"a filter", map[string]string{"append:header.x": "${request.body.a[?(@.b)]}"}, `neither an index`},
		{"a wildcard", map[string]string{"append:header.x": "${request.body.a.*}"}, `wildcards and filters are not supported`},
		{"a bad stage variable name", map[string]string{"append:header.x": "${stageVariables.a-b}"}, `stage variable names are 1 to 64`},
		{"a bare $request", map[string]string{"append:header.x": "$request"}, `$request: expected $request.header.NAME`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CompileRequest(c.params)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestCompileResponseRejectsBadCodesKeysAndSources(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]map[string]string
		want   string
	}{
		{"a key that is no status code", map[string]map[string]string{"4xx": {"overwrite:statuscode": "200"}}, `keys are status codes from 100 to 599`},
		{"a static status out of range", map[string]map[string]string{"404": {"overwrite:statuscode": "700"}}, `status code "700" is not an integer from 200 to 599`},
		{"a query string in a response", map[string]map[string]string{"200": {"append:querystring.a": "b"}}, `expected header.NAME or statuscode`},
		{"a request variable in a response", map[string]map[string]string{"200": {"append:header.a": "$request.header.b"}}, `not $request`},
		{"the response body", map[string]map[string]string{"200": {"append:header.a": "$response.body.id"}}, `$response.body is not supported`},
		{"a reserved response header", map[string]map[string]string{"200": {"remove:header.content-length": ""}}, `is reserved`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CompileResponse(c.params)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// authorizerValues is an authorizer answer: the names after
// "$context.authorizer." and their values.
type authorizerValues map[string]string

func (a authorizerValues) Value(name string) (string, bool) { v, ok := a[name]; return v, ok }

func TestValuesMixTextAndVariablesWithAndWithoutBraces(t *testing.T) {
	in := &Input{
		Header:         map[string][]string{"X-A": {"1", "2"}},
		RawQuery:       "q=a&q=b&r=%20x",
		Path:           "/pets/7",
		Params:         urlpath.Params{Names: []string{"id"}, Values: []string{"7"}},
		Body:           []byte(`{"a":{"b":[10,{"c":"deep"}],"n":1.50,"t":true,"z":null},"k y":"sp"}`),
		StageVariables: map[string]string{"v": "stagevalue"},
		Context:        &reqctx.Context{RequestID: "rid", Authorizer: authorizerValues{"claims.sub": "alice"}},
	}
	// Pairs, not a map: a map literal's column alignment differs between
	// gofmt versions for keys this uneven.
	cases := [][2]string{
		{"static $5 text", "static $5 text"},
		{"/v2$request.path", "/v2/pets/7"},
		{"${request.path}/x", "/pets/7/x"},
		{"$request.path.id", "7"},
		{"id-${request.path.id}-end", "id-7-end"},
		{"$request.header.x-a", "1,2"},
		{"$request.querystring.q;${request.querystring.r}", "a,b; x"},
		{"$request.body.a.b[1].c", "deep"},
		{"${request.body.a.b[0]}", "10"},
		{"$request.body.a.n", "1.50"},
		{"$request.body.a.t", "true"},
		{"$request.body.a.z", ""},
		{"$request.body.a.b", `[10,{"c":"deep"}]`},
		{"${request.body['k y']}", "sp"},
		{"$request.body.missing", ""},
		{"$request.body.a.b[9]", ""},
		{"$context.requestId/$context.authorizer.claims.sub", "rid/alice"},
		{"$stageVariables.v.", "stagevalue."},
		{"$context.identity.clientCert.subjectDN", ""},
	}
	for _, c := range cases {
		src, want := c[0], c[1]
		v, err := compileValue(src, phaseRequest)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if got := v.eval(in); got != want {
			t.Errorf("%q = %q, want %q", src, got, want)
		}
	}
}

func TestMalformedJSONBodiesYieldEmptyValues(t *testing.T) {
	for _, body := range []string{`{"a":`, `{"a":1} trailing`, ``, `not json`} {
		v, err := compileValue("[$request.body.a]", phaseRequest)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.eval(&Input{Body: []byte(body)}); got != "[]" {
			t.Errorf("body %q: got %q, want []", body, got)
		}
	}
}

func TestRequestApplyRunsRemovesThenOverwritesThenAppends(t *testing.T) {
	m, err := CompileRequest(map[string]string{
		"append:header.x-user":         "$request.header.x-user-in",
		"remove:header.x-user":         "",
		"overwrite:header.x-gone":      "$context.authorizer.claims.none",
		"append:querystring.page":      "2",
		"remove:querystring.secret":    "",
		"overwrite:querystring.mode":   "$request.header.x-mode",
		"overwrite:path":               "/v2${request.path}/a b",
		"overwrite:header.x-multiline": "$request.body.text",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !m.NeedsBody() {
		t.Error("NeedsBody is false with a $request.body value")
	}
	h := map[string][]string{"X-User": {"spoofed"}, "X-User-In": {"bob"}, "X-Gone": {"client"}, "X-Mode": {"fast"}}
	in := &Input{Header: h, RawQuery: "secret=1&keep=%2F&mode=slow&secret=2", Path: "/pets", Body: []byte(`{"text":"a\r\nb"}`), Context: &reqctx.Context{}}
	out := Outgoing{Header: h, RawQuery: in.RawQuery}
	if err := m.Apply(in, &out); err != nil {
		t.Fatal(err)
	}
	if got := h["X-User"]; len(got) != 1 || got[0] != "bob" {
		t.Errorf("X-User = %q, want [bob]", got)
	}
	if _, ok := h["X-Gone"]; ok {
		t.Errorf("an overwrite with an empty value left %q", h["X-Gone"])
	}
	if got := h["X-Multiline"]; len(got) != 1 || got[0] != "a  b" {
		t.Errorf("X-Multiline = %q, want CR LF replaced by spaces", got)
	}
	if out.RawQuery != "keep=%2F&mode=fast&page=2" {
		t.Errorf("query = %q", out.RawQuery)
	}
	if !out.PathSet || out.Path != "/v2/pets/a%20b" {
		t.Errorf("path = %q (set %v)", out.Path, out.PathSet)
	}
}

func TestMappedPathsAreEscapedAndNeverHaveDotSegments(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "/"},
		{"x/y", "/x/y"},
		{"/a%2Fb/100%/é", "/a%2Fb/100%25/%C3%A9"},
		{"/a/../b", ""},
		{"/a/%2e%2E/b", ""},
		{"/a/./b", ""},
	}
	for _, c := range cases {
		got, ok := safePath(c.in)
		if (c.want == "") == ok || got != c.want {
			t.Errorf("safePath(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

func TestResponseApplyMapsOnlyItsStatusCode(t *testing.T) {
	m, err := CompileResponse(map[string]map[string]string{
		"404": {"overwrite:statuscode": "410", "append:header.x-was": "$response.header.x-origin-status", "remove:header.x-internal": ""},
		"500": {"overwrite:statuscode": "$response.header.x-status"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := map[string][]string{"X-Origin-Status": {"404"}, "X-Internal": {"secret"}}
	if got := m.Apply(404, &Input{ResponseHeader: h}, h); got != 410 {
		t.Errorf("status = %d, want 410", got)
	}
	if h["X-Was"][0] != "404" || h["X-Internal"] != nil {
		t.Errorf("headers = %v", h)
	}
	h2 := map[string][]string{"X-Internal": {"kept"}, "X-Status": {"abc"}}
	if got := m.Apply(200, &Input{ResponseHeader: h2}, h2); got != 200 || h2["X-Internal"][0] != "kept" {
		t.Errorf("an unmapped status changed: %d %v", got, h2)
	}
	if got := m.Apply(500, &Input{ResponseHeader: h2}, h2); got != 500 {
		t.Errorf("a mapped status that is no number changed the status to %d", got)
	}
	if !m.Maps(404) || m.Maps(200) {
		t.Error("Maps does not reflect the status codes")
	}
}

func TestNilMappingsChangeNothing(t *testing.T) {
	r, err := CompileRequest(nil)
	if r != nil || err != nil {
		t.Fatalf("CompileRequest(nil) = %v, %v", r, err)
	}
	out := Outgoing{RawQuery: "a=1"}
	if err := r.Apply(&Input{}, &out); err != nil || out.RawQuery != "a=1" || r.NeedsBody() {
		t.Error("a nil Request changed the request")
	}
	var resp *Response
	if resp.Apply(404, &Input{}, nil) != 404 {
		t.Error("a nil Response changed the status")
	}
}

func TestMappingsMarshalAsWritten(t *testing.T) {
	m, err := CompileRequest(map[string]string{"overwrite:path": "/v2$request.path"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalJSON()
	if err != nil || string(b) != `{"overwrite:path":"/v2$request.path"}` {
		t.Errorf("got %s, %v", b, err)
	}
}
