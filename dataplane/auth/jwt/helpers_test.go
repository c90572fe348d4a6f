package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// testKey is a signing key the tests generate, with its kid.
type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

var (
	rsaOnce sync.Once
	rsaKeys [3]*rsa.PrivateKey
)

// rsaKey returns one of three RSA keys generated once per test binary
// (generation is slow on two cores).
func rsaKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		for j := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[j] = k
		}
	})
	return rsaKeys[i]
}

func newRSA(t *testing.T, i int, kid string) testKey {
	return testKey{kid: kid, alg: jose.RS256, priv: rsaKey(t, i)}
}

func newEC(t *testing.T, kid string) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{kid: kid, alg: jose.ES256, priv: k}
}

func (k testKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// sign makes a compact JWS of claims with extra protected headers.
func (k testKey) sign(t *testing.T, claims map[string]any, extra map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid)
	for h, v := range extra {
		opts = opts.WithHeader(jose.HeaderKey(h), v)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := sig.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forge builds a token with any header and an HMAC-SHA256 signature under
// secret (nil: empty signature), as an attacker would.
func forge(t *testing.T, header, claims map[string]any, secret []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	if secret == nil {
		return input + "."
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func publicPEM(t *testing.T, k testKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// issuer is a test OIDC issuer: discovery at /.well-known/openid-configuration,
// keys at /jwks. Keys can be rotated and the issuer taken down; it counts
// JWKS requests.
type issuer struct {
	srv       *httptest.Server
	mu        sync.Mutex
	keys      []jose.JSONWebKey
	down      atomic.Bool
	jwksHits  atomic.Int32
	discovery atomic.Pointer[string] // overrides the discovery body when set
}

func newIssuer(t *testing.T, keys ...testKey) *issuer {
	t.Helper()
	is := &issuer{}
	is.rotate(keys...)
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if is.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			if d := is.discovery.Load(); d != nil {
				_, _ = w.Write([]byte(*d))
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks"})
		case "/jwks":
			is.jwksHits.Add(1)
			is.mu.Lock()
			defer is.mu.Unlock()
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: is.keys})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(is.srv.Close)
	return is
}

// rotate replaces the published keys.
func (is *issuer) rotate(keys ...testKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys = nil
	for _, k := range keys {
		is.keys = append(is.keys, k.public())
	}
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestStore(c *clock) *Store {
	return NewStore(Options{AllowHTTP: true, Now: c.Now, MinRefreshInterval: 10 * time.Second, MaxKeyAge: time.Hour})
}

func jwtAuthorizer(iss string) *table.Authorizer {
	return &table.Authorizer{
		Object: "shop/cognito",
		Type:   table.AuthorizerJWT,
		JWT:    &table.JWTAuthorizer{Issuer: iss, Audiences: []string{"pets-api"}, Algorithms: []string{"RS256"}},
	}
}

// request builds an auth.Request carrying the Authorization header value.
func request(authz string) *auth.Request {
	r := httptest.NewRequest(http.MethodGet, "http://pets.shop.execute-api.localhost/prod/pets", nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	return &auth.Request{HTTP: r, Namespace: "shop", Api: "pets", Stage: "prod", RoutePath: "/pets"}
}

// claimsAt are valid claims for issuer iss at clock time now.
func claimsAt(iss string, now time.Time) map[string]any {
	return map[string]any{
		"iss": iss, "aud": "pets-api", "sub": "user-1",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(),
		"scope": "pets:read profile",
	}
}

func outcomeName(o auth.Outcome) string {
	return [...]string{"allow", "401", "403", "403 explicit", "500"}[o]
}

func mustOutcome(t *testing.T, r *auth.Result, want auth.Outcome, errContains string) {
	t.Helper()
	if r.Outcome != want {
		t.Fatalf("outcome %s (%q), want %s", outcomeName(r.Outcome), r.Error, outcomeName(want))
	}
	if !strings.Contains(r.Error, errContains) {
		t.Fatalf("error %q does not contain %q", r.Error, errContains)
	}
}
