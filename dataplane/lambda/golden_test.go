package lambda

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The golden tests build a Request from the facts of each of AWS's sample
// events in aws-lambda-go's events/testdata, encode it, and compare the
// event with the sample field for field. Normalisations (goldenCase.ignore)
// and keys the samples leave out (goldenCase.extra) are listed per case
// with the reason. Every event must also decode into aws-lambda-go's event
// type and encode again without losing a value.

const (
	whyTimeMismatch = "the sample's time disagrees with its own timeEpoch; the event renders timeEpoch"
	whyIAMIdentity  = "IAM and Cognito caller fields: Turnpike has neither and sends null, as AWS does for other callers"
	whyAuthzContext = "AWS's authorizer samples abbreviate the 1.0 requestContext; Turnpike sends the full one of its proxy events"
)

func restSampleRequest(t *testing.T) *Request {
	h := http.Header{
		"Accept": {"*/*"}, "Accept-Encoding": {"gzip, deflate"}, "cache-control": {"no-cache"},
		"CloudFront-Forwarded-Proto": {"https"}, "CloudFront-Is-Desktop-Viewer": {"true"},
		"CloudFront-Is-Mobile-Viewer": {"false"}, "CloudFront-Is-SmartTV-Viewer": {"false"},
		"CloudFront-Is-Tablet-Viewer": {"false"}, "CloudFront-Viewer-Country": {"US"},
		"Content-Type": {"application/json"}, "headerName": {"headerValue"},
		"Host": {"gy415nuibc.execute-api.us-east-1.amazonaws.com"}, "Postman-Token": {"9f583ef0-ed83-4a38-aef3-eb9ce3f7a57f"},
		"User-Agent": {"PostmanRuntime/2.4.5"}, "Via": {"1.1 d98420743a69852491bbdea73f7680bd.cloudfront.net (CloudFront)"},
		"X-Amz-Cf-Id":     {"pn-PWIJc6thYnZm5P0NMgOUglL1DYtl0gdeJky8tqsg8iS_sgsKD1A=="},
		"X-Forwarded-For": {"54.240.196.186, 54.182.214.83"}, "X-Forwarded-Port": {"443"}, "X-Forwarded-Proto": {"https"},
	}
	return &Request{
		API: REST, Method: "POST", Path: "/hello/world", RawQuery: "name=me", Header: h,
		Body: []byte("{\r\n\t\"a\": 1\r\n}"), ResourcePath: "/{proxy+}", ResourceID: "roq9wj", Stage: "testStage",
		PathParameters: map[string]string{"proxy": "hello/world"},
		StageVariables: map[string]string{"stageVariableName": "stageVariableValue"},
		RequestID:      "deef4878-7910-11e6-8f14-25afc3e9ae33", ExtendedRequestID: "TWegAcC4EowCHnA=",
		Time: time.UnixMilli(1589522469693), SourceIP: "192.168.196.186", UserAgent: "PostmanRuntime/2.4.5",
		DomainName: "gy415nuibc.execute-api.us-east-2.amazonaws.com", DomainPrefix: "y0ne18dixk",
		AccountID: "12345678912", APIID: "gy415nuibc", Protocol: "HTTP/1.1",
		APIKey: "theApiKey", APIKeyID: "theApiKeyId", ClientCert: exampleCert(t),
		Authorizer: &Authorizer{Kind: AuthorizerLambda, PrincipalID: "admin", IntegrationLatency: -1,
			Context: map[string]any{"clientId": json.Number("1"), "clientName": "Exata"}},
	}
}

func TestEventV1MatchesAWSRestSamples(t *testing.T) {
	identity := map[string]string{}
	for _, k := range []string{"cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "accessKey",
		"cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user"} {
		identity["/requestContext/identity/"+k] = whyIAMIdentity
	}
	extra := map[string]string{
		"/isBase64Encoded":                        "AWS sends it; the hand-written sample leaves it out",
		"/requestContext/identity/principalOrgId": "null, as in AWS's documented 1.0 event",
	}
	r := restSampleRequest(t)
	event := AppendEventV1(nil, r)
	goldenCase{sample: "apigw-request.json", ignore: identity, extra: extra}.check(t, event)
	lossless(t, event, new(events.APIGatewayProxyRequest))

	r.ClientCert = nil
	openapi := map[string]string{"/requestContext/operationName": "an OpenAPI operation name: Turnpike routes have none"}
	for k, v := range identity {
		openapi[k] = v
	}
	goldenCase{sample: "apigw-restapi-openapi-request.json", ignore: openapi, extra: extra}.check(t, AppendEventV1(nil, r))
}

