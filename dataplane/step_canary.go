package dataplane

import (
	"math/rand/v2"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Canary releases (api.md, Stage canary). The stage's table entry carries
// the canary's share and merged variables; each route carries the canary's
// own resolution (table.RouteCanary) when it differs from the route's.
//   - The pick is made once per request, right after the stage is known, by
//     a uniform random draw: percentTraffic of requests, independently of
//     each other, so no client or header can choose the canary.
//   - A canary request carries the canary's variables everywhere stage
//     variables are read (integration, parameter mapping, authorizer
//     identity sources) and its response, gateway errors included, carries
//     x-turnpike-canary: true; the access log marks it too.
//   - Everything else (routes, throttles, authorizers, API keys, quotas) is
//     the stage's: canary and stage requests share buckets.

// canaryHeader marks canary responses.
const canaryHeader = "X-Turnpike-Canary"

// pickCanary is the step after resolveStage.
func (x *exchange) pickCanary() bool {
	pick := false
	if x.ws != nil {
		pick = x.ws.Conn.Canary // a connection's events keep its upgrade's pick
	} else {
		pick = x.stage.Canary.Picks(rand.IntN(100)) //nolint:gosec // a traffic split, not a secret
	}
	if pick && x.stage.Canary != nil {
		x.canary = true
		x.w.Header()[canaryHeader] = []string{"true"}
	}
	return true
}

// variables are the stage variables this request sees.
func (x *exchange) variables() map[string]string {
	if x.canary {
		return x.stage.Canary.Variables
	}
	return x.stage.Variables
}

// routeFailure is the fixed error the matched route answers for this
// request, nil when it is served: a canary request answers the canary's.
func (x *exchange) routeFailure() *table.Failure {
	if c := x.route.Canary; x.canary && c != nil {
		return c.Failure
	}
	return x.route.Failure
}

// integration is the matched route's integration for this request.
func (x *exchange) integration() *table.Integration {
	if c := x.route.Canary; x.canary && c != nil {
		return &c.Integration
	}
	return &x.route.Integration
}
