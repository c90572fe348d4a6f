package translate

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// DefaultDomain is the default endpoint domain used when Options.DefaultDomain
// is empty (the gateway flag's default; it resolves to loopback).
const DefaultDomain = "execute-api.localhost"

// Kinds as they appear in ObjectRef.Kind.
const (
	KindApi        = "Api"
	KindRoute      = "Route"
	KindStage      = "Stage"
	KindAuthorizer = "Authorizer"
	KindUsagePlan  = "UsagePlan"
)

// translator holds the indexes and decisions of one Translate call. It is
// created, used and dropped inside Translate: nothing outlives the call.
type translator struct {
	domain   string
	apis     map[string]*apiState       // by namespace/name
	services map[string]*corev1.Service // by namespace/name
	// stageNames: namespace/api + "\x00" + stage name -> Stage object name of
	// the claim's owner (Accepted Stages only), for conflicts and UsagePlans.
	stageNames map[string]string
	// stages are all Stages in translateStages' order; their statuses are
	// recorded by finishStages.
	stages []*stageState
	// authorizers by namespace/name, resolved before the Routes.
	authorizers map[string]*authState
	statuses    []ObjectStatus
	// plans are the served usage plans (usageplan.go).
	plans        []*table.Plan
	sharedLimits bool
	// domains are the custom domain claims and mappings (domains.go).
	domains *domainState
	// noHTTPS and denyEgress describe the running replicas (Options).
	noHTTPS    bool
	denyEgress []netip.Prefix
	// now and grace date waits (grace.go); next is Result.NextChange so far.
	now, next time.Time
	grace     time.Duration
	// secrets are the turnpike.io/aws-credentials Secrets by namespace/name
	// (websocket.go).
	secrets map[string]*corev1.Secret
	// okConditions are the conditions of an empty verdict (conditions.go).
	okConditions map[okConditionsKey][]metav1.Condition
	// interned shares equal ServiceTargets and Mocks between routes (intern.go).
	interned interned
}

// Translate computes the routing table and every object's status from s.
// It never mutates s and its output depends only on s and o, not on the order
// of the slices in s. See the package documentation for the rules.
func Translate(s *Snapshot, o Options) Result {
	tr := &translator{
		domain:      cmp.Or(strings.ToLower(o.DefaultDomain), DefaultDomain),
		apis:        make(map[string]*apiState, len(s.Apis)),
		services:    make(map[string]*corev1.Service, len(s.Services)),
		stageNames:  map[string]string{},
		authorizers: map[string]*authState{},
		statuses:    make([]ObjectStatus, 0, len(s.Apis)+len(s.Routes)+len(s.Stages)+len(s.Authorizers)+len(s.UsagePlans)),
	}
	tr.sharedLimits, tr.noHTTPS, tr.denyEgress = o.SharedLimits, o.NoHTTPSListener, o.DenyEgress
	tr.now, tr.grace = o.Now, cmp.Or(o.GracePeriod, DefaultGracePeriod)
	tr.domains = newDomainState(s.Secrets, o.Now)
	tr.secrets = indexCredentialSecrets(s.Secrets)
	for i := range s.Services {
		svc := &s.Services[i]
		tr.services[svc.Namespace+"/"+svc.Name] = svc
	}
	tr.translateApis(s.Apis)
	tr.translateStages(s.Stages)
	tr.translateAuthorizers(s.Authorizers)
	tr.translateRoutes(s.Routes)
	tr.implicitWebSocketRoutes()
	tr.finishStages() // after the Routes, whose problems in a stage it reports
	tr.translateUsagePlans(s.UsagePlans, s.Secrets)

	served := []*table.Api{}
	for _, a := range tr.sortedApis() {
		tr.statuses = append(tr.statuses, tr.apiStatus(a))
		if a.served {
			served = append(served, a.table)
		}
	}
	t, err := table.NewWithDomains(served, tr.plans, tr.servedDomains())
	return Result{Table: t, Statuses: sortStatuses(tr.statuses), NextChange: tr.next, Err: err}
}

// sortStatuses returns statuses sorted by kind, namespace and name. It sorts
// pointers and copies once: swapping the structs themselves costs several
// times more at 100,000 objects.
func sortStatuses(statuses []ObjectStatus) []ObjectStatus {
	ptrs := make([]*ObjectStatus, len(statuses))
	for i := range statuses {
		ptrs[i] = &statuses[i]
	}
	slices.SortFunc(ptrs, func(a, b *ObjectStatus) int {
		return a.Compare(&b.ObjectRef)
	})
	out := make([]ObjectStatus, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// olderFirst orders objects for conflicts: creationTimestamp, then
// namespace/name. Objects without a timestamp (zero) sort first, as in
// standalone mode where file order stands in for it.
func olderFirst(a, b *metav1.ObjectMeta) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
}

// byAge returns pointers to the elements of objs in olderFirst order, without
// touching objs.
func byAge[T any](objs []T, meta func(*T) *metav1.ObjectMeta) []*T {
	out := make([]*T, len(objs))
	for i := range objs {
		out[i] = &objs[i]
	}
	slices.SortStableFunc(out, func(a, b *T) int { return olderFirst(meta(a), meta(b)) })
	return out
}

// apiRef returns the Api named name in namespace ns and the issue of a
// reference to it that does not resolve (nil when it resolves to a served Api).
func (tr *translator) apiRef(ns, name, kind string) (*apiState, *issue) {
	a := tr.apis[ns+"/"+name]
	switch {
	case a == nil:
		return nil, &issue{
			reason:  v1alpha1.ReasonApiNotFound,
			message: "Api " + quote(name) + " not found in namespace " + quote(ns) + "; create it or fix spec.apiName (the " + kind + " is not served until then)",
			waiting: true,
		}
	case !a.served:
		return a, &issue{
			reason:  v1alpha1.ReasonApiNotServed,
			message: "Api " + quote(name) + " is not served (see its conditions), so neither is this " + kind,
			waiting: true,
		}
	}
	return a, nil
}

func quote(s string) string { return `"` + s + `"` }
