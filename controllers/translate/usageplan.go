package translate

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Annotations the Secret sources set in memory on API-key Secrets
// (controllers.HashAPIKey); repeated here because translate must not import
// the controllers package.
const (
	keyHashedAnnotation  = "turnpike.io/key-hashed"
	keyInvalidAnnotation = "turnpike.io/key-invalid"
)

// planKeys is what one UsagePlan selects: its servable keys and why others
// are not served.
type planKeys struct {
	keys      []table.APIKey
	invalid   []string // "Secret \"x\": reason"
	conflicts []string
}

// translateUsagePlans serves every Accepted UsagePlan, oldest first, so that
// the first plan to claim an API key for a stage keeps it (ApiKeyConflict for
// the others, which then do not serve that key at all, as AWS refuses to add
// a key to a second plan of a stage). A plan serves the stages that resolve;
// malformed key Secrets are reported and left out.
func (tr *translator) translateUsagePlans(plans []v1alpha1.UsagePlan, secrets []corev1.Secret) {
	claims := map[string]string{} // claimKey(ns, api, stage) NUL hash -> plan name
	keySecrets := byAge(secrets, func(s *corev1.Secret) *metav1.ObjectMeta { return &s.ObjectMeta })
	for _, p := range byAge(plans, func(p *v1alpha1.UsagePlan) *metav1.ObjectMeta { return &p.ObjectMeta }) {
		var v verdict
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.ApiKeySelector)
		if err != nil {
			v.accepted = &issue{reason: v1alpha1.ReasonInvalid, message: "spec.apiKeySelector is invalid: " + err.Error(), stalled: true}
			v.programmed = v.accepted
		}
		stages, resolved := tr.planStages(p)
		v.resolved = resolved
		if len(stages) == 0 {
			v.programmed = firstIssue(v.programmed, resolved) // nothing to serve until a stage resolves
		}
		var keys []table.APIKey
		if v.accepted == nil {
			pk := selectKeys(p, sel, keySecrets)
			pk.claim(p, claims)
			v.programmed = firstIssue(pk.issue(), v.programmed)
			keys = pk.keys
			if len(keys) == 0 && v.programmed == nil {
				v.okReason = v1alpha1.ReasonNoApiKeys
			}
			tr.servePlan(p, stages, pk.keys)
		}
		status := tr.objectStatus(KindUsagePlan, &p.ObjectMeta, p.Status.Conditions, v)
		status.ApiKeys = int32(len(keys))
		tr.describeScope(&status, p.Namespace)
		tr.statuses = append(tr.statuses, status)
	}
}

// planStages returns the served stages of the plan's apiStages and the
// ResolvedRefs issue of the first that does not resolve.
func (tr *translator) planStages(p *v1alpha1.UsagePlan) ([]*stageState, *issue) {
	var out []*stageState
	var first *issue
	for i := range p.Spec.ApiStages {
		as := &p.Spec.ApiStages[i]
		api, iss := tr.apiRef(p.Namespace, as.ApiName, KindUsagePlan)
		var st *stageState
		if iss == nil {
			i := slices.IndexFunc(api.stages, func(s *stageState) bool { return s.name == as.Stage })
			if i < 0 {
				iss = &issue{
					reason:  v1alpha1.ReasonUnresolvedRefs,
					message: fmt.Sprintf("Api %q has no served Stage named %q; create it or fix spec.apiStages", as.ApiName, as.Stage),
					waiting: true,
				}
			} else {
				st = api.stages[i]
			}
		}
		if iss != nil {
			first = firstIssue(first, iss)
			continue
		}
		out = append(out, st)
	}
	return out, first
}

// selectKeys returns the API-key Secrets of the plan's namespace that its
// selector matches, deduplicated by hash (one key value is one key; the
// oldest Secret names it). secrets are in olderFirst order.
func selectKeys(p *v1alpha1.UsagePlan, sel labels.Selector, secrets []*corev1.Secret) *planKeys {
	pk := &planKeys{}
	seen := map[string]bool{}
	for _, s := range secrets {
		if s.Namespace != p.Namespace || string(s.Type) != v1alpha1.ApiKeySecretType || !sel.Matches(labels.Set(s.Labels)) {
			continue
		}
		hash := string(s.Data["key"])
		problem := s.Annotations[keyInvalidAnnotation]
		if problem == "" && (s.Annotations[keyHashedAnnotation] == "" || len(hash) != 64) {
			problem = "the key was not hashed by the gateway's Secret source"
		}
		if problem != "" {
			pk.invalid = append(pk.invalid, fmt.Sprintf("Secret %q: %s", s.Name, problem))
			continue
		}
		if seen[hash] {
			continue
		}
		seen[hash] = true
		pk.keys = append(pk.keys, table.APIKey{ID: table.KeyID(hash), Object: s.Namespace + "/" + s.Name, Hash: hash})
	}
	slices.Sort(pk.invalid)
	return pk
}