// v2SampleRequest is the request of the apigw-v2-request-*.json samples.
func v2SampleRequest(a *Authorizer, t *testing.T) *Request {
	return &Request{
		API: HTTP, Method: "GET", Path: "/my/path", RawQuery: "parameter1=value1&parameter1=value2&parameter2=value",
		Header: http.Header{"Header1": {"value1"}, "Header2": {"value2"}, "Cookie": {"cookie1; cookie2"}},
		Body:   []byte("{\r\n\t\"a\": 1\r\n}"), RouteKey: "$default", Stage: "$default",
		PathParameters: map[string]string{"proxy": "hello/world"},
		StageVariables: map[string]string{"stageVariable1": "value1", "stageVariable2": "value2"},
		RequestID:      "id", Time: time.UnixMilli(1583348638390), SourceIP: "IP", UserAgent: "agent",
		DomainName: "id.execute-api.us-east-1.amazonaws.com", AccountID: "123456789012", APIID: "api-id",
		Protocol: "HTTP/1.1", ClientCert: sampleCert(t), Authorizer: a,
	}
}

func TestEventV2MatchesAWSSamples(t *testing.T) {
	noAuthz := &Request{
		API: HTTP, Method: "GET", Path: "/", Host: "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com",
		Header: http.Header{
			"Accept": {"*/*"}, "Content-Length": {"0"}, "User-Agent": {"curl/7.58.0"},
			"X-Amzn-Trace-Id": {"Root=1-5e9f0c65-1de4d666d4dd26aced652b6c"}, "X-Forwarded-For": {"1.2.3.4"},
			"X-Forwarded-Port": {"443"}, "X-Forwarded-Proto": {"https"},
		},
		RouteKey: "$default", Stage: "$default", RequestID: "LV7fzho-PHcEJPw=", Time: time.UnixMilli(1587481701067),
		SourceIP: "1.2.3.4", UserAgent: "curl/7.58.0", DomainName: "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com",
		AccountID: "123456789012", APIID: "aaaaaaaaaa", Protocol: "HTTP/1.1", ClientCert: sampleCert(t),
	}
	// Captured from AWS: matched exactly, time included.
	event := AppendEventV2(nil, noAuthz)
	goldenCase{sample: "apigw-v2-request-no-authorizer.json"}.check(t, event)
	lossless(t, event, new(events.APIGatewayV2HTTPRequest))

	timeOnly := map[string]string{"/requestContext/time": whyTimeMismatch}
	jwt := &Authorizer{Kind: AuthorizerJWT, Claims: map[string]any{"claim1": "value1", "claim2": "value2"}, Scopes: []string{"scope1", "scope2"}}
	event = AppendEventV2(nil, v2SampleRequest(jwt, t))
	goldenCase{sample: "apigw-v2-request-jwt-authorizer.json", ignore: timeOnly, adjust: lowercaseHeaders}.check(t, event)
	lossless(t, event, new(events.APIGatewayV2HTTPRequest))

	lambda := &Authorizer{Kind: AuthorizerLambda, PrincipalID: "u", Context: map[string]any{"key": "value"}}
	event = AppendEventV2(nil, v2SampleRequest(lambda, t))
	goldenCase{sample: "apigw-v2-request-lambda-authorizer.json", ignore: timeOnly, adjust: lowercaseHeaders}.check(t, event)
	lossless(t, event, new(events.APIGatewayV2HTTPRequest))

	iam := map[string]string{"/requestContext/time": whyTimeMismatch, "/requestContext/authorizer": "IAM authorization: Turnpike has no IAM callers"}
	goldenCase{sample: "apigw-v2-request-iam.json", ignore: iam, adjust: lowercaseHeaders}.check(t, AppendEventV2(nil, v2SampleRequest(nil, t)))
}

