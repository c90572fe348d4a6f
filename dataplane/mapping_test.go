package dataplane

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// echoed is what the echo backend saw.
type echoed struct {
	URI    string              `json:"uri"`
	Header map[string][]string `json:"header"`
	Body   string              `json:"body"`
}

// echoBackend answers every request with what it got, as JSON; a request
// header X-Echo-Status chooses the status and X-Echo-Header: k=v adds a
// response header.
func echoBackend(t *testing.T, name string) (*httptest.Server, table.Endpoint) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if k, v, ok := strings.Cut(r.Header.Get("X-Echo-Header"), "="); ok {
			w.Header().Set(k, v)
		}
		w.Header().Set("X-Backend", name)
		status, _ := strconv.Atoi(r.Header.Get("X-Echo-Status"))
		w.WriteHeader(max(status, 200))
		_ = json.NewEncoder(w).Encode(echoed{URI: r.RequestURI, Header: r.Header, Body: string(b)})
	}))
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return srv, table.Endpoint{Address: host, Port: int32(p)}
}

// mappedServer serves route (stage "prod", variables v=stage-value) through
// the built-in proxy, with Service shop/pets at ep, in front of a real
// listener.
func mappedServer(t *testing.T, route *table.Route, ep table.Endpoint) *httptest.Server {
	t.Helper()
	st := stage("prod", route)
	st.Variables = map[string]string{"v": "stage-value"}
	s := NewServer(Options{})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, st)))
	s.UpdateEndpoints(table.EndpointSets{"shop/pets:": {ep}})
	return newFront(t, s)
}

// newFront serves s on a loopback listener until the test ends.
func newFront(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	front := httptest.NewServer(s)
	t.Cleanup(front.Close)
	return front
}