// claim claims every key for every apiStage of p; a key an older plan holds
// for one of them is dropped from p altogether.
func (pk *planKeys) claim(p *v1alpha1.UsagePlan, claims map[string]string) {
	kept := pk.keys[:0]
	for _, k := range pk.keys {
		owner := ""
		for _, as := range p.Spec.ApiStages {
			if o, ok := claims[claimKey(p.Namespace, as.ApiName, as.Stage)+"\x00"+k.Hash]; ok && o != p.Name {
				owner = o
				pk.conflicts = append(pk.conflicts, fmt.Sprintf("the key of Secret %q is already in UsagePlan %q (created first) for stage %q of Api %q",
					strings.TrimPrefix(k.Object, p.Namespace+"/"), o, as.Stage, as.ApiName))
				break
			}
		}
		if owner == "" {
			kept = append(kept, k)
		}
	}
	pk.keys = kept
	for _, k := range pk.keys {
		for _, as := range p.Spec.ApiStages {
			claims[claimKey(p.Namespace, as.ApiName, as.Stage)+"\x00"+k.Hash] = p.Name
		}
	}
}

// issue is the Programmed issue of keys the plan selects but does not serve.
func (pk *planKeys) issue() *issue {
	switch {
	case len(pk.conflicts) > 0:
		return &issue{reason: v1alpha1.ReasonApiKeyConflict, stalled: true,
			message: pk.conflicts[0] + "; a key may be in one plan per stage, so this plan does not serve it" + more(len(pk.conflicts)-1)}
	case len(pk.invalid) > 0:
		return &issue{reason: v1alpha1.ReasonInvalidApiKey, stalled: true,
			message: "API key " + pk.invalid[0] + ", so it is not served" + more(len(pk.invalid)-1)}
	}
	return nil
}

func more(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return " (and 1 more key)"
	}
	return fmt.Sprintf(" (and %d more keys)", n)
}

// servePlan adds the plan to the table and links it to its stages.
func (tr *translator) servePlan(p *v1alpha1.UsagePlan, stages []*stageState, keys []table.APIKey) {
	tp := &table.Plan{Namespace: p.Namespace, Name: p.Name, Throttle: tableThrottle(p.Spec.Throttle), Keys: keys}
	if q := p.Spec.Quota; q != nil {
		tp.Quota = &table.Quota{Limit: q.Limit, Period: table.QuotaPeriod(q.Period), Offset: q.Offset}
	}
	if tp.Keys == nil {
		tp.Keys = []table.APIKey{}
	}
	tr.plans = append(tr.plans, tp)
	for _, st := range stages {
		sp := &table.StagePlan{Plan: p.Namespace + "/" + p.Name}
		for _, as := range p.Spec.ApiStages {
			if as.ApiName != st.obj.Spec.ApiName || as.Stage != st.name || len(as.RouteThrottles) == 0 {
				continue
			}
			sp.RouteThrottles = make(map[string]table.Throttle, len(as.RouteThrottles))
			for k, th := range as.RouteThrottles {
				sp.RouteThrottles[k] = table.Throttle{RateLimit: th.RateLimit, BurstLimit: th.BurstLimit}
			}
		}
		st.table.Plans = append(st.table.Plans, sp)
	}
}

// describeScope says in the Programmed condition whether the plan's limits
// are per replica or shared through Redis (api.md: the status says so), and
// in Programmed and Ready when its selector matches no API key.
func (tr *translator) describeScope(st *ObjectStatus, ns string) {
	noKeys := "its apiKeySelector matches no API key (a Secret of type " + v1alpha1.ApiKeySecretType +
		" in namespace " + quote(ns) + "), so no request is admitted under it yet"
	// A plan with nothing to report holds the conditions slice it shares
	// with other objects (conditions.go): write into a copy.
	st.Conditions = slices.Clone(st.Conditions)
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Status != metav1.ConditionTrue {
			continue
		}
		switch {
		case c.Type == v1alpha1.ConditionProgrammed && c.Reason == v1alpha1.ReasonNoApiKeys:
			c.Message = "The gateway serves the UsagePlan, but " + noKeys
		case c.Type == v1alpha1.ConditionReady && c.Reason == v1alpha1.ReasonNoApiKeys:
			c.Message = "The UsagePlan is ready, but " + noKeys
		case c.Type != v1alpha1.ConditionProgrammed:
		case tr.sharedLimits:
			c.Message = "The gateway serves the UsagePlan; its buckets and quota are shared by all replicas through Redis"
		default:
			c.Message = "The gateway serves the UsagePlan; its buckets and quota are per gateway replica (no --redis-url)"
		}
	}
}

// tableThrottle converts a CRD throttle (nil stays nil).
func tableThrottle(th *v1alpha1.Throttle) *table.Throttle {
	if th == nil {
		return nil
	}
	return &table.Throttle{RateLimit: th.RateLimit, BurstLimit: th.BurstLimit}
}

// routeThrottle is the stage/route bucket of routeKey in the Stage: its
// routeSettings entry for the key, else the stage default (nil: none).
func routeThrottle(s *v1alpha1.Stage, routeKey string) *table.Throttle {
	for _, rs := range s.Spec.RouteSettings {
		if rs.RouteKey == routeKey && rs.Throttle != nil {
			return tableThrottle(rs.Throttle)
		}
	}
	return tableThrottle(s.Spec.Throttle)
}
