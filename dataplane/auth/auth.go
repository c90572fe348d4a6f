// Package auth holds what the dataplane's authorizers share: the request
// facts an authorizer may read (Request), the decision it returns (Result),
// identity-source extraction and route ARNs. The authorizers themselves live
// in auth/jwt and auth/request; the dataplane dispatches between them.
//
// Invariants:
//   - An authorizer never writes the response: it returns a Result and the
//     dataplane renders the status and AWS-compatible body, so every denial
//     carries the request id, CORS headers and an access log entry.
//   - Every failure mode fails closed: only OutcomeAllow lets a request on.
//   - This package imports neither the CRD types nor the controllers.
package auth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// Outcome is the decision of an authorizer.
type Outcome int

// Outcomes, each mapped to one response by the dataplane (api.md, Errors).
const (
	// OutcomeAllow lets the request through.
	OutcomeAllow Outcome = iota
	// OutcomeUnauthorized is 401: no or bad credentials.
	OutcomeUnauthorized
	// OutcomeForbidden is 403: valid credentials without permission (missing
	// scope, simple deny, implicit IAM deny).
	OutcomeForbidden
	// OutcomeExplicitDeny is 403 from an IAM policy statement with Effect Deny
	// (REST Apis say so in the body).
	OutcomeExplicitDeny
	// OutcomeError is 500: the authorizer failed, timed out or answered
	// something malformed.
	OutcomeError
)

// Result is an authorizer's decision and what it learned about the caller.
// Results may be shared between requests (answer cache): never mutate one.
type Result struct {
	Outcome Outcome
	// PrincipalID is the caller: the JWT's sub, or the REQUEST answer's
	// principalId.
	PrincipalID string
	// Claims are the verified JWT claims ($context.authorizer.claims.X).
	Claims map[string]any
	// Scopes are the JWT's scopes (scope or scp).
	Scopes []string
	// Context is the REQUEST answer's context ($context.authorizer.X).
	Context map[string]any
	// UsageIdentifierKey is the API key a REQUEST answer supplies for
	// apiKeySource AUTHORIZER.
	UsageIdentifierKey string
	// Error says why the request was not allowed ($context.authorizer.error):
	// for the access log and the error hint, never a secret.
	Error string
	// Challenge is the WWW-Authenticate header value of a 401 ("" = none).
	Challenge string
}

// Value resolves the name after "$context.authorizer." for parameter
// mapping and access logs: "principalId", "claims.X", or a context key.
// Missing values are "" with ok false.
func (r *Result) Value(name string) (string, bool) {
	if r == nil {
		return "", false
	}
	if name == "principalId" {
		return r.PrincipalID, r.PrincipalID != ""
	}
	if c, ok := strings.CutPrefix(name, "claims."); ok && r.Claims != nil {
		v, ok := r.Claims[c]
		return Stringify(v), ok
	}
	v, ok := r.Context[name]
	return Stringify(v), ok
}

// Stringify renders a JSON value as AWS does in $context.authorizer values:
// strings as they are, numbers and booleans in JSON form, arrays and objects
// as JSON text.
func Stringify(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// Request is what an authorizer may read about one request. The dataplane
// fills it from the request's $context; authorizers must not keep it after
// returning.
type Request struct {
	HTTP *http.Request
	// Context is the request's $context at authorization time: identity
	// sources read $context.X from it. The fields below are its values.
	Context   *reqctx.Context
	RequestID string
	// Namespace and Api name the Api; Stage is the stage name ("$default" too).
	Namespace, Api, Stage string
	StageVariables        map[string]string
	// RouteKey is the matched route key.
	RouteKey string
	// Path is the escaped request path as received (with the stage prefix);
	// RoutePath is the canonical path after the stage prefix (decoded
	// segments joined with "/", no trailing slash), at least "/": the form
	// policy resources are matched against, whatever escaping the client used.
	Path, RoutePath string
	// PathParams are the route's decoded path parameters.
	PathParams map[string]string
	SourceIP   string
	// DomainName is the canonical request host.
	DomainName string
	// REST is set on REST Apis: Lambda authorizer events take REST's shape.
	REST bool
}

// RouteARN is the resource a policy statement must match for this request:
// arn:turnpike:execute-api:{namespace}:{api}/{stage}/{METHOD}/{path} with the
// canonical path after the stage prefix (RoutePath), without its leading slash.
func (q *Request) RouteARN() string {
	return "arn:turnpike:execute-api:" + q.Namespace + ":" + q.Api + "/" + q.Stage + "/" +
		q.HTTP.Method + "/" + strings.TrimPrefix(q.RoutePath, "/")
}

// ContextValue resolves a $context.X variable that identity sources may
// use, from the request's $context; an empty value is not ok.
func (q *Request) ContextValue(name string) (string, bool) {
	if q.Context == nil {
		return "", false
	}
	v, ok := q.Context.Value(name)
	return v, ok && v != ""
}

// IdentityValue evaluates one identity source expression. Missing and empty
// values are not ok: AWS answers 401 without calling the authorizer then.
// Several header values are joined with "," as AWS does.
func (q *Request) IdentityValue(src string) (string, bool) {
	var v string
	switch {
	case strings.HasPrefix(src, "$request.header."):
		v = strings.Join(q.HTTP.Header.Values(strings.TrimPrefix(src, "$request.header.")), ",")
	case strings.HasPrefix(src, "$request.querystring."):
		v = strings.Join(q.HTTP.URL.Query()[strings.TrimPrefix(src, "$request.querystring.")], ",")
	case strings.HasPrefix(src, "$stageVariables."):
		v = q.StageVariables[strings.TrimPrefix(src, "$stageVariables.")]
	case strings.HasPrefix(src, "$context."):
		v, _ = q.ContextValue(strings.TrimPrefix(src, "$context."))
	}
	return v, v != ""
}

// Unauthorized is a 401 Result with a Bearer challenge: desc is the
// error_description (quotes and backslashes are removed so the header stays
// well formed).
func Unauthorized(desc string) *Result {
	clean := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, desc)
	return &Result{
		Outcome:   OutcomeUnauthorized,
		Error:     desc,
		Challenge: `Bearer error="invalid_token", error_description="` + clean + `"`,
	}
}

// Failed is a 500 Result: the authorizer could not decide.
func Failed(why string) *Result { return &Result{Outcome: OutcomeError, Error: why} }
