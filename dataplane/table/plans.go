package table

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Throttle is a token bucket: RateLimit tokens per second refill a bucket of
// BurstLimit tokens; each request takes one. A zero rate never refills and a
// zero burst admits nothing, as in AWS.
type Throttle struct {
	RateLimit  int32 `json:"rateLimit"`
	BurstLimit int32 `json:"burstLimit"`
}

// QuotaPeriod is the UTC calendar period of a quota.
type QuotaPeriod string

// Quota periods.
const (
	QuotaDay   QuotaPeriod = "DAY"
	QuotaWeek  QuotaPeriod = "WEEK"
	QuotaMonth QuotaPeriod = "MONTH"
)

// Quota is a per-key allowance of Limit requests per Period; Offset is the
// start day (WEEK 0=Sunday..6, MONTH 0..27 = day-1, DAY 0).
type Quota struct {
	Limit  int64       `json:"limit"`
	Period QuotaPeriod `json:"period"`
	Offset int32       `json:"offset,omitempty"`
}

// Plan is one served usage plan: its per-key throttle and quota and the API
// keys it serves (keys that lost a conflict or are malformed are left out by
// the translator).
type Plan struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Throttle  *Throttle `json:"throttle,omitempty"`
	Quota     *Quota    `json:"quota,omitempty"`
	// Keys sorted by ID.
	Keys []APIKey `json:"keys"`
}

// APIKey is one API key of a plan, known only by its hash.
type APIKey struct {
	// ID is a prefix of the hash: what logs and the usage report show.
	ID string `json:"id"`
	// Object is "namespace/name" of the key's Secret.
	Object string `json:"object"`
	// Hash is the lower-case hex SHA-256 of the key. It is not marshalled, so
	// neither the admin /table view nor golden files carry it.
	Hash string `json:"-"`
}

// KeyIDLength is the number of hex digits of a key's ID.
const KeyIDLength = 12

// KeyID is the ID of the key whose hex hash is hash.
func KeyID(hash string) string { return hash[:min(len(hash), KeyIDLength)] }

// StagePlan links a plan to a stage, with the plan's per-key route buckets
// for this stage by route key.
type StagePlan struct {
	// Plan is "namespace/name" of a Plan of the table.
	Plan           string              `json:"plan"`
	RouteThrottles map[string]Throttle `json:"routeThrottles,omitempty"`
}

// KeyGrant is what one API key may do in one stage: its plan and the stable
// identities of its buckets and quota counter. Identities depend only on
// object names and the key hash, never on the table generation, so a swap
// keeps every bucket and counter (architecture.md, state that outlives a table).
type KeyGrant struct {
	Plan *Plan
	Key  *APIKey
	// BucketID is the identity of the plan's per-key bucket (shared by every
	// stage of the plan, as in AWS).
	BucketID string
	// QuotaID is the identity of the key's quota counter in the plan.
	QuotaID string
	stage   *StagePlan
	prefix  string
}

// RouteThrottle returns the plan's per-key bucket of routeKey in this stage
// and its identity, or nil when the plan sets none for the route.
func (g *KeyGrant) RouteThrottle(routeKey string) (*Throttle, string) {
	th, ok := g.stage.RouteThrottles[routeKey]
	if !ok {
		return nil, ""
	}
	return &th, g.prefix + routeKey + "|" + g.Key.Hash
}

// QuotaID is the identity of the quota counter of key k in plan p (the
// KeyGrant.QuotaID of every stage the plan serves).
func (p *Plan) QuotaID(k *APIKey) string { return "quota|" + p.Namespace + "/" + p.Name + "|" + k.Hash }

// ThrottleID is the identity of the route's stage/route bucket; empty when
// the route has no Throttle (there is no bucket then).
func (r *Route) ThrottleID() string { return r.throttleID }

// Grant returns the grant of the key whose raw SHA-256 is sum, or nil when no
// plan of this stage serves it. The caller compares sum with the grant's hash
// in constant time; the map lookup only finds the candidate.
func (s *Stage) Grant(sum [32]byte) *KeyGrant { return s.keys[sum] }

// Plan returns the served plan namespace/name, or nil.
func (t *Table) Plan(namespace, name string) *Plan {
	if t == nil {
		return nil
	}
	return t.plans[namespace+"/"+name]
}

// linkPlans sorts the plans, gives every route its bucket identity and builds
// each stage's key index. Two plans serving one key in one stage is an error:
// the translator resolves such conflicts before.
func (t *Table) linkPlans() error {
	slices.SortFunc(t.Plans, func(a, b *Plan) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	t.plans = make(map[string]*Plan, len(t.Plans))
	for _, p := range t.Plans {
		slices.SortFunc(p.Keys, func(a, b APIKey) int { return strings.Compare(a.ID, b.ID) })
		t.plans[p.Namespace+"/"+p.Name] = p
	}
	var errs []error
	for _, a := range t.Apis {
		for _, s := range a.Stages {
			for _, r := range s.Routes {
				if r.Throttle != nil { // the only use of the ID; 32 bytes per route otherwise
					r.throttleID = "route|" + s.Object + "|" + r.Key
				}
			}
			if err := s.linkPlans(t.plans); err != nil {
				errs = append(errs, fmt.Errorf("api %s/%s stage %q: %w", a.Namespace, a.Name, s.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Stage) linkPlans(plans map[string]*Plan) error {
	slices.SortFunc(s.Plans, func(a, b *StagePlan) int { return strings.Compare(a.Plan, b.Plan) })
	s.keys = map[[32]byte]*KeyGrant{}
	var errs []error
	for _, sp := range s.Plans {
		p := plans[sp.Plan]
		if p == nil {
			errs = append(errs, fmt.Errorf("plan %q is not in the table", sp.Plan))
			continue
		}
		for i := range p.Keys {
			k := &p.Keys[i]
			var sum [32]byte
			if n, err := hex.Decode(sum[:], []byte(k.Hash)); err != nil || n != len(sum) {
				errs = append(errs, fmt.Errorf("plan %q: key %s has no SHA-256 hex hash", sp.Plan, k.Object))
				continue
			}
			if prev := s.keys[sum]; prev != nil {
				errs = append(errs, fmt.Errorf("key %s is served by plans %s/%s and %s", k.ID, prev.Plan.Namespace, prev.Plan.Name, sp.Plan))
				continue
			}
			s.keys[sum] = &KeyGrant{
				Plan: p, Key: k, stage: sp,
				BucketID: "plan|" + sp.Plan + "|" + k.Hash,
				QuotaID:  p.QuotaID(k),
				prefix:   "planroute|" + sp.Plan + "|" + s.Object + "|",
			}
		}
	}
	return errors.Join(errs...)
}
