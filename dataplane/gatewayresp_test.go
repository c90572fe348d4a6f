package dataplane

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
	"github.com/turnpike-io/turnpike/dataplane/validate"
)

// everyType are the response types the gateway produces; each gets a
// template naming itself, so an answer shows which customisation applied.
var everyType = []gatewayresp.Type{
	gatewayresp.Default4XX, gatewayresp.Default5XX, gatewayresp.AccessDenied, gatewayresp.APIConfigurationError,
	gatewayresp.AuthorizerConfigurationError, gatewayresp.AuthorizerFailure, gatewayresp.BadRequestParameters,
	gatewayresp.BadRequestBody, gatewayresp.IntegrationFailure, gatewayresp.IntegrationTimeout, gatewayresp.InvalidAPIKey,
	gatewayresp.MissingAuthenticationToken, gatewayresp.QuotaExceeded, gatewayresp.RequestTooLarge,
	gatewayresp.ResourceNotFound, gatewayresp.Throttled, gatewayresp.Unauthorized, gatewayresp.UnsupportedMediaType,
}

// selfNamingResponses customise every type with a template and a header
// that name the customisation and the request's $context.error.responseType.
func selfNamingResponses(t testing.TB) *gatewayresp.Responses {
	t.Helper()
	specs := map[string]gatewayresp.Spec{}
	for _, typ := range everyType {
		specs[string(typ)] = gatewayresp.Spec{
			ResponseParameters: map[string]string{"gatewayresponse.header.x-gateway-response": "'" + string(typ) + "'"},
			ResponseTemplates: map[string]string{"application/json": `{"template":"` + string(typ) +
				`","type":"$context.error.responseType","message":$context.error.messageString,"status":$context.status}`},
		}
	}
	rs, err := gatewayresp.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// causes is a gateway with a route for every cause of a gateway error.
type causes struct {
	s            *Server
	token        func(claims map[string]any) string
	authz        *httptest.Server
	restHost     string
	httpHost     string
	slowBackend  *httptest.Server
	goodKey      string
	closedTarget table.Endpoint
}

func newCauses(t *testing.T) *causes {
	t.Helper()
	c := &causes{restHost: testHost, httpHost: "http.shop.execute-api.localhost", goodKey: goldKey}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k", Algorithm: "ES256"}}})
	}))
	t.Cleanup(jwks.Close)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	if err != nil {
		t.Fatal(err)
	}
	c.token = func(claims map[string]any) string {
		base := map[string]any{"iss": "https://issuer.example", "aud": "pets", "sub": "u", "exp": time.Now().Add(time.Hour).Unix()}
		for k, v := range claims {
			base[k] = v
		}
		payload, _ := json.Marshal(base)
		obj, _ := signer.Sign(payload)
		s, _ := obj.CompactSerialize()
		return s
	}
	jwt := func(uri string) *table.Authorizer {
		return &table.Authorizer{Object: "shop/jwt", Type: table.AuthorizerJWT,
			JWT: &table.JWTAuthorizer{Issuer: "https://issuer.example", Audiences: []string{"pets"}, JWKSURI: uri, Algorithms: []string{"ES256"}}}
	}
	c.authz, _ = authzServer(t)
	c.slowBackend = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(300 * time.Millisecond)
	}))
	t.Cleanup(c.slowBackend.Close)
	c.closedTarget = closedEndpoint(t)

	throttled := mockRoute("GET /throttled", 200, "ok")
	throttled.Throttle = &table.Throttle{BurstLimit: 1}
	keyed := mockRoute("GET /keyed", 200, "ok")
	keyed.ApiKeyRequired = true
	required, _ := validate.RequiredParameters([]string{"querystring.q"})
	schema, err := validate.CompileSchema([]byte(`{"type":"object","required":["name"]}`))
	if err != nil {
		t.Fatal(err)
	}
	validated := mockRoute("POST /validated", 200, "ok")
	validated.Validation = &table.Validation{Required: required, Body: schema}
	broken := &table.Route{Key: "GET /broken", Object: "shop/broken", Failure: &table.Failure{Status: 500, Message: "Internal Server Error", Hint: "Service \"pets\" not found"}}
	slow := &table.Route{Key: "GET /slow", Object: "shop/slow", Integration: table.Integration{Type: table.IntegrationHTTPProxy, URI: c.slowBackend.URL, TimeoutMillis: 50}}
	refused := &table.Route{Key: "GET /refused", Object: "shop/refused", Integration: table.Integration{
		Type: table.IntegrationHTTPProxy, URI: "http://" + net.JoinHostPort(c.closedTarget.Address, strconv.Itoa(int(c.closedTarget.Port))), TimeoutMillis: 1000}}
	mapped := serviceRoute("GET /mapped")
	mapped.RequestMapping = mustRequestMapping(t, map[string]string{"overwrite:path": "$request.header.x-path"})
	prod := stage("prod", throttled, keyed, validated, broken, slow, refused, mapped,
		authRoute(mockRoute("GET /jwt", 200, "ok"), jwt(jwks.URL)),
		authRoute(mockRoute("GET /jwt-scoped", 200, "ok"), jwt(jwks.URL), "pets:write"),
		authRoute(mockRoute("GET /jwt-down", 200, "ok"), jwt("http://"+net.JoinHostPort(c.closedTarget.Address, strconv.Itoa(int(c.closedTarget.Port))))),
		authRoute(mockRoute("GET /request", 200, "ok"), requestAuthz(c.authz.URL, true)),
		mockRoute("GET /quota", 200, "ok"))
	prod.Routes[len(prod.Routes)-1].ApiKeyRequired = true
	prod.Plans = []*table.StagePlan{{Plan: "shop/gold"}}
	rest := testApi(table.ProtocolREST, prod)
	rest.GatewayResponses = selfNamingResponses(t)
	httpApi := &table.Api{Namespace: "shop", Name: "http", Protocol: table.ProtocolHTTP, Hosts: []string{c.httpHost},
		MaxRequestBodyBytes: 1024, Stages: []*table.Stage{stage("prod", mockRoute("GET /pets", 200, "ok"))},
		GatewayResponses: rest.GatewayResponses}
	plan := &table.Plan{Namespace: "shop", Name: "gold", Quota: &table.Quota{Limit: 1, Period: table.QuotaDay},
		Keys: []table.APIKey{{ID: table.KeyID(hashKey(goldKey)), Object: "shop/gold-key", Hash: hashKey(goldKey)}}}
	tbl, err := table.NewWithPlans([]*table.Api{rest, httpApi}, []*table.Plan{plan})
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2024, 5, 1, 18, 0, 0, 0, time.UTC)}
	c.s = NewServer(Options{AllowHTTPJWKS: true, Limiter: throttle.NewLocal(clk.now)})
	c.s.Swap(tbl)
	c.s.UpdateEndpoints(table.EndpointSets{"shop/pets:": {c.closedTarget}})
	t.Cleanup(c.s.Close)
	return c
}

