package dataplane

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// The chain-level golden tests send requests built from AWS's own sample
// events (aws-lambda-go's events/testdata) through the whole chain to a
// FUNCTION route, capture the event the function receives, and compare it
// with the sample key by key. The codec's own golden tests
// (dataplane/lambda) pin the encoding; these pin what the chain puts in it.
// Values that cannot match are normalised in both, each with its reason.

// sampleEvent reads one of aws-lambda-go's sample events.
func sampleEvent(t *testing.T, name string) map[string]any {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("locating aws-lambda-go: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "events", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// capturingFunction is an emulator stand-in that records the event it gets
// and answers a minimal proxy response.
func capturingFunction(t *testing.T) (table.Endpoint, func() map[string]any) {
	t.Helper()
	events := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		events <- b
		_, _ = io.WriteString(w, `{"statusCode":200,"body":"ok"}`)
	}))
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return table.Endpoint{Address: host, Port: int32(p)}, func() map[string]any {
		var m map[string]any
		if err := json.Unmarshal(<-events, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
}

// functionServer serves api (whose routes invoke fn) with fn's endpoint.
func functionServer(t *testing.T, api *table.Api, ep table.Endpoint) *Server {
	t.Helper()
	s := NewServer(Options{GatewayThrottle: table.Throttle{RateLimit: 1000, BurstLimit: 1000}})
	s.UpdateEndpoints(table.EndpointSets{fnTarget.Key(): {ep}})
	s.Swap(mustTable(t, api))
	return s
}

var fnTarget = &table.ServiceTarget{Namespace: "fns", Name: "sample-fn", Port: 8080, PortName: "rie"}

func functionRoute(key, object, version string) *table.Route {
	return &table.Route{Key: key, Object: object, Integration: table.Integration{
		Type: table.IntegrationFunction, Service: fnTarget, TimeoutMillis: 5000, PayloadFormatVersion: version, Concurrency: 1}}
}

// drop deletes the dotted paths from m (both the sample and the event).
func drop(m map[string]any, paths ...string) {
	for _, p := range paths {
		parts := strings.Split(p, ".")
		cur := m
		for _, k := range parts[:len(parts)-1] {
			next, _ := cur[k].(map[string]any)
			if next == nil {
				cur = nil
				break
			}
			cur = next
		}
		if cur != nil {
			delete(cur, parts[len(parts)-1])
		}
	}
}

// asServerRequest makes r look as the HTTPS listener hands it over: TLS, a
// local port of 443, the client's address.
func asServerRequest(r *http.Request, client string) *http.Request {
	r.TLS = &tls.ConnectionState{ServerName: r.Host}
	r.RemoteAddr = client + ":50000"
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443}))
}

// AWS's payload 2.0 sample (no authorizer), through the chain.
func TestAPayload20SampleEventThroughTheChain(t *testing.T) {
	want := sampleEvent(t, "apigw-v2-request-no-authorizer.json")
	ep, captured := capturingFunction(t)
	host := "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com"
	api := &table.Api{Namespace: "123456789012", Name: "aaaaaaaaaa", Protocol: table.ProtocolHTTP, Hosts: []string{host},
		MaxRequestBodyBytes: 1 << 20, Stages: []*table.Stage{{Name: "$default", Object: "x/default",
			Routes: []*table.Route{functionRoute("$default", "fns/default", "2.0")}}}}
	s := functionServer(t, api, ep)

	r := httptest.NewRequest("GET", "https://"+host+"/", nil)
	for k, v := range map[string]string{"accept": "*/*", "content-length": "0", "user-agent": "curl/7.58.0",
		"x-amzn-trace-id": "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c"} {
		r.Header.Set(k, v)
	}
	r.Proto = "HTTP/1.1"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, asServerRequest(r, "1.2.3.4"))
	if rec.Code != 200 || rec.Body.String() != "ok" {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
	got := captured()
	normalise := []string{
		"requestContext.requestId",                        // the gateway's own id (also in x-request-id)
		"requestContext.time", "requestContext.timeEpoch", // the time of this run
		"requestContext.authentication", // the sample is a mutual TLS request; mTLS fields are pinned by dataplane/lambda
		"headers.x-request-id",          // Turnpike adds its request id for the backend
		"headers.x-forwarded-host",      // Turnpike also sends the client's Host as X-Forwarded-Host
	}
	drop(want, normalise...)
	drop(got, normalise...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event differs from AWS's sample (-sample +Turnpike):\n%s", diff)
	}
}

