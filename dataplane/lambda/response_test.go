package lambda

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

type want struct {
	status   int
	headers  []Header
	cookies  []string
	body     string
	inferred bool
	kind     ErrorKind // non-zero: an *Error of this kind
	cause    string    // a part of the error's Cause
}

type responseCase struct {
	name string
	raw  string
	o    DecodeOptions
	want want
}

var (
	httpV2   = DecodeOptions{Version: V2, API: HTTP}
	httpV1   = DecodeOptions{Version: V1, API: HTTP}
	restV1   = DecodeOptions{Version: V1, API: REST}
	jsonType = []Header{{"Content-Type", "application/json"}}
)

func bad(cause string) want { return want{kind: MalformedResponse, cause: cause} }

// Payload 2.0 (HTTP APIs). Cases marked AWS-validated follow LocalStack's
// tests that run against AWS (test_aws_proxy_response_payload_format_
// validation_v2); the inference rules follow DG:http-api-develop-
// integrations-lambda.
var v2Cases = []responseCase{
	{"full answer", `{"statusCode":201,"headers":{"X-A":"1","Content-Type":"text/plain"},"cookies":["a=1","b=2; Path=/"],"body":"hi","isBase64Encoded":false}`, httpV2,
		want{status: 201, headers: []Header{{"X-A", "1"}, {"Content-Type", "text/plain"}}, cookies: []string{"a=1", "b=2; Path=/"}, body: "hi"}},
	{"object without statusCode is the body", ` {"message": "Hello"} `, httpV2, want{status: 200, headers: jsonType, body: `{"message": "Hello"}`, inferred: true}},
	{"a JSON string is its contents", `"Hello from Lambda!"`, httpV2, want{status: 200, headers: jsonType, body: "Hello from Lambda!", inferred: true}},
	{"a number is its text", `42`, httpV2, want{status: 200, headers: jsonType, body: "42", inferred: true}},
	{"an array is its text", `[1, "a"]`, httpV2, want{status: 200, headers: jsonType, body: `[1, "a"]`, inferred: true}},
	{"a boolean is its text", `true`, httpV2, want{status: 200, headers: jsonType, body: "true", inferred: true}},
	{"null is the body null (AWS-validated)", `null`, httpV2, want{status: 200, headers: jsonType, body: "null", inferred: true}},
	{"the empty string is an empty body", `""`, httpV2, want{status: 200, headers: jsonType, body: "", inferred: true}},
	{"{} is the body {} (AWS-validated)", `{}`, httpV2, want{status: 200, headers: jsonType, body: "{}", inferred: true}},
	{"statusCode null is no statusCode", `{"statusCode":null,"a":1}`, httpV2, want{status: 200, headers: jsonType, body: `{"statusCode":null,"a":1}`, inferred: true}},
	{"the string errorMessage is a body (AWS-validated)", `"errorMessage"`, httpV2, want{status: 200, headers: jsonType, body: "errorMessage", inferred: true}},
	{"errorMessage without statusCode is a function error (AWS-validated)", `{"errorMessage":"boom","errorType":"Runtime.Error","stackTrace":[]}`, httpV2,
		want{kind: FunctionError, cause: "customer function error: boom"}},
	{"errorMessage beside a statusCode is ignored", `{"statusCode":200,"errorMessage":"x","body":"ok"}`, httpV2, want{status: 200, body: "ok"}},
	{"the RIE's size error", `{"errorMessage":"Response payload size (7340060 bytes) exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`, httpV2,
		want{kind: ResponseTooLarge, cause: "exceeded maximum allowed payload size"}},
	{"statusCode as a string (AWS-validated)", `{"statusCode":"201"}`, httpV2, want{status: 201}},
	{"statusCode as a word (AWS-validated)", `{"statusCode":"test"}`, httpV2, bad("statusCode \"test\" is not an integer")},
	{"statusCode as an integral float", `{"statusCode":204.0}`, httpV2, want{status: 204}},
	{"statusCode with a fraction", `{"statusCode":200.5}`, httpV2, bad("not an integer")},
	{"statusCode below 200", `{"statusCode":99}`, httpV2, bad("from 200 to 599")},
	{"statusCode 1xx", `{"statusCode":101}`, httpV2, bad("from 200 to 599")},
	{"statusCode above 599", `{"statusCode":600}`, httpV2, bad("from 200 to 599")},
	{"statusCode huge", `{"statusCode":1e300}`, httpV2, bad("from 200 to 599")},
	{"statusCode as a boolean", `{"statusCode":true}`, httpV2, bad("is not a number")},
	{"statusCode as an object", `{"statusCode":{}}`, httpV2, bad("is not a number")},
	{"cookies as an object (AWS-validated)", `{"statusCode":200,"cookies":{"a":"1"}}`, httpV2, bad("cookies is not an array")},
	{"cookies holding a number", `{"statusCode":200,"cookies":[1]}`, httpV2, bad("cookies holds a JSON number")},
	{"a cookie with a line break", `{"statusCode":200,"cookies":["a=1\r\nX-Evil: 1"]}`, httpV2, bad("control character")},
	{"header values: boolean (AWS-validated), number, null", `{"statusCode":200,"headers":{"b":true,"n":5,"z":null}}`, httpV2,
		want{status: 200, headers: []Header{{"b", "true"}, {"n", "5"}}}},
	{"a header value that is an object", `{"statusCode":200,"headers":{"x":{"a":1}}}`, httpV2, bad("headers[x] is a JSON object, not a string")},
	{"headers that are not an object", `{"statusCode":200,"headers":"x"}`, httpV2, bad("headers is not a JSON object")},
	{"a header value with CR LF", `{"statusCode":200,"headers":{"x":"a\r\nSet-Cookie: evil=1"}}`, httpV2, bad("control character")},
	{"a header name with a space", `{"statusCode":200,"headers":{"Bad Name":"1"}}`, httpV2, bad("not a valid HTTP field name")},
	{"multiValueHeaders are not part of 2.0", `{"statusCode":200,"multiValueHeaders":{"x":["1"]}}`, httpV2, want{status: 200}},
	{"unknown keys are ignored (AWS-validated)", `{"statusCode":200,"wrongValue":"value"}`, httpV2, want{status: 200}},
	{"base64 body is decoded (AWS-validated)", `{"statusCode":200,"body":"dGVzdC1kYXRh","isBase64Encoded":true}`, httpV2, want{status: 200, body: "test-data"}},
	{"unpadded base64 with a line break", `{"statusCode":200,"body":"dGVz\ndA","isBase64Encoded":true}`, httpV2, want{status: 200, body: "test"}},
	{"base64 flag off leaves the text (AWS-validated)", `{"statusCode":200,"body":"dGVzdC1kYXRh"}`, httpV2, want{status: 200, body: "dGVzdC1kYXRh"}},
	{"invalid base64", `{"statusCode":200,"body":"not base64!","isBase64Encoded":true}`, httpV2, bad("not base64")},
	{"isBase64Encoded as a string", `{"statusCode":200,"body":"dGVzdA==","isBase64Encoded":"true"}`, httpV2, want{status: 200, body: "test"}},
	{"isBase64Encoded as a number", `{"statusCode":200,"isBase64Encoded":1}`, httpV2, bad("isBase64Encoded 1 is not a boolean")},
	{"body as an object", `{"statusCode":200,"body":{"a":1}}`, httpV2, bad("body is a JSON object, not a string")},
	{"body as a number", `{"statusCode":200,"body":12.5}`, httpV2, want{status: 200, body: "12.5"}},
	{"escaped keys are keys", `{"status\u0043ode":202}`, httpV2, want{status: 202}},
	{"duplicate keys: the last wins", `{"statusCode":200,"statusCode":203}`, httpV2, want{status: 203}},
	{"not JSON", `oops`, httpV2, bad("not JSON")},
	{"empty answer", ``, httpV2, bad("not JSON")},
	{"two values", `{}{}`, httpV2, bad("not JSON")},
	{"truncated", `{"statusCode":200,"body":"ab`, httpV2, bad("not JSON")},
}

