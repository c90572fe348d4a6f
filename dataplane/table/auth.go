package table

import (
	"errors"
	"fmt"
	"strings"
)

// AuthorizerType is the kind of an Authorizer in the table.
type AuthorizerType string

// Authorizer types.
const (
	AuthorizerJWT     AuthorizerType = "JWT"
	AuthorizerRequest AuthorizerType = "REQUEST"
)

// Authorization is how a route authorizes its requests. A route without one
// (nil) is public.
type Authorization struct {
	// Authorizer is shared by every route that names the same Authorizer in
	// one table; it is configuration only. Key sets and answer caches live in
	// stores keyed by Authorizer.Key(), so a table swap never flushes them.
	Authorizer *Authorizer `json:"authorizer"`
	// Scopes (JWT only): the token must carry one of them in scope or scp;
	// empty means any valid token.
	Scopes []string `json:"scopes,omitempty"`
}

// Authorizer is the resolved configuration of one Authorizer object.
type Authorizer struct {
	// Object is "namespace/name" of the Authorizer object.
	Object string         `json:"object"`
	Type   AuthorizerType `json:"type"`
	// IdentitySources are AWS identity source expressions:
	// $request.header.X, $request.querystring.X, $context.X, $stageVariables.X.
	// For JWT the first one carries the token.
	IdentitySources []string `json:"identitySources"`
	// JWT is set exactly when Type is AuthorizerJWT.
	JWT *JWTAuthorizer `json:"jwt,omitempty"`
	// Request is set exactly when Type is AuthorizerRequest.
	Request *RequestAuthorizer `json:"request,omitempty"`
}

// JWTAuthorizer validates bearer JWTs.
type JWTAuthorizer struct {
	// Issuer must equal the token's iss; the OIDC discovery document is
	// fetched from {Issuer}/.well-known/openid-configuration when JWKSURI is
	// empty.
	Issuer string `json:"issuer"`
	// Audiences: aud must contain one; client_id is used only without aud.
	// Never empty (the translator rejects an Authorizer without audiences).
	Audiences []string `json:"audiences"`
	// JWKSURI overrides discovery.
	JWKSURI string `json:"jwksUri,omitempty"`
	// Algorithms is the allow-list of signature algorithms, never empty and
	// never containing "none" or an HMAC algorithm.
	Algorithms []string `json:"algorithms"`
}

// RequestAuthorizer is a Lambda-style call-out: an HTTP request to a Service
// or URI, or a Lambda invocation of a function Service.
type RequestAuthorizer struct {
	// Service (with Path), URI or Function is the endpoint; exactly one is
	// set. Function is a Service running a Lambda authorizer image: the event
	// is invoked through the Runtime Interface Emulator's path, with the
	// FUNCTION integrations' concurrency rules.
	Service  *ServiceTarget `json:"service,omitempty"`
	Function *ServiceTarget `json:"function,omitempty"`
	// Path is the request path used with Service ("/" when unset).
	Path string `json:"path,omitempty"`
	// URI is an absolute http(s) URL.
	URI string `json:"uri,omitempty"`
	// PayloadFormatVersion is "1.0" or "2.0".
	PayloadFormatVersion string `json:"payloadFormatVersion"`
	// SimpleResponses: the answer is {"isAuthorized": bool, "context": {}};
	// else it is IAM-policy shaped.
	SimpleResponses bool `json:"simpleResponses,omitempty"`
	// Token: a TOKEN authorizer (AWS REST): the event is {type: TOKEN,
	// authorizationToken, methodArn} with the one identity source's value.
	Token bool `json:"token,omitempty"`
	// ResultTTLSeconds: answers are cached by identity-source values; 0 = off.
	ResultTTLSeconds int32 `json:"resultTtlSeconds"`
	// TimeoutMillis bounds the call.
	TimeoutMillis int32 `json:"timeoutMillis"`
}

// Key is the stable identity of the authorizer's long-lived state (answer
// cache): the object plus every setting that changes what an answer means. An
// edited Authorizer gets a new key, so answers given under the old
// configuration are never reused.
func (a *Authorizer) Key() string {
	var b strings.Builder
	b.WriteString(a.Object)
	b.WriteString("|" + string(a.Type) + "|" + strings.Join(a.IdentitySources, ","))
	if r := a.Request; r != nil {
		if r.Service != nil {
			b.WriteString("|" + r.Service.Key() + r.Path)
		}
		if r.Function != nil {
			b.WriteString("|function " + r.Function.Key())
		}
		fmt.Fprintf(&b, "|%s|%s|%t|%t|%d", r.URI, r.PayloadFormatVersion, r.SimpleResponses, r.Token, r.ResultTTLSeconds)
	}
	return b.String()
}

// validate checks what the translator must already guarantee.
func (a *Authorization) validate() error {
	if a == nil {
		return nil
	}
	z := a.Authorizer
	switch {
	case z == nil:
		return errors.New("authorization without an authorizer")
	case z.Type == AuthorizerJWT && z.JWT == nil, z.Type == AuthorizerRequest && z.Request == nil:
		return fmt.Errorf("authorizer %s of type %s without its settings", z.Object, z.Type)
	case z.Type != AuthorizerJWT && z.Type != AuthorizerRequest:
		return fmt.Errorf("authorizer %s has unknown type %q", z.Object, z.Type)
	}
	if j := z.JWT; j != nil {
		if len(j.Audiences) == 0 || len(j.Algorithms) == 0 {
			return fmt.Errorf("JWT authorizer %s without audiences or algorithms", z.Object)
		}
		for _, alg := range j.Algorithms {
			if alg == "none" || strings.HasPrefix(alg, "HS") {
				return fmt.Errorf("JWT authorizer %s allows algorithm %q", z.Object, alg)
			}
		}
	}
	if r := z.Request; r != nil && btoi(r.Service != nil)+btoi(r.URI != "")+btoi(r.Function != nil) != 1 {
		return fmt.Errorf("REQUEST authorizer %s needs exactly one of service, uri and function", z.Object)
	}
	if r := z.Request; r != nil && r.TimeoutMillis <= 0 {
		return fmt.Errorf("REQUEST authorizer %s needs a positive timeout", z.Object)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
