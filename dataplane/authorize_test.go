package dataplane

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// authLog is an access log sink safe for the logger's goroutine.
type authLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *authLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *authLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// authzServer answers REQUEST authorizer calls by the Authorization value:
// "allow" and "deny" get simple answers, "policy" an IAM policy allowing
// only GET /pets, "slow" nothing in time, anything else garbage.
func authzServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	calls := &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var ev struct {
			IdentitySource []string `json:"identitySource"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		switch ev.IdentitySource[0] {
		case "allow":
			_, _ = w.Write([]byte(`{"isAuthorized":true,"context":{"user":"u1"}}`))
		case "deny":
			_, _ = w.Write([]byte(`{"isAuthorized":false}`))
		case "policy":
			_, _ = w.Write([]byte(`{"principalId":"p-1","policyDocument":{"Statement":[
				{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:turnpike:execute-api:shop:pets/prod/GET/pets"},
				{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:turnpike:execute-api:shop:pets/prod/DELETE/*"}]}}`))
		case "slow":
			time.Sleep(300 * time.Millisecond)
		default:
			_, _ = w.Write([]byte(`<html>`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, calls
}

func requestAuthz(uri string, simple bool) *table.Authorizer {
	return &table.Authorizer{Object: "shop/authz", Type: table.AuthorizerRequest, IdentitySources: []string{"$request.header.Authorization"},
		Request: &table.RequestAuthorizer{URI: uri, PayloadFormatVersion: "2.0", SimpleResponses: simple, ResultTTLSeconds: 300, TimeoutMillis: 100}}
}

func authRoute(r *table.Route, a *table.Authorizer, scopes ...string) *table.Route {
	r.Auth = &table.Authorization{Authorizer: a, Scopes: scopes}
	return r
}

func doAuth(s *Server, method, target, authz string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://"+testHost+target, nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestRequestAuthorizerDecisionsBecomeAWSAnswers(t *testing.T) {
	srv, calls := authzServer(t)
	simple, iam := requestAuthz(srv.URL, true), requestAuthz(srv.URL, false)
	log := &authLog{}
	for _, p := range []table.Protocol{table.ProtocolHTTP, table.ProtocolREST} {
		t.Run(string(p), func(t *testing.T) {
			s := NewServer(Options{Forwarder: &fakeForwarder{}, AccessLog: log})
			s.Swap(mustTable(t, testApi(p, stage("prod",
				authRoute(mockRoute("GET /simple", 200, "ok"), simple),
				authRoute(mockRoute("GET /pets", 200, "pets"), iam),
				authRoute(mockRoute("DELETE /pets/{id}", 200, "deleted"), iam),
				authRoute(mockRoute("GET /pets/{id}", 200, "pet"), iam),
				mockRoute("GET /public", 200, "public"),
			))))
			explicit, implicit := `{"message":"Forbidden"}`, `{"message":"Forbidden"}`
			if p == table.ProtocolREST {
				explicit = `{"message":"User is not authorized to access this resource with an explicit deny"}`
				implicit = `{"message":"User is not authorized to access this resource"}`
			}
			cases := []struct {
				method, path, authz string
				status              int
				body                string
			}{
				{"GET", "/prod/public", "", 200, "public"},
				{"GET", "/prod/simple", "allow", 200, "ok"},
				{"GET", "/prod/simple", "", 401, `{"message":"Unauthorized"}`},
				{"GET", "/prod/simple", "deny", 403, `{"message":"Forbidden"}`},
				{"GET", "/prod/simple", "garbage", 500, `{"message":"Internal Server Error"}`},
				{"GET", "/prod/simple", "slow", 500, `{"message":"Internal Server Error"}`},
				{"GET", "/prod/pets", "policy", 200, "pets"},
				{"DELETE", "/prod/pets/1", "policy", 403, explicit},
				{"GET", "/prod/pets/1", "policy", 403, implicit},
				// Escaping or a trailing slash reaches the same route and
				// must meet the same Deny: policies see the canonical path.
				{"DELETE", "/prod/pets/1/", "policy", 403, explicit},
				{"DELETE", "/prod/p%65ts/1", "policy", 403, explicit},
				{"GET", "/prod/pets/", "policy", 200, "pets"},
				{"GET", "/prod/p%65ts", "policy", 200, "pets"},
			}
			for _, tc := range cases {
				w := doAuth(s, tc.method, tc.path, tc.authz)
				if w.Code != tc.status || trimBody(w) != tc.body {
					t.Errorf("%s %s (%s): %d %s, want %d %s", tc.method, tc.path, tc.authz, w.Code, trimBody(w), tc.status, tc.body)
				}
			}
			s.Close()
		})
	}
	// Per protocol: one call each for allow, deny, garbage, slow and policy;
	// the later policy requests come from the cache.
	if n := calls.Load(); n != 10 {
		t.Errorf("authorizer called %d times, want 10", n)
	}
	out := log.String()
	for _, want := range []string{`"principalId":"p-1"`, `"authorizerError":"identity source $request.header.Authorization is missing"`, `"authorizerError":"the authorizer's policy denies`} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %s:\n%s", want, out)
		}
	}
}

func TestJWTRoutesAnswer401WithAChallengeAnd403WithoutScope(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k", Algorithm: "ES256"}}})
	}))
	defer jwks.Close()
	a := &table.Authorizer{Object: "shop/jwt", Type: table.AuthorizerJWT,
		JWT: &table.JWTAuthorizer{Issuer: "https://issuer.example", Audiences: []string{"pets"}, JWKSURI: jwks.URL, Algorithms: []string{"ES256"}}}
	s := NewServer(Options{Forwarder: &fakeForwarder{}, AllowHTTPJWKS: true})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod",
		authRoute(mockRoute("GET /pets", 200, "pets"), a),
		authRoute(mockRoute("POST /pets", 201, "made"), a, "pets:write"),
	))))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"iss": "https://issuer.example", "aud": "pets", "sub": "u", "exp": time.Now().Add(time.Hour).Unix(), "scope": "pets:read"})
	obj, _ := signer.Sign(payload)
	token, _ := obj.CompactSerialize()

	if w := doAuth(s, "GET", "/prod/pets", "Bearer "+token); w.Code != 200 {
		t.Fatalf("valid token: %d %s", w.Code, trimBody(w))
	}
	w := doAuth(s, "GET", "/prod/pets", "Bearer "+token+"x")
	if w.Code != 401 || trimBody(w) != `{"message":"Unauthorized"}` ||
		w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token", error_description="the token signature does not verify"` {
		t.Fatalf("bad signature: %d %s %q", w.Code, trimBody(w), w.Header().Get("WWW-Authenticate"))
	}
	if w := doAuth(s, "POST", "/prod/pets", "Bearer "+token); w.Code != 403 || trimBody(w) != `{"message":"Forbidden"}` {
		t.Fatalf("missing scope: %d %s", w.Code, trimBody(w))
	}
}
