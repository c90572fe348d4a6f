package accesslog

import (
	"bytes"
	"strings"
	"testing"
)

// sample is one request as the dataplane fills it.
func sample() Entry {
	return Entry{
		RequestID: "8ddd4f991e1b86652ed200aa74b13300", IP: "203.0.113.9", RequestTime: "07/Mar/2026:10:11:12 +0000",
		HTTPMethod: "GET", RouteKey: "GET /pets/{petId}", Path: "/prod/pets/7", Status: 200, Protocol: "HTTP/1.1",
		ResponseLength: 42, ResponseLatency: 12, IntegrationLatency: 9, IntegrationStatus: 200,
		Stage: "prod", DomainName: "pets.shop.execute-api.localhost", API: "shop/pets",
	}
}

func render(t *testing.T, format string, e Entry) string {
	t.Helper()
	f, err := Compile(format)
	if err != nil {
		t.Fatalf("Compile(%q): %v", format, err)
	}
	var buf bytes.Buffer
	l := New(&buf, 4)
	e.Format = f
	l.Log(e)
	l.Close()
	return buf.String()
}

func TestEachFormatWritesItsGoldenLine(t *testing.T) {
	failed := sample()
	failed.Status, failed.ResponseLength, failed.IntegrationStatus, failed.IntegrationLatency = 502, 35, 0, 3
	failed.ErrorMessage, failed.IntegrationError = "Internal server error", "connection refused"
	tests := []struct {
		name, format string
		entry        Entry
		want         string
	}{
		{"json is one JSON object per line", "json", sample(),
			`{"requestId":"8ddd4f991e1b86652ed200aa74b13300","ip":"203.0.113.9","requestTime":"07/Mar/2026:10:11:12 +0000",` +
				`"httpMethod":"GET","routeKey":"GET /pets/{petId}","path":"/prod/pets/7","status":200,"protocol":"HTTP/1.1",` +
				`"responseLength":42,"responseLatency":12,"integrationLatency":9,"integrationStatus":200,` +
				`"integrationErrorMessage":"","errorMessage":"","errorHint":"","stage":"prod",` +
				`"domainName":"pets.shop.execute-api.localhost","api":"shop/pets"}` + "\n"},
		{"clf is AWS's CLF preset", "clf", sample(),
			`203.0.113.9 - - [07/Mar/2026:10:11:12 +0000] "GET GET /pets/{petId} HTTP/1.1" 200 42 8ddd4f991e1b86652ed200aa74b13300` + "\n"},
		{"an AWS JSON template pasted from the console", `{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", ` +
			`"requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod","routeKey":"$context.routeKey", ` +
			`"status":"$context.status","protocol":"$context.protocol", "responseLength":"$context.responseLength", ` +
			`"userAgent":"$context.identity.userAgent", "integrationStatus":"$context.integration.status" }`, failed,
			`{ "requestId":"8ddd4f991e1b86652ed200aa74b13300", "ip": "203.0.113.9", "requestTime":"07/Mar/2026:10:11:12 +0000", ` +
				`"httpMethod":"GET","routeKey":"GET /pets/{petId}", "status":"502","protocol":"HTTP/1.1", "responseLength":"35", ` +
				`"userAgent":"-", "integrationStatus":"-" }` + "\n"},
		{"error variables and trailing punctuation", `$context.requestId $context.error.messageString $context.integration.error $context.integrationLatency.`,
			failed, `8ddd4f991e1b86652ed200aa74b13300 "Internal server error" connection refused 3.` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, tc.format, tc.entry); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestTemplateValuesCannotBreakTheLineOrItsQuoting(t *testing.T) {
	e := sample()
	e.ErrorMessage = "a \"quoted\"\u000asecond line\x01"
	got := render(t, `{"id":"$context.requestId","err":"$context.error.message"}`, e)
	want := `{"id":"8ddd4f991e1b86652ed200aa74b13300","err":"a \"quoted\"\u000asecond line\u0001"}` + "\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFieldsNotYetInTheEntryRenderAsADash(t *testing.T) {
	// principalId and apiKeyId arrive with authorizers and API keys; a template
	// naming them is valid today and fills in once Entry has the fields.
	got := render(t, `$context.requestId $context.authorizer.principalId $context.identity.apiKeyId`, sample())
	if !strings.HasPrefix(got, "8ddd4f991e1b86652ed200aa74b13300 ") || strings.Count(got, " ") != 2 {
		t.Fatalf("unexpected line %q", got)
	}
}

func TestInvalidFormatsAreRejectedWithASentence(t *testing.T) {
	for format, want := range map[string]string{
		"$context.requestId $context.stauts":  "$context.stauts, which is not a known variable",
		"$context.httpMethod $context.path":   "must include $context.requestId",
		"$context.requestId\n$context.status": "single line",
		strings.Repeat("x", 5000):             "at most 4096",
	} {
		if _, err := Compile(format); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%.40q): got %v, want an error containing %q", format, err, want)
		}
	}
	if f, err := Compile("json"); f != nil || err != nil {
		t.Errorf("json must compile to the nil Format, got %v, %v", f, err)
	}
}

func TestRenderingATemplateDoesNotAllocate(t *testing.T) {
	f, err := Compile(CLFTemplate)
	if err != nil {
		t.Fatal(err)
	}
	e := sample()
	buf := make([]byte, 0, 512)
	if a := testing.AllocsPerRun(100, func() { buf = f.Append(buf[:0], &e) }); a != 0 {
		t.Fatalf("want 0 allocations per line, got %v", a)
	}
}
