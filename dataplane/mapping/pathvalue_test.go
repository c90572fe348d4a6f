package mapping

import (
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// Review finding 2: decoded values substituted into overwrite:path are
// escaped, so a "%XX" in them is data and never an escape the backend
// decodes a second time; only the template's own text (and the escaped
// request path) keeps its escaping and its "/".
func TestMappedPathEscapesDecodedValuesOnce(t *testing.T) {
	cases := []struct {
		name, tmpl string
		in         Input
		want       string // "" means refused (ErrUnsafePath)
	}{
		{"a path parameter with an escaped slash", "/public/$request.path.name",
			Input{Params: urlpath.Params{Names: []string{"name"}, Values: []string{"..%2F..%2Fadmin"}}}, "/public/..%252F..%252Fadmin"},
		{"a greedy path parameter keeps its own segments", "/v2/$request.path.proxy",
			Input{Params: urlpath.Params{Names: []string{"proxy"}, Values: []string{"a b/c%d"}}}, "/v2/a%20b/c%25d"},
		{"a greedy path parameter with a dot segment", "/v2/$request.path.proxy",
			Input{Params: urlpath.Params{Names: []string{"proxy"}, Values: []string{"a/../admin"}}}, ""},
		{"a header value's slash is data", "/files/$request.header.x-name",
			Input{Header: map[string][]string{"X-Name": {"../../admin"}}}, "/files/..%2F..%2Fadmin"},
		{"a header value with an escape", "/files/$request.header.x-name",
			Input{Header: map[string][]string{"X-Name": {"..%2Fadmin"}}}, "/files/..%252Fadmin"},
		{"a query value that is a dot segment", "/files/$request.querystring.f",
			Input{RawQuery: "f=.."}, ""},
		{"a body value", "/files/$request.body.f",
			Input{Body: []byte(`{"f":"a%2F.."}`)}, "/files/a%252F.."},
		{"the escaped request path and the template keep their escaping", "/v2%20x$request.path",
			Input{Path: "/pets/a%20b"}, "/v2%20x/pets/a%20b"},
		{"a stage variable is the operator's path text", "$stageVariables.base/x",
			Input{StageVariables: map[string]string{"base": "/v3/api"}}, "/v3/api/x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := CompileRequest(map[string]string{"overwrite:path": c.tmpl})
			if err != nil {
				t.Fatal(err)
			}
			var out Outgoing
			err = m.Apply(&c.in, &out)
			if c.want == "" {
				if err == nil {
					t.Fatalf("path %q was not refused", out.Path)
				}
				return
			}
			if err != nil || out.Path != c.want {
				t.Fatalf("path = %q, %v; want %q", out.Path, err, c.want)
			}
		})
	}
}
