package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// The Grafana dashboard shipped with the chart may only query metrics this
// package registers, so a renamed metric cannot leave it showing nothing.
func TestTheGrafanaDashboardQueriesOnlyMetricsThisPackageExports(t *testing.T) {
	b, err := os.ReadFile("../../charts/turnpike/dashboards/turnpike.json")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := New(reg, func() uint64 { return 0 })
	m.SetAuthorizerCache(func() (uint64, uint64) { return 0, 0 })
	tbl := petsTable(t, "GET /pets")
	m.Bind(tbl)
	r := request(tbl, "GET /pets", "GET", 502)
	r.Integrated, r.Cause = true, "timeout"
	m.ObserveRequest(r)
	m.UpdateEndpoints(table.EndpointSets{"shop/pets:": nil})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, mf := range mfs {
		known[mf.GetName()] = true
	}
	used := regexp.MustCompile(`turnpike_[a-z_]+`).FindAllString(string(b), -1)
	if len(used) == 0 {
		t.Fatal("the dashboard queries no turnpike metric")
	}
	for _, name := range used {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if !known[base] {
			t.Errorf("the dashboard queries %s, which is not exported", name)
		}
	}
}
