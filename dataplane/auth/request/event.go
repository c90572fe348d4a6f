package request

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/lambda"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// event builds the AWS Lambda authorizer event for the request with the
// shared codec (dataplane/lambda): a TOKEN authorizer's {type: TOKEN,
// authorizationToken, methodArn}, else the REQUEST event of the payload
// format version ("1.0" or "2.0"; REST's shape on REST Apis); identity are
// the identity-source values in configuration order. The request body is
// never sent (AWS does not). The headers are the client's without its
// forwarding headers (lambda.GatewayHeaders).
func event(cfg *table.RequestAuthorizer, q *auth.Request, identity []string, now time.Time) []byte {
	if cfg.Token {
		return lambda.AppendTokenAuthorizerEvent(nil, identity[0], q.RouteARN())
	}
	version := cfg.PayloadFormatVersion
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
		API:            apiType(q),
		Method:         r.Method,
		Path:           q.Path,
		RawQuery:       r.URL.RawQuery,
		Host:           r.Host,
		Header:         lambda.GatewayHeaders(r, q.SourceIP),
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

// apiType is the Api kind whose event shapes the authorizer gets.
func apiType(q *auth.Request) lambda.APIType {
	if q.REST {
		return lambda.REST
	}
	return lambda.HTTP
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