// Payload 1.0 on REST and HTTP APIs (LocalStack's AWS-validated
// test_aws_proxy_response_payload_format_validation and _v1).
var v1Cases = []responseCase{
	{"multiValueHeaders win on a name in both, any case", `{"statusCode":200,"headers":{"A":"1","B":"x"},"multiValueHeaders":{"a":["m1","m2"]},"body":"x"}`, restV1,
		want{status: 200, headers: []Header{{"B", "x"}, {"a", "m1"}, {"a", "m2"}}, body: "x"}},
	{"REST: a JSON string (AWS-validated)", `"justAString"`, restV1, bad("is a JSON string, not a JSON object")},
	{"REST: an array", `[{"statusCode":200}]`, restV1, bad("is a JSON array, not a JSON object")},
	{"REST: null", `null`, restV1, bad("is JSON null")},
	{"REST: no statusCode is 200 (AWS-validated)", `{"headers":{"t":"v"}}`, restV1, want{status: 200, headers: []Header{{"t", "v"}}}},
	{"REST: an unknown key (AWS-validated)", `{"statusCode":200,"wrongValue":"value"}`, restV1, bad("the key \"wrongValue\"")},
	{"REST: cookies are not a 1.0 key", `{"statusCode":200,"cookies":["a=1"]}`, restV1, bad("the key \"cookies\"")},
	{"REST: a multi-value header that is a string (AWS-validated)", `{"statusCode":200,"multiValueHeaders":{"m":"v"}}`, restV1, bad("multiValueHeaders[m] is not an array")},
	{"REST: a multi-value entry that is an object", `{"statusCode":200,"multiValueHeaders":{"m":[{}]}}`, restV1, bad("multiValueHeaders[m] is a JSON object")},
	{"REST: multi-value null entries are skipped", `{"statusCode":200,"multiValueHeaders":{"m":null,"n":[null,"1",2]}}`, restV1,
		want{status: 200, headers: []Header{{"n", "1"}, {"n", "2"}}}},
	{"REST: statusCode as a string (AWS-validated)", `{"statusCode":"201"}`, restV1, want{status: 201}},
	{"REST: statusCode as a word (AWS-validated)", `{"statusCode":"test"}`, restV1, bad("not an integer")},
	{"REST: body as an object", `{"statusCode":200,"body":{"hey":"dude"}}`, restV1, bad("body is a JSON object, not a string")},
	{"REST: headers null (AWS-validated)", `{"statusCode":200,"headers":null}`, restV1, want{status: 200}},
	{"REST: a function error", `{"errorMessage":"boom","errorType":"Error"}`, restV1, want{kind: FunctionError, cause: "boom"}},
	{"REST: base64 kept when binaryMediaTypes do not apply", `{"statusCode":200,"body":"dGVzdA==","isBase64Encoded":true}`,
		DecodeOptions{Version: V1, API: REST, KeepBase64: true}, want{status: 200, body: "dGVzdA=="}},
	{"HTTP 1.0: no statusCode (AWS-validated)", `{"headers":{"t":"v"}}`, httpV1, bad("no statusCode")},
	{"HTTP 1.0: {} (AWS-validated)", `{}`, httpV1, bad("no statusCode")},
	{"HTTP 1.0: unknown keys are ignored (AWS-validated)", `{"statusCode":200,"wrongValue":"value"}`, httpV1, want{status: 200}},
	{"HTTP 1.0: a JSON string (AWS-validated)", `"justAString"`, httpV1, bad("not a JSON object")},
	{"HTTP 1.0: a multi-value header that is a string (AWS-validated)", `{"statusCode":200,"multiValueHeaders":{"m":"v"}}`, httpV1, bad("is not an array")},
	{"HTTP 1.0: base64 decoded (AWS-validated)", `{"statusCode":200,"body":"dGVzdC1kYXRh","isBase64Encoded":true}`, httpV1, want{status: 200, body: "test-data"}},
}

