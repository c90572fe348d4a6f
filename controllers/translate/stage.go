package translate

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// stageNamePattern is the CRD's pattern for spec.stageName. The translator
// checks it again because metadata.name, the default, allows '.'.
var stageNamePattern = regexp.MustCompile(`^(\$default|[A-Za-z0-9_-]{1,128})$`)

// stageState is what the translator decided about one Stage.
type stageState struct {
	obj  *v1alpha1.Stage
	name string // the stage name: spec.stageName, else metadata.name
	// table is the served stage; Routes are appended by translateRoutes.
	table *table.Stage
	// v and status are completed by finishStages, once the Routes have
	// reported their problems in this stage (routeProblems).
	v             verdict
	status        ObjectStatus
	routeProblems []routeProblem
}

// routeProblem is why a Route that works in other stages does not work in
// this one (stage variables, the Service they name, the canary).
type routeProblem struct {
	route string
	issue *issue
}

// stageName is the Stage's stage name: spec.stageName, else metadata.name.
func stageName(s *v1alpha1.Stage) string {
	if s.Spec.StageName != "" {
		return s.Spec.StageName
	}
	return s.Name
}

// claimKey identifies a claim within one Api: namespace/api NUL name.
func claimKey(ns, api, name string) string { return ns + "/" + api + "\x00" + name }

// translateStages decides which Stages are served, oldest first so that the
// first Stage to claim a stage name of an Api keeps it. Their statuses are
// completed by finishStages after the Routes.
func (tr *translator) translateStages(stages []v1alpha1.Stage) {
	for _, obj := range byAge(stages, func(s *v1alpha1.Stage) *metav1.ObjectMeta { return &s.ObjectMeta }) {
		st := &stageState{obj: obj, name: stageName(obj)}
		v := &st.v
		logFormat, logIssue := stageAccessLog(obj)
		v.accepted = logIssue // an invalid Stage holds no claim
		if v.accepted == nil {
			v.accepted = tr.claimStageName(st)
		}
		api, refIssue := tr.apiRef(obj.Namespace, obj.Spec.ApiName, KindStage)
		v.resolved = refIssue
		v.programmed = firstIssue(v.accepted, v.resolved)
		st.status = ObjectStatus{
			ObjectRef:  ObjectRef{Kind: KindStage, Namespace: obj.Namespace, Name: obj.Name},
			Generation: obj.Generation,
			StageName:  st.name,
		}
		if v.programmed == nil {
			st.table = &table.Stage{
				Name:      st.name,
				Object:    obj.Namespace + "/" + obj.Name,
				Variables: maps.Clone(obj.Spec.Variables),
				AccessLog: logFormat,
				Routes:    []*table.Route{},
				Canary:    stageCanary(obj), // canary.go
				Cache:     stageCache(obj),  // rest.go
			}
			api.stages = append(api.stages, st)
			api.table.Stages = append(api.table.Stages, st.table)
			if u := api.baseURL(); u != "" {
				st.status.InvokeURLs = []string{invokeURL(u, st.name)}
			}
		}
		if v.accepted == nil {
			tr.stageDomains(st) // domains.go
		}
		tr.stages = append(tr.stages, st)
	}
}

// finishStages folds the problems Routes reported in each stage into the
// Stage's Programmed condition and records every Stage's status.
func (tr *translator) finishStages() {
	for _, st := range tr.stages {
		if len(st.routeProblems) > 0 {
			st.v.programmed = joinIssues(st.v.programmed, routesIssue(st.routeProblems))
		}
		st.status.Conditions = tr.conditions(KindStage, &st.obj.ObjectMeta, st.obj.Status.Conditions, st.v)
		tr.statuses = append(tr.statuses, st.status)
	}
}

// routesIssue is the Stage's issue for the Routes that do not work in it,
// naming every one; it is stalled when one of them needs the user, else
// waiting when one waits.
func routesIssue(problems []routeProblem) *issue {
	out := &issue{reason: problems[0].issue.reason}
	parts := make([]string, len(problems))
	for i, p := range problems {
		parts[i] = "Route " + quote(p.route) + ": " + p.issue.message
		out.stalled = out.stalled || p.issue.stalled
		out.waiting = out.waiting || p.issue.waiting
	}
	if len(problems) == 1 {
		out.message = "Route " + quote(problems[0].route) + " does not work in this stage (it works in other stages): " + problems[0].issue.message
		return out
	}
	out.message = listRoutes(problems) + " do not work in this stage (they work in other stages): " + strings.Join(parts, "; ")
	return out
}

// listRoutes names the routes of problems: Route "a", Routes "a" and "b".
func listRoutes(problems []routeProblem) string {
	names := make([]string, len(problems))
	for i, p := range problems {
		names[i] = quote(p.route)
	}
	if len(names) == 1 {
		return "Route " + names[0]
	}
	return "Routes " + listFields(names)
}

// joinIssues combines the issues of one condition (nil ones skipped): every
// message, stalled or waiting if any is, and the reason of the first one
// that needs the user (else the first), whose message comes first.
func joinIssues(issues ...*issue) *issue {
	ordered := slices.Clone(issues)
	slices.SortStableFunc(ordered, func(a, b *issue) int {
		return cmp.Compare(btoi(a == nil || !a.stalled), btoi(b == nil || !b.stalled))
	})
	var out *issue
	for _, i := range ordered {
		switch {
		case i == nil:
		case out == nil:
			c := *i
			out = &c
		default:
			out.message += "; also: " + i.message
			out.stalled, out.waiting = out.stalled || i.stalled, out.waiting || i.waiting
		}
	}
	return out
}

// claimStageName validates the stage name and claims it within the Api. It
// returns the Accepted=False issue, or nil when the Stage holds the claim.
func (tr *translator) claimStageName(st *stageState) *issue {
	obj := st.obj
	if !stageNamePattern.MatchString(st.name) {
		return &issue{
			reason:  v1alpha1.ReasonInvalid,
			message: "stage name " + quote(st.name) + " must be \"$default\" or letters, digits, '_' and '-'; set spec.stageName",
			stalled: true,
		}
	}
	key := claimKey(obj.Namespace, obj.Spec.ApiName, st.name)
	if owner, taken := tr.stageNames[key]; taken {
		return &issue{
			reason: v1alpha1.ReasonStageConflict,
			message: "Stage " + quote(obj.Name) + " conflicts with Stage " + quote(owner) + " (created first) on stage name " +
				quote(st.name) + " of Api " + quote(obj.Spec.ApiName) + "; rename or delete one",
			stalled: true,
		}
	}
	tr.stageNames[key] = obj.Name
	return nil
}

// invokeURL is the URL of a stage on the default endpoint base (no trailing
// slash); the $default stage has no path prefix.
func invokeURL(base, stage string) string {
	if stage == table.DefaultStage {
		return base + "/"
	}
	return base + "/" + stage
}

// firstIssue returns the first non-nil issue.
func firstIssue(issues ...*issue) *issue {
	for _, i := range issues {
		if i != nil {
			return i
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
