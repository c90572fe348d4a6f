package dataplane

import (
	"crypto/x509"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// documentedContextVariables are the $context variables docs/reference.md
// lists in its "$context variables" table.
func documentedContextVariables(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../docs/reference.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "## $context variables")
	if i < 0 {
		t.Fatal(`docs/reference.md has no "## $context variables" section`)
	}
	s = s[i:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	var names []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "| `$context.") {
			continue
		}
		cell := strings.Split(line, "|")[1]
		for _, m := range regexp.MustCompile("`\\$context\\.([A-Za-z0-9_.]+)`").FindAllStringSubmatch(cell, -1) {
			names = append(names, m[1])
		}
	}
	return names
}

// fullExchange is a request that went through every step: every $context
// variable has a value.
func fullExchange() *exchange {
	r := httptest.NewRequest("GET", "http://pets.shop.example.com/prod/pets/7?q=1", nil)
	r.Header.Set("User-Agent", "curl/8")
	x := &exchange{id: "rid", r: r, host: "pets.shop.example.com", start: time.Unix(1700000000, 0)}
	x.w.ResponseWriter, x.w.x = httptest.NewRecorder(), x
	x.w.status, x.w.bytes = 502, 35
	x.path = requestPath{escaped: "/prod/pets/7"}
	x.api, x.stage = &table.Api{Namespace: "shop", Name: "pets"}, &table.Stage{Name: "prod"}
	x.route = &table.Route{Key: "GET /pets/{id}"}
	x.authz = &auth.Result{Outcome: auth.OutcomeForbidden, PrincipalID: "p-1", Error: "missing scope",
		Claims: map[string]any{"sub": "alice"}, Context: map[string]any{"tenant": "t1"}}
	x.clientCert = reqctx.ClientCert{Leaf: &x509.Certificate{Raw: []byte{1, 2, 3}}, SubjectDN: "CN=client", IssuerDN: "CN=ca",
		SerialNumber: "42", NotBefore: "Jan  2 15:04:05 2026 GMT", NotAfter: "Jan  2 15:04:05 2027 GMT"}
	x.lim.grant = &table.KeyGrant{Key: &table.APIKey{ID: "0123456789ab"}}
	x.target.IntegrationLatency, x.target.UpstreamStatus, x.target.Cause = 9*time.Millisecond, 503, "timeout"
	x.errMessage, x.errHint, x.errType = "Internal server error", "the backend timed out", gatewayresp.IntegrationFailure
	x.cache.status = cacheMiss
	x.ws = &websocket.Event{Type: websocket.Message, MessageID: "mid", Conn: &websocket.Conn{ // a WebSocket message
		ID: "cid", ConnectedAt: time.Unix(1690000000, 0), SourceIP: "192.0.2.1", UserAgent: "curl/8"}}
	return x
}

// TestEveryDocumentedContextVariableResolves: each $context variable that
// docs/reference.md lists resolves through the one builder (context()) to a
// value, and the builder knows no variable the docs leave out.
func TestEveryDocumentedContextVariableResolves(t *testing.T) {
	documented := documentedContextVariables(t)
	if len(documented) < 30 {
		t.Fatalf("found only %d documented variables: %v", len(documented), documented)
	}
	c := fullExchange().context()
	for _, name := range documented {
		probe := strings.NewReplacer("claims.NAME", "claims.sub", "authorizer.NAME", "authorizer.tenant").Replace(name)
		v, ok := c.Value(probe)
		if !ok || v == "" {
			t.Errorf("$context.%s (as %s) does not resolve: %q, %t", name, probe, v, ok)
		}
	}
	for _, name := range reqctx.Names() {
		if v, _ := c.Value(name); v != "" && !slices.Contains(documented, name) {
			t.Errorf("$context.%s has a value (%q) but docs/reference.md does not list it", name, v)
		}
	}
}

// The values agree with what the chain knows, whoever reads them.
func TestContextValuesAreTheExchangesOwn(t *testing.T) {
	c := fullExchange().context()
	for name, want := range map[string]string{
		"requestId": "rid", "accountId": "shop", "apiId": "pets", "stage": "prod", "routeKey": "GET /pets/{id}",
		"resourcePath": "/pets/{id}", "path": "/prod/pets/7", "domainName": "pets.shop.example.com", "domainPrefix": "pets",
		"identity.sourceIp": "192.0.2.1", "identity.userAgent": "curl/8", "identity.apiKeyId": "0123456789ab",
		"status": "502", "responseLength": "35", "integrationStatus": "503", "integrationLatency": "9",
		"integrationErrorMessage": "timeout", "error.message": "Internal server error", "authorizer.error": "missing scope",
		"authorizer.principalId": "p-1", "authorizer.claims.sub": "alice", "authorizer.tenant": "t1",
		"requestTimeEpoch": "1700000000000", "identity.apiKey": "",
		"error.responseType": "INTEGRATION_FAILURE", "cacheStatus": "Miss",
		"connectionId": "cid", "eventType": "MESSAGE", "messageId": "mid", "connectedAt": "1690000000000", "messageDirection": "IN",
	} {
		if got, _ := c.Value(name); got != want {
			t.Errorf("$context.%s = %q, want %q", name, got, want)
		}
	}
	if pem, _ := c.Value("identity.clientCert.clientCertPem"); !strings.HasPrefix(pem, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("clientCertPem = %q", pem)
	}
}

// Building the $context costs no allocation: it runs several times per
// request (authorizer, mapping, access log, metrics).
func TestBuildingTheContextDoesNotAllocate(t *testing.T) {
	x := fullExchange()
	if a := testing.AllocsPerRun(100, func() { x.context() }); a != 0 {
		t.Fatalf("context() allocates %v times", a)
	}
}