// closedEndpoint is a loopback address where nothing listens.
func closedEndpoint(t *testing.T) table.Endpoint {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	_ = l.Close()
	return table.Endpoint{Address: "127.0.0.1", Port: int32(addr.Port)}
}

func (c *causes) send(method, host, target string, header map[string]string, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://"+host+target, strings.NewReader(body))
	if body == "" {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	c.s.ServeHTTP(w, r)
	return w
}

// gatewayAnswer is what a self-naming template renders.
type gatewayAnswer struct {
	Template string `json:"template"`
	Type     string `json:"type"`
	Message  string `json:"message"`
	Status   int    `json:"status"`
}

func TestEveryGatewayResponseTypeComesFromItsRealCause(t *testing.T) {
	c := newCauses(t)
	expired := "Bearer " + c.token(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()})
	cases := []struct {
		cause   string
		typ     gatewayresp.Type
		status  int
		message string
		send    func() *httptest.ResponseRecorder
	}{
		{"an unknown route of a REST Api", gatewayresp.MissingAuthenticationToken, 403, "Missing Authentication Token",
			func() *httptest.ResponseRecorder { return c.send("GET", c.restHost, "/prod/nothing", nil, "") }},
		{"an unknown stage of a REST Api", gatewayresp.MissingAuthenticationToken, 403, "Missing Authentication Token",
			func() *httptest.ResponseRecorder { return c.send("GET", c.restHost, "/nostage/pets", nil, "") }},
		{"an unknown route of an HTTP Api", gatewayresp.ResourceNotFound, 404, "Not Found",
			func() *httptest.ResponseRecorder { return c.send("GET", c.httpHost, "/prod/nothing", nil, "") }},
		{"a second request past a burst of 1", gatewayresp.Throttled, 429, "Too Many Requests",
			func() *httptest.ResponseRecorder {
				c.send("GET", c.restHost, "/prod/throttled", nil, "")
				return c.send("GET", c.restHost, "/prod/throttled", nil, "")
			}},
		{"no API key", gatewayresp.InvalidAPIKey, 403, "Forbidden",
			func() *httptest.ResponseRecorder { return c.send("GET", c.restHost, "/prod/keyed", nil, "") }},
		{"an unknown API key", gatewayresp.InvalidAPIKey, 403, "Forbidden",
			func() *httptest.ResponseRecorder {
				return c.send("GET", c.restHost, "/prod/keyed", map[string]string{"x-api-key": otherKey}, "")
			}},
		{"a used-up quota", gatewayresp.QuotaExceeded, 429, "Limit Exceeded",
			func() *httptest.ResponseRecorder {
				c.send("GET", c.restHost, "/prod/quota", map[string]string{"x-api-key": c.goodKey}, "")
				return c.send("GET", c.restHost, "/prod/quota", map[string]string{"x-api-key": c.goodKey}, "")
			}},
		{"no JWT", gatewayresp.Unauthorized, 401, "Unauthorized",
			func() *httptest.ResponseRecorder { return c.send("GET", c.restHost, "/prod/jwt", nil, "") }},
		{"an expired JWT (AWS answers UNAUTHORIZED)", gatewayresp.Unauthorized, 401, "Unauthorized",
			func() *httptest.ResponseRecorder {
				return c.send("GET", c.restHost, "/prod/jwt", map[string]string{"Authorization": expired}, "")
			}},
		{"a JWT without the route's scope", gatewayresp.AccessDenied, 403, "Forbidden",
			func() *httptest.ResponseRecorder {
				return c.send("GET", c.restHost, "/prod/jwt-scoped", map[string]string{"Authorization": "Bearer " + c.token(nil)}, "")
			}},
		{"a JWT issuer whose keys cannot be fetched", gatewayresp.AuthorizerFailure, 500, "Internal Server Error",
			func() *httptest.ResponseRecorder {
				return c.send("GET", c.restHost, "/prod/jwt-down", map[string]string{"Authorization": "Bearer " + c.token(nil)}, "")
			}},
		{"a REQUEST authorizer that denies", gatewayresp.AccessDenied, 403, "Forbidden",
			func() *httptest.ResponseRecorder {
				return c.send("GET", c.restHost, "/prod/request", map[string]string{"Authorization": "deny"}, "")
			}},
		{"a REQUEST authorizer that times out", gatewayresp.AuthorizerConfigurationError, 500, "Internal Server Error",
			func() *httptest.ResponseRecorder {
				return c.send("GET", c.restHost, "/prod/request", map[string]string{"Authorization": "slow"}, "")
			}},
		{"a missing required parameter", gatewayresp.BadRequestParameters, 400, "Missing required request parameters: [q]",
			func() *httptest.ResponseRecorder {
				return c.send("POST", c.restHost, "/prod/validated", nil, `{"name":"a"}`)
			}},
		{"a body that breaks the schema", gatewayresp.BadRequestBody, 400, "Invalid request body",
			func() *httptest.ResponseRecorder { return c.send("POST", c.restHost, "/prod/validated?q=1", nil, `{}`) }},
		{"a body that is not JSON", gatewayresp.UnsupportedMediaType, 415, "Unsupported Media Type",
			func() *httptest.ResponseRecorder {
				return c.send("POST", c.restHost, "/prod/validated?q=1", map[string]string{"Content-Type": "text/plain"}, `name=a`)
			}},
		{"a body over the Api's limit", gatewayresp.RequestTooLarge, 413, "Request Entity Too Large",
			func() *httptest.ResponseRecorder {
				return c.send("POST", c.restHost, "/prod/validated?q=1", nil, strings.Repeat("x", 2000))
			}},
		{"a route whose Service does not exist", gatewayresp.APIConfigurationError, 500, "Internal Server Error",
			func() *httptest.ResponseRecorder { return c.send("GET", c.restHost, "/prod/broken", nil, "") }},
		{"a backend slower than the integration timeout", gatewayresp.IntegrationTimeout, 504, "Endpoint request timed out",
			func() *httptest.ResponseRecorder { return c.send("GET", c.restHost, "/prod/slow", nil, "") }},
		{"a backend that refuses connections", gatewayresp.IntegrationFailure, 502, "Internal server error",
			func() *httptest.ResponseRecorder { return c.send("GET", c.restHost, "/prod/refused", nil, "") }},
		{"a mapped path with a dot segment", gatewayresp.Default4XX, 400, "Bad Request",
			func() *httptest.ResponseRecorder {
				return c.send("GET", c.restHost, "/prod/mapped", map[string]string{"X-Path": ".."}, "")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.cause, func(t *testing.T) {
			w := tc.send()
			var got gatewayAnswer
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("%d %q is not the template's JSON: %v", w.Code, w.Body.String(), err)
			}
			want := gatewayAnswer{Template: string(tc.typ), Type: string(tc.typ), Message: tc.message, Status: tc.status}
			if w.Code != tc.status || got != want {
				t.Fatalf("got %d %+v, want %d %+v", w.Code, got, tc.status, want)
			}
			if h := w.Header().Get("X-Gateway-Response"); h != string(tc.typ) {
				t.Errorf("x-gateway-response %q", h)
			}
			amzn := w.Header().Get("X-Amzn-Errortype")
			if tc.typ == gatewayresp.ResourceNotFound {
				if amzn != "" {
					t.Errorf("an HTTP Api sent x-amzn-ErrorType %q", amzn)
				}
			} else if amzn != tc.typ.AmznErrorType(tc.status) {
				t.Errorf("x-amzn-ErrorType %q", amzn)
			}
		})
	}
}