func TestAuthorizerEventsMatchAWSSamples(t *testing.T) {
	t.Run("REST TOKEN", func(t *testing.T) {
		event := AppendTokenAuthorizerEvent(nil, "allow", "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/")
		goldenCase{sample: "apigw-custom-auth-request.json"}.check(t, event)
		lossless(t, event, new(events.APIGatewayCustomAuthorizerRequest))
	})
	t.Run("HTTP 2.0", func(t *testing.T) {
		r := v2SampleRequest(nil, t)
		r.Method, r.PathParameters, r.ClientCert = "POST", map[string]string{"parameter1": "value1"}, exampleCert(t)
		in := &AuthorizerInput{ARN: "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request", IdentitySource: []string{"user1", "123"}}
		event := AppendAuthorizerEventV2(nil, r, in)
		goldenCase{sample: "apigw-v2-custom-authorizer-v2-request.json", adjust: lowercaseHeaders,
			ignore: map[string]string{"/requestContext/time": whyTimeMismatch}}.check(t, event)
		lossless(t, event, new(events.APIGatewayV2CustomAuthorizerV2Request))
	})
	t.Run("REST REQUEST", func(t *testing.T) {
		event := AppendAuthorizerEventV1(nil, restAuthorizerRequest(t, REST), restAuthorizerInput)
		goldenCase{sample: "apigw-custom-auth-request-type-request.json", extra: authorizerV1Extra()}.check(t, event)
		lossless(t, event, new(events.APIGatewayCustomAuthorizerRequestTypeRequest), authorizerV1Missing()...)
	})
	t.Run("HTTP 1.0", func(t *testing.T) {
		r := restAuthorizerRequest(t, HTTP)
		r.Header = http.Header{
			"X-AMZ-Date": {"20170718T062915Z"}, "Accept": {"*/*"}, "HeaderAuth1": {"headerValue1"},
			"CloudFront-Viewer-Country": {"US"}, "CloudFront-Forwarded-Proto": {"https"},
			"CloudFront-Is-Tablet-Viewer": {"false"}, "CloudFront-Is-Mobile-Viewer": {"false"}, "User-Agent": {"..."},
		}
		r.APIID, r.ClientCert = "abcdef123", exampleCert(t)
		in := &AuthorizerInput{ARN: "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request", IdentitySource: []string{"user1", "123"}}
		extra := authorizerV1Extra()
		extra["/multiValueHeaders"] = "the REST REQUEST event's multi-value maps: 1.0 is REST-compatible (DG:http-api-lambda-authorizer)"
		extra["/multiValueQueryStringParameters"] = extra["/multiValueHeaders"]
		event := AppendAuthorizerEventV1(nil, r, in)
		goldenCase{sample: "apigw-v2-custom-authorizer-v1-request.json", extra: extra}.check(t, event)
		lossless(t, event, new(events.APIGatewayV2CustomAuthorizerV1Request), append(authorizerV1Missing(), "/multiValueHeaders", "/multiValueQueryStringParameters")...)
	})
}

var restAuthorizerInput = &AuthorizerInput{ARN: "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/request"}

func restAuthorizerRequest(t *testing.T, api APIType) *Request {
	h := http.Header{
		"X-AMZ-Date": {"20170718T062915Z"}, "Accept": {"*/*"}, "HeaderAuth1": {"headerValue1"},
		"CloudFront-Viewer-Country": {"US"}, "CloudFront-Forwarded-Proto": {"https"}, "CloudFront-Is-Tablet-Viewer": {"false"},
		"CloudFront-Is-Mobile-Viewer": {"false"}, "User-Agent": {"..."}, "X-Forwarded-Proto": {"https"},
		"CloudFront-Is-SmartTV-Viewer": {"false"}, "Host": {"....execute-api.us-east-1.amazonaws.com"},
		"Accept-Encoding": {"gzip, deflate"}, "X-Forwarded-Port": {"443"}, "X-Amzn-Trace-Id": {"..."},
		"Via": {"...cloudfront.net (CloudFront)"}, "X-Amz-Cf-Id": {"..."}, "X-Forwarded-For": {"..., ..."},
		"Postman-Token": {"..."}, "cache-control": {"no-cache"}, "CloudFront-Is-Desktop-Viewer": {"true"},
		"Content-Type": {"application/x-www-form-urlencoded"},
	}
	return &Request{
		API: api, Method: "GET", Path: "/request", RawQuery: "QueryString1=queryValue1", Header: h,
		ResourcePath: "/request", ResourceID: "05c7jb", Stage: "test",
		StageVariables: map[string]string{"StageVar1": "stageValue1"}, RequestID: "...", SourceIP: "...",
		AccountID: "123456789012", APIID: "s4x3opwd6i", APIKey: "...", ClientCert: sampleCert(t),
	}
}

