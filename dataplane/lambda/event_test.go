package lambda

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func decodeAny(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("invalid JSON %v: %s", err, b)
	}
	return m
}

func at(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// Encoding appends to dst and leaves the Request as it was.
func TestEncodingAppendsAndDoesNotModifyTheRequest(t *testing.T) {
	r := benchRequest()
	before := r.Header.Clone()
	out := AppendEventV2([]byte("prefix:"), r)
	if !strings.HasPrefix(string(out), `prefix:{"version":"2.0"`) {
		t.Fatalf("%.40s", out)
	}
	AppendEventV1(nil, r)
	AppendAuthorizerEventV1(nil, r, &AuthorizerInput{})
	if !reflect.DeepEqual(r.Header, before) {
		t.Fatal("encoding changed the request headers")
	}
}

func TestAHostHeaderIsNotDuplicated(t *testing.T) {
	r := &Request{Host: "from-request", Header: http.Header{"Host": {"from-header"}}}
	m := decodeAny(t, AppendEventV2(nil, r))
	if h := at(m, "headers").(map[string]any); len(h) != 1 || h["host"] != "from-header" {
		t.Fatalf("headers %v", h)
	}
	r.Header = http.Header{"X": {"1"}}
	m = decodeAny(t, AppendEventV1(nil, r))
	if at(m, "headers", "Host") != "from-request" || !reflect.DeepEqual(at(m, "multiValueHeaders", "Host"), []any{"from-request"}) {
		t.Fatalf("1.0 %v", m["headers"])
	}
}

func TestAuthorizerValuesAsAWSRendersThem(t *testing.T) {
	jwt := &Authorizer{Kind: AuthorizerJWT, Claims: map[string]any{
		"sub": "u1", "exp": json.Number("1700000000"), "admin": true, "groups": []any{"a", "b"}, "f": 1.5, "o": map[string]any{"k": "v"},
	}}
	m := decodeAny(t, AppendEventV2(nil, &Request{Authorizer: jwt}))
	want := map[string]any{"sub": "u1", "exp": "1700000000", "admin": "true", "groups": "[a b]", "f": "1.5", "o": `{"k":"v"}`}
	if got := at(m, "requestContext", "authorizer", "jwt", "claims"); !reflect.DeepEqual(got, want) {
		t.Fatalf("claims %v", got)
	}
	if _, ok := at(m, "requestContext", "authorizer", "jwt").(map[string]any)["scopes"]; ok {
		t.Fatal("2.0 scopes sent without scopes")
	}
	m = decodeAny(t, AppendEventV1(nil, &Request{Authorizer: jwt}))
	if a := at(m, "requestContext", "authorizer").(map[string]any); a["scopes"] != nil || a["claims"].(map[string]any)["groups"] != "[a b]" {
		t.Fatalf("1.0 authorizer %v", a)
	}

	lambda := &Authorizer{Kind: AuthorizerLambda, PrincipalID: "p", IntegrationLatency: 12,
		Context: map[string]any{"n": json.Number("3"), "principalId": "forged", "tier": "gold"}}
	m = decodeAny(t, AppendEventV1(nil, &Request{Authorizer: lambda}))
	want = map[string]any{"principalId": "p", "integrationLatency": json.Number("12"), "n": json.Number("3"), "tier": "gold"}
	if got := at(m, "requestContext", "authorizer"); !reflect.DeepEqual(got, want) {
		t.Fatalf("1.0 lambda authorizer %v", got)
	}
	m = decodeAny(t, AppendEventV2(nil, &Request{Authorizer: lambda}))
	if got := at(m, "requestContext", "authorizer", "lambda", "n"); got != json.Number("3") {
		t.Fatalf("2.0 lambda context n = %v", got)
	}
}

func TestWebSocketConnectAndBinaryMessage(t *testing.T) {
	connect := &Request{
		API: WebSocket, RouteKey: "$connect", RawQuery: "token=a&token=b", Host: "ws.example.com",
		Header:         http.Header{"Sec-Websocket-Protocol": {"chat"}},
		StageVariables: map[string]string{"env": "prod"}, Time: time.UnixMilli(2000),
		Authorizer: &Authorizer{Kind: AuthorizerLambda, PrincipalID: "u", IntegrationLatency: -1, Context: map[string]any{"org": "acme"}},
		WebSocket:  &WebSocketEvent{ConnectionID: "c1", EventType: EventConnect, ConnectedAt: time.UnixMilli(1000)},
	}
	m := decodeAny(t, AppendWebSocketEvent(nil, connect))
	checks := map[string]any{
		"headers/Host": "ws.example.com", "queryStringParameters/token": "b", "stageVariables/env": "prod",
		"requestContext/eventType": "CONNECT", "requestContext/connectedAt": json.Number("1000"),
		"requestContext/requestTimeEpoch": json.Number("2000"), "requestContext/authorizer/principalId": "u",
		"requestContext/authorizer/org": "acme", "isBase64Encoded": false,
	}
	for p, want := range checks {
		if got := at(m, strings.Split(p, "/")...); got != want {
			t.Errorf("CONNECT %s = %v, want %v", p, got, want)
		}
	}
	if _, ok := m["body"]; ok {
		t.Error("CONNECT has a body")
	}
	msg := &Request{API: WebSocket, RouteKey: "sendmessage", Body: []byte{0xff, 0x00}, Base64: true,
		WebSocket: &WebSocketEvent{ConnectionID: "c1", EventType: EventMessage, MessageID: "m1"}}
	m = decodeAny(t, AppendWebSocketEvent(nil, msg))
	if m["body"] != "/wA=" || m["isBase64Encoded"] != true || m["headers"] != nil || at(m, "requestContext", "messageId") != "m1" {
		t.Fatalf("MESSAGE %v", m)
	}
}
