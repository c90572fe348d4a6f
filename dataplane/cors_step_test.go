package dataplane

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

const appOrigin = "https://app.example.com"

// corsApi is an HTTP Api with a CORS policy, a MOCK route that sets its own
// CORS header, an OPTIONS route that must never see a preflight, a failing
// route, and a SERVICE route.
func corsApi() *table.Api {
	m := mockRoute("GET /pets", 200, "pets")
	m.Integration.Mock.Headers["access-control-allow-origin"] = "*"
	failing := &table.Route{Key: "GET /broken", Object: "shop/broken",
		Failure: &table.Failure{Status: 500, Message: "Internal Server Error", Hint: "broken"}}
	a := testApi(table.ProtocolHTTP, stage("prod", m, mockRoute("OPTIONS /pets", 418, "options route"), failing, serviceRoute("GET /svc")))
	a.CORS = &table.CORS{AllowOrigins: []string{appOrigin}, AllowMethods: []string{"GET", "DELETE"},
		AllowHeaders: []string{"x-custom"}, AllowCredentials: true}
	return a
}

func corsRequest(method, target, origin string, preflight bool) *http.Request {
	r := httptest.NewRequest(method, "http://"+testHost+target, nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if preflight {
		r.Header.Set("Access-Control-Request-Method", "DELETE")
		r.Header.Set("Access-Control-Request-Headers", "x-custom")
	}
	return r
}

func TestTheChainAnswersCORS(t *testing.T) {
	fwd := &fakeForwarder{respond: func(w http.ResponseWriter, _ *http.Request, _ *Target) *Failure {
		w.Header().Set("Access-Control-Allow-Origin", "https://attacker.test")
		w.WriteHeader(http.StatusOK)
		return nil
	}}
	down := &fakeForwarder{respond: func(http.ResponseWriter, *http.Request, *Target) *Failure {
		return &Failure{Status: 503, Message: "Service Unavailable", Hint: "no endpoints"}
	}}
	tests := []struct {
		name         string
		fwd          Forwarder
		req          *http.Request
		status       int
		allowOrigin  string
		requestIDSet bool
	}{
		{"a preflight is answered before route lookup, even where an OPTIONS route exists", fwd, corsRequest("OPTIONS", "/prod/pets", appOrigin, true), 204, appOrigin, true},
		{"a preflight for a path without any route is answered too", fwd, corsRequest("OPTIONS", "/prod/nowhere", appOrigin, true), 204, appOrigin, true},
		{"a refused preflight is 204 without Allow-Origin", fwd, corsRequest("OPTIONS", "/prod/pets", "https://attacker.test", true), 204, "", true},
		{"an OPTIONS without Access-Control-Request-Method goes to its route", fwd, corsRequest("OPTIONS", "/prod/pets", appOrigin, false), 418, appOrigin, true},
		{"a MOCK's own CORS header is replaced", fwd, corsRequest("GET", "/prod/pets", appOrigin, false), 200, appOrigin, true},
		{"a backend's CORS header is replaced", fwd, corsRequest("GET", "/prod/svc", appOrigin, false), 200, appOrigin, true},
		{"a backend's CORS header is removed for an unlisted origin", fwd, corsRequest("GET", "/prod/svc", "https://attacker.test", false), 200, "", true},
		{"a gateway 404 for a missing route carries CORS headers", fwd, corsRequest("GET", "/prod/cats", appOrigin, false), 404, appOrigin, true},
		{"a gateway 500 of a failing route carries CORS headers", fwd, corsRequest("GET", "/prod/broken", appOrigin, false), 500, appOrigin, true},
		{"a gateway 503 from the forwarder carries CORS headers", down, corsRequest("GET", "/prod/svc", appOrigin, false), 503, appOrigin, true},
		{"an unknown stage is answered before CORS applies", fwd, corsRequest("OPTIONS", "/staging/pets", appOrigin, true), 404, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, tc.fwd, corsApi())
			w := httptest.NewRecorder()
			s.ServeHTTP(w, tc.req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.status, trimBody(w))
			}
			if got := w.Header().Values("Access-Control-Allow-Origin"); len(got) > 1 || tc.allowOrigin == "" && len(got) != 0 ||
				tc.allowOrigin != "" && (len(got) != 1 || got[0] != tc.allowOrigin) {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.allowOrigin)
			}
			if tc.allowOrigin != "" && w.Header().Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatal("an allowed answer lacks Access-Control-Allow-Credentials")
			}
			if w.Header().Get("X-Request-Id") == "" {
				t.Fatal("the request id header was lost")
			}
		})
	}
}

func TestAnApiWithoutCORSSendsNoCORSHeadersAndRoutesPreflights(t *testing.T) {
	a := corsApi()
	a.CORS = nil
	s := newTestServer(t, nil, a)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, corsRequest("OPTIONS", "/prod/pets", appOrigin, true))
	if w.Code != 418 {
		t.Fatalf("status %d, want the OPTIONS route's 418", w.Code)
	}
	w = httptest.NewRecorder()
	s.ServeHTTP(w, corsRequest("GET", "/prod/pets", appOrigin, false))
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Fatalf("without a policy the MOCK's own header must pass, got %q", got)
	}
	if w.Header().Get("Vary") != "" {
		t.Fatal("without a policy the gateway must not add Vary")
	}
}

func BenchmarkCORSRequest(b *testing.B) {
	s := newTestServer(b, &fakeForwarder{}, corsApi())
	r := corsRequest("GET", "/prod/svc", appOrigin, false)
	b.ReportAllocs()
	for b.Loop() {
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
}
