package awsimport

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// issuer is a local OpenID provider: discovery document and JWKS.
type issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) token(t *testing.T, scope string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: is.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{"iss": is.srv.URL, "aud": "pets-api", "sub": "alice", "scope": scope, "iat": now, "exp": now + 300})
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A JWT authorizer from an HTTP API export: AWS answers 401 without a valid
// token, 403 without the route's scope, and calls the backend otherwise.
func TestProbeJWTAuthorizer(t *testing.T) {
	is, be := newIssuer(t), newBackend(t)
	src := strings.NewReplacer("ISSUER", is.srv.URL, "BACKEND", be.srv.URL).Replace(string(fixture(t, "own/http-jwt.yaml")))
	res, err := Import([]byte(src), Options{Namespace: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	validateObjects(t, res)
	g := startGateway(t, files(t, res))
	for _, tc := range []struct {
		name, auth string
		status     int
		body       string
	}{
		{"no token", "", 401, `{"message":"Unauthorized"}`},
		{"bad token", "Bearer not.a.jwt", 401, `{"message":"Unauthorized"}`},
		{"no scope", "Bearer " + is.token(t, "pets/write"), 403, `{"message":"Forbidden"}`},
		{"scope", "Bearer " + is.token(t, "pets/read"), 200, ""},
	} {
		h := http.Header{}
		if tc.auth != "" {
			h.Set("Authorization", tc.auth)
		}
		resp, body := g.do(t, "GET", "jwt-pets", "shop", "/pets", h, "")
		if resp.StatusCode != tc.status || (tc.body != "" && body != tc.body) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	if be.req() == nil || be.req().URL.Path != "/pets" {
		t.Errorf("the backend did not get the authorized request")
	}
}
