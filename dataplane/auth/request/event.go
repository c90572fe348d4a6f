package request

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/lambda"
)

// event builds the AWS Lambda authorizer event of payload format version
// ("1.0" or "2.0") for the request with the shared codec (dataplane/lambda);
// identity are the identity-source values in configuration order. The
// request body is never sent (AWS does not). The headers are the client's
// without its forwarding headers (see eventHeaders).
func event(version string, q *auth.Request, identity []string, now time.Time) []byte {
	r := eventRequest(q, now)
	in := &lambda.AuthorizerInput{ARN: q.RouteARN(), IdentitySource: identity}
	if version == "1.0" {
		return lambda.AppendAuthorizerEventV1(nil, r, in)
	}
	return lambda.AppendAuthorizerEventV2(nil, r, in)
}

// eventRequest is what the authorizer event carries about the request.
// accountId and apiId are Turnpike's stand-ins: the Api's namespace and
// name.
func eventRequest(q *auth.Request, now time.Time) *lambda.Request {
	r := q.HTTP
	return &lambda.Request{
		API:            lambda.HTTP,
		Method:         r.Method,
		Path:           q.Path,
		RawQuery:       r.URL.RawQuery,
		Host:           r.Host,
		Header:         eventHeaders(q),
		RouteKey:       q.RouteKey,
		ResourcePath:   resourcePath(q.RouteKey),
		Stage:          q.Stage,
		StageVariables: q.StageVariables,
		PathParameters: q.PathParams,
		RequestID:      q.RequestID,
		Time:           now,
		SourceIP:       q.SourceIP,
		UserAgent:      r.UserAgent(),
		DomainName:     q.DomainName,
		AccountID:      q.Namespace,
		APIID:          q.Api,
		Protocol:       r.Proto,
	}
}

// eventHeaders are the request headers as the authorizer sees them. A
// client's Forwarded, X-Forwarded-* and X-Real-Ip headers are dropped, as
// they are for an integration called from an untrusted peer, and
// X-Forwarded-For/Proto/Host are set from the connection: X-Forwarded-For is
// the source IP the gateway saw (requestContext's sourceIp), so an
// authorizer that allowlists on it cannot be fooled by a header the client
// wrote. The trusted-proxy decision (--trusted-proxies) is not known here,
// so this holds behind a trusted proxy too: there X-Forwarded-For is the
// proxy's address.
func eventHeaders(q *auth.Request) http.Header {
	r := q.HTTP
	h := make(http.Header, len(r.Header)+3)
	for k, v := range r.Header {
		l := strings.ToLower(k)
		if strings.HasPrefix(l, "x-forwarded-") || l == "x-real-ip" || l == "forwarded" {
			continue
		}
		h[k] = v
	}
	if q.SourceIP != "" {
		h["X-Forwarded-For"] = []string{q.SourceIP}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	h["X-Forwarded-Proto"] = []string{proto}
	if r.Host != "" {
		h["X-Forwarded-Host"] = []string{r.Host}
	}
	return h
}

// resourcePath is the path template of a route key ("GET /pets/{id}" ->
// "/pets/{id}"); $default stays as it is.
func resourcePath(routeKey string) string {
	if _, p, ok := strings.Cut(routeKey, " "); ok {
		return p
	}
	return routeKey
}

// statusText is used in error messages about the authorizer's answer.
func statusText(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }
