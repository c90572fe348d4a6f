package dataplane

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// canaryStage is stage prod with one MOCK route GET /pets answering
// "stable", whose canary answers "canary", at percent.
func canaryStage(percent int) *table.Stage {
	r := mockRoute("GET /pets", 200, "stable")
	r.Canary = &table.RouteCanary{Integration: table.Integration{Type: table.IntegrationMock,
		Mock: &table.Mock{Status: 200, Body: "canary"}}}
	st := stage("prod", r)
	st.Canary = &table.Canary{PercentTraffic: percent}
	return st
}

// countCanaries sends n requests and counts canary answers; every answer
// must be marked exactly when it is the canary's.
func countCanaries(t *testing.T, s *Server, n int) int {
	t.Helper()
	canaries := 0
	for range n {
		w := do(s, "GET", "/prod/pets", nil)
		marked := w.Header().Get("X-Turnpike-Canary") == "true"
		if body := w.Body.String(); marked != (body == "canary") {
			t.Fatalf("body %q with canary header %v", body, marked)
		}
		if marked {
			canaries++
		}
	}
	return canaries
}

// TestTenPercentCanaryLandsWithinTheBinomialInterval: 10,000 requests at
// 10% give Binomial(10000, 0.1) canaries: mean 1000, sd 30; the two-sided
// 99.9% interval is 1000 ± 3.29·30, so [902, 1098].
func TestTenPercentCanaryLandsWithinTheBinomialInterval(t *testing.T) {
	s := NewServer(Options{Forwarder: &fakeForwarder{}, GatewayThrottle: table.Throttle{RateLimit: 1e6, BurstLimit: 1e6}})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, canaryStage(10))))
	if got := countCanaries(t, s, 10000); got < 902 || got > 1098 {
		t.Fatalf("%d of 10000 requests were canaries; want 902..1098 (10%% ± 99.9%% binomial interval)", got)
	}
}

func TestZeroAndHundredPercentCanariesTakeNoneAndAll(t *testing.T) {
	s0 := newTestServer(t, &fakeForwarder{}, testApi(table.ProtocolHTTP, canaryStage(0)))
	if got := countCanaries(t, s0, 1000); got != 0 {
		t.Errorf("0%%: %d canaries", got)
	}
	s100 := newTestServer(t, &fakeForwarder{}, testApi(table.ProtocolHTTP, canaryStage(100)))
	if got := countCanaries(t, s100, 1000); got != 1000 {
		t.Errorf("100%%: %d of 1000 canaries", got)
	}
}

// TestCanaryVariablePointsAtAnotherService: the canary's Service (from a
// canary variable, resolved by the translator) gets the canary requests,
// which see the canary's stage variables in parameter mapping, carry the
// header, and are marked in the access log.
func TestCanaryVariablePointsAtAnotherService(t *testing.T) {
	_, stableEp := echoBackend(t, "pets")
	_, canaryEp := echoBackend(t, "pets-v3")
	r := serviceRoute("GET /pets")
	r.Canary = &table.RouteCanary{Integration: table.Integration{Type: table.IntegrationService, TimeoutMillis: 1000,
		Service: &table.ServiceTarget{Namespace: "shop", Name: "pets-v3", Port: 8080}}}
	r.RequestMapping = mustRequestMapping(t, map[string]string{"overwrite:header.x-backend-var": "$stageVariables.backend"})
	st := stage("prod", r)
	st.Variables = map[string]string{"backend": "pets"}
	st.Canary = &table.Canary{PercentTraffic: 100, Variables: map[string]string{"backend": "pets-v3"}}
	var log lockedBuffer
	s := NewServer(Options{AccessLog: &log})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, st)))
	s.UpdateEndpoints(table.EndpointSets{"shop/pets:": {stableEp}, "shop/pets-v3:": {canaryEp}})
	front := newFront(t, s)

	res, got := send(t, front, "GET", "/prod/pets", nil, "")
	if res.Header.Get("X-Backend") != "pets-v3" || res.Header.Get("X-Turnpike-Canary") != "true" ||
		strings.Join(got.Header["X-Backend-Var"], ",") != "pets-v3" {
		t.Fatalf("backend %q, canary header %q, mapped variable %q", res.Header.Get("X-Backend"), res.Header.Get("X-Turnpike-Canary"), got.Header["X-Backend-Var"])
	}
	s.Close()
	var entry struct {
		Canary bool `json:"canary"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(log.buf.String())), &entry); err != nil || !entry.Canary {
		t.Fatalf("access log %q does not mark the canary (%v)", log.buf.String(), err)
	}
}

// TestCanaryFailureAnswersOnlyCanaryRequests: a canary whose Service is
// missing answers 500 for canary requests; the route's own still work.
func TestCanaryFailureAnswersOnlyCanaryRequests(t *testing.T) {
	r := mockRoute("GET /pets", 200, "stable")
	r.Canary = &table.RouteCanary{Integration: table.Integration{Type: table.IntegrationService, TimeoutMillis: 1000},
		Failure: &table.Failure{Status: 500, Message: "Internal Server Error", Hint: "canary: Service \"nope\" does not exist"}}
	on := stage("prod", r)
	on.Canary = &table.Canary{PercentTraffic: 100}
	s := newTestServer(t, &fakeForwarder{}, testApi(table.ProtocolHTTP, on))
	if w := do(s, "GET", "/prod/pets", nil); w.Code != 500 || w.Header().Get("X-Turnpike-Canary") != "true" {
		t.Errorf("canary request: %d %v", w.Code, w.Header())
	}
	off := canaryStage(0)
	off.Routes[0].Canary = r.Canary
	s = newTestServer(t, &fakeForwarder{}, testApi(table.ProtocolHTTP, off))
	if w := do(s, "GET", "/prod/pets", nil); w.Code != 200 || w.Header().Get("X-Turnpike-Canary") != "" {
		t.Errorf("stable request: %d %v", w.Code, w.Header())
	}
}