// The shared limit store is down and the failure mode is closed: 503,
// DEFAULT_5XX (AWS has no type of its own for it).
func TestALimiterOutageIsADefault5XX(t *testing.T) {
	a := testApi(table.ProtocolREST, stage("prod", mockRoute("GET /pets", 200, "ok")))
	a.GatewayResponses = selfNamingResponses(t)
	s := NewServer(Options{Forwarder: &fakeForwarder{}, Limiter: downLimiter{throttle.Unavailable}})
	s.Swap(mustTable(t, a))
	w := do(s, "GET", "/prod/pets", nil)
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"template":"DEFAULT_5XX","type":"DEFAULT_5XX"`) {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
}

func TestDefaultResponsesSetTheStatusOfEveryTypeWithoutItsOwn(t *testing.T) {
	rs, err := gatewayresp.Compile(map[string]gatewayresp.Spec{
		"DEFAULT_4XX": {StatusCode: 400, ResponseParameters: map[string]string{"gatewayresponse.header.x-default": "'4xx'"}},
		"MISSING_AUTHENTICATION_TOKEN": {StatusCode: 404, ResponseTemplates: map[string]string{
			"application/json": `{"error":$context.error.messageString,"id":"$context.requestId"}`}},
	})
	if err != nil {
		t.Fatal(err)
	}
	keyed := mockRoute("GET /keyed", 200, "ok")
	keyed.ApiKeyRequired = true
	a := testApi(table.ProtocolREST, stage("prod", keyed))
	a.GatewayResponses, a.ErrorHints = rs, true
	s := newTestServer(t, nil, a)

	w := do(s, "GET", "/prod/nothing", nil) // MISSING_AUTHENTICATION_TOKEN's own status and template
	id := w.Header().Get("X-Request-Id")
	if w.Code != 404 || trimBody(w) != `{"error":"Missing Authentication Token","id":"`+id+`"}` || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("own: %d %s", w.Code, trimBody(w))
	}
	if w.Header().Get("X-Default") != "" || w.Header().Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
		t.Fatalf("own headers: %v", w.Header())
	}
	w = do(s, "GET", "/prod/keyed", nil) // INVALID_API_KEY falls back to DEFAULT_4XX: its status and header, the built-in body
	if w.Code != 400 || w.Header().Get("X-Default") != "4xx" || !strings.HasPrefix(trimBody(w), `{"message":"Forbidden","hint":`) {
		t.Fatalf("fallback: %d %s %v", w.Code, trimBody(w), w.Header())
	}
}

// A browser must be able to read a 401 or a 429: gateway responses carry
// the Api's CORS headers, customised ones too.
func TestGatewayResponsesCarryTheApisCORSHeaders(t *testing.T) {
	a := corsApi()
	a.GatewayResponses = selfNamingResponses(t)
	a.Stages[0].Routes = append(a.Stages[0].Routes, authRoute(mockRoute("GET /private", 200, "ok"), requestAuthz("http://127.0.0.1:1", true)))
	s := newTestServer(t, &fakeForwarder{}, a)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, corsRequest("GET", "/prod/private", "https://app.example.com", false))
	if w.Code != 401 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(w.Body.String(), `"template":"UNAUTHORIZED"`) {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body.String())
	}
}