// AWS's REST sample (payload 1.0, a Lambda authorizer's context), through
// the chain.
func TestARESTSampleEventThroughTheChain(t *testing.T) {
	want := sampleEvent(t, "apigw-request.json")
	ep, captured := capturingFunction(t)
	authz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"principalId":"admin","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"clientId":1,"clientName":"Exata"}}`)
	}))
	defer authz.Close()
	host := "gy415nuibc.execute-api.us-east-1.amazonaws.com"
	route := functionRoute("POST /{proxy+}", "fns/roq9wj", "1.0")
	route.Auth = &table.Authorization{Authorizer: &table.Authorizer{Object: "fns/authz", Type: table.AuthorizerRequest,
		IdentitySources: []string{"$request.header.headerName"},
		Request:         &table.RequestAuthorizer{URI: authz.URL, PayloadFormatVersion: "1.0", TimeoutMillis: 5000}}}
	api := &table.Api{Namespace: "12345678912", Name: "gy415nuibc", Protocol: table.ProtocolREST, Hosts: []string{host},
		MaxRequestBodyBytes: 1 << 20, Stages: []*table.Stage{{Name: "testStage", Object: "x/test",
			Variables: map[string]string{"stageVariableName": "stageVariableValue"}, Routes: []*table.Route{route}}}}
	s := functionServer(t, api, ep)

	r := httptest.NewRequest("POST", "https://"+host+"/testStage/hello/world?name=me", strings.NewReader("{\r\n\t\"a\": 1\r\n}"))
	for _, k := range []string{"Accept", "Accept-Encoding", "CloudFront-Forwarded-Proto", "CloudFront-Is-Desktop-Viewer",
		"CloudFront-Is-Mobile-Viewer", "CloudFront-Is-SmartTV-Viewer", "CloudFront-Is-Tablet-Viewer", "CloudFront-Viewer-Country",
		"Content-Type", "Postman-Token", "User-Agent", "Via", "X-Amz-Cf-Id"} {
		r.Header[k] = []string{want["headers"].(map[string]any)[k].(string)}
	}
	r.Header.Set("cache-control", "no-cache")
	r.Header.Set("headerName", "headerValue")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, asServerRequest(r, "192.168.196.186"))
	if rec.Code != 200 {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
	got := captured()
	// net/http canonicalises header names as it reads them ("headerName"
	// arrives as "Headername"): AWS keeps the client's spelling. A known
	// difference (docs/lambda.md); header names are case-insensitive.
	for _, m := range []string{"headers", "multiValueHeaders"} {
		h := want[m].(map[string]any)
		h["Headername"], h["Cache-Control"] = h["headerName"], h["cache-control"]
		delete(h, "headerName")
		delete(h, "cache-control")
	}
	normalise := []string{
		"requestContext.requestId", "requestContext.extendedRequestId", // the gateway's own ids
		"requestContext.requestTime", "requestContext.requestTimeEpoch", // the time of this run
		// The sample came through a custom domain (requestContext.path has no
		// stage) whose name differs from its Host; this request uses the
		// default endpoint, where requestContext.path carries the stage.
		"requestContext.path", "requestContext.domainName", "requestContext.domainPrefix",
		// Cognito and IAM callers, an API key and a client certificate: the
		// sample's request had them, this one has not (dataplane/lambda pins
		// how they render).
		"requestContext.identity",
		"requestContext.authorizer.integrationLatency", // Turnpike does not report the authorizer's latency
		// X-Forwarded-*: the sample's client came through two proxies; the
		// gateway sets them from the connection.
		"headers.X-Forwarded-For", "headers.X-Forwarded-Host", "multiValueHeaders.X-Forwarded-For", "multiValueHeaders.X-Forwarded-Host",
		"headers.X-Request-Id", "multiValueHeaders.X-Request-Id", // Turnpike adds its request id for the backend
		"headers.Content-Length", "multiValueHeaders.Content-Length", // net/http's request carries the body's length
	}
	drop(want, normalise...)
	drop(got, normalise...)
	// A key the sample (older than binary support) leaves out and AWS's
	// REST events carry since: isBase64Encoded.
	drop(got, "isBase64Encoded")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event differs from AWS's sample (-sample +Turnpike):\n%s", diff)
	}
}

// BenchmarkFunctionOverService measures what a FUNCTION request costs over a
// SERVICE request to the same backend process (a 1 KiB JSON body each way):
// the event encoding, the answer decoding and the invocation slot. The
// backend answers both on one port: its invocation path with a proxy
// response, any other path with the body itself.
func BenchmarkFunctionOverService(b *testing.B) {
	body := `{"pets":[` + strings.Repeat(`{"name":"rex","kind":"dog"},`, 36) + `{"name":"end"}]}`
	answer, _ := json.Marshal(map[string]any{"statusCode": 200, "headers": map[string]string{"content-type": "application/json"}, "body": body})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/2015-03-31/functions/function/invocations" {
			_, _ = w.Write(answer)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	defer backend.Close()
	host, port, _ := net.SplitHostPort(backend.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	ep := table.Endpoint{Address: host, Port: int32(p)}
	svc := &table.Route{Key: "POST /service", Object: "shop/svc", Integration: table.Integration{
		Type: table.IntegrationService, Service: fnTarget, TimeoutMillis: 5000}}
	api := testApi(table.ProtocolHTTP, stage("prod", svc, functionRoute("POST /function", "shop/fn", "2.0")))
	api.MaxRequestBodyBytes = 1 << 20
	s := NewServer(Options{GatewayThrottle: table.Throttle{RateLimit: 1 << 30, BurstLimit: 1 << 30}})
	s.UpdateEndpoints(table.EndpointSets{fnTarget.Key(): {ep}})
	s.Swap(mustTable(b, api))
	for _, kind := range []string{"service", "function"} {
		b.Run(kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", "http://"+testHost+"/prod/"+kind, strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				if w.Code != 200 || w.Body.Len() != len(body) {
					b.Fatalf("%s: %d %d", kind, w.Code, w.Body.Len())
				}
			}
		})
	}
}
