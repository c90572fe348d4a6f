package dataplane

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

// TestWithApiKeySourceAuthorizerTheKeyIsTheAuthorizersUsageIdentifierKey: on
// an Api whose apiKeySource is AUTHORIZER the key that selects the usage plan
// is the usageIdentifierKey of the authorizer's answer; a client-sent
// x-api-key neither helps nor hurts, and an answer without one is 403.
func TestWithApiKeySourceAuthorizerTheKeyIsTheAuthorizersUsageIdentifierKey(t *testing.T) {
	authz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			IdentitySource []string `json:"identitySource"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		answer := map[string]any{"principalId": "p", "policyDocument": map[string]any{"Statement": []map[string]any{
			{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:turnpike:execute-api:shop:pets/*"}}}}
		switch ev.IdentitySource[0] {
		case "gold-customer":
			answer["usageIdentifierKey"] = goldKey
		case "other-customer":
			answer["usageIdentifierKey"] = otherKey
		}
		_ = json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(authz.Close)

	keyed := authRoute(mockRoute("GET /keyed", 200, "keyed"), requestAuthz(authz.URL, false))
	keyed.ApiKeyRequired = true
	prod := stage("prod", keyed)
	prod.Plans = []*table.StagePlan{{Plan: "shop/gold"}}
	api := testApi(table.ProtocolHTTP, prod)
	api.ApiKeyFromAuthorizer = true
	plan := &table.Plan{Namespace: "shop", Name: "gold", Quota: &table.Quota{Limit: 1, Period: table.QuotaDay},
		Keys: []table.APIKey{{ID: table.KeyID(hashKey(goldKey)), Object: "shop/gold-key", Hash: hashKey(goldKey)}}}
	tbl, err := table.NewWithPlans([]*table.Api{api}, []*table.Plan{plan})
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{}
	s := NewServer(Options{Forwarder: &fakeForwarder{}, Limiter: throttle.NewLocal(clk.now)})
	t.Cleanup(s.Close)
	s.Swap(tbl)

	send := func(identity, header string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://"+testHost+"/prod/keyed", nil)
		r.Header.Set("Authorization", identity)
		if header != "" {
			r.Header.Set("x-api-key", header)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	cases := []struct {
		name, identity, header string
		status                 int
		body                   string
	}{
		{"an answer without a usageIdentifierKey is forbidden even with a good x-api-key", "anonymous", goldKey, 403, `{"message":"Forbidden"}`},
		{"a usageIdentifierKey that is no key of the stage's plans is forbidden", "other-customer", "", 403, `{"message":"Forbidden"}`},
		{"the authorizer's key of plan gold is admitted and counted", "gold-customer", "", 200, "keyed"},
		{"the same key's quota of 1 is then exhausted", "gold-customer", otherKey, 429, `{"message":"Limit Exceeded"}`},
	}
	for _, tc := range cases {
		w := send(tc.identity, tc.header)
		if w.Code != tc.status || trimBody(w) != tc.body {
			t.Errorf("%s: %d %s, want %d %s", tc.name, w.Code, trimBody(w), tc.status, tc.body)
		}
	}
}
