package translate

import (
	"maps"
	"regexp"

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
// first Stage to claim a stage name of an Api keeps it.
func (tr *translator) translateStages(stages []v1alpha1.Stage) {
	for _, obj := range byAge(stages, func(s *v1alpha1.Stage) *metav1.ObjectMeta { return &s.ObjectMeta }) {
		st := &stageState{obj: obj, name: stageName(obj)}
		var v verdict
		logFormat, logIssue := stageAccessLog(obj)
		v.accepted = logIssue // an invalid Stage holds no claim
		if v.accepted == nil {
			v.accepted = tr.claimStageName(st)
		}
		api, refIssue := tr.apiRef(obj.Namespace, obj.Spec.ApiName, KindStage)
		v.resolved = refIssue
		v.programmed = firstIssue(v.accepted, v.resolved)
		status := objectStatus(KindStage, &obj.ObjectMeta, v)
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
				status.InvokeURLs = []string{invokeURL(u, st.name)}
			}
		}
		if v.accepted == nil {
			tr.stageDomains(st, &v, &status) // domains.go
		}
		tr.statuses = append(tr.statuses, status)
	}
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
