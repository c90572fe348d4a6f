// Command handler is an AWS Lambda function written with aws-lambda-go, as a
// team leaving AWS has them: built as a `bootstrap` binary and run by the
// Runtime Interface Emulator, exactly as in a Lambda container image. The
// FUNCTION tests (test/lambda) run it behind Turnpike.
//
// HANDLER selects what it is: "proxy-v2" and "proxy-v1" answer proxy
// events (the `mode` query parameter chooses the answer, see answer),
// "authorizer-v2" is an HTTP API simple-response authorizer,
// "authorizer-v1" a REST REQUEST authorizer with IAM policies, "token" a
// REST TOKEN authorizer.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	switch os.Getenv("HANDLER") {
	case "proxy-v2":
		lambda.Start(proxyV2)
	case "proxy-v1":
		lambda.Start(proxyV1)
	case "authorizer-v2":
		lambda.Start(authorizerV2)
	case "authorizer-v1":
		lambda.Start(authorizerV1)
	case "token":
		lambda.Start(token)
	default:
		panic("HANDLER must be proxy-v2, proxy-v1, authorizer-v2, authorizer-v1 or token")
	}
}

// proxyV2 answers an HTTP API payload 2.0 event. The event it received is
// echoed in the body (mode "echo"), so tests see what the function saw.
func proxyV2(_ context.Context, e events.APIGatewayV2HTTPRequest) (any, error) {
	mode := e.QueryStringParameters["mode"]
	if a, done, err := special(mode, e.QueryStringParameters["sleep"]); done {
		return a, err
	}
	switch mode {
	case "binary":
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "image/png"},
			Body: base64.StdEncoding.EncodeToString(pngBytes), IsBase64Encoded: true}, nil
	case "bare":
		return map[string]any{"pets": []string{"rex"}, "count": 1}, nil
	}
	echo, _ := json.Marshal(e)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 201,
		Headers:    map[string]string{"content-type": "application/json", "x-handler": "proxy-v2"},
		Cookies:    []string{"session=abc; Path=/", "theme=dark"},
		Body:       string(echo),
	}, nil
}

// proxyV1 answers a payload 1.0 event (REST, or an HTTP API with 1.0).
func proxyV1(_ context.Context, e events.APIGatewayProxyRequest) (any, error) {
	mode := e.QueryStringParameters["mode"]
	if a, done, err := special(mode, e.QueryStringParameters["sleep"]); done {
		return a, err
	}
	if mode == "binary" {
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "image/png"},
			Body: base64.StdEncoding.EncodeToString(pngBytes), IsBase64Encoded: true}, nil
	}
	echo, _ := json.Marshal(e)
	return events.APIGatewayProxyResponse{
		StatusCode: 202,
		Headers:    map[string]string{"Content-Type": "application/json", "X-Handler": "proxy-v1", "X-Both": "single"},
		MultiValueHeaders: map[string][]string{
			"X-Multi": {"a", "b"}, "X-Both": {"multi-1", "multi-2"}, "Set-Cookie": {"a=1", "b=2"},
		},
		Body: string(echo),
	}, nil
}

// special are the answers both payload formats share: failures and odd
// shapes a function may return.
func special(mode, sleep string) (any, bool, error) {
	if d, err := time.ParseDuration(sleep); err == nil {
		time.Sleep(d)
	}
	switch mode {
	case "error":
		return nil, true, errors.New("boom: the function failed")
	case "string":
		return "just a string", true, nil
	case "array":
		return []int{1, 2, 3}, true, nil
	case "status-string":
		return map[string]any{"statusCode": "teapot", "body": "x"}, true, nil
	case "status-range":
		return map[string]any{"statusCode": 999, "body": "x"}, true, nil
	case "bad-base64":
		return map[string]any{"statusCode": 200, "body": "!!not base64!!", "isBase64Encoded": true}, true, nil
	case "header-object":
		return map[string]any{"statusCode": 200, "headers": map[string]any{"x-obj": map[string]any{"a": 1}}, "body": "x"}, true, nil
	case "big":
		return map[string]any{"statusCode": 200, "body": strings.Repeat("x", 7<<20)}, true, nil
	case "crash":
		os.Exit(3)
	}
	return nil, false, nil
}

// pngBytes are the first bytes of a PNG: not text, not valid UTF-8.
var pngBytes = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0xff, 0xfe}

// authorizerV2 allows "Bearer allow" with a context, denies anything else.
func authorizerV2(_ context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	ok := e.Headers["authorization"] == "Bearer allow"
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{
		IsAuthorized: ok,
		Context:      map[string]any{"user": "u-42", "tier": "gold", "routeArn": e.RouteArn},
	}, nil
}

// authorizerV1 answers REST REQUEST events with an IAM policy.
func authorizerV1(_ context.Context, e events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	effect := "Deny"
	if e.Headers["Authorization"] == "allow" {
		effect = "Allow"
	}
	return policy("user-"+e.RequestContext.RequestID[:4], effect, e.MethodArn), nil
}

// token is a REST TOKEN authorizer: "allow" is allowed, "deny" explicitly
// denied, "unauthorized" fails with "Unauthorized" (AWS: 401).
func token(_ context.Context, e events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	switch e.AuthorizationToken {
	case "allow":
		return policy("token-user", "Allow", e.MethodArn), nil
	case "unauthorized":
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	}
	return policy("token-user", "Deny", e.MethodArn), nil
}

func policy(principal, effect, arn string) events.APIGatewayCustomAuthorizerResponse {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version:   "2012-10-17",
			Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{arn}}},
		},
		Context: map[string]any{"user": principal, "n": 7},
	}
}
