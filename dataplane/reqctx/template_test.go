package reqctx

import (
	"strings"
	"testing"
	"time"
)

// sample is one request as the dataplane fills it.
func sample() Context {
	return Context{
		RequestID: "8ddd4f991e1b86652ed200aa74b13300", SourceIP: "203.0.113.9", RequestTimeText: "07/Mar/2026:10:11:12 +0000",
		HTTPMethod: "GET", RouteKey: "GET /pets/{petId}", Path: "/prod/pets/7", Status: 200, Protocol: "HTTP/1.1",
		ResponseLength: 42, ResponseLatency: 12 * time.Millisecond, IntegrationLatency: 9 * time.Millisecond, IntegrationStatus: 200,
		Stage: "prod", DomainName: "pets.shop.execute-api.localhost", AccountID: "shop", APIID: "pets",
	}
}

func render(t *testing.T, format string, c Context) string {
	t.Helper()
	f, err := CompileAccessLog(format)
	if err != nil {
		t.Fatalf("CompileAccessLog(%q): %v", format, err)
	}
	return string(f.Append(nil, &c))
}

func TestEachFormatWritesItsGoldenLine(t *testing.T) {
	failed := sample()
	failed.Status, failed.ResponseLength, failed.IntegrationStatus, failed.IntegrationLatency = 502, 35, 0, 3*time.Millisecond
	failed.ErrorMessage, failed.IntegrationError = "Internal server error", "connection refused"
	tests := []struct {
		name, format string
		ctx          Context
		want         string
	}{
		{"clf is AWS's CLF preset", "clf", sample(),
			`203.0.113.9 - - [07/Mar/2026:10:11:12 +0000] "GET GET /pets/{petId} HTTP/1.1" 200 42 8ddd4f991e1b86652ed200aa74b13300`},
		{"an AWS JSON template pasted from the console", `{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", ` +
			`"requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod","routeKey":"$context.routeKey", ` +
			`"status":"$context.status","protocol":"$context.protocol", "responseLength":"$context.responseLength", ` +
			`"userAgent":"$context.identity.userAgent", "integrationStatus":"$context.integration.status" }`, failed,
			`{ "requestId":"8ddd4f991e1b86652ed200aa74b13300", "ip": "203.0.113.9", "requestTime":"07/Mar/2026:10:11:12 +0000", ` +
				`"httpMethod":"GET","routeKey":"GET /pets/{petId}", "status":"502","protocol":"HTTP/1.1", "responseLength":"35", ` +
				`"userAgent":"-", "integrationStatus":"-" }`},
		{"error variables and trailing punctuation", `$context.requestId $context.error.messageString $context.integration.error $context.integrationLatency.`,
			failed, `8ddd4f991e1b86652ed200aa74b13300 "Internal server error" connection refused 3.`},
		{"account and api ids stand in for AWS's", `$context.requestId $context.accountId $context.apiId $context.domainPrefix $context.resourcePath`,
			sample(), `8ddd4f991e1b86652ed200aa74b13300 shop pets pets /pets/{petId}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, tc.format, tc.ctx); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestTemplateValuesCannotBreakTheLineOrItsQuoting(t *testing.T) {
	c := sample()
	c.ErrorMessage = "a \"quoted\"\u000asecond line\x01"
	got := render(t, `{"id":"$context.requestId","err":"$context.error.message"}`, c)
	want := `{"id":"8ddd4f991e1b86652ed200aa74b13300","err":"a \"quoted\"\u000asecond line\u0001"}`
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestEmptyValuesRenderAsADash(t *testing.T) {
	got := render(t, `$context.requestId $context.authorizer.principalId $context.identity.apiKeyId $context.xrayTraceId $context.identity.apiKey`, sample())
	if got != "8ddd4f991e1b86652ed200aa74b13300 - - - -" {
		t.Fatalf("unexpected line %q", got)
	}
}

func TestInvalidFormatsAreRejectedWithASentence(t *testing.T) {
	for format, want := range map[string]string{
		"$context.requestId $context.stauts":             "$context.stauts, which is not a known variable",
		"$context.httpMethod $context.path":              "must include $context.requestId",
		"$context.requestId\n$context.status":            "single line",
		strings.Repeat("x", 5000):                        "at most 4096",
		"$context.requestId $context.authorizer.claims.": "$context.authorizer.claims, which is not a known variable",
	} {
		if _, err := CompileAccessLog(format); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CompileAccessLog(%.40q): got %v, want an error containing %q", format, err, want)
		}
	}
	if f, err := CompileAccessLog("json"); f != nil || err != nil {
		t.Errorf("json must compile to the nil template, got %v, %v", f, err)
	}
}

func TestRenderingATemplateDoesNotAllocate(t *testing.T) {
	f, err := CompileTemplate(CLFTemplate + " $context.requestTimeEpoch $context.responseLatency $context.integration.status")
	if err != nil {
		t.Fatal(err)
	}
	c := sample()
	c.RequestTime = time.Unix(1700000000, 0)
	buf := make([]byte, 0, 512)
	if a := testing.AllocsPerRun(100, func() { buf = f.Append(buf[:0], &c) }); a != 0 {
		t.Fatalf("want 0 allocations per line, got %v", a)
	}
}

func TestSourceIPDropsThePortAndBrackets(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:5000":   "192.0.2.1",
		"[2001:db8::1]:80": "2001:db8::1",
		"[2001:db8::1]":    "2001:db8::1",
		"192.0.2.1":        "192.0.2.1",
		"":                 "",
	} {
		if got := SourceIP(addr); got != want {
			t.Errorf("SourceIP(%q) = %q, want %q", addr, got, want)
		}
	}
}
