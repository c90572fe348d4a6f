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
