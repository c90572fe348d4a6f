package jwt

import (
	"context"
	"encoding/base64"
	"maps"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/turnpike-io/turnpike/dataplane/auth"
)

// TestEveryJWTRuleAndAttackGetsItsAnswer is the table of api.md's JWT rules
// and the reliability checklist's attacks, with keys generated here.
func TestEveryJWTRuleAndAttackGetsItsAnswer(t *testing.T) {
	good := newRSA(t, 0, "k1")
	other := newRSA(t, 1, "k1") // same kid, key the issuer never published
	ec := newEC(t, "e1")
	is := newIssuer(t, good, ec)
	iss := is.srv.URL
	c := newClock()
	now := c.Now()
	with := func(change func(map[string]any)) map[string]any {
		m := maps.Clone(claimsAt(iss, now))
		change(m)
		return m
	}
	noneHeader := map[string]any{"alg": "none", "kid": "k1", "typ": "JWT"}
	cases := []struct {
		name      string
		token     string
		algs      []string
		scopes    []string
		want      auth.Outcome
		errSubstr string
	}{
		{name: "valid RS256 token is allowed", token: good.sign(t, claimsAt(iss, now), nil), want: auth.OutcomeAllow},
		{name: "raw token without Bearer prefix is allowed", token: "raw:" + good.sign(t, claimsAt(iss, now), nil), want: auth.OutcomeAllow},
		{name: "ES256 token is allowed when ES256 is on the allow-list", token: ec.sign(t, claimsAt(iss, now), nil), algs: []string{"RS256", "ES256"}, want: auth.OutcomeAllow},
		{name: "ES256 token is refused when only RS256 is allowed", token: ec.sign(t, claimsAt(iss, now), nil), want: auth.OutcomeUnauthorized, errSubstr: "ES256 is not allowed"},
		{name: "alg none is refused", token: forge(t, noneHeader, claimsAt(iss, now), nil), want: auth.OutcomeUnauthorized, errSubstr: "alg none"},
		{name: "alg none is refused even when listed", token: forge(t, noneHeader, claimsAt(iss, now), nil), algs: []string{"none"}, want: auth.OutcomeUnauthorized, errSubstr: "alg none"},
		{name: "HS256 signed with the RSA public key is refused", token: forge(t, map[string]any{"alg": "HS256", "kid": "k1"}, claimsAt(iss, now), publicPEM(t, good)), algs: []string{"RS256", "HS256"}, want: auth.OutcomeUnauthorized, errSubstr: "HMAC"},
		{name: "embedded jwk header is refused", token: other.sign(t, claimsAt(iss, now), map[string]any{"jwk": other.public()}), want: auth.OutcomeUnauthorized, errSubstr: "jwk"},
		{name: "foreign jku header is refused", token: other.sign(t, claimsAt(iss, now), map[string]any{"jku": "https://evil.example/jwks"}), want: auth.OutcomeUnauthorized, errSubstr: "jku"},
		{name: "x5u header is refused", token: other.sign(t, claimsAt(iss, now), map[string]any{"x5u": "https://evil.example/cert"}), want: auth.OutcomeUnauthorized, errSubstr: "x5u"},
		{name: "token signed by an unpublished key with a known kid is refused", token: other.sign(t, claimsAt(iss, now), nil), want: auth.OutcomeUnauthorized, errSubstr: "signature"},
		{name: "tampered payload is refused", token: tamper(t, good.sign(t, claimsAt(iss, now), nil)), want: auth.OutcomeUnauthorized, errSubstr: "signature"},
		{name: "unknown kid is refused", token: newRSA(t, 2, "k9").sign(t, claimsAt(iss, now), nil), want: auth.OutcomeUnauthorized, errSubstr: `kid "k9"`},
		{name: "wrong issuer is refused", token: good.sign(t, with(func(m map[string]any) { m["iss"] = "https://evil.example" }), nil), want: auth.OutcomeUnauthorized, errSubstr: "iss"},
		{name: "wrong audience is refused", token: good.sign(t, with(func(m map[string]any) { m["aud"] = []string{"other"} }), nil), want: auth.OutcomeUnauthorized, errSubstr: "aud"},
		{name: "audience in a list is allowed", token: good.sign(t, with(func(m map[string]any) { m["aud"] = []string{"x", "pets-api"} }), nil), want: auth.OutcomeAllow},
		{name: "client_id is used when aud is absent", token: good.sign(t, with(func(m map[string]any) { delete(m, "aud"); m["client_id"] = "pets-api" }), nil), want: auth.OutcomeAllow},
		{name: "client_id is ignored when aud is present", token: good.sign(t, with(func(m map[string]any) { m["aud"] = "other"; m["client_id"] = "pets-api" }), nil), want: auth.OutcomeUnauthorized, errSubstr: "aud"},
		{name: "wrong client_id without aud is refused", token: good.sign(t, with(func(m map[string]any) { delete(m, "aud"); m["client_id"] = "other" }), nil), want: auth.OutcomeUnauthorized, errSubstr: "client_id"},
		{name: "expired token is refused", token: good.sign(t, with(func(m map[string]any) { m["exp"] = now.Add(-ClockSkew - time.Second).Unix() }), nil), want: auth.OutcomeUnauthorized, errSubstr: "expired"},
		{name: "token expired within the skew is allowed", token: good.sign(t, with(func(m map[string]any) { m["exp"] = now.Add(-ClockSkew / 2).Unix() }), nil), want: auth.OutcomeAllow},
		{name: "token without exp is refused", token: good.sign(t, with(func(m map[string]any) { delete(m, "exp") }), nil), want: auth.OutcomeUnauthorized, errSubstr: "no exp"},
		{name: "exp that is not a number is refused", token: good.sign(t, with(func(m map[string]any) { m["exp"] = "tomorrow" }), nil), want: auth.OutcomeUnauthorized, errSubstr: "exp is not a number"},
		{name: "nbf beyond the skew is refused", token: good.sign(t, with(func(m map[string]any) { m["nbf"] = now.Add(ClockSkew + time.Minute).Unix() }), nil), want: auth.OutcomeUnauthorized, errSubstr: "not valid yet"},
		{name: "nbf within the skew is allowed", token: good.sign(t, with(func(m map[string]any) { m["nbf"] = now.Add(ClockSkew / 2).Unix() }), nil), want: auth.OutcomeAllow},
		{name: "iat in the future beyond the skew is refused", token: good.sign(t, with(func(m map[string]any) { m["iat"] = now.Add(ClockSkew + time.Minute).Unix() }), nil), want: auth.OutcomeUnauthorized, errSubstr: "issued in the future"},
		{name: "token with a required scope in scope is allowed", token: good.sign(t, claimsAt(iss, now), nil), scopes: []string{"admin", "pets:read"}, want: auth.OutcomeAllow},
		{name: "token with a required scope in scp is allowed", token: good.sign(t, with(func(m map[string]any) { delete(m, "scope"); m["scp"] = []string{"pets:write"} }), nil), scopes: []string{"pets:write"}, want: auth.OutcomeAllow},
		{name: "token without any required scope is forbidden", token: good.sign(t, claimsAt(iss, now), nil), scopes: []string{"admin"}, want: auth.OutcomeForbidden, errSubstr: "scopes"},
		{name: "missing token is refused", token: "", want: auth.OutcomeUnauthorized, errSubstr: "no token"},
		{name: "garbage token is refused", token: "not-a-jwt", want: auth.OutcomeUnauthorized, errSubstr: "compact JWS"},
		{name: "token without kid is refused", token: forge(t, map[string]any{"alg": "RS256"}, claimsAt(iss, now), []byte("x")), want: auth.OutcomeUnauthorized, errSubstr: "no kid"},
		{name: "crit header is refused", token: good.sign(t, claimsAt(iss, now), map[string]any{"crit": []string{"exp"}}), want: auth.OutcomeUnauthorized, errSubstr: "crit"},
		{name: "oversized token is refused", token: strings.Repeat("a", MaxTokenBytes+1), want: auth.OutcomeUnauthorized, errSubstr: "too large"},
	}
	s := newTestStore(c)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := jwtAuthorizer(iss)
			if tc.algs != nil {
				a.JWT.Algorithms = tc.algs
			}
			header := ""
			switch {
			case strings.HasPrefix(tc.token, "raw:"):
				header = strings.TrimPrefix(tc.token, "raw:")
			case tc.token != "":
				header = "Bearer " + tc.token
			}
			r := s.Authorize(context.Background(), request(header), a, tc.scopes)
			mustOutcome(t, r, tc.want, tc.errSubstr)
			if tc.want == auth.OutcomeUnauthorized && !strings.HasPrefix(r.Challenge, `Bearer error="invalid_token", error_description="`) {
				t.Fatalf("challenge %q", r.Challenge)
			}
			if tc.want == auth.OutcomeAllow && (r.PrincipalID != "user-1" || r.Claims["iss"] != iss) {
				t.Fatalf("principal %q claims %v", r.PrincipalID, r.Claims)
			}
		})
	}
}

