package translate

import (
	"fmt"
	"regexp"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// actionName is a WebSocket action route key (the CRD's rule).
var actionName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// translateRoutes claims route keys oldest first and places every winning
// Route of a served Api in each served stage of that Api, resolved per stage.
func (tr *translator) translateRoutes(routes []v1alpha1.Route) {
	claims := map[string]*v1alpha1.Route{}
	for _, obj := range byAge(routes, func(r *v1alpha1.Route) *metav1.ObjectMeta { return &r.ObjectMeta }) {
		tr.statuses = append(tr.statuses, tr.objectStatus(KindRoute, &obj.ObjectMeta, obj.Status.Conditions, tr.translateRoute(obj, claims)))
	}
}

// translateRoute decides one Route; claims maps claimKey(ns, api, pattern) to
// the Route that holds it.
func (tr *translator) translateRoute(obj *v1alpha1.Route, claims map[string]*v1alpha1.Route) verdict {
	var v verdict
	apiObj := tr.apis[obj.Namespace+"/"+obj.Spec.ApiName]
	pattern, bad := checkRouteKey(obj.Spec.RouteKey, apiObj)
	reqMap, respMap, mapIssue := routeMappings(obj) // mapping.go
	rest, restIssue := compileRouteRest(obj)        // rest.go
	v.accepted = firstIssue(bad, mapIssue, restIssue, websocketRouteIssue(obj, apiObj))
	if v.accepted == nil {
		v.accepted = claimRoute(claims, obj, pattern)
	}
	api, refIssue := tr.apiRef(obj.Namespace, obj.Spec.ApiName, KindRoute)
	fields := routeNotImplemented(obj)
	switch {
	case refIssue != nil:
		v.resolved = refIssue
	case v.accepted != nil:
		// Not served, but tell the user about references anyway.
		_, v.resolved = tr.resolve(obj, nil)
	default:
		v.resolved, v.programmed, v.partly = tr.serveRoute(obj, api, fields, routeMaps{reqMap, respMap}, rest)
	}
	if len(fields) > 0 {
		v.programmed = notImplementedIssue(fields, "the Route answers 500 until then")
	}
	v.programmed = firstIssue(v.programmed, v.accepted, v.resolved)
	return v
}

// checkRouteKey validates the key for the Api's protocol (both forms when the
// Api is unknown) and returns its conflict pattern: table.RouteKey.Pattern, or
// the key itself for $default and WebSocket keys.
func checkRouteKey(key string, api *apiState) (string, *issue) {
	if key == table.DefaultRouteKey {
		return key, nil
	}
	websocketApi := api != nil && api.obj.Spec.Protocol == v1alpha1.ProtocolWebSocket
	var err error
	if !websocketApi {
		var rk table.RouteKey
		if rk, err = table.ParseRouteKey(key); err == nil {
			return rk.Pattern(), nil
		}
	}
	wsKey := key == "$connect" || key == "$disconnect" || (!strings.HasPrefix(key, "$") && actionName.MatchString(key))
	switch {
	case wsKey && (websocketApi || api == nil):
		return key, nil // for a missing Api, the protocol is unknown until it exists
	case websocketApi:
		return "", invalidKey("route key " + quote(key) + " is not a WebSocket route key; use \"$connect\", \"$disconnect\", \"$default\" or an action name")
	case api != nil && (wsKey || strings.HasPrefix(key, "$")):
		return "", invalidKey(fmt.Sprintf("route key %q is a WebSocket route key, but Api %q has protocol %s; use \"METHOD /path\" or \"$default\"",
			key, api.obj.Name, api.table.Protocol))
	}
	return "", invalidKey(fmt.Sprintf("route key %q is invalid: %v", key, err))
}

func invalidKey(msg string) *issue {
	return &issue{reason: v1alpha1.ReasonInvalidRouteKey, message: msg, stalled: true}
}

// claimRoute claims pattern within the Route's Api; it returns the
// RouteConflict issue when an older Accepted Route holds it.
func claimRoute(claims map[string]*v1alpha1.Route, obj *v1alpha1.Route, pattern string) *issue {
	key := claimKey(obj.Namespace, obj.Spec.ApiName, pattern)
	if owner := claims[key]; owner != nil {
		why := "the same route key"
		if owner.Spec.RouteKey != obj.Spec.RouteKey {
			why = "keys that differ only in variable names"
		}
		return &issue{
			reason: v1alpha1.ReasonRouteConflict,
			message: fmt.Sprintf("route key %q conflicts with route key %q of Route %q (created first): two routes of one Api cannot have %s; rename or delete one",
				obj.Spec.RouteKey, owner.Spec.RouteKey, owner.Name, why),
			stalled: true,
		}
	}
	claims[key] = obj
	return nil
}

// serveRoute adds the Route to every served stage of api, resolved per stage.
// It returns the ResolvedRefs and Programmed issues of the Route and, when it
// works in some stages but not in others, the note that says so. Problems in
// only some stages are reported on those Stages (routeProblems), not as a
// failure of the Route: a Stage someone else adds must not break it.
func (tr *translator) serveRoute(obj *v1alpha1.Route, api *apiState, notImpl []string, maps routeMaps, rest routeRest) (resolved, programmed *issue, partly string) {
	if len(api.stages) == 0 {
		_, resolved = tr.resolve(obj, nil)
		return resolved, &issue{
			reason:  v1alpha1.ReasonNotServed,
			message: "Api " + quote(api.obj.Name) + " has no served Stage; create a Stage to serve this Route",
			waiting: true,
		}, ""
	}
	authz, authIssue := tr.routeAuth(obj)
	failure := func(iss *issue) *table.Failure {
		switch iss = firstIssue(authIssue, iss); {
		case len(notImpl) > 0:
			return internalError("this route uses " + listFields(notImpl) + ", which the gateway does not implement yet")
		case iss != nil:
			return internalError(iss.hint)
		}
		return nil
	}
	var problems []stageIssue
	var working []string
	objName := obj.Namespace + "/" + obj.Name // one string for every stage's route
	for _, st := range api.stages {
		in, iss := tr.resolve(obj, st)
		r := &table.Route{Key: obj.Spec.RouteKey, Object: objName, Integration: in, Auth: authz,
			Throttle: routeThrottle(st.obj, obj.Spec.RouteKey), ApiKeyRequired: obj.Spec.ApiKeyRequired, Failure: failure(iss),
			RequestMapping: maps.request, ResponseMapping: maps.response, Validation: rest.validation,
			ReturnResponse: obj.Spec.WebSocket != nil && obj.Spec.WebSocket.ReturnResponse}
		if r.Failure != nil {
			// The integration is not used; keep only what identifies it.
			r.Integration = table.Integration{Type: in.Type, TimeoutMillis: in.TimeoutMillis}
		}
		canary, canaryIssue := tr.routeCanary(obj, st, r, failure) // canary.go
		r.Canary = canary
		r.Cache = routeCache(obj, st, r, rest.cacheKeys) // rest.go
		if r.Failure != nil && (r.Canary == nil || r.Canary.Failure != nil) {
			r.Auth = nil // no request of this route reaches its authorizer
		}
		if p := firstIssue(iss, canaryIssue, tr.egressIssue(obj, &r.Integration, st)); p != nil {
			problems = append(problems, stageIssue{st, p})
		} else {
			working = append(working, st.name)
		}
		st.table.Routes = append(st.table.Routes, r)
	}
	api.routes++
	// A feature not built yet makes the Route answer 500 in every stage.
	if len(notImpl) > 0 {
		working = nil
	}
	return tr.routeStages(obj, authIssue, problems, working)
}

// stageIssue is a Route's problem in one stage.
type stageIssue struct {
	stage *stageState
	issue *issue
}

// routeStages decides where the problems of a served Route are reported. A
// problem of the Route itself (its authorizer) or in every stage is the
// Route's own; problems in only some stages go to those Stages, and the
// Route stays Ready with a note naming them.
func (tr *translator) routeStages(obj *v1alpha1.Route, authIssue *issue, problems []stageIssue, working []string) (resolved, programmed *issue, partly string) {
	switch {
	case len(problems) == 0:
		return authIssue, nil, ""
	case authIssue != nil || len(working) == 0:
		all := inEveryStage(problems)
		if authIssue == nil && all.reason == v1alpha1.ReasonEgressDenied {
			return nil, all, "" // served, but nothing can be reached
		}
		return joinIssues(authIssue, all), nil, ""
	}
	parts := make([]string, len(problems))
	objects := make([]string, len(problems))
	for i, p := range problems {
		p.stage.routeProblems = append(p.stage.routeProblems, routeProblem{route: obj.Name, issue: p.issue})
		parts[i] = "in stage " + quote(p.stage.name) + ": " + p.issue.message
		objects[i] = quote(p.stage.obj.Name)
	}
	reports := "Stage " + objects[0] + " reports it too"
	if len(objects) > 1 {
		reports = "Stages " + listFields(objects) + " report it too"
	}
	return nil, nil, "The gateway serves the Route in " + stageList(working) + "; it does not work " +
		strings.Join(parts, "; ") + ". " + reports
}

// inEveryStage is the Route's issue when it fails in every stage: the
// common message, or each stage's message naming the stage.
func inEveryStage(problems []stageIssue) *issue {
	out := *problems[0].issue
	same := true
	parts := make([]string, len(problems))
	for i, p := range problems {
		same = same && p.issue.message == out.message
		out.stalled = out.stalled || p.issue.stalled
		out.waiting = out.waiting || p.issue.waiting
		parts[i] = "in stage " + quote(p.stage.name) + ": " + p.issue.message
	}
	if !same {
		out.message = strings.Join(parts, "; ")
	}
	return &out
}

// stageList names stages for a sentence: stage "a", stages "a" and "b".
func stageList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	if len(q) == 1 {
		return "stage " + q[0]
	}
	return "stages " + listFields(q)
}

// internalError is the 500 a Route answers when it cannot be served as configured.
func internalError(hint string) *table.Failure {
	return &table.Failure{Status: 500, Message: "Internal Server Error", Hint: hint}
}
