package request

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
)

// event builds the AWS Lambda authorizer event of payload format version
// ("1.0" or "2.0") for the request; identity are the identity-source values
// in configuration order. The request body is never sent (AWS does not).
// The headers are the client's without its forwarding headers (see
// eventHeaders).
func event(version string, q *auth.Request, identity []string, now time.Time) map[string]any {
	if version == "1.0" {
		return eventV1(q, identity, now)
	}
	return eventV2(q, identity, now)
}

func eventV2(q *auth.Request, identity []string, now time.Time) map[string]any {
	r := q.HTTP
	h := eventHeaders(q)
	headers := make(map[string]string, len(h))
	for k, v := range h {
		if k == "Cookie" {
			continue // 2.0 moves cookies to their own field
		}
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	cookies := []string{}
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	return map[string]any{
		"version":               "2.0",
		"type":                  "REQUEST",
		"routeArn":              q.RouteARN(),
		"identitySource":        identity,
		"routeKey":              q.RouteKey,
		"rawPath":               q.Path,
		"rawQueryString":        r.URL.RawQuery,
		"cookies":               cookies,
		"headers":               headers,
		"queryStringParameters": query,
		"pathParameters":        nonNil(q.PathParams),
		"stageVariables":        nonNil(q.StageVariables),
		"requestContext": map[string]any{
			"apiId":      q.Api,
			"domainName": q.DomainName,
			"http": map[string]string{
				"method":    r.Method,
				"path":      q.Path,
				"protocol":  r.Proto,
				"sourceIp":  q.SourceIP,
				"userAgent": r.UserAgent(),
			},
			"requestId": q.RequestID,
			"routeKey":  q.RouteKey,
			"stage":     q.Stage,
			"time":      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			"timeEpoch": now.UnixMilli(),
		},
	}
}

func eventV1(q *auth.Request, identity []string, now time.Time) map[string]any {
	r := q.HTTP
	headers, multiHeaders := flatten(eventHeaders(q))
	query, multiQuery := flatten(r.URL.Query())
	return map[string]any{
		"version":                         "1.0",
		"type":                            "REQUEST",
		"methodArn":                       q.RouteARN(),
		"identitySource":                  strings.Join(identity, ","),
		"authorizationToken":              strings.Join(identity, ","),
		"resource":                        resourcePath(q.RouteKey),
		"path":                            q.Path,
		"httpMethod":                      r.Method,
		"headers":                         headers,
		"multiValueHeaders":               multiHeaders,
		"queryStringParameters":           query,
		"multiValueQueryStringParameters": multiQuery,
		"pathParameters":                  nonNil(q.PathParams),
		"stageVariables":                  nonNil(q.StageVariables),
		"requestContext": map[string]any{
			"apiId":            q.Api,
			"domainName":       q.DomainName,
			"httpMethod":       r.Method,
			"identity":         map[string]string{"sourceIp": q.SourceIP, "userAgent": r.UserAgent()},
			"path":             q.Path,
			"protocol":         r.Proto,
			"requestId":        q.RequestID,
			"requestTime":      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			"requestTimeEpoch": now.UnixMilli(),
			"resourcePath":     resourcePath(q.RouteKey),
			"stage":            q.Stage,
		},
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

// flatten gives the single-value (last value, as AWS 1.0 does) and the
// multi-value forms of a header or query map.
func flatten[M ~map[string][]string](m M) (map[string]string, map[string][]string) {
	single := make(map[string]string, len(m))
	multi := make(map[string][]string, len(m))
	for k, v := range m {
		if len(v) == 0 {
			continue
		}
		single[k] = v[len(v)-1]
		multi[k] = v
	}
	return single, multi
}

// resourcePath is the path template of a route key ("GET /pets/{id}" ->
// "/pets/{id}"); $default stays as it is.
func resourcePath(routeKey string) string {
	if _, p, ok := strings.Cut(routeKey, " "); ok {
		return p
	}
	return routeKey
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// statusText is used in error messages about the authorizer's answer.
func statusText(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }
