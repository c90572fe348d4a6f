package jwt

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// FuzzTokenHeaderAndClaims feeds arbitrary compact tokens to the checks that
// run on what an attacker controls before and after the signature: the
// header check accepts only an allowed, asymmetric algorithm, a kid and no
// embedded key; the claims check accepts only the configured issuer and
// audience with an exp, and never panics on any JSON.
func FuzzTokenHeaderAndClaims(f *testing.F) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, h := range []string{`{"alg":"RS256","kid":"k1"}`, `{"alg":"none","kid":"k1"}`, `{"alg":"HS256","kid":"k1"}`,
		`{"alg":"RS256","kid":"k1","jwk":{"kty":"oct"}}`, `{"alg":"RS256","kid":"k1","jku":"https://evil"}`, `{"alg":"rs256"}`, `[]`, `{"alg":1}`} {
		for _, p := range []string{`{"iss":"https://issuer","aud":"pets","exp":4102444800}`, `{"iss":"https://issuer","aud":["x","pets"],"exp":"4102444800"}`,
			`{"iss":"https://issuer","client_id":"pets","exp":1e400}`, `{"exp":-1}`, `null`, `{"iss":"https://issuer","aud":"pets","exp":4102444800,"nbf":9e18}`} {
			f.Add(enc(h) + "." + enc(p) + ".c2ln")
		}
	}
	f.Add("a.b.c")
	f.Add("...")
	allowed := []string{"RS256", "ES256"}
	cfg := &table.JWTAuthorizer{Issuer: "https://issuer", Audiences: []string{"pets"}, Algorithms: allowed}
	s := NewStore(Options{})
	f.Fuzz(func(t *testing.T, raw string) {
		alg, kid, bad := checkHeader(raw, allowed)
		if bad == "" {
			if !slices.Contains(allowed, alg) || kid == "" {
				t.Fatalf("%q accepted with alg %q kid %q", raw, alg, kid)
			}
			head, _, _ := strings.Cut(raw, ".")
			b, _ := base64.RawURLEncoding.DecodeString(head)
			var h map[string]json.RawMessage
			_ = json.Unmarshal(b, &h)
			for _, k := range forbiddenHeaders {
				if _, ok := h[k]; ok {
					t.Fatalf("%q accepted with header %s", raw, k)
				}
			}
		}
		parts := strings.Split(raw, ".")
		if len(parts) < 2 {
			return
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return
		}
		c, why := s.checkClaims(payload, cfg)
		if why != "" {
			return
		}
		if c["iss"] != cfg.Issuer || c["exp"] == nil {
			t.Fatalf("claims %s accepted: %v", payload, c)
		}
	})
}

// FuzzParseKeys feeds arbitrary JWKS documents to the key parser: a key set
// it returns holds only public, non-symmetric signature keys with a kid.
func FuzzParseKeys(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"r","use":"sig","n":"sXch","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"r","use":"enc","n":"sXch","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","kid":"o","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`))
	f.Add([]byte(`{"keys":[null,1,"x",{}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if json.Unmarshal(doc, &set) != nil {
			return
		}
		keys, err := parseKeys(set.Keys)
		if err != nil {
			return
		}
		for kid, ks := range keys {
			for _, k := range ks {
				if kid == "" || k.KeyID != kid || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
					t.Fatalf("%s: key %q kept (public %v, use %q)", doc, kid, k.IsPublic(), k.Use)
				}
				if _, symmetric := k.Key.([]byte); symmetric {
					t.Fatalf("%s: symmetric key %q kept", doc, kid)
				}
			}
		}
	})
}
