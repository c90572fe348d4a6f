package validate

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

func mustSchema(t testing.TB, src string) *Schema {
	t.Helper()
	s, err := CompileSchema([]byte(src))
	if err != nil {
		t.Fatalf("CompileSchema(%s): %v", src, err)
	}
	return s
}

// validateBody is what the dataplane does with a body: decode, then check.
func validateBody(s *Schema, body string) error {
	doc, err := DecodeBody([]byte(body))
	if err != nil {
		return err
	}
	return s.Validate(doc)
}

func TestBodyValidationOutcomes(t *testing.T) {
	const draft4 = `{"type":"object","required":["name"],"properties":{
		"name":{"type":"string","minLength":1},
		"price":{"type":"number","maximum":100,"exclusiveMaximum":true},
		"tags":{"type":"array","items":{"$ref":"#/definitions/tag"}}},
		"definitions":{"tag":{"type":"string","enum":["a","b"]}}}`
	const draft2020 = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
		"properties":{"price":{"type":"number","exclusiveMaximum":100},"id":{"$ref":"#/$defs/id"}},
		"$defs":{"id":{"type":"integer"}}}`
	tests := []struct {
		name, schema, body string
		wantErr            string // "" passes; else a substring of the first violation
	}{
		{"a valid draft-4 body passes", draft4, `{"name":"rex","price":99.5,"tags":["a"]}`, ""},
		{"a missing required property fails", draft4, `{"price":1}`, `at /: missing property 'name'`},
		{"draft 4: exclusiveMaximum true excludes the maximum", draft4, `{"name":"rex","price":100}`, "at /price"},
		{"draft 4: below the maximum passes", draft4, `{"name":"rex","price":99.999}`, ""},
		{"a $ref inside the schema is followed", draft4, `{"name":"rex","tags":["c"]}`, "at /tags/0"},
		{"2020-12: exclusiveMaximum is a number", draft2020, `{"price":100}`, "at /price"},
		{"2020-12: below it passes", draft2020, `{"price":99}`, ""},
		{"2020-12: $defs are followed", draft2020, `{"id":"x"}`, "at /id"},
		{"an empty body is validated as {}", draft4, ``, "missing property 'name'"},
		{"an empty body passes a schema without required properties", draft2020, `  `, ""},
		{"numbers stay exact", `{"type":"integer","maximum":9007199254740993}`, `9007199254740994`, "at /"},
		{"a body that is not JSON fails", draft4, `{"name":`, "unexpected EOF"},
		{"trailing data after the JSON fails", draft4, `{"name":"a"} {}`, "after top-level value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := validateBody(mustSchema(t, tc.schema), tc.body)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want a pass, got %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("want an error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestSchemasThatDoNotCompileAreRefused(t *testing.T) {
	var fetched atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetched.Add(1)
		_, _ = w.Write([]byte(`{"type":"string"}`))
	}))
	defer srv.Close()
	tests := []struct{ name, schema, want string }{
		{"not JSON", `{"type":`, "bodySchema is not JSON"},
		{"a keyword of the wrong type", `{"type":12}`, "it is not a valid JSON Schema: at /type"},
		{"draft 4 takes a boolean exclusiveMaximum only", `{"maximum":3,"exclusiveMaximum":3}`, "at /exclusiveMaximum"},
		{"a remote $ref is refused", `{"$ref":"` + srv.URL + `/pet.json"}`, "a remote $ref is refused, never fetched"},
		{"a remote $ref inside a property too", `{"properties":{"a":{"$ref":"` + srv.URL + `/a.json#/x"}}}`, "never fetched"},
		{"a file $ref is refused", `{"$ref":"file:///etc/passwd"}`, "never fetched"},
		{"a local $ref to nothing", `{"$ref":"#/definitions/none"}`, "definitions/none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileSchema([]byte(tc.schema))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("the message is not one line: %q", err)
			}
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Fatalf("the schema server was asked %d times; nothing may be fetched", n)
	}
}

func TestTheSchemaMarshalsAsItsSource(t *testing.T) {
	s := mustSchema(t, "{ \"type\" : \"object\" }")
	b, err := s.MarshalJSON()
	if err != nil || string(b) != `{"type":"object"}` {
		t.Fatalf("%s %v", b, err)
	}
}

func TestRequiredParametersAreInAWSOrderWithoutDuplicates(t *testing.T) {
	got, err := RequiredParameters([]string{"querystring.q", "path.id", "header.x-b", "querystring.a", "header.x-a", "querystring.q"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, p.String())
	}
	want := []string{"header.x-a", "header.x-b", "path.id", "querystring.a", "querystring.q"}
	if !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
	if _, err := RequiredParameters([]string{"body.x"}); err == nil {
		t.Fatal("body.x is not a parameter")
	}
}

func TestMissingParameters(t *testing.T) {
	required, err := RequiredParameters([]string{"querystring.q", "header.x-request-id", "path.petId", "querystring.page"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header http.Header
		query  string
		path   string
		want   []string
	}{
		{"everything present", http.Header{"X-Request-Id": {"r1"}}, "q=dog&page=2", "7", nil},
		{"everything missing, in AWS's order", nil, "", "", []string{"x-request-id", "petId", "page", "q"}},
		{"blank values count as missing", http.Header{"X-Request-Id": {"  "}}, "q=&page=%20", "7", []string{"x-request-id", "page", "q"}},
		{"a header matches in any case", http.Header{"X-Request-Id": {"r1"}}, "q=1&page=1", "7", nil},
		{"a repeated parameter is judged by its last value", http.Header{"X-Request-Id": {"r1", ""}}, "q=dog&q=&page=1&page=2", "7", []string{"x-request-id", "q"}},
		{"a blank first value is fine when the last is set", http.Header{"X-Request-Id": {"", "r1"}}, "q=&q=dog&page=1", "7", nil},
		{"query names are case-sensitive", http.Header{"X-Request-Id": {"r1"}}, "Q=dog&page=1", "7", []string{"q"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			r := &Request{Header: tc.header, Query: q, Path: urlpath.Params{Names: []string{"petId"}, Values: []string{tc.path}}}
			if got := MissingParameters(required, r); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if m := MissingMessage([]string{"x-request-id", "q"}); m != "Missing required request parameters: [x-request-id, q]" {
		t.Fatalf("message %q", m)
	}
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"": true, "application/json": true, "Application/JSON; charset=utf-8": true,
		"application/problem+json": true, "text/plain": false, "application/x-www-form-urlencoded": false,
		"image/png": false, "application/jsonx": false,
	} {
		if got := IsJSON(ct); got != want {
			t.Errorf("IsJSON(%q) = %t, want %t", ct, got, want)
		}
	}
}

var _ table.BodySchema = (*Schema)(nil)

// The decoder is strict where a lenient one would let the validator and
// the backend read two different documents.
func TestDecodeBodyIsStrict(t *testing.T) {
	for body, want := range map[string]string{
		`{"role":"user","role":"admin"}`:                        "duplicate",
		"{\"a\":\"\xff\"}":                                      "UTF-8",
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000): "depth",
	} {
		if _, err := DecodeBody([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: want an error about %s, got %v", body, want, err)
		}
	}
	v, err := DecodeBody([]byte(` {"n":[1.50,-2e3,true,false,null,"s"]} `))
	if err != nil || fmt.Sprint(v) != "map[n:[1.50 -2e3 true false <nil> s]]" {
		t.Fatalf("%v %v", v, err)
	}
}