func mustRequestMapping(t *testing.T, params map[string]string) *mapping.Request {
	t.Helper()
	m, err := mapping.CompileRequest(params)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// send sends method target to front with headers and body; it returns the
// response and what the echo backend saw (zero when the gateway answered).
func send(t *testing.T, front *httptest.Server, method, target string, header map[string][]string, body string) (*http.Response, echoed) {
	t.Helper()
	req, err := http.NewRequest(method, front.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = testHost
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var e echoed
	if res.Header.Get("X-Backend") != "" {
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("backend body %q: %v", raw, err)
		}
	}
	return res, e
}

func TestRequestMappingsReachTheBackendThroughTheRealChain(t *testing.T) {
	_, ep := echoBackend(t, "pets")
	type want struct {
		header map[string][]string // nil value: absent
		query  url.Values          // exact query the backend got, when set
		path   string              // path the backend got, when set
		body   string
	}
	cases := []struct {
		name   string
		params map[string]string
		header map[string][]string
		target string
		body   string
		want   want
	}{
		{"append a header from request headers (several values joined)", map[string]string{"append:header.x-out": "$request.header.x-in"},
			map[string][]string{"X-In": {"a", "b"}, "X-Out": {"client"}}, "/prod/pets/7", "",
			want{header: map[string][]string{"X-Out": {"client", "a,b"}}}},
		{"overwrite a header from the query string", map[string]string{"overwrite:header.x-q": "$request.querystring.q"},
			map[string][]string{"X-Q": {"spoofed"}}, "/prod/pets/7?q=1&q=2", "",
			want{header: map[string][]string{"X-Q": {"1,2"}}}},
		{"remove a header", map[string]string{"remove:header.x-secret": ""},
			map[string][]string{"X-Secret": {"s"}}, "/prod/pets/7", "",
			want{header: map[string][]string{"X-Secret": nil}}},
		{"append a query parameter from a path parameter", map[string]string{"append:querystring.pet": "$request.path.petId"},
			nil, "/prod/pets/7?a=1", "",
			want{query: url.Values{"a": {"1"}, "pet": {"7"}}}},
		{"overwrite a query parameter with static text", map[string]string{"overwrite:querystring.mode": "fast lane"},
			nil, "/prod/pets/7?mode=slow&mode=slower&b=2", "",
			want{query: url.Values{"b": {"2"}, "mode": {"fast lane"}}}},
		{"remove a query parameter", map[string]string{"remove:querystring.token": ""},
			nil, "/prod/pets/7?token=x&c=3", "",
			want{query: url.Values{"c": {"3"}}}},
		{"overwrite the path from the request path", map[string]string{"overwrite:path": "/v2$request.path"},
			nil, "/prod/pets/7?k=v", "",
			want{path: "/v2/pets/7", query: url.Values{"k": {"v"}}}},
		{"a stage variable and context variables mixed with text", map[string]string{
			"overwrite:header.x-ctx": "${stageVariables.v}|$context.stage|${context.routeKey}|$context.httpMethod|$context.domainName|$context.identity.sourceIp"},
			nil, "/prod/pets/7", "",
			want{header: map[string][]string{"X-Ctx": {"stage-value|prod|POST /pets/{petId}|POST|" + testHost + "|127.0.0.1"}}}},
		{"a JSONPath into the body, which is replayed intact", map[string]string{
			"append:header.x-owner": "$request.body.owner.name", "append:querystring.first": "${request.body.tags[0]}"},
			nil, "/prod/pets/7", `{"owner":{"name":"ann"},"tags":["cat","old"]}`,
			want{header: map[string][]string{"X-Owner": {"ann"}}, query: url.Values{"first": {"cat"}}, body: `{"owner":{"name":"ann"},"tags":["cat","old"]}`}},
		{"a malformed JSON body maps to nothing and the request goes on", map[string]string{
			"append:header.x-owner": "$request.body.owner.name", "overwrite:header.x-all": "[$request.body.owner]"},
			nil, "/prod/pets/7", `{"owner":`,
			want{header: map[string][]string{"X-Owner": nil, "X-All": {"[]"}}, body: `{"owner":`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := serviceRoute("POST /pets/{petId}")
			r.RequestMapping = mustRequestMapping(t, c.params)
			front := mappedServer(t, r, ep)
			res, got := send(t, front, "POST", c.target, c.header, c.body)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			for k, v := range c.want.header {
				if g := got.Header[k]; strings.Join(g, "\x00") != strings.Join(v, "\x00") || (v == nil) != (g == nil) {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			path, rawQuery, _ := strings.Cut(got.URI, "?")
			if c.want.query != nil {
				q, _ := url.ParseQuery(rawQuery)
				if q.Encode() != c.want.query.Encode() {
					t.Errorf("query = %q, want %q", rawQuery, c.want.query.Encode())
				}
			}
			if c.want.path != "" && path != c.want.path {
				t.Errorf("path = %q, want %q", path, c.want.path)
			}
			if got.Body != c.want.body {
				t.Errorf("body = %q, want %q", got.Body, c.want.body)
			}
		})
	}
}

func TestAuthorizerContextReachesTheBackendThroughMapping(t *testing.T) {
	_, ep := echoBackend(t, "pets")
	authz, _ := authzServer(t)
	r := authRoute(serviceRoute("POST /pets/{petId}"), requestAuthz(authz.URL, true))
	r.RequestMapping = mustRequestMapping(t, map[string]string{"overwrite:header.x-user": "$context.authorizer.user"})
	front := mappedServer(t, r, ep)
	res, got := send(t, front, "POST", "/prod/pets/1", map[string][]string{"Authorization": {"allow"}, "X-User": {"forged"}}, "")
	if res.StatusCode != 200 || strings.Join(got.Header["X-User"], ",") != "u1" {
		t.Fatalf("status %d, X-User %q; want 200 and the authorizer's u1", res.StatusCode, got.Header["X-User"])
	}
}

func TestContextValuesCoverAuthorizerClaimsPrincipalAndClientCertificate(t *testing.T) {
	x := &exchange{id: "rid", route: &table.Route{Key: "GET /x"}, host: "h", r: httptest.NewRequest("GET", "/x", nil)}
	x.api, x.stage = &table.Api{Name: "pets"}, &table.Stage{Name: "prod"}
	x.authz = &auth.Result{PrincipalID: "p-1", Claims: map[string]any{"sub": "alice", "groups": []any{"a", "b"}}}
	x.clientCert.SubjectDN, x.clientCert.SerialNumber = "CN=client", "42"
	cases := map[string]string{
		"authorizer.principalId": "p-1", "authorizer.claims.sub": "alice", "authorizer.claims.groups": `["a","b"]`,
		"authorizer.claims.none": "", "identity.clientCert.subjectDN": "CN=client", "identity.clientCert.serialNumber": "42",
		"requestId": "rid", "apiId": "pets", "stage": "prod", "routeKey": "GET /x", "domainName": "h", "httpMethod": "GET",
	}
	for name, want := range cases {
		if got, _ := x.context().Value(name); got != want {
			t.Errorf("$context.%s = %q, want %q", name, got, want)
		}
	}
	x.authz = nil
	if got, _ := x.context().Value("authorizer.principalId"); got != "" {
		t.Errorf("without an authorizer: %q", got)
	}
}

func TestMappedRequestsThatCannotBeSentAreRefused(t *testing.T) {
	_, ep := echoBackend(t, "pets")
	r := serviceRoute("POST /pets/{petId}")
	r.RequestMapping = mustRequestMapping(t, map[string]string{"overwrite:path": "$request.header.x-path", "append:header.x-b": "$request.body.a"})
	front := mappedServer(t, r, ep)
	// A decoded value's "/" is escaped (review finding 2), so the value
	// itself must be the dot segment.
	if res, _ := send(t, front, "POST", "/prod/pets/1", map[string][]string{"X-Path": {".."}}, ""); res.StatusCode != 400 {
		t.Errorf("a mapped path with a dot segment: status %d, want 400", res.StatusCode)
	}
	// testApi's body limit is 1024 bytes; a chunked body passes the
	// Content-Length check and is refused while the mapping reads it.
	req, _ := http.NewRequest("POST", front.URL+"/prod/pets/1", io.MultiReader(strings.NewReader(strings.Repeat("x", 2000))))
	req.Host = testHost
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("a body over the limit read for mapping: status %d, want 413", res.StatusCode)
	}
}

func TestHTTPProxyOverwritePathReplacesTheURIPath(t *testing.T) {
	srv, _ := echoBackend(t, "legacy")
	r := &table.Route{Key: "GET /legacy/{id}", Object: "shop/legacy", Integration: table.Integration{
		Type: table.IntegrationHTTPProxy, TimeoutMillis: 1000, URI: srv.URL + "/v1/items/{id}?fixed=1"}}
	r.RequestMapping = mustRequestMapping(t, map[string]string{"overwrite:path": "/v9/things/${request.path.id}"})
	front := mappedServer(t, r, table.Endpoint{})
	res, got := send(t, front, "GET", "/prod/legacy/a%20b?x=2", nil, "")
	if res.StatusCode != 200 || got.URI != "/v9/things/a%20b?fixed=1&x=2" {
		t.Fatalf("status %d, backend got %q", res.StatusCode, got.URI)
	}
}

func TestResponseMappingsChangeOnlyTheirStatusCode(t *testing.T) {
	_, ep := echoBackend(t, "pets")
	resp, err := mapping.CompileResponse(map[string]map[string]string{
		"404": {"overwrite:statuscode": "410", "append:header.x-gone-since": "$response.header.x-deleted-at", "remove:header.x-backend-secret": ""},
		"500": {"overwrite:header.x-stage": "$context.stage"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := serviceRoute("GET /pets/{petId}")
	r.ResponseMapping = resp
	front := mappedServer(t, r, ep)

	res, _ := send(t, front, "GET", "/prod/pets/1", map[string][]string{"X-Echo-Status": {"404"}, "X-Echo-Header": {"X-Deleted-At=yesterday"}}, "")
	if res.StatusCode != 410 || res.Header.Get("X-Gone-Since") != "yesterday" {
		t.Errorf("404: got %d, X-Gone-Since %q", res.StatusCode, res.Header.Get("X-Gone-Since"))
	}
	res, _ = send(t, front, "GET", "/prod/pets/1", map[string][]string{"X-Echo-Status": {"500"}, "X-Echo-Header": {"X-Backend-Secret=s"}}, "")
	if res.StatusCode != 500 || res.Header.Get("X-Stage") != "prod" || res.Header.Get("X-Backend-Secret") != "s" {
		t.Errorf("500: got %d, headers %v", res.StatusCode, res.Header)
	}
	res, _ = send(t, front, "GET", "/prod/pets/1", map[string][]string{"X-Echo-Header": {"X-Backend-Secret=s"}}, "")
	if res.StatusCode != 200 || res.Header.Get("X-Gone-Since") != "" || res.Header.Get("X-Backend-Secret") != "s" {
		t.Errorf("200 is not mapped: got %d, headers %v", res.StatusCode, res.Header)
	}
}

func TestResponseMappingsApplyToMockAnswers(t *testing.T) {
	resp, err := mapping.CompileResponse(map[string]map[string]string{"200": {"overwrite:statuscode": "204", "append:header.x-mocked": "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	r := mockRoute("GET /m", 200, "body")
	r.ResponseMapping = resp
	s := newTestServer(t, &fakeForwarder{}, testApi(table.ProtocolHTTP, stage("prod", r)))
	w := do(s, "GET", "/prod/m", nil)
	if w.Code != 204 || w.Header().Get("X-Mocked") != "yes" || w.Body.Len() != 0 {
		t.Fatalf("got %d %q headers %v", w.Code, w.Body.String(), w.Header())
	}
}
