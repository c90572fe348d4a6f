package translate

import (
	"maps"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// stageCanary is the table form of a Stage's canary: nil when there is none
// or it takes no traffic (percentTraffic 0 changes nothing, so it is served
// as if absent). Its variables are the stage's with the canary's laid over
// them, as AWS canary stage variables override the stage's.
func stageCanary(s *v1alpha1.Stage) *table.Canary {
	c := s.Spec.Canary
	if c == nil || c.PercentTraffic <= 0 {
		return nil
	}
	vars := maps.Clone(s.Spec.Variables)
	if vars == nil && len(c.Variables) > 0 {
		vars = make(map[string]string, len(c.Variables))
	}
	maps.Copy(vars, c.Variables)
	return &table.Canary{PercentTraffic: int(min(c.PercentTraffic, 100)), Variables: vars}
}

// canaryState is st as canary requests see it: the same Stage with the
// canary's variables, so resolve substitutes them.
func canaryState(st *stageState) *stageState {
	c := st.table.Canary
	if c == nil {
		return nil
	}
	return &stageState{obj: st.obj, name: st.name, table: &table.Stage{Name: st.name, Variables: c.Variables}}
}

// routeCanary resolves r for the canary of stage st. It returns nil when the
// stage has no canary or the canary resolves exactly like the route (no
// stage variable changes anything): canary requests then use the route
// itself. The issue, if any, is the canary's own, worded as such.
func (tr *translator) routeCanary(r *v1alpha1.Route, st *stageState, main *table.Route, failure func(*issue) *table.Failure) (*table.RouteCanary, *issue) {
	cst := canaryState(st)
	if cst == nil {
		return nil, nil
	}
	in, iss := tr.resolve(r, cst)
	if iss != nil {
		out := *iss
		out.message = "in the canary of stage " + quote(st.name) + ": " + iss.message
		out.hint = "canary: " + iss.hint
		iss = &out
	}
	c := &table.RouteCanary{Integration: in, Failure: failure(iss)}
	if c.Failure != nil {
		c.Integration = table.Integration{Type: in.Type, TimeoutMillis: in.TimeoutMillis}
	}
	if c.Failure == nil && main.Failure == nil && sameIntegration(&c.Integration, &main.Integration) ||
		c.Failure != nil && main.Failure != nil && iss == nil {
		return nil, nil // canary requests are served exactly like the route's own
	}
	return c, iss
}

// sameIntegration compares what stage variables can change: the uri and the
// Service (type, timeout and mock never depend on them).
func sameIntegration(a, b *table.Integration) bool {
	if a.URI != b.URI || (a.Service == nil) != (b.Service == nil) {
		return false
	}
	return a.Service == nil || *a.Service == *b.Service
}
