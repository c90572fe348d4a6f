package dataplane

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

func TestKnownTrafficProducesRequestMetricsByRouteKeyNeverByPath(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	fwd := &fakeForwarder{respond: func(w http.ResponseWriter, r *http.Request, tg *Target) *Failure {
		if strings.HasSuffix(r.URL.Path, "/down") {
			return &Failure{Status: 502, Message: "Internal server error", Hint: "refused", Cause: "connection refused"}
		}
		tg.IntegrationLatency = 5 * time.Millisecond
		w.WriteHeader(http.StatusOK)
		return nil
	}}
	s := NewServer(Options{Forwarder: fwd, Metrics: reg})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod", mockRoute("GET /pets", 200, "pets"), serviceRoute("ANY /svc/{proxy+}")))))

	for range 3 {
		do(s, "GET", "/prod/pets", nil)
	}
	do(s, "GET", "/prod/svc/1", nil)
	do(s, "POST", "/prod/svc/2", nil)
	do(s, "GET", "/prod/svc/down", nil)
	do(s, "GET", "/prod/cats/9", nil)
	do(s, "GET", "/staging/pets", nil)

	want := `
# HELP turnpike_requests_total Requests answered, by Api, stage, route key, method and status class (AWS Count, 4XXError, 5XXError).
# TYPE turnpike_requests_total counter
turnpike_requests_total{api="pets",method="GET",namespace="shop",route="",stage="",status_class="4xx"} 1
turnpike_requests_total{api="pets",method="GET",namespace="shop",route="",stage="prod",status_class="4xx"} 1
turnpike_requests_total{api="pets",method="GET",namespace="shop",route="ANY /svc/{proxy+}",stage="prod",status_class="2xx"} 1
turnpike_requests_total{api="pets",method="GET",namespace="shop",route="ANY /svc/{proxy+}",stage="prod",status_class="5xx"} 1
turnpike_requests_total{api="pets",method="GET",namespace="shop",route="GET /pets",stage="prod",status_class="2xx"} 3
turnpike_requests_total{api="pets",method="POST",namespace="shop",route="ANY /svc/{proxy+}",stage="prod",status_class="2xx"} 1
# HELP turnpike_upstream_errors_total Integration calls that failed before a backend response, by cause (connection refused, timeout, egress denied, ...).
# TYPE turnpike_upstream_errors_total counter
turnpike_upstream_errors_total{api="pets",cause="connection refused",namespace="shop",route="ANY /svc/{proxy+}",stage="prod"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "turnpike_requests_total", "turnpike_upstream_errors_total"); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if h := m.GetHistogram(); h != nil {
				counts[mf.GetName()] += h.GetSampleCount()
			}
		}
	}
	if counts["turnpike_request_duration_seconds"] != 8 || counts["turnpike_integration_duration_seconds"] != 3 {
		t.Fatalf("want 8 request and 3 integration latency samples, got %v", counts)
	}
}

// A request whose client failed while sending its body (the forwarder's
// Failure without a cause: 400, 408, 413) is counted, but is neither an
// integration error nor an integration latency sample.
func TestAClientBodyFailureIsNotAnIntegrationSample(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	fwd := &fakeForwarder{respond: func(http.ResponseWriter, *http.Request, *Target) *Failure {
		return &Failure{Status: 408, Message: "Request Timeout", Hint: "slow body"}
	}}
	s := NewServer(Options{Forwarder: fwd, Metrics: reg})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod", serviceRoute("POST /svc")))))
	if w := do(s, "POST", "/prod/svc", strings.NewReader("x")); w.Code != 408 {
		t.Fatalf("status %d", w.Code)
	}
	if n := testutil.CollectAndCount(reg, "turnpike_integration_duration_seconds"); n != 0 {
		t.Fatalf("%d integration latency series for a client failure", n)
	}
	if n := testutil.CollectAndCount(reg, "turnpike_upstream_errors_total"); n != 0 {
		t.Fatalf("%d upstream error series for a client failure", n)
	}
}
