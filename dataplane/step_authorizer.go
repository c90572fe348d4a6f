package dataplane

import (
	"net/http"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/auth/jwt"
	"github.com/turnpike-io/turnpike/dataplane/auth/request"
	"github.com/turnpike-io/turnpike/dataplane/function"
	"github.com/turnpike-io/turnpike/dataplane/metrics"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// Messages of the authorizer answers (api.md, Errors). Part of the
// AWS-compatible contract: never reword them.
const (
	msgUnauthorized  = "Unauthorized"
	msgForbidden     = "Forbidden"
	msgExplicitDeny  = "User is not authorized to access this resource with an explicit deny"
	msgImplicitDeny  = "User is not authorized to access this resource"
	msgInternalError = "Internal Server Error"
)

// authorizers are the process-wide authorizer stores: JWKS key sets and
// REQUEST answer caches. They live in the Server, not in the table, so a
// swap never flushes them.
type authorizers struct {
	jwt     *jwt.Store
	request *request.Client
}

// newAuthorizers builds the stores of o; store is the endpoint store of the
// built-in forwarder (nil when the caller supplied its own Forwarder and no
// *upstream.Store as Endpoints: Service authorizers then answer 500); fns
// invokes Lambda authorizer functions.
func newAuthorizers(o Options, store *upstream.Store, fns *function.Invoker) authorizers {
	return authorizers{
		jwt:     jwt.NewStore(jwt.Options{DenyEgress: o.DenyEgress, AllowHTTP: o.AllowHTTPJWKS, Logger: o.Logger.WithName("jwks")}),
		request: request.NewClient(request.Options{Store: store, DenyEgress: o.DenyEgress, Functions: fns}),
	}
}

// AuthorizerStats reports JWKS fetches and REQUEST answer cache counters
// (for metrics).
func (s *Server) AuthorizerStats() (jwksFetches, jwksFailures, cacheHits, cacheMisses, calls uint64) {
	jwksFetches, jwksFailures = s.auth.jwt.Fetches()
	cacheHits, cacheMisses, calls = s.auth.request.Stats()
	return
}

// authorize is the authorizer step, after throttling: the route's
// authorizer decides, and its result stays on the exchange for the API key
// step (usageIdentifierKey), the integration and the $context. The
// authorizer reads the request's $context as it is at this point.
func (x *exchange) authorize() bool {
	az := x.route.Auth
	if az == nil {
		return true
	}
	c := x.context()
	q := &auth.Request{
		HTTP:           x.r,
		Context:        c,
		RequestID:      c.RequestID,
		Namespace:      c.AccountID,
		Api:            c.APIID,
		Stage:          c.Stage,
		StageVariables: x.variables(), // the canary's for a canary request
		RouteKey:       c.RouteKey,
		Path:           c.Path,
		RoutePath:      canonicalPath(x.segs),
		PathParams:     x.route.Params(x.segs).Map(),
		SourceIP:       c.SourceIP,
		DomainName:     c.DomainName,
		REST:           x.api.Protocol == table.ProtocolREST,
	}
	ctx, span := x.startAuthorizerSpan(az.Authorizer)
	typ := metrics.AuthorizerRequest
	if az.Authorizer.Type == table.AuthorizerJWT {
		typ = metrics.AuthorizerJWT
		x.authz = x.s.auth.jwt.Authorize(ctx, q, az.Authorizer, az.Scopes)
	} else {
		x.authz = x.s.auth.request.Authorize(ctx, q, az.Authorizer)
	}
	x.endAuthorizerSpan(span)
	x.s.metrics.AuthorizerDecided(typ, x.authz.Outcome == auth.OutcomeError)
	return x.answerAuthz(az.Authorizer.Object)
}

// answerAuthz renders a decision that is not an allow.
func (x *exchange) answerAuthz(object string) bool {
	res := x.authz
	hint := "authorizer " + object + ": " + res.Error
	switch res.Outcome {
	case auth.OutcomeAllow:
		return true
	case auth.OutcomeUnauthorized:
		if res.Challenge != "" {
			x.w.Header()["Www-Authenticate"] = []string{res.Challenge}
		}
		x.fail(http.StatusUnauthorized, msgUnauthorized, hint)
	case auth.OutcomeExplicitDeny:
		msg := msgForbidden
		if x.api.Protocol == table.ProtocolREST {
			msg = msgExplicitDeny
		}
		x.fail(http.StatusForbidden, msg, hint)
	case auth.OutcomeForbidden:
		msg := msgForbidden
		if x.api.Protocol == table.ProtocolREST && res.Error != "" && x.route.Auth.Authorizer.Type == table.AuthorizerRequest && !isSimple(x.route.Auth.Authorizer) {
			msg = msgImplicitDeny
		}
		x.fail(http.StatusForbidden, msg, hint)
	default:
		x.fail(http.StatusInternalServerError, msgInternalError, hint)
	}
	return false
}

func isSimple(a *table.Authorizer) bool {
	return a.Request != nil && a.Request.SimpleResponses && a.Request.PayloadFormatVersion == "2.0"
}

// canonicalPath is the path after the stage prefix as routing sees it: the
// decoded segments joined with "/" (they never contain "/": encoded slashes
// are refused), no trailing slash. Policies are matched against this form so
// that "/admin/" or "/%61dmin" cannot slip past a Deny on "/admin" while
// routing to the same route.
func canonicalPath(segs []string) string {
	return "/" + strings.Join(segs, "/")
}
