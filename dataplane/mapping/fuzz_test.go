package mapping

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// FuzzRequestParameters compiles arbitrary requestParameters entries and
// applies the ones that compile to a request whose header, query, path and
// body carry CR, LF and NUL: evaluation never panics, a mapped header value
// never carries CR, LF or NUL (no header injection), and a mapped path never
// has a "." or ".." segment.
func FuzzRequestParameters(f *testing.F) {
	for _, kv := range [][2]string{
		{"append:header.x-user", "$context.authorizer.claims.sub"},
		{"overwrite:header.x-a", "pre-${request.header.x-in}-post"},
		{"overwrite:path", "/v2$request.path"},
		{"overwrite:path", "/$request.body.p/../x"},
		{"append:querystring.q", "$request.querystring.q"},
		{"remove:header.x-in", "''"},
		{"overwrite:header.x-b", "$request.body.a.b[0].c"},
		{"overwrite:header.x-c", "${request.body['k y']}"},
		{"overwrite:header.x-d", "$stageVariables.v"},
		{"overwrite:header.host", "evil"},
		{"overwrite:statuscode", "500"},
	} {
		f.Add(kv[0], kv[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		m, err := CompileRequest(map[string]string{key: value})
		if err != nil || m == nil {
			return
		}
		in := &Input{
			Header:         map[string][]string{"X-In": {"a\r\nX-Evil: 1", "b\x00"}},
			RawQuery:       "q=%0d%0aX-Evil:%201&q=..",
			Path:           "/pets/%2e%2e",
			Params:         urlpath.Params{Names: []string{"id"}, Values: []string{"a\nb"}},
			Body:           []byte(`{"a":{"b":[{"c":"x\r\ny"}]},"k y":"\u0000","p":".."}`),
			StageVariables: map[string]string{"v": "s\r\nt"},
		}
		out := &Outgoing{Header: map[string][]string{}}
		if err := m.Apply(in, out); err != nil {
			return
		}
		for k, vs := range out.Header {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n\x00") {
					t.Fatalf("%q=%q: header %q: %q", key, value, k, v)
				}
			}
		}
		if out.PathSet {
			for _, seg := range strings.Split(out.Path, "/") {
				if seg == "." || seg == ".." {
					t.Fatalf("%q=%q: mapped path %q", key, value, out.Path)
				}
			}
		}
	})
}

// FuzzRouteSelection: any WebSocket route selection expression either fails
// to compile or selects, from any message, a route key that is the same on
// every call, and none at all ("", so $default) from a message that is not
// one JSON document; compiling what it prints gives the same selection.
func FuzzRouteSelection(f *testing.F) {
	for _, s := range [][2]string{
		{"$request.body.action", `{"action":"send"}`},
		{"${request.body.service}.${request.body.op[0]}", `{"service":"chat","op":["join"]}`},
		{"$request.body.a.b", `{"a":{"b":[1,2]}}`},
		{"x-$request.body.k", `{"k":null}`},
		{"$request.body.action", `{"action":"a"} {"action":"b"}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, expr string, body []byte) {
		sel, err := CompileSelection(expr)
		if err != nil {
			return
		}
		got := sel.Select(body)
		if again := sel.Select(body); again != got {
			t.Fatalf("%q selects %q, then %q", expr, got, again)
		}
		if got != "" && !json.Valid(body) {
			t.Fatalf("%q selects %q from a message that is not JSON: %q", expr, got, body)
		}
		re, err := CompileSelection(sel.String())
		if err != nil {
			t.Fatalf("%q compiles, but not as printed (%q): %v", expr, sel.String(), err)
		}
		if other := re.Select(body); other != got {
			t.Fatalf("%q selects %q, recompiled %q", expr, got, other)
		}
	})
}