func TestDecodeResponse(t *testing.T) {
	for _, tc := range append(append([]responseCase{}, v2Cases...), v1Cases...) {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := DecodeResponse([]byte(tc.raw), tc.o)
			checkDecoded(t, resp, err, tc.want)
		})
	}
}

func checkDecoded(t *testing.T, resp *Response, err error, w want) {
	t.Helper()
	if w.kind != 0 {
		var e *Error
		if !errors.As(err, &e) || e.Kind != w.kind || !strings.Contains(e.Cause, w.cause) || e.Hint == "" {
			t.Fatalf("got %+v / %v, want a %s error containing %q with a hint", resp, err, w.kind, w.cause)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	defer resp.Release()
	got := want{status: resp.StatusCode, headers: resp.Headers, cookies: resp.Cookies, body: string(resp.Body), inferred: resp.Inferred}
	if len(got.headers) == 0 {
		got.headers = nil
	}
	if len(got.cookies) == 0 {
		got.cookies = nil
	}
	if !reflect.DeepEqual(got, w) {
		t.Fatalf("got  %+v\nwant %+v", got, w)
	}
}

func TestAnswersOverLambdasLimitAreTooLarge(t *testing.T) {
	raw := `{"statusCode":200,"body":"` + strings.Repeat("a", MaxPayloadBytes) + `"}`
	_, err := DecodeResponse([]byte(raw), httpV2)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ResponseTooLarge || !strings.Contains(e.Cause, "(6291556 bytes)") {
		t.Fatalf("got %v", err)
	}
	ok := `{"statusCode":200,"body":"` + strings.Repeat("a", MaxPayloadBytes-len(`{"statusCode":200,"body":""}`)) + `"}`
	resp, err := DecodeResponse([]byte(ok), httpV2)
	if err != nil || len(resp.Body) != MaxPayloadBytes-28 {
		t.Fatalf("an answer of exactly the limit: %v", err)
	}
	resp.Release()
}

func TestErrorsRenderAsAWSDoes(t *testing.T) {
	e := &Error{Kind: MalformedResponse}
	if s, m := e.GatewayStatus(REST); s != 502 || m != "Internal server error" {
		t.Errorf("REST: %d %q", s, m)
	}
	if s, m := e.GatewayStatus(WebSocket); s != 502 || m != "Internal server error" {
		t.Errorf("WebSocket: %d %q", s, m)
	}
	if s, m := e.GatewayStatus(HTTP); s != 500 || m != "Internal Server Error" {
		t.Errorf("HTTP: %d %q", s, m)
	}
	for k, name := range map[ErrorKind]string{FunctionError: "FunctionError", ResponseTooLarge: "ResponseTooLarge", MalformedResponse: "MalformedResponse", 9: "ErrorKind(9)"} {
		if k.String() != name {
			t.Errorf("%d.String() = %s", k, k.String())
		}
	}
}

// A released Response is reused; a Response still held is not touched by
// later decodes.
func TestResponsesAreIndependentUntilReleased(t *testing.T) {
	a, err := DecodeResponse([]byte(`{"statusCode":200,"headers":{"x":"1"},"body":"first"}`), httpV2)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		b, err := DecodeResponse([]byte(`{"statusCode":201,"headers":{"y":"2"},"body":"second!"}`), httpV2)
		if err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if string(a.Body) != "first" || a.StatusCode != 200 || len(a.Headers) != 1 || a.Headers[0] != (Header{"x", "1"}) {
		t.Fatalf("held response changed: %+v", a)
	}
	a.Release()
}
