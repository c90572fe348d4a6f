package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// metricSum sums the series of exactly the named metric over their labels,
// not those of a longer name it prefixes, nor HELP and TYPE lines.
func TestMetricSumAddsTheSeriesOfOneMetric(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `# HELP turnpike_x_total X.
# TYPE turnpike_x_total counter
turnpike_x_total{store="a"} 2
turnpike_x_total{store="b"} 3.5
turnpike_x_total_more 100
turnpike_pending 7
`)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for name, want := range map[string]float64{"turnpike_x_total": 5.5, "turnpike_pending": 7, "turnpike_absent": 0} {
		got, err := metricSum(addr, name)
		if err != nil || got != want {
			t.Errorf("metricSum(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}
