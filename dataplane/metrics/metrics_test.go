package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

func petsTable(t *testing.T, keys ...string) *table.Table {
	t.Helper()
	var routes []*table.Route
	for _, k := range keys {
		routes = append(routes, &table.Route{Key: k, Object: "shop/r", Integration: table.Integration{Type: table.IntegrationMock,
			Mock: &table.Mock{Status: 200}}})
	}
	tbl, err := table.New([]*table.Api{{Namespace: "shop", Name: "pets", Protocol: table.ProtocolHTTP,
		Stages: []*table.Stage{{Name: "prod", Object: "shop/prod", Routes: routes}}}})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// request is a request on tbl's only stage for the route with key route ("":
// no route matched).
func request(tbl *table.Table, route string, method string, status int) *Request {
	api := tbl.Apis[0]
	st := api.Stages[0]
	r := &Request{Table: tbl, Api: api, Stage: st, Method: method, Status: status, Duration: 3 * time.Millisecond}
	for _, rt := range st.Routes {
		if rt.Key == route {
			r.Route = rt
		}
	}
	return r
}

func TestRequestsAreCountedByRouteKeyMethodAndStatusClass(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, nil)
	tbl := petsTable(t, "GET /pets", "ANY /pets/{proxy+}")
	m.Bind(tbl)
	m.ObserveRequest(request(tbl, "GET /pets", "GET", 200))
	m.ObserveRequest(request(tbl, "GET /pets", "GET", 204))
	m.ObserveRequest(request(tbl, "ANY /pets/{proxy+}", "DELETE", 503))
	m.ObserveRequest(request(tbl, "ANY /pets/{proxy+}", "BREW", 418))
	m.ObserveRequest(request(tbl, "", "GET", 404))
	m.ObserveRequest(&Request{Method: "GET", Status: 404}) // unknown host: nothing resolved

	want := `
# HELP turnpike_requests_total Requests answered, by Api, stage, route key, method and status class (AWS Count, 4XXError, 5XXError).
# TYPE turnpike_requests_total counter
turnpike_requests_total{api="",method="GET",namespace="",route="",stage="",status_class="4xx"} 1
turnpike_requests_total{api="pets",method="DELETE",namespace="shop",route="ANY /pets/{proxy+}",stage="prod",status_class="5xx"} 1
turnpike_requests_total{api="pets",method="GET",namespace="shop",route="",stage="prod",status_class="4xx"} 1
turnpike_requests_total{api="pets",method="GET",namespace="shop",route="GET /pets",stage="prod",status_class="2xx"} 2
turnpike_requests_total{api="pets",method="OTHER",namespace="shop",route="ANY /pets/{proxy+}",stage="prod",status_class="4xx"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "turnpike_requests_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.duration); n != 5 {
		t.Fatalf("want 5 latency series (one per counter series), got %d", n)
	}
}

func TestIntegrationLatencyAndCausesAreRecordedOnlyForIntegrationCalls(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, nil)
	tbl := petsTable(t, "GET /pets")
	m.Bind(tbl)
	ok := request(tbl, "GET /pets", "GET", 200)
	ok.Integrated, ok.IntegrationLatency = true, 20*time.Millisecond
	refused := request(tbl, "GET /pets", "GET", 502)
	refused.Integrated, refused.Cause = true, "connection refused"
	m.ObserveRequest(ok)
	m.ObserveRequest(refused)
	m.ObserveRequest(request(tbl, "GET /pets", "GET", 200)) // a MOCK answer: no integration

	if n := testutil.CollectAndCount(m.integration); n != 1 {
		t.Fatalf("want one integration series, got %d", n)
	}
	h := m.integration.WithLabelValues("shop", "pets", "prod", "GET /pets").(prometheus.Histogram)
	if c := testutil.CollectAndCount(h); c != 1 {
		t.Fatal("integration histogram missing")
	}
	want := `
# HELP turnpike_upstream_errors_total Integration calls that failed before a backend response, by cause (connection refused, timeout, egress denied, ...).
# TYPE turnpike_upstream_errors_total counter
turnpike_upstream_errors_total{api="pets",cause="connection refused",namespace="shop",route="GET /pets",stage="prod"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "turnpike_upstream_errors_total"); err != nil {
		t.Fatal(err)
	}
}

func TestARouteThatLeavesTheTableLosesItsSeriesAndAKeptRouteKeepsItsCount(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, nil)
	first := petsTable(t, "GET /pets", "GET /cats")
	m.Bind(first)
	m.ObserveRequest(request(first, "GET /pets", "GET", 200))
	m.ObserveRequest(request(first, "GET /cats", "GET", 200))

	second := petsTable(t, "GET /pets")
	m.Bind(second)
	m.ObserveRequest(request(second, "GET /pets", "GET", 200))
	if got := testutil.ToFloat64(m.requests.WithLabelValues("shop", "pets", "prod", "GET /pets", "GET", "2xx")); got != 2 {
		t.Fatalf("GET /pets: want 2 across the swap, got %v", got)
	}
	if n := testutil.CollectAndCount(m.requests); n != 1 {
		t.Fatalf("want only the GET /pets series after the swap, got %d", n)
	}
	// A request that began on the old table still counts, by its labels.
	m.ObserveRequest(request(first, "GET /cats", "GET", 200))
	if got := testutil.ToFloat64(m.requests.WithLabelValues("shop", "pets", "prod", "GET /cats", "GET", "2xx")); got != 1 {
		t.Fatalf("a straggler on the old table: want 1, got %v", got)
	}
}

func TestObservingABoundRouteDoesNotAllocate(t *testing.T) {
	m := New(prometheus.NewRegistry(), nil)
	tbl := petsTable(t, "GET /pets")
	m.Bind(tbl)
	r := request(tbl, "GET /pets", "GET", 200)
	r.Integrated = true
	m.ObserveRequest(r) // resolve the children
	if a := testing.AllocsPerRun(1000, func() { m.ObserveRequest(r) }); a != 0 {
		t.Fatalf("want 0 allocations per request, got %v", a)
	}
}

func TestReadyEndpointsAndAccessLogDropsAreExportedAtScrapeTime(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	var dropped uint64 = 7
	m := New(reg, func() uint64 { return dropped })
	m.UpdateEndpoints(table.EndpointSets{
		"shop/pets:http": {{Address: "10.0.0.1", Port: 80}, {Address: "10.0.0.2", Port: 80}},
		"shop/toys:":     {},
	})
	want := `
# HELP turnpike_access_log_dropped_total Access log lines dropped because the log writer was too slow (requests are never blocked by it).
# TYPE turnpike_access_log_dropped_total counter
turnpike_access_log_dropped_total 7
# HELP turnpike_upstream_endpoints_ready Ready endpoints of each Service port that SERVICE integrations target.
# TYPE turnpike_upstream_endpoints_ready gauge
turnpike_upstream_endpoints_ready{namespace="shop",port="",service="toys"} 0
turnpike_upstream_endpoints_ready{namespace="shop",port="http",service="pets"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"turnpike_access_log_dropped_total", "turnpike_upstream_endpoints_ready"); err != nil {
		t.Fatal(err)
	}
	m.UpdateEndpoints(table.EndpointSets{})
	if n := testutil.CollectAndCount(m.endpoints); n != 0 {
		t.Fatalf("a Service that left the sets must leave the metric, got %d series", n)
	}
}

func TestANilMetricsRecordsNothingAndDoesNotPanic(t *testing.T) {
	var m *Metrics
	m.Bind(&table.Table{})
	m.UpdateEndpoints(nil)
	m.ObserveRequest(&Request{Method: "GET", Status: 200})
}
