package metrics

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// apiPart builds a one-Api table (as translate.Incremental builds a part)
// with the given route keys in one stage.
func apiPart(t *testing.T, name string, keys []string) *table.Table {
	t.Helper()
	var routes []*table.Route
	for _, k := range keys {
		routes = append(routes, &table.Route{Key: k, Object: "shop/" + name, Integration: table.Integration{Type: table.IntegrationMock,
			Mock: &table.Mock{Status: 200}}})
	}
	part, err := table.New([]*table.Api{{Namespace: "shop", Name: name, Protocol: table.ProtocolHTTP,
		Stages: []*table.Stage{{Name: "prod", Object: "shop/prod", Routes: routes}}}})
	if err != nil {
		t.Fatal(err)
	}
	return part
}

// labelsOf is every label set Bind(t) must keep: each Api, Stage and Route,
// and the empty one (nothing resolved).
func labelsOf(t *table.Table) map[key]bool {
	out := map[key]bool{{}: true}
	for _, a := range t.Apis {
		out[keyOf(a, nil, nil)] = true
		for _, st := range a.Stages {
			out[keyOf(a, st, nil)] = true
			for _, r := range st.Routes {
				out[keyOf(a, st, r)] = true
			}
		}
	}
	return out
}

// TestBindKeepsExactlyTheSeriesOfTheTable swaps random tables merged from
// per-Api parts, most parts shared with the previous table (the same
// *table.Api, as table.Merge shares them), others rebuilt with other route
// keys (a new pointer, mostly the same labels) or dropped. After every Bind
// the series must be exactly the table's label sets (what a Bind that walks
// the whole table keeps), every route must resolve to its series through
// the binding, a route kept across swaps must keep its count, and a
// straggler request on the previous table must not leave a series behind.
func TestBindKeepsExactlyTheSeriesOfTheTable(t *testing.T) {
	m := New(prometheus.NewRegistry(), nil)
	rng := rand.New(rand.NewPCG(18, 1))
	parts := map[string]*table.Table{}
	counts := map[key]float64{}  // 2xx requests observed per route label set since it last appeared
	exported := map[key]string{} // label sets with a 4xx child (stragglers) besides their 2xx one
	var prev *table.Table
	for step := range 80 {
		for i := range 6 {
			name := fmt.Sprintf("a%d", i)
			switch r := rng.IntN(10); {
			case r < 6 && parts[name] != nil: // shared with the previous table
			case r == 6:
				delete(parts, name)
			default:
				var keys []string
				for k := range 8 {
					if rng.IntN(3) > 0 {
						keys = append(keys, fmt.Sprintf("GET /r%d", k))
					}
				}
				parts[name] = apiPart(t, name, keys)
			}
		}
		var all []*table.Table
		for _, p := range parts {
			all = append(all, p)
		}
		tbl, err := table.Merge(all)
		if err != nil {
			t.Fatal(err)
		}
		m.Bind(tbl)
		want := labelsOf(tbl)
		for k := range counts {
			if !want[k] {
				delete(counts, k) // its series is gone: it starts from 0 when it comes back
			}
		}
		for k := range exported {
			if !want[k] {
				delete(exported, k)
			}
		}
		if len(m.series) != len(want) {
			t.Fatalf("step %d: %d series, want %d", step, len(m.series), len(want))
		}
		for k := range want {
			if m.series[k] == nil {
				t.Fatalf("step %d: no series for %v", step, k)
			}
		}
		for _, a := range tbl.Apis {
			for _, st := range a.Stages {
				for _, r := range st.Routes {
					k := keyOf(a, st, r)
					req := &Request{Table: tbl, Api: a, Stage: st, Route: r, Method: "GET", Status: 200}
					if s := m.seriesOf(req); s != m.series[k] {
						t.Fatalf("step %d: %v resolves to another series", step, k)
					}
					m.ObserveRequest(req)
					counts[k]++
					if got := testutil.ToFloat64(m.requests.WithLabelValues(k.ns, k.api, k.stage, k.route, "GET", "2xx")); got != counts[k] {
						t.Fatalf("step %d: %v counted %v, want %v", step, k, got, counts[k])
					}
				}
			}
		}
		if n, want := testutil.CollectAndCount(m.requests), len(counts)+len(exported); n != want {
			t.Fatalf("step %d: %d request series exported, want %d", step, n, want)
		}
		if prev != nil && len(prev.Apis) > 0 { // a request that began on the previous table
			a := prev.Apis[rng.IntN(len(prev.Apis))]
			if st := a.Stages[0]; len(st.Routes) > 0 {
				r := st.Routes[rng.IntN(len(st.Routes))]
				m.ObserveRequest(&Request{Table: prev, Api: a, Stage: st, Route: r, Method: "GET", Status: 404})
				exported[keyOf(a, st, r)] = "4xx"
			}
		}
		prev = tbl
	}
}