func authorizerV1Extra() map[string]string {
	extra := map[string]string{}
	for _, k := range []string{"domainName", "domainPrefix", "extendedRequestId", "protocol", "requestTime", "requestTimeEpoch", "identity"} {
		extra["/requestContext/"+k] = whyAuthzContext
	}
	return extra
}

// authorizerV1Missing are the 1.0 requestContext keys aws-lambda-go's
// authorizer types have no field for.
func authorizerV1Missing() []string {
	var out []string
	for _, k := range []string{"domainName", "domainPrefix", "extendedRequestId", "protocol", "requestTime", "requestTimeEpoch", "identity/userAgent"} {
		out = append(out, "/requestContext/"+k)
	}
	return out
}

func TestWebSocketEventsMatchAWSSamples(t *testing.T) {
	base := func() *Request {
		return &Request{
			API: WebSocket, Stage: "prod", SourceIP: "49.105.91.154",
			UserAgent:  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
			DomainName: "dl7ptocha9.execute-api.ap-northeast-1.amazonaws.com",
		}
	}
	msg := base()
	msg.RouteKey, msg.RequestID, msg.Time, msg.APIID = "$default", "R1knPH17NjMFftw=", time.UnixMilli(1705751700453), "gy415nuibc"
	msg.Body = []byte("{\r\n\t\"a\": 1\r\n}")
	msg.WebSocket = &WebSocketEvent{ConnectionID: "R1kmxc2VNjMCFIA=", EventType: EventMessage, MessageID: "R1knPc2ntjMCFIA=", ConnectedAt: time.UnixMilli(1705751697419)}
	event := AppendWebSocketEvent(nil, msg)
	goldenCase{sample: "apigw-websocket-request-send-message.json"}.check(t, event)
	lossless(t, event, new(events.APIGatewayWebsocketProxyRequest))

	bye := base()
	bye.RouteKey, bye.RequestID, bye.Time, bye.APIID = "$disconnect", "R1koeHsUtjMFbRw=", time.UnixMilli(1705751708326), "dl7ptocha9"
	bye.Header = http.Header{"Host": {"dl7ptocha9.execute-api.ap-northeast-1.amazonaws.com"}, "x-api-key": {""}, "X-Forwarded-For": {""}, "x-restapi": {""}}
	bye.WebSocket = &WebSocketEvent{ConnectionID: "R1kmxc2VNjMCFIA=", EventType: EventDisconnect, ConnectedAt: time.UnixMilli(1705751697419), DisconnectStatusCode: 1001}
	event = AppendWebSocketEvent(nil, bye)
	goldenCase{sample: "apigw-websocket-request-disconnect.json"}.check(t, event)
	lossless(t, event, new(events.APIGatewayWebsocketProxyRequest))

	// apigw-websocket-request.json is a REST event with CONNECT fields
	// mixed in (its headers and multiValueHeaders disagree, its
	// requestTimeEpoch is 0): only its WebSocket requestContext facts are
	// compared.
	hello := base()
	hello.RouteKey, hello.RequestID, hello.APIID, hello.Stage = "$connect", "deef4878-7910-11e6-8f14-25afc3e9ae33", "gy415nuibc", "testStage"
	hello.ExtendedRequestID, hello.DomainName = "TWegAcC4EowCHnA=", "*.execute-api.eu-central-1.amazonaws.com"
	hello.Time, _ = time.Parse(requestTimeLayout, "07/Jan/2019:09:20:57 +0000")
	hello.Host = "*.execute-api.eu-central-1.amazonaws.com"
	hello.WebSocket = &WebSocketEvent{ConnectionID: "TWegAcC4EowCHnA=", EventType: EventConnect, ConnectedAt: time.UnixMilli(1547230720092)}
	keep := []string{"connectionId", "eventType", "routeKey", "connectedAt", "messageDirection", "extendedRequestId", "requestTime", "domainName", "apiId", "stage", "requestId"}
	event = AppendWebSocketEvent(nil, hello)
	goldenCase{sample: "apigw-websocket-request.json", extra: map[string]string{"": "only the WebSocket facts of this sample are compared"},
		adjust: func(m map[string]any) {
			ctx := m["requestContext"].(map[string]any)
			for k := range m {
				delete(m, k)
			}
			kept := map[string]any{}
			for _, k := range keep {
				kept[k] = ctx[k]
			}
			m["requestContext"] = kept
		}}.check(t, event)
	lossless(t, event, new(events.APIGatewayWebsocketProxyRequest))
}
