package dataplane

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/tracing"
)

// otlpReceiver is an in-process OTLP/HTTP trace receiver: it decodes the
// protobuf export requests the exporter posts to /v1/traces.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil && r.URL.Path == "/v1/traces" {
		err = proto.Unmarshal(raw, &req)
	}
	if err != nil || r.URL.Path != "/v1/traces" {
		http.Error(w, "bad export request", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			o.spans = append(o.spans, ss.GetSpans()...)
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// byName returns the received spans by name; a name seen twice fails t.
func (o *otlpReceiver) byName(t *testing.T) map[string]*tracepb.Span {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[string]*tracepb.Span{}
	for _, s := range o.spans {
		if m[s.GetName()] != nil {
			t.Fatalf("span %q received twice", s.GetName())
		}
		m[s.GetName()] = s
	}
	return m
}

func intAttr(s *tracepb.Span, key string) int64 {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return kv.GetValue().GetIntValue()
		}
	}
	return -1
}

func strAttr(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// tracedGateway serves GET /prod/pets through a REQUEST authorizer that
// allows everything to an HTTP_PROXY backend that records the traceparent it
// receives.
func tracedGateway(t *testing.T, tr *tracing.Tracer) (*Server, func() string) {
	t.Helper()
	var mu sync.Mutex
	var got string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Get("Traceparent")
		mu.Unlock()
		_, _ = io.WriteString(w, "pets")
	}))
	t.Cleanup(backend.Close)
	authz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"isAuthorized":true}`)
	}))
	t.Cleanup(authz.Close)
	route := &table.Route{Key: "GET /pets", Object: "shop/pets", Integration: table.Integration{
		Type: table.IntegrationHTTPProxy, URI: backend.URL + "/pets", TimeoutMillis: 2000,
	}}
	a := requestAuthz(authz.URL, true)
	a.Request.TimeoutMillis = 2000
	s := NewServer(Options{Tracing: tr})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod", authRoute(route, a)))))
	return s, func() string { mu.Lock(); defer mu.Unlock(); return got }
}

const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
)

func TestARequestTraceReachesTheOTLPReceiverAsAChildOfTheIncomingTraceparent(t *testing.T) {
	recv := &otlpReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_SERVICE_NAME", "gateway-under-test")
	tr, err := tracing.FromEnv(context.Background())
	if err != nil || tr == nil {
		t.Fatalf("FromEnv = %v, %v; want a tracer", tr, err)
	}
	s, backendTraceparent := tracedGateway(t, tr)

	r := httptest.NewRequest("GET", "http://"+testHost+"/prod/pets", nil)
	r.Header.Set("Traceparent", "00-"+clientTraceID+"-"+clientSpanID+"-01")
	r.Header.Set("Authorization", "token")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	do(s, "GET", "/prod/cats", nil) // no route, no traceparent: a new trace
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown (flush): %v", err)
	}

	spans := recv.byName(t)
	req, authzSpan, integ, miss := spans["GET /pets"], spans["authorizer shop/authz"], spans["integration HTTP_PROXY"], spans["GET"]
	if req == nil || authzSpan == nil || integ == nil || miss == nil || len(spans) != 4 {
		t.Fatalf("received spans %v; want GET /pets, authorizer shop/authz, integration HTTP_PROXY and GET", keys(spans))
	}
	if id := hex.EncodeToString(req.GetTraceId()); id != clientTraceID {
		t.Errorf("request span trace id %s, want the client's %s", id, clientTraceID)
	}
	if p := hex.EncodeToString(req.GetParentSpanId()); p != clientSpanID {
		t.Errorf("request span parent %s, want the client's span %s", p, clientSpanID)
	}
	for _, child := range []*tracepb.Span{authzSpan, integ} {
		if string(child.GetParentSpanId()) != string(req.GetSpanId()) || string(child.GetTraceId()) != string(req.GetTraceId()) {
			t.Errorf("span %q is not a child of the request span", child.GetName())
		}
	}
	want := "00-" + clientTraceID + "-" + hex.EncodeToString(integ.GetSpanId()) + "-01"
	if got := backendTraceparent(); got != want {
		t.Errorf("backend received traceparent %q, want the integration span's %q", got, want)
	}
	if req.GetKind() != tracepb.Span_SPAN_KIND_SERVER || integ.GetKind() != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("kinds: request %v, integration %v", req.GetKind(), integ.GetKind())
	}
	if intAttr(req, "http.response.status_code") != 200 || strAttr(req, "http.route") != "/pets" ||
		strAttr(req, "url.path") != "/prod/pets" || strAttr(req, "turnpike.api") != "shop/pets" || strAttr(req, "turnpike.stage") != "prod" {
		t.Errorf("request span attributes: %v", req.GetAttributes())
	}
	if intAttr(integ, "http.response.status_code") != 200 || strAttr(authzSpan, "turnpike.authorizer.outcome") != "allow" {
		t.Errorf("integration %v / authorizer %v attributes", integ.GetAttributes(), authzSpan.GetAttributes())
	}
	if len(miss.GetParentSpanId()) != 0 || string(miss.GetTraceId()) == string(req.GetTraceId()) ||
		intAttr(miss, "http.response.status_code") != 404 || miss.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("unmatched request span: parent %x, status %v, attributes %v", miss.GetParentSpanId(), miss.GetStatus(), miss.GetAttributes())
	}
}

func keys(m map[string]*tracepb.Span) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWithTracingOffTheBackendGetsTheClientTraceparentUntouched(t *testing.T) {
	s, backendTraceparent := tracedGateway(t, nil)
	tp := "00-" + clientTraceID + "-" + clientSpanID + "-01"
	r := httptest.NewRequest("GET", "http://"+testHost+"/prod/pets", nil)
	r.Header.Set("Traceparent", tp)
	r.Header.Set("Authorization", "token")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 || backendTraceparent() != tp {
		t.Fatalf("status %d, backend traceparent %q; want 200 and %q", w.Code, backendTraceparent(), tp)
	}
}
