package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// forbiddenHeaders carry a key or a key location inside the token: trusting
// them lets the attacker choose the key (CVE-2018-0114 and friends). crit
// is refused because we understand no extension.
var forbiddenHeaders = []string{"jwk", "jku", "x5u", "x5c", "crit"}

// checkHeader reads the protected header without trusting it: the algorithm
// must be in allowed (never none or HMAC), the kid must be present, and no
// header may carry a key. It returns the alg, the kid, or why the token is
// refused.
func checkHeader(raw string, allowed []string) (alg, kid, bad string) {
	dot := strings.IndexByte(raw, '.')
	if dot <= 0 || strings.Count(raw, ".") != 2 {
		return "", "", "the token is not a compact JWS"
	}
	b, err := base64.RawURLEncoding.DecodeString(raw[:dot])
	if err != nil {
		return "", "", "the token header is not base64url"
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b, &h); err != nil {
		return "", "", "the token header is not a JSON object"
	}
	for _, f := range forbiddenHeaders {
		if _, ok := h[f]; ok {
			return "", "", "the token header carries " + f + ", which is never accepted"
		}
	}
	if json.Unmarshal(h["alg"], &alg) != nil || alg == "" {
		return "", "", "the token has no alg"
	}
	switch {
	case strings.EqualFold(alg, "none"):
		return "", "", "alg none is never accepted"
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		return "", "", "HMAC algorithms are never accepted"
	case !slices.Contains(allowed, alg):
		return "", "", "algorithm " + alg + " is not allowed"
	}
	if json.Unmarshal(h["kid"], &kid) != nil || kid == "" {
		return "", "", "the token has no kid"
	}
	return alg, kid, ""
}

// checkClaims decodes the verified payload and checks iss, aud (then
// client_id), exp, nbf and iat. It returns the claims or why the token is
// refused. exp is required: a token that never expires is not accepted.
func (s *Store) checkClaims(payload []byte, cfg *table.JWTAuthorizer) (map[string]any, string) {
	c, err := decodeClaims(payload)
	if err != nil {
		return nil, err.Error()
	}
	if iss, _ := c["iss"].(string); iss != cfg.Issuer {
		return nil, "the token's iss is not the authorizer's issuer"
	}
	if why := checkAudience(c, cfg.Audiences); why != "" {
		return nil, why
	}
	now := s.now()
	exp, err := numericDate(c["exp"])
	switch {
	case c["exp"] == nil:
		return nil, "the token has no exp"
	case err != nil:
		return nil, "the token's exp is not a number"
	case !now.Before(exp.Add(ClockSkew)):
		return nil, "the token has expired"
	}
	for _, f := range [...]struct{ name, why string }{{"nbf", "the token is not valid yet"}, {"iat", "the token was issued in the future"}} {
		v, present := c[f.name]
		if !present {
			continue
		}
		t, err := numericDate(v)
		if err != nil {
			return nil, "the token's " + f.name + " is not a number"
		}
		if t.After(now.Add(ClockSkew)) {
			return nil, f.why
		}
	}
	return c, ""
}

// checkAudience: aud must contain a configured audience; client_id counts
// only when aud is absent (AWS's rule).
func checkAudience(c map[string]any, audiences []string) string {
	if v, present := c["aud"]; present {
		aud, ok := stringList(v)
		if !ok {
			return "the token's aud is not a string or a list of strings"
		}
		for _, a := range aud {
			if slices.Contains(audiences, a) {
				return ""
			}
		}
		return "the token's aud has none of the authorizer's audiences"
	}
	if id, ok := c["client_id"].(string); ok && slices.Contains(audiences, id) {
		return ""
	}
	return "the token has no aud, and its client_id is not one of the authorizer's audiences"
}

// errNotNumber: a time claim that is not a JSON number.
var errNotNumber = errors.New("not a number")

// numericDate reads a NumericDate claim (seconds, possibly fractional).
func numericDate(v any) (time.Time, error) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, errNotNumber
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return time.Time{}, errNotNumber
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// decodeClaims parses a JSON object keeping numbers exact.
func decodeClaims(payload []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var c map[string]any
	if err := d.Decode(&c); err != nil || c == nil {
		return nil, errors.New("the token payload is not a JSON object")
	}
	return c, nil
}

// stringList reads a claim that is a string or an array of strings.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// tokenScopes reads scope (space-separated) or scp (array or string).
func tokenScopes(c map[string]any) []string {
	if s, ok := c["scope"].(string); ok {
		return strings.Fields(s)
	}
	switch t := c["scp"].(type) {
	case string:
		return strings.Fields(t)
	case []any:
		l, _ := stringList(t)
		return l
	}
	return nil
}

// hasScope: no required scopes, or the token carries one of them.
func hasScope(granted, required []string) bool {
	if len(required) == 0 {
		return true
	}
	for _, r := range required {
		if slices.Contains(granted, r) {
			return true
		}
	}
	return false
}
