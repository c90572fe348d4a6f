package dataplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

func petsApi(p table.Protocol, hints bool) *table.Api {
	failing := &table.Route{Key: "GET /broken", Object: "shop/broken",
		Failure: &table.Failure{Status: 500, Message: "Internal Server Error", Hint: `Service "pets" not found`}}
	a := testApi(p,
		stage("prod", mockRoute("GET /pets", 200, "pets"), failing),
		stage("dev", mockRoute("GET /pets", 200, "dev pets")))
	a.ErrorHints = hints
	return a
}

func TestGatewayErrorBodies(t *testing.T) {
	tests := []struct {
		name     string
		protocol table.Protocol
		hints    bool
		host     string
		target   string
		status   int
		body     string
	}{
		{"an unknown host is 404 on HTTP", table.ProtocolHTTP, false, "other.example", "/prod/pets", 404, `{"message":"Not Found"}`},
		{"an unknown host is 404 on REST too", table.ProtocolREST, false, "other.example", "/prod/pets", 404, `{"message":"Not Found"}`},
		{"an unknown stage is 404 on HTTP", table.ProtocolHTTP, false, testHost, "/production/pets", 404, `{"message":"Not Found"}`},
		{"an unknown stage is 403 Missing Authentication Token on REST", table.ProtocolREST, false, testHost, "/production/pets", 403, `{"message":"Missing Authentication Token"}`},
		{"an unknown stage with hints names the stages", table.ProtocolHTTP, true, testHost, "/production/pets", 404,
			`{"message":"Not Found","hint":"no stage named \"production\"; this Api has stages: dev, prod"}`},
		{"the root path without a $default stage has no route", table.ProtocolREST, false, testHost, "/", 403, `{"message":"Missing Authentication Token"}`},
		{"no route is 404 on HTTP", table.ProtocolHTTP, false, testHost, "/prod/cats", 404, `{"message":"Not Found"}`},
		{"no route is 403 on REST", table.ProtocolREST, false, testHost, "/prod/cats", 403, `{"message":"Missing Authentication Token"}`},
		{"no route with hints names method, path and stage", table.ProtocolREST, true, testHost, "/prod/pets/1", 403,
			`{"message":"Missing Authentication Token","hint":"no route matches GET /pets/1 in stage \"prod\""}`},
		{"a failing route answers its status without a hint", table.ProtocolHTTP, false, testHost, "/prod/broken", 500, `{"message":"Internal Server Error"}`},
		{"a failing route with hints shows its reason", table.ProtocolHTTP, true, testHost, "/prod/broken", 500,
			`{"message":"Internal Server Error","hint":"Service \"pets\" not found"}`},
		{"a bad path is 400 on both protocols", table.ProtocolREST, true, testHost, "/prod/%2e%2e/pets", 400, `{"message":"Bad Request"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, nil, petsApi(tc.protocol, tc.hints))
			r := httptest.NewRequest("GET", "http://"+tc.host+tc.target, nil)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != tc.status || trimBody(w) != tc.body {
				t.Fatalf("got %d %s, want %d %s", w.Code, trimBody(w), tc.status, tc.body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
}

func TestHostIsMatchedWithoutPortAndCase(t *testing.T) {
	s := newTestServer(t, nil, petsApi(table.ProtocolHTTP, false))
	r := httptest.NewRequest("GET", "http://PETS.Shop.execute-api.localhost:8080/prod/pets", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 || w.Body.String() != "pets" {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

func TestStageIsTheFirstSegmentAndTrailingSlashIsIgnored(t *testing.T) {
	s := newTestServer(t, nil, petsApi(table.ProtocolHTTP, false))
	for target, want := range map[string]string{"/prod/pets": "pets", "/prod/pets/": "pets", "/dev/pets": "dev pets"} {
		if w := do(s, "GET", target, nil); w.Code != 200 || w.Body.String() != want {
			t.Errorf("%s: got %d %q, want %q", target, w.Code, w.Body.String(), want)
		}
	}
}

func TestDefaultStageServesPathsWithoutAStagePrefix(t *testing.T) {
	s := newTestServer(t, nil, testApi(table.ProtocolHTTP,
		stage(table.DefaultStage, mockRoute("GET /prod/pets", 200, "default"), mockRoute("GET /", 200, "root")),
		stage("prod", mockRoute("GET /pets", 200, "prod"))))
	cases := map[string]string{
		"/prod/pets":           "prod", // a named stage wins the first segment
		"/":                    "root", // the root of $default
		"/$default/prod/pets":  "",     // $default is never a path prefix
		"/%24default/prod/pet": "",     // not even encoded
		"/other":               "",     // $default has no such route
	}
	for target, want := range cases {
		w := do(s, "GET", target, nil)
		if want == "" {
			if w.Code != 404 {
				t.Errorf("%s: got %d, want 404", target, w.Code)
			}
			continue
		}
		if w.Code != 200 || w.Body.String() != want {
			t.Errorf("%s: got %d %q, want %q", target, w.Code, w.Body.String(), want)
		}
	}
}

func TestMockAnswersStatusHeadersAndBody(t *testing.T) {
	r := mockRoute("POST /pets", 201, `{"ok":true}`)
	r.Integration.Mock.Headers = map[string]string{"content-type": "application/json", "x-mock": "yes"}
	s := newTestServer(t, nil, testApi(table.ProtocolHTTP, stage("prod", r)))
	w := do(s, "POST", "/prod/pets", strings.NewReader("{}"))
	if w.Code != 201 || w.Body.String() != `{"ok":true}` || w.Header().Get("X-Mock") != "yes" ||
		w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Content-Length") != "11" {
		t.Fatalf("got %d %q %v", w.Code, w.Body.String(), w.Header())
	}
}

func TestRequestIDHeadersPerProtocol(t *testing.T) {
	for _, p := range []table.Protocol{table.ProtocolHTTP, table.ProtocolREST} {
		fwd := &fakeForwarder{}
		s := newTestServer(t, fwd, testApi(p, stage("prod", serviceRoute("GET /pets"))))
		r := httptest.NewRequest("GET", "http://"+testHost+"/prod/pets", nil)
		r.Header.Set("X-Request-Id", "client-chosen")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		id := w.Header().Get("X-Request-Id")
		if len(id) != 32 {
			t.Fatalf("%s: request id %q", p, id)
		}
		apigw, amzn := w.Header().Get("Apigw-Requestid"), w.Header().Get("X-Amzn-Requestid")
		if (p == table.ProtocolHTTP && (apigw != id || amzn != "")) || (p == table.ProtocolREST && (amzn != id || apigw != "")) {
			t.Fatalf("%s: apigw-requestid %q x-amzn-RequestId %q, id %q", p, apigw, amzn, id)
		}
		if _, h := fwd.last(); h.Get("X-Request-Id") != id {
			t.Fatalf("%s: backend saw request id %q, want %q", p, h.Get("X-Request-Id"), id)
		}
	}
	s := newTestServer(t, nil)
	a, b := do(s, "GET", "/x", nil).Header().Get("X-Request-Id"), do(s, "GET", "/x", nil).Header().Get("X-Request-Id")
	if a == "" || a == b {
		t.Fatalf("error responses need distinct request ids, got %q and %q", a, b)
	}
}

func TestForwardedTargetKeepsOriginalEscapingWithoutStage(t *testing.T) {
	fwd := &fakeForwarder{}
	s := newTestServer(t, fwd, testApi(table.ProtocolHTTP,
		stage("prod", serviceRoute("GET /pets/{id}/{rest+}"), serviceRoute("ANY /"))))
	w := do(s, "GET", "/prod/pets/a%20b/x/y%3Bz?q=1&r=%2F", nil)
	if w.Code != 200 || w.Body.String() != "backend" {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	tg, _ := fwd.last()
	if tg.Path != "/pets/a%20b/x/y%3Bz" || tg.RawQuery != "q=1&r=%2F" {
		t.Fatalf("path %q query %q", tg.Path, tg.RawQuery)
	}
	if strings.Join(tg.Params.Names, ",") != "id,rest" || strings.Join(tg.Params.Values, ",") != "a b,x/y;z" {
		t.Fatalf("params %v=%v", tg.Params.Names, tg.Params.Values)
	}
	if tg.Integration == nil || tg.Integration.Type != table.IntegrationService {
		t.Fatalf("integration %+v", tg.Integration)
	}
	if do(s, "DELETE", "/prod", nil); func() string { tg, _ := fwd.last(); return tg.Path }() != "/" {
		t.Fatal("the stage root must forward as /")
	}
}

func TestForwarderFailuresAreRendered(t *testing.T) {
	fwd := &fakeForwarder{respond: func(http.ResponseWriter, *http.Request, *Target) *Failure {
		return &Failure{Status: 502, Message: "Internal server error", Hint: "connection refused", Cause: "egress denied"}
	}}
	var logBuf bytes.Buffer
	s := NewServer(Options{Forwarder: fwd, AccessLog: &logBuf})
	api := testApi(table.ProtocolHTTP, stage("prod", serviceRoute("GET /pets")))
	api.ErrorHints = true
	s.Swap(mustTable(t, api))
	w := do(s, "GET", "/prod/pets", nil)
	s.Close()
	if w.Code != 502 || trimBody(w) != `{"message":"Internal server error","hint":"connection refused"}` {
		t.Fatalf("got %d %s", w.Code, trimBody(w))
	}
	var e map[string]any
	if err := json.Unmarshal(logBuf.Bytes(), &e); err != nil {
		t.Fatalf("access log %q: %v", logBuf.String(), err)
	}
	if e["integrationErrorMessage"] != "egress denied" || e["errorHint"] != "connection refused" || e["status"] != float64(502) {
		t.Fatalf("access log %s", logBuf.String())
	}
}

func TestBodyLimitByContentLength(t *testing.T) {
	fwd := &fakeForwarder{}
	s := newTestServer(t, fwd, testApi(table.ProtocolREST, stage("prod", serviceRoute("POST /pets"))))
	w := do(s, "POST", "/prod/pets", bytes.NewReader(make([]byte, 1025)))
	if w.Code != 413 || trimBody(w) != `{"message":"Request Entity Too Large"}` {
		t.Fatalf("got %d %s", w.Code, trimBody(w))
	}
	if tg, _ := fwd.last(); tg.Integration != nil {
		t.Fatal("an oversized body must not reach the forwarder")
	}
	if w := do(s, "POST", "/prod/pets", bytes.NewReader(make([]byte, 1024))); w.Code != 200 {
		t.Fatalf("a body at the limit got %d", w.Code)
	}
}

func TestBodyLimitOnAStreamedBody(t *testing.T) {
	fwd := &fakeForwarder{respond: func(w http.ResponseWriter, r *http.Request, _ *Target) *Failure {
		_, err := io.Copy(io.Discard, r.Body)
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return &Failure{Status: 413, Message: "Request Entity Too Large"}
		}
		w.WriteHeader(200)
		return nil
	}}
	s := newTestServer(t, fwd, testApi(table.ProtocolHTTP, stage("prod", serviceRoute("POST /pets"))))
	r := httptest.NewRequest("POST", "http://"+testHost+"/prod/pets", io.NopCloser(bytes.NewReader(make([]byte, 5000))))
	r.ContentLength = -1 // chunked: the size is unknown until read
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 413 || trimBody(w) != `{"message":"Request Entity Too Large"}` {
		t.Fatalf("got %d %s", w.Code, trimBody(w))
	}
}

func TestAccessLogHasOneEntryPerRequestWithHint(t *testing.T) {
	var buf bytes.Buffer
	s := NewServer(Options{AccessLog: &buf})
	s.Swap(mustTable(t, petsApi(table.ProtocolHTTP, false)))
	do(s, "GET", "/prod/pets", nil)
	do(s, "GET", "/nope/pets", nil)
	s.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 entries, got %q", buf.String())
	}
	var ok, bad map[string]any
	if json.Unmarshal([]byte(lines[0]), &ok) != nil || json.Unmarshal([]byte(lines[1]), &bad) != nil {
		t.Fatalf("bad JSON: %q", buf.String())
	}
	if ok["routeKey"] != "GET /pets" || ok["stage"] != "prod" || ok["api"] != "shop/pets" || ok["status"] != float64(200) ||
		ok["responseLength"] != float64(4) || ok["path"] != "/prod/pets" || ok["domainName"] != testHost || ok["requestId"] == "" {
		t.Errorf("ok entry %s", lines[0])
	}
	// errorHints is off: the client saw no hint, the log has it.
	if bad["status"] != float64(404) || bad["errorMessage"] != "Not Found" || !strings.Contains(bad["errorHint"].(string), `no stage named "nope"`) {
		t.Errorf("error entry %s", lines[1])
	}
}

func TestAnAbortedResponseIsStillLogged(t *testing.T) {
	fwd := &fakeForwarder{respond: func(w http.ResponseWriter, _ *http.Request, tg *Target) *Failure {
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "partial")
		tg.Cause = "backend reset"
		panic(http.ErrAbortHandler) // what the proxy does when a backend dies mid-response
	}}
	var buf bytes.Buffer
	s := NewServer(Options{Forwarder: fwd, AccessLog: &buf})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod", serviceRoute("GET /pets")))))
	srv := httptest.NewServer(s)
	req, _ := http.NewRequest("GET", srv.URL+"/prod/pets", nil)
	req.Host = testHost
	if res, err := srv.Client().Do(req); err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Error("the client should see the response cut off")
		}
	}
	srv.Close()
	s.Close()
	var e map[string]any
	if err := json.Unmarshal(buf.Bytes(), &e); err != nil {
		t.Fatalf("access log %q: %v", buf.String(), err)
	}
	if e["errorMessage"] != "response aborted" || e["integrationErrorMessage"] != "backend reset" || e["routeKey"] != "GET /pets" {
		t.Fatalf("access log %s", buf.String())
	}
}
