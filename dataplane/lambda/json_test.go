package lambda

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The hand-written encoders must write what encoding/json writes for a
// reference event built with maps by the same AWS rules, value for value,
// for any headers, query and body: quotes, backslashes, control
// characters, invalid UTF-8, non-ASCII, repeated names, malformed escapes.
func TestEventsMatchAReferenceBuiltWithMaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 1500 {
		r := randomRequest(rng)
		for _, v := range []PayloadVersion{V2, V1} {
			var got []byte
			var ref map[string]any
			if v == V2 {
				got, ref = AppendEventV2(nil, r), referenceV2(r)
			} else {
				got, ref = AppendEventV1(nil, r), referenceV1(r)
			}
			want, err := json.Marshal(ref)
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("case %d %s: invalid JSON %v\n%q", i, v, err, got)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("case %d %s:\n got %s\nwant %s", i, v, got, want)
			}
		}
	}
}

var alphabet = []string{"a", "Z", "0", " ", ",", ";", "=", "&", "+", "%", "%4", "%41", "%zz", "%e2%98%83", `"`, `\`,
	"\n", "\t", "\x00", "\x1f", "\x7f", "é", "☃", "\u2028", "\xff", "\xc3", "<", "&amp;", "/"}

func randomString(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range rng.IntN(n + 1) {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

func randomRequest(rng *rand.Rand) *Request {
	names := []string{"Accept", "Cookie", "X-Custom", "Content-Type", "X-A", "x-lower", "Host", "X-Multi"}
	h := http.Header{}
	for range rng.IntN(6) {
		n := names[rng.IntN(len(names))]
		h[n] = append(h[n], randomString(rng, 6))
	}
	params := map[string]string{}
	for range rng.IntN(3) {
		params[randomString(rng, 3)] = randomString(rng, 4)
	}
	body := []byte(randomString(rng, 12))
	r := &Request{
		API: APIType(rng.IntN(2)), Method: "POST", Path: "/prod/" + randomString(rng, 4), APIPath: randomString(rng, 3),
		RawQuery: randomString(rng, 10), Host: randomString(rng, 2), Header: h, Body: body, Base64: rng.IntN(2) == 0,
		RouteKey: randomString(rng, 3), ResourcePath: randomString(rng, 3), ResourceID: randomString(rng, 1),
		Stage: randomString(rng, 2), PathParameters: params, StageVariables: map[string]string{"v": randomString(rng, 3)},
		RequestID: randomString(rng, 3), Time: time.UnixMilli(rng.Int64N(1 << 42)), SourceIP: randomString(rng, 2),
		UserAgent: randomString(rng, 3), DomainName: randomString(rng, 4), AccountID: randomString(rng, 2),
		APIID: randomString(rng, 2), Protocol: "HTTP/1.1", APIKey: randomString(rng, 1),
	}
	if rng.IntN(2) == 0 {
		r.Authorizer = &Authorizer{Kind: AuthorizerKind(1 + rng.IntN(2)), PrincipalID: randomString(rng, 3), IntegrationLatency: rng.Int64N(3) - 1,
			Claims:  map[string]any{randomString(rng, 2): randomString(rng, 3), "groups": []any{"a", randomString(rng, 2)}, "n": json.Number("12")},
			Context: map[string]any{randomString(rng, 2): randomString(rng, 3), "nested": map[string]any{"x": []any{1.5, true, nil}}},
			Scopes:  []string{randomString(rng, 2)}[:rng.IntN(2)]}
	}
	return r
}

// refQuery parses a query by the documented rules with net/url: pairs in
// order, keys sorted stably.
func refQuery(raw string) (keys []string, values map[string][]string) {
	values = map[string][]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = refUnescape(k), refUnescape(v)
		if _, ok := values[k]; !ok {
			keys = append(keys, k)
		}
		values[k] = append(values[k], v)
	}
	return keys, values
}

func refUnescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

func refBody(r *Request) any {
	if len(r.Body) == 0 {
		return nil
	}
	if r.Base64 {
		return base64.StdEncoding.EncodeToString(r.Body)
	}
	return string(r.Body)
}

func refHost(r *Request) bool {
	return r.Host != "" && !slices.ContainsFunc(slices.Collect(mapsKeys(r.Header)), func(k string) bool { return strings.EqualFold(k, "host") })
}

func mapsKeys(h http.Header) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func refClaims(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = claimStringRef(v)
	}
	return out
}

func claimStringRef(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := []string{}
		for _, x := range t {
			parts = append(parts, claimStringRef(x))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func referenceV2(r *Request) map[string]any {
	headers := map[string]any{}
	if refHost(r) {
		headers["host"] = r.Host
	}
	var cookies []any
	for k, vs := range r.Header {
		if strings.EqualFold(k, "cookie") {
			for _, v := range vs {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.Trim(c, " \t"); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[asciiLower(k)] = strings.Join(vs, ",")
	}
	ctx := map[string]any{
		"accountId": r.AccountID, "apiId": r.APIID, "domainName": r.DomainName, "domainPrefix": r.domainPrefix(),
		"http":      map[string]any{"method": r.Method, "path": r.Path, "protocol": r.Protocol, "sourceIp": r.SourceIP, "userAgent": r.UserAgent},
		"requestId": r.RequestID, "routeKey": r.RouteKey, "stage": r.Stage,
		"time": r.Time.UTC().Format(requestTimeLayout), "timeEpoch": r.Time.UnixMilli(),
	}
	if a := r.Authorizer; a != nil {
		if a.Kind == AuthorizerJWT {
			jwt := map[string]any{"claims": refClaims(a.Claims)}
			if len(a.Scopes) > 0 {
				jwt["scopes"] = a.Scopes
			}
			ctx["authorizer"] = map[string]any{"jwt": jwt}
		} else {
			ctx["authorizer"] = map[string]any{"lambda": a.Context}
		}
	}
	m := map[string]any{
		"version": "2.0", "routeKey": r.RouteKey, "rawPath": r.Path, "rawQueryString": r.RawQuery,
		"headers": headers, "requestContext": ctx, "isBase64Encoded": r.Base64,
	}
	if len(cookies) > 0 {
		m["cookies"] = cookies
	}
	if keys, values := refQuery(r.RawQuery); len(keys) > 0 {
		q := map[string]any{}
		for _, k := range keys {
			q[k] = strings.Join(values[k], ",")
		}
		m["queryStringParameters"] = q
	}
	if len(r.PathParameters) > 0 {
		m["pathParameters"] = r.PathParameters
	}
	if len(r.StageVariables) > 0 {
		m["stageVariables"] = r.StageVariables
	}
	if b := refBody(r); b != nil {
		m["body"] = b
	}
	return m
}

func referenceV1(r *Request) map[string]any {
	var headers, multi any
	if len(r.Header) > 0 || r.Host != "" {
		h, mh := map[string]any{}, map[string]any{}
		if refHost(r) {
			h["Host"], mh["Host"] = r.Host, []string{r.Host}
		}
		for k, vs := range r.Header {
			h[k], mh[k] = vs[len(vs)-1], vs
		}
		headers, multi = h, mh
	}
	var query, multiQuery any
	if keys, values := refQuery(r.RawQuery); len(keys) > 0 {
		q, mq := map[string]any{}, map[string]any{}
		for _, k := range keys {
			q[k], mq[k] = values[k][len(values[k])-1], values[k]
		}
		query, multiQuery = q, mq
	}
	identity := map[string]any{"sourceIp": r.SourceIP, "userAgent": r.UserAgent}
	for _, k := range []string{"cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "principalOrgId", "accessKey",
		"cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user"} {
		identity[k] = nil
	}
	if r.APIKey != "" {
		identity["apiKey"] = r.APIKey
	}
	var resourceID any
	if r.ResourceID != "" {
		resourceID = r.ResourceID
	}
	ctx := map[string]any{
		"accountId": r.AccountID, "apiId": r.APIID, "domainName": r.DomainName, "domainPrefix": r.domainPrefix(),
		"extendedRequestId": r.extendedRequestID(), "httpMethod": r.Method, "identity": identity, "path": r.Path,
		"protocol": r.Protocol, "requestId": r.RequestID, "requestTime": r.Time.UTC().Format(requestTimeLayout),
		"requestTimeEpoch": r.Time.UnixMilli(), "resourceId": resourceID, "resourcePath": r.ResourcePath, "stage": r.Stage,
	}
	if a := r.Authorizer; a != nil {
		ctx["authorizer"] = refAuthorizerV1(a)
	}
	m := map[string]any{
		"resource": r.ResourcePath, "path": r.Path, "httpMethod": r.Method, "headers": headers, "multiValueHeaders": multi,
		"queryStringParameters": query, "multiValueQueryStringParameters": multiQuery, "pathParameters": nil, "stageVariables": nil,
		"requestContext": ctx, "body": refBody(r), "isBase64Encoded": r.Base64,
	}
	if r.API == HTTP {
		m["version"] = "1.0"
	} else {
		m["path"] = r.apiPath()
	}
	if len(r.PathParameters) > 0 {
		m["pathParameters"] = r.PathParameters
	}
	if len(r.StageVariables) > 0 {
		m["stageVariables"] = r.StageVariables
	}
	return m
}

func refAuthorizerV1(a *Authorizer) map[string]any {
	if a.Kind == AuthorizerJWT {
		var scopes any
		if len(a.Scopes) > 0 {
			scopes = a.Scopes
		}
		return map[string]any{"claims": refClaims(a.Claims), "scopes": scopes}
	}
	out := map[string]any{}
	for k, v := range a.Context {
		out[k] = v
	}
	out["principalId"] = a.PrincipalID
	if a.IntegrationLatency >= 0 {
		out["integrationLatency"] = a.IntegrationLatency
	} else {
		delete(out, "integrationLatency")
	}
	return out
}
