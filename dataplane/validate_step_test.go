package dataplane

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/validate"
)

// bodyForwarder answers 200 with the body it received, and counts calls.
type bodyForwarder struct{ calls atomic.Int32 }

func (f *bodyForwarder) Forward(w http.ResponseWriter, r *http.Request, _ *Target) *Failure {
	f.calls.Add(1)
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

func validatedRoute(t *testing.T, key string, required []string, schema string) *table.Route {
	t.Helper()
	r := serviceRoute(key)
	v := &table.Validation{}
	var err error
	if v.Required, err = validate.RequiredParameters(required); err != nil {
		t.Fatal(err)
	}
	if schema != "" {
		if v.Body, err = validate.CompileSchema([]byte(schema)); err != nil {
			t.Fatal(err)
		}
	}
	r.Validation = v
	return r
}

func post(s *Server, target, contentType string, body io.Reader, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "http://"+testHost+target, body)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

const petSchema = `{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"price":{"type":"number","maximum":100,"exclusiveMaximum":true}}}`

func TestValidationAnswersAsAWS(t *testing.T) {
	for _, p := range []table.Protocol{table.ProtocolREST, table.ProtocolHTTP} { // any protocol
		t.Run(string(p), func(t *testing.T) {
			fwd := &bodyForwarder{}
			a := testApi(p, stage("prod", validatedRoute(t, "POST /owners/{ownerId}/pets",
				[]string{"querystring.q", "header.x-request-tag", "path.ownerId"}, petSchema)))
			a.ErrorHints = true
			s := newTestServer(t, fwd, a)
			cases := []struct {
				name, target, contentType, body string
				header                          map[string]string
				status                          int
				want                            string
			}{
				{"a valid request reaches the backend with its body", "/prod/owners/7/pets?q=1", "application/json", `{"name":"rex","price":99}`,
					map[string]string{"x-request-tag": "t"}, 200, `{"name":"rex","price":99}`},
				{"missing parameters are listed in AWS's order", "/prod/owners/7/pets", "application/json", `{"name":"rex"}`, nil, 400,
					`{"message":"Missing required request parameters: [x-request-tag, q]","hint":"the request lacks or leaves blank: x-request-tag, q"}`},
				{"a blank header is missing", "/prod/owners/7/pets?q=1", "", `{"name":"rex"}`, map[string]string{"x-request-tag": " "}, 400,
					`{"message":"Missing required request parameters: [x-request-tag]","hint":"the request lacks or leaves blank: x-request-tag"}`},
				{"parameters are checked before the body", "/prod/owners/7/pets", "application/json", `not json`, nil, 400,
					`{"message":"Missing required request parameters: [x-request-tag, q]","hint":"the request lacks or leaves blank: x-request-tag, q"}`},
				{"a body against the schema", "/prod/owners/7/pets?q=1", "application/json", `{"price":100}`, map[string]string{"x-request-tag": "t"}, 400,
					`{"message":"Invalid request body","hint":"the request body does not match the route's bodySchema: at /: missing property 'name'"}`},
				{"a body that is not JSON", "/prod/owners/7/pets?q=1", "application/json", `{"name":`, map[string]string{"x-request-tag": "t"}, 400,
					`{"message":"Invalid request body","hint":"the request body does not match the route's bodySchema: it is not JSON (jsontext: unexpected EOF within \"/name\" after offset 8)"}`},
				{"no Content-Type is JSON, as AWS assumes", "/prod/owners/7/pets?q=1", "", `{"name":"rex"}`, map[string]string{"x-request-tag": "t"}, 200, `{"name":"rex"}`},
				{"a +json type is JSON", "/prod/owners/7/pets?q=1", "application/merge-patch+json", `{"name":"rex"}`, map[string]string{"x-request-tag": "t"}, 200, `{"name":"rex"}`},
				{"another content type is 415", "/prod/owners/7/pets?q=1", "text/plain", `name=rex`, map[string]string{"x-request-tag": "t"}, 415,
					`{"message":"Unsupported Media Type","hint":"the route validates JSON bodies and the request's Content-Type is text/plain"}`},
				{"an empty body is validated as {}", "/prod/owners/7/pets?q=1", "text/plain", ``, map[string]string{"x-request-tag": "t"}, 400,
					`{"message":"Invalid request body","hint":"the request body does not match the route's bodySchema: at /: missing property 'name'"}`},
			}
			for _, tc := range cases {
				calls := fwd.calls.Load()
				w := post(s, tc.target, tc.contentType, strings.NewReader(tc.body), tc.header)
				if w.Code != tc.status || trimBody(w) != tc.want {
					t.Errorf("%s: got %d %s\nwant %d %s", tc.name, w.Code, trimBody(w), tc.status, tc.want)
				}
				if reached := fwd.calls.Load() > calls; reached != (tc.status == 200) {
					t.Errorf("%s: backend reached %t", tc.name, reached)
				}
			}
		})
	}
}

// The body is read once, bounded by the Api's limit and by nothing else,
// and the backend gets every byte, however the client sent it.
func TestAValidatedBodyIsReadOnceBoundedAndReplayed(t *testing.T) {
	fwd := &bodyForwarder{}
	r := validatedRoute(t, "POST /pets", nil, `{"type":"object"}`)
	r.RequestMapping = mustRequestMapping(t, map[string]string{"append:header.x-name": "$request.body.name"})
	s := newTestServer(t, fwd, testApi(table.ProtocolREST, stage("prod", r)))
	body := `{"name":"rex","pad":"` + strings.Repeat("é", 300) + `"}` // 600+ bytes, non-ASCII
	// A chunked body (no Content-Length) is read through the limit reader.
	w := post(s, "/prod/pets", "application/json", io.MultiReader(strings.NewReader(body)), nil)
	if w.Code != 200 || w.Body.String() != body {
		t.Fatalf("got %d, %d bytes back of %d", w.Code, w.Body.Len(), len(body))
	}
	// Past testApi's 1024-byte limit while validation reads it: 413.
	w = post(s, "/prod/pets", "application/json", io.MultiReader(strings.NewReader(`{"a":"`+strings.Repeat("x", 2000)+`"}`)), nil)
	if w.Code != 413 || trimBody(w) != `{"message":"Request Entity Too Large"}` {
		t.Fatalf("oversized chunked body: %d %s", w.Code, trimBody(w))
	}
	if fwd.calls.Load() != 1 {
		t.Fatalf("backend called %d times", fwd.calls.Load())
	}
}

// Validation runs after the authorizer and the API key: a caller who may not
// call the route learns nothing about what the route validates.
func TestValidationRunsAfterAuthorizationAndTheAPIKey(t *testing.T) {
	srv, _ := authzServer(t)
	authed := authRoute(validatedRoute(t, "POST /authed", []string{"querystring.q"}, petSchema), requestAuthz(srv.URL, true))
	keyed := validatedRoute(t, "POST /keyed", []string{"querystring.q"}, petSchema)
	keyed.ApiKeyRequired = true
	fwd := &bodyForwarder{}
	s := newTestServer(t, fwd, testApi(table.ProtocolREST, stage("prod", authed, keyed)))
	if w := post(s, "/prod/authed", "", strings.NewReader(`{}`), nil); w.Code != 401 {
		t.Fatalf("no identity: %d %s", w.Code, trimBody(w))
	}
	if w := post(s, "/prod/authed", "", strings.NewReader(`{}`), map[string]string{"Authorization": "deny"}); w.Code != 403 {
		t.Fatalf("denied: %d %s", w.Code, trimBody(w))
	}
	if w := post(s, "/prod/authed", "", strings.NewReader(`{}`), map[string]string{"Authorization": "allow"}); w.Code != 400 {
		t.Fatalf("allowed, invalid: %d %s", w.Code, trimBody(w))
	}
	if w := post(s, "/prod/keyed", "", strings.NewReader(`{}`), nil); w.Code != 403 {
		t.Fatalf("no key: %d %s", w.Code, trimBody(w))
	}
	if fwd.calls.Load() != 0 {
		t.Fatal("a refused request reached the backend")
	}
}

// Binary bodies pass byte for byte (REST binaryMediaTypes, any integration
// but FUNCTION); a route that validates JSON refuses them with 415.
func TestBinaryBodiesPassThroughAndAreNotValidatedAsJSON(t *testing.T) {
	fwd := &bodyForwarder{}
	plain := serviceRoute("POST /upload")
	params := validatedRoute(t, "POST /tagged", []string{"header.x-tag"}, "")
	schema := validatedRoute(t, "POST /json", nil, `{"type":"object"}`)
	a := testApi(table.ProtocolREST, stage("prod", plain, params, schema))
	a.BinaryMediaTypes, a.MaxRequestBodyBytes = []string{"image/*"}, 1<<20
	s := newTestServer(t, fwd, a)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\xff\xfe"), bytes.Repeat([]byte{0, 0xc3, 0x28, 0xff}, 4096)...)
	for _, target := range []string{"/prod/upload", "/prod/tagged"} {
		w := post(s, target, "image/png", bytes.NewReader(png), map[string]string{"x-tag": "t"})
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), png) || w.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d, %d bytes back of %d", target, w.Code, w.Body.Len(), len(png))
		}
	}
	if w := post(s, "/prod/json", "image/png", bytes.NewReader(png), nil); w.Code != 415 {
		t.Fatalf("binary against a JSON schema: %d", w.Code)
	}
}
