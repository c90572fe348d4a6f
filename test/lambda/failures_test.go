package lambda_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/turnpike-io/turnpike/test/harness"
)

// A REST handler (payload 1.0) sees the single- and multi-value forms of
// headers and query parameters; its multiValueHeaders win over headers; a
// binary media type is base64 both ways; errors are REST's 502.
func TestAPayload10RESTHandlerAnswersAsOnAWS(t *testing.T) {
	fn := startFunction(t, "proxy-v1")
	g := standalone(t, []string{api("REST", `, binaryMediaTypes: ["image/*"]`), functionService("pets-fn", fn),
		functionRoute("get-pet", "ANY /pets/{id}", "pets-fn", "")})
	h := http.Header{"X-Multi": {"a", "b"}}
	res, body := send(t, g, "GET", "/prod/pets/7?x=1&x=2&mode=echo", h, "")
	if res.StatusCode != 202 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if got := res.Header.Values("X-Multi"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("X-Multi %q", got)
	}
	if got := res.Header.Values("X-Both"); !slices.Equal(got, []string{"multi-1", "multi-2"}) {
		t.Errorf("X-Both %q: multiValueHeaders must win over headers", got)
	}
	if got := res.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1", "b=2"}) {
		t.Errorf("Set-Cookie %q", got)
	}
	var e events.APIGatewayProxyRequest
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("echo: %v: %s", err, body)
	}
	checks := map[string][2]string{
		"resource":             {e.Resource, "/pets/{id}"},
		"path":                 {e.Path, "/pets/7"},
		"httpMethod":           {e.HTTPMethod, "GET"},
		"header X-Multi":       {e.Headers["X-Multi"], "b"},
		"multi header X-Multi": {strings.Join(e.MultiValueHeaders["X-Multi"], ","), "a,b"},
		"query x":              {e.QueryStringParameters["x"], "2"},
		"multi query x":        {strings.Join(e.MultiValueQueryStringParameters["x"], ","), "1,2"},
		"pathParameters":       {e.PathParameters["id"], "7"},
		"stageVariables":       {e.StageVariables["tier"], "gold"},
		"requestContext.path":  {e.RequestContext.Path, "/prod/pets/7"},
		"resourcePath":         {e.RequestContext.ResourcePath, "/pets/{id}"},
		"stage":                {e.RequestContext.Stage, "prod"},
		"sourceIp":             {e.RequestContext.Identity.SourceIP, "127.0.0.1"},
		"apiId":                {e.RequestContext.APIID, "pets"},
		"accountId":            {e.RequestContext.AccountID, "shop"},
		"resourceId":           {e.RequestContext.ResourceID, "get-pet"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("event %s = %q, want %q", name, c[0], c[1])
		}
	}

	png := string([]byte{0x89, 'P', 'N', 'G', 0x00, 0xff})
	_, body = send(t, g, "PUT", "/prod/pets/7?mode=echo", http.Header{"Content-Type": {"image/png"}}, png)
	e = events.APIGatewayProxyRequest{}
	if err := json.Unmarshal([]byte(body), &e); err != nil || !e.IsBase64Encoded || e.Body != base64.StdEncoding.EncodeToString([]byte(png)) {
		t.Errorf("image/png request: isBase64Encoded %t body %q (%v)", e.IsBase64Encoded, e.Body, err)
	}
	_, body = send(t, g, "PUT", "/prod/pets/7?mode=echo", http.Header{"Content-Type": {"application/json"}}, `{"a":1}`)
	e = events.APIGatewayProxyRequest{}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.IsBase64Encoded || e.Body != `{"a":1}` {
		t.Errorf("a JSON body is text: isBase64Encoded %t body %q (%v)", e.IsBase64Encoded, e.Body, err)
	}
	// A binary answer is decoded only for a client that accepts a binary
	// media type first; others get the base64 text (AWS REST).
	res, body = send(t, g, "GET", "/prod/pets/1?mode=binary", http.Header{"Accept": {"image/png"}}, "")
	if res.StatusCode != 200 || body != string([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0xff, 0xfe}) {
		t.Errorf("binary answer for Accept image/png: %d %q", res.StatusCode, body)
	}
	_, body = send(t, g, "GET", "/prod/pets/1?mode=binary", http.Header{"Accept": {"application/json"}}, "")
	if body != base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0xff, 0xfe}) {
		t.Errorf("binary answer for Accept application/json: %q, want the base64 text", body)
	}

	res, body = send(t, g, "GET", "/prod/pets/1?mode=error", nil, "")
	if res.StatusCode != 502 || !strings.Contains(body, `"message":"Internal server error"`) {
		t.Errorf("function error on REST: %d %s", res.StatusCode, body)
	}
}

