package awsimport

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func malformed(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "malformed", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each malformed input is refused with an error that says what is wrong.
func TestMalformedInputsAreRefusedWithAClearError(t *testing.T) {
	cases := []struct{ file, want string }{
		{"not-openapi.yaml", `not an OpenAPI document (no "openapi" or "swagger" field)`},
		{"ref-cycle.json", "$ref cycle: #/components/schemas/A -> #/components/schemas/B -> #/components/schemas/A"},
		{"unknown-integration.yaml", `paths./pets.get.x-amazon-apigateway-integration: type "grpc" is not one of aws, aws_proxy, http, http_proxy, mock`},
		{"duplicate-paths.yaml", "duplicate operation: GET /pets/{petId} and GET /pets/{id} are the same route"},
		{"duplicate-keys.yaml", `key "/pets" already set in map`},
		{"rejected-path.yaml", "the greedy variable {proxy+} must be the last segment; AWS rejects"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			res, err := Import(malformed(t, tc.file), Options{})
			if err == nil {
				t.Fatalf("imported without error: %+v", res)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// A remote $ref is refused and never fetched.
func TestRemoteRefIsRefusedAndNeverFetched(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"Pet": {"type": "object"}}`))
	}))
	defer srv.Close()
	doc := strings.ReplaceAll(string(malformed(t, "remote-ref.yaml")), "REMOTE_URL", srv.URL)
	_, err := Import([]byte(doc), Options{})
	if err == nil || !strings.Contains(err.Error(), "points outside the document: remote and file references are refused and never fetched") {
		t.Fatalf("error = %v", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the remote $ref was fetched %d times", hits.Load())
	}
	// A file reference is refused the same way.
	_, err = Import([]byte(strings.ReplaceAll(string(malformed(t, "remote-ref.yaml")), "REMOTE_URL/pet.json", "/etc/passwd")), Options{})
	if err == nil || !strings.Contains(err.Error(), "refused and never fetched") {
		t.Fatalf("file $ref: error = %v", err)
	}
}

// Bad flags get an error naming the flag.
func TestBadOptionsAreRefused(t *testing.T) {
	doc := fixture(t, "http-petstore.json")
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Stage: "prod/x"}, "--stage"},
		{Options{BasePath: "strip"}, "--basepath"},
		{Options{Name: "Pet Store"}, "--name"},
		{Options{Namespace: "Shop"}, "--namespace"},
	} {
		if _, err := Import(doc, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v does not name %s", tc.opts, err, tc.want)
		}
	}
	var m ServiceMap
	for _, bad := range []string{"host", "host=svc", "host=svc:0", "host=Svc:80", "=svc:80"} {
		if err := m.Set(bad); err == nil {
			t.Errorf("--service-map %q accepted", bad)
		}
	}
}

// A model that refers to itself, used or not, is a cycle too.
func TestSelfReferencingModelIsACycle(t *testing.T) {
	_, err := Import([]byte(`
openapi: 3.0.1
info: {title: tree, version: "1"}
paths: {}
components:
  schemas:
    Node: {type: object, properties: {children: {type: array, items: {$ref: "#/components/schemas/Node"}}}}
`), Options{})
	if err == nil || !strings.Contains(err.Error(), "components.schemas.Node: $ref cycle: #/components/schemas/Node -> #/components/schemas/Node") {
		t.Fatalf("error = %v", err)
	}
}

// AWS writes the stage of an OpenAPI 3 export as servers[0]'s {basePath}
// variable, default "/prod"; prepend uses it once, without a doubled slash.
func TestServerBasePathVariable(t *testing.T) {
	res, err := Import([]byte(`
openapi: 3.0.1
info: {title: srv, version: "1"}
servers: [{url: "https://abc.execute-api.us-east-1.amazonaws.com/{basePath}", variables: {basePath: {default: "/prod"}}}]
paths:
  /pets: {get: {responses: {}, x-amazon-apigateway-integration: {type: mock}}}
`), Options{BasePath: BasePathPrepend})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Routes[0].Spec.RouteKey; got != "GET /prod/pets" {
		t.Errorf("route key %q", got)
	}
}

// More paths AWS rejects.
func TestPathsAWSRejects(t *testing.T) {
	for path, want := range map[string]string{
		"pets":           `a path must start with "/"`,
		"/pets//food":    "empty path segment",
		"/pets/../admin": `path segment ".."`,
		"/pets/{id":      "is neither a literal nor a whole {variable}",
		"/a/{id}/b/{id}": "the variable {id} appears twice",
	} {
		doc := `{"openapi": "3.0.1", "info": {"title": "p", "version": "1"}, "paths": {"` + path + `": {"get": {"responses": {}, "x-amazon-apigateway-integration": {"type": "mock"}}}}}`
		if _, err := Import([]byte(doc), Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", path, err, want)
		}
	}
}
