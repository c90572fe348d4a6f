package table

import "fmt"

// Canary is a stage's canary: PercentTraffic of its requests, picked at
// random per request, use Variables and are served by each route's
// RouteCanary instead of the route's own integration. Everything else
// (route matching, throttles, authorizers, API keys) is the stage's, so a
// canary shares the stage's buckets and quotas.
type Canary struct {
	// PercentTraffic is the share of requests, 1 to 100, that are canaries.
	// A canary of 0 percent is not put in the table.
	PercentTraffic int `json:"percentTraffic"`
	// Variables are the stage variables with the canary's variables laid
	// over them: what ${stageVariables.x}, $stageVariables.x and authorizer
	// identity sources see in a canary request.
	Variables map[string]string `json:"variables,omitempty"`
}

// RouteCanary is a route resolved with the canary's variables. Failure,
// when set, is what canary requests of the route answer (a canary variable
// that names a missing Service, say); the route's own requests are not
// affected.
type RouteCanary struct {
	Integration Integration `json:"integration"`
	Failure     *Failure    `json:"failure,omitempty"`
}

// validate checks the canary like the route itself; nil is valid.
func (c *RouteCanary) validate() error {
	if c == nil {
		return nil
	}
	if c.Failure != nil {
		if c.Failure.Status < 400 || c.Failure.Status > 599 {
			return fmt.Errorf("failure status %d is not an error status", c.Failure.Status)
		}
		return nil
	}
	return c.Integration.validate()
}

// Picks reports whether a request with the random number roll (uniform in
// 0..99) is a canary request of c; a nil canary picks none.
func (c *Canary) Picks(roll int) bool { return c != nil && roll < c.PercentTraffic }