// tamper swaps the payload for one granting another subject, keeping the
// signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(b), "user-1", "admin", 1)))
	return strings.Join(parts, ".")
}

func TestChallengeDescriptionCannotBreakTheHeader(t *testing.T) {
	r := auth.Unauthorized("kid \"a\\\"b\"\r\nX-Evil: 1")
	if strings.ContainsAny(r.Challenge[len(`Bearer error="invalid_token", error_description="`):len(r.Challenge)-1], "\"\\\r\n") {
		t.Fatalf("challenge %q keeps quotes or line breaks", r.Challenge)
	}
}

func TestPrivateAndSymmetricKeysInTheJWKSAreNeverUsedAsSecrets(t *testing.T) {
	priv := newRSA(t, 0, "k1")
	oct := jose.JSONWebKey{Key: []byte("secret-secret-secret-secret-1234"), KeyID: "h1", Algorithm: "HS256"}
	is := newIssuer(t)
	is.mu.Lock()
	is.keys = []jose.JSONWebKey{{Key: priv.priv, KeyID: "k1", Algorithm: "RS256"}, oct}
	is.mu.Unlock()
	c := newClock()
	s := newTestStore(c)
	a := jwtAuthorizer(is.srv.URL)
	a.JWT.Algorithms = []string{"RS256", "HS256"}
	r := s.Authorize(context.Background(), request("Bearer "+priv.sign(t, claimsAt(is.srv.URL, c.Now()), nil)), a, nil)
	mustOutcome(t, r, auth.OutcomeAllow, "")
	forged := forge(t, map[string]any{"alg": "HS256", "kid": "h1"}, claimsAt(is.srv.URL, c.Now()), oct.Key.([]byte))
	mustOutcome(t, s.Authorize(context.Background(), request("Bearer "+forged), a, nil), auth.OutcomeUnauthorized, "HMAC")
}