// Every answer AWS refuses gets AWS's status (HTTP API: 500 "Internal
// Server Error"), the cause in the access log and a hint; the next request
// is served as usual.
func TestBadAnswersGetAWSsErrorAndBreakNothing(t *testing.T) {
	fn := startFunction(t, "proxy-v2")
	g := standalone(t, []string{api("HTTP", ""), functionService("pets-fn", fn),
		functionRoute("get-pet", "GET /pets/{id}", "pets-fn", "")})
	for mode, cause := range map[string]string{
		"error":         "boom: the function failed",
		"status-string": "statusCode",
		"status-range":  "statusCode",
		"bad-base64":    "base64",
		"header-object": "header",
		"big":           "payload",
	} {
		res, body := send(t, g, "GET", "/prod/pets/1?mode="+mode, nil, "")
		if res.StatusCode != 500 || !strings.Contains(body, `"message":"Internal Server Error"`) || !strings.Contains(body, `"hint"`) {
			t.Errorf("mode %s: %d %s", mode, res.StatusCode, body)
			continue
		}
		id := res.Header.Get("X-Request-Id")
		harness.Eventually(t, 5*time.Second, "access log line of "+mode, func() error {
			for line := range strings.SplitSeq(g.Access.String(), "\n") {
				if strings.Contains(line, id) {
					var m map[string]any
					if err := json.Unmarshal([]byte(line), &m); err != nil {
						return err
					}
					if msg, _ := m["integrationErrorMessage"].(string); !strings.Contains(strings.ToLower(msg), strings.ToLower(cause)) {
						t.Errorf("mode %s: integrationErrorMessage %q, want it to mention %q", mode, msg, cause)
					}
					return nil
				}
			}
			return errNotYet
		})
	}
	if res, _ := send(t, g, "GET", "/prod/pets/1?mode=echo", nil, ""); res.StatusCode != 201 {
		t.Fatalf("after the bad answers: %d", res.StatusCode)
	}
	// A function whose process dies: the emulator reports it, AWS's 500.
	if res, body := send(t, g, "GET", "/prod/pets/1?mode=crash", nil, ""); res.StatusCode != 500 {
		t.Errorf("crashed function: %d %s", res.StatusCode, body)
	}
	if res, _ := send(t, g, "GET", "/prod/pets/1?mode=echo", nil, ""); res.StatusCode != 201 {
		t.Fatalf("after a crash the emulator starts the function again: %d", res.StatusCode)
	}
}

// A function that is not running is 502; a full queue 429; a function
// slower than the route's timeout 504 at the timeout, and the next request
// waits for its slot rather than crashing the emulator.
func TestDeadSlowAndOverloadedFunctions(t *testing.T) {
	fn := startFunction(t, "proxy-v2", "AWS_LAMBDA_FUNCTION_TIMEOUT=2")
	dead := &function{addr: harness.FreeAddr(t)}
	g := standalone(t, []string{api("HTTP", ""), functionService("pets-fn", fn), functionService("dead-fn", dead),
		functionRoute("get-pet", "GET /pets/{id}", "pets-fn", ", timeoutMillis: 500"),
		functionRoute("dead", "GET /dead", "dead-fn", "")}, "--function-queue-length=1")

	if res, body := send(t, g, "GET", "/prod/dead", nil, ""); res.StatusCode != 502 || !strings.Contains(body, "Internal server error") {
		t.Errorf("dead function: %d %s", res.StatusCode, body)
	}
	// A body within the Api's 10 MiB but over Lambda's 6 MB: refused before
	// the call, as AWS does.
	if res, body := send(t, g, "GET", "/prod/pets/1", http.Header{"Content-Type": {"text/plain"}}, strings.Repeat("x", 7<<20)); res.StatusCode != 413 ||
		!strings.Contains(body, "Request Too Long") {
		t.Errorf("7 MB request: %d %.200s", res.StatusCode, body)
	}

	start := time.Now()
	res, body := send(t, g, "GET", "/prod/pets/1?mode=echo&sleep=1200ms", nil, "")
	if took := time.Since(start); res.StatusCode != 504 || took > 1100*time.Millisecond {
		t.Fatalf("slow function: %d after %v: %s", res.StatusCode, took, body)
	}
	// The emulator still runs the first invocation: this one waits for it.
	res, body = send(t, g, "GET", "/prod/pets/2?mode=echo", nil, "")
	if res.StatusCode != 504 && res.StatusCode != 201 {
		t.Fatalf("after the timeout: %d %s", res.StatusCode, body)
	}
	harness.Eventually(t, 5*time.Second, "the slot freed", func() error {
		if res, _ := send(t, g, "GET", "/prod/pets/3?mode=echo", nil, ""); res.StatusCode != 201 {
			return errNotYet
		}
		return nil
	})
	if strings.Contains(fn.out.String(), "AlreadyReserved") {
		t.Fatal("an invocation was sent while the emulator ran another")
	}

	// One running, one queued (the queue holds 1), the third refused.
	var wg sync.WaitGroup
	codes := make(chan int, 3)
	for i := range 3 {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 40 * time.Millisecond)
			res, _ := send(t, g, "GET", "/prod/pets/1?mode=echo&sleep=200ms", nil, "")
			codes <- res.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	var got []int
	for c := range codes {
		got = append(got, c)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{201, 201, 429}) {
		t.Errorf("statuses %v, want two served and one 429", got)
	}
}

var errNotYet = errorString("not yet")

type errorString string

func (e errorString) Error() string { return string(e) }
