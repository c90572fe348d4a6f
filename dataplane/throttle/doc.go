// Package throttle decides whether a request may pass the token buckets and
// the quota that apply to it (api.md, Stage and UsagePlan).
//
// Invariants:
//   - Check-all-before-take: a Check names every bucket (and at most one
//     quota) of one step; either all of them admit the request and each gives
//     one token (and the quota counts one), or none is touched. A refused
//     request never costs a token.
//   - Integer arithmetic only: a bucket holds micro-tokens (Unit per token)
//     refilled at RateLimit micro-tokens per microsecond, so rates are exact
//     and the Go and Lua implementations give the same answers.
//   - State is keyed by the stable identities of dataplane/table (object names
//     and key hashes), never by table generation: swapping the table keeps
//     every bucket and counter. A bucket whose configuration changed keeps its
//     tokens, clamped to the new burst.
//   - Quota periods are UTC calendar periods (PeriodBounds); a counter counts
//     only requests that every bucket of the same check admitted.
//
// The gateway makes one Check per step of api.md: the gateway-wide and
// stage/route buckets before authorization, for every route; then, on
// apiKeyRequired routes, the plan's buckets and quota. Tokens a step took are
// not given back when a later step refuses.
//
// Local is exact within one process. Redis shares the stage, route and plan
// buckets and the quotas of every replica through one Lua script per check
// that runs on Redis's own clock; the gateway-wide bucket stays per replica.
package throttle
