package lambda_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/turnpike-io/turnpike/test/harness"
)

func TestMain(m *testing.M) {
	code := m.Run()
	harness.RemoveBuilt()
	if code != 0 {
		panic(fmt.Sprintf("exit %d", code)) // keep the exit code; RemoveBuilt ran
	}
}

// api is an Api of protocol with a prod stage; extra is appended to its spec.
func api(protocol, extra string) string {
	return fmt.Sprintf(`apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: pets, namespace: shop}
spec: {protocol: %s, errorHints: true%s}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: shop}
spec: {apiName: pets, variables: {tier: gold}}`, protocol, extra)
}

// functionRoute routes key to the function Service fn.
func functionRoute(name, key, fn, extra string) string {
	return fmt.Sprintf(`apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: %s, namespace: shop}
spec:
  apiName: pets
  routeKey: %q
  integration: {type: FUNCTION, service: {name: %s, port: 8080}%s}`, name, key, fn, extra)
}

// A handler written for HTTP APIs' payload 2.0 sees AWS's event and its
// answer reaches the client as AWS would send it: repeated headers and
// query keys joined, several cookies both ways, path parameters, stage
// variables, binary bodies both ways, bare JSON answers.
func TestAPayload20HandlerAnswersAsOnAWS(t *testing.T) {
	fn := startFunction(t, "proxy-v2")
	g := standalone(t, []string{api("HTTP", ""), functionService("pets-fn", fn),
		functionRoute("get-pet", "GET /pets/{id}", "pets-fn", ""),
		functionRoute("upload", "POST /upload", "pets-fn", "")})

	h := http.Header{"X-Multi": {"a", "b"}, "Cookie": {"c1=v1; c2=v2"}, "User-Agent": {"lambda-test"}}
	res, body := send(t, g, "GET", "/prod/pets/7?x=1&x=2&mode=echo", h, "")
	if res.StatusCode != 201 || res.Header.Get("X-Handler") != "proxy-v2" || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d headers %v body %s", res.StatusCode, res.Header, body)
	}
	if got := res.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"session=abc; Path=/", "theme=dark"}) {
		t.Errorf("Set-Cookie %q, want one header per cookie", got)
	}
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("echo: %v: %s", err, body)
	}
	checks := map[string][2]string{
		"version":          {e.Version, "2.0"},
		"routeKey":         {e.RouteKey, "GET /pets/{id}"},
		"rawPath":          {e.RawPath, "/prod/pets/7"},
		"rawQueryString":   {e.RawQueryString, "x=1&x=2&mode=echo"},
		"query x":          {e.QueryStringParameters["x"], "1,2"},
		"header x-multi":   {e.Headers["x-multi"], "a,b"},
		"cookies":          {strings.Join(e.Cookies, "|"), "c1=v1|c2=v2"},
		"pathParameters":   {e.PathParameters["id"], "7"},
		"stageVariables":   {e.StageVariables["tier"], "gold"},
		"http.method":      {e.RequestContext.HTTP.Method, "GET"},
		"http.path":        {e.RequestContext.HTTP.Path, "/prod/pets/7"},
		"http.sourceIp":    {e.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		"http.userAgent":   {e.RequestContext.HTTP.UserAgent, "lambda-test"},
		"accountId":        {e.RequestContext.AccountID, "shop"},
		"apiId":            {e.RequestContext.APIID, "pets"},
		"stage":            {e.RequestContext.Stage, "prod"},
		"domainName":       {e.RequestContext.DomainName, host},
		"domainPrefix":     {e.RequestContext.DomainPrefix, "pets"},
		"requestId":        {e.RequestContext.RequestID, res.Header.Get("X-Request-Id")},
		"isBase64Encoded":  {fmt.Sprint(e.IsBase64Encoded), "false"},
		"x-forwarded-for":  {e.Headers["x-forwarded-for"], "127.0.0.1"},
		"cookie not a hdr": {e.Headers["cookie"], ""},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("event %s = %q, want %q", name, c[0], c[1])
		}
	}

	// A binary request body arrives base64-encoded; a binary answer is
	// decoded for the client.
	bin := string([]byte{0x89, 'P', 'N', 'G', 0x00, 0xff})
	_, body = send(t, g, "POST", "/prod/upload?mode=echo", http.Header{"Content-Type": {"application/octet-stream"}}, bin)
	e = events.APIGatewayV2HTTPRequest{}
	if err := json.Unmarshal([]byte(body), &e); err != nil || !e.IsBase64Encoded || e.Body != base64.StdEncoding.EncodeToString([]byte(bin)) {
		t.Errorf("binary request: isBase64Encoded %t body %q (%v)", e.IsBase64Encoded, e.Body, err)
	}
	res, body = send(t, g, "GET", "/prod/pets/1?mode=binary", nil, "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || body != string([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0xff, 0xfe}) {
		t.Errorf("binary answer: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}

	// A 2.0 answer that is JSON without statusCode is the body of a 200.
	res, body = send(t, g, "GET", "/prod/pets/1?mode=bare", nil, "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || body != `{"count":1,"pets":["rex"]}` {
		t.Errorf("bare answer: %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	res, body = send(t, g, "GET", "/prod/pets/1?mode=string", nil, "")
	if res.StatusCode != 200 || body != "just a string" {
		t.Errorf("string answer: %d %s", res.StatusCode, body)
	}
	res, body = send(t, g, "GET", "/prod/pets/1?mode=array", nil, "")
	if res.StatusCode != 200 || body != "[1,2,3]" {
		t.Errorf("array answer: %d %s", res.StatusCode, body)
	}
}

// Twenty concurrent requests to one emulator (which runs one invocation
// at a time and crashes on a second): all answered, none failed.
func TestConcurrentRequestsToOneEmulatorAllSucceed(t *testing.T) {
	fn := startFunction(t, "proxy-v2")
	g := standalone(t, []string{api("HTTP", ""), functionService("pets-fn", fn),
		functionRoute("get-pet", "GET /pets/{id}", "pets-fn", "")})
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() {
			res, _ := send(t, g, "GET", fmt.Sprintf("/prod/pets/%d?mode=echo", i), nil, "")
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 201 {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	if strings.Contains(fn.out.String(), "AlreadyReserved") {
		t.Error("the emulator got a second invocation while one ran")
	}
}
