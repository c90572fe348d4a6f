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
		tr.statuses = append(tr.statuses, objectStatus(KindRoute, &obj.ObjectMeta, tr.translateRoute(obj, claims)))
	}
}

// translateRoute decides one Route; claims maps claimKey(ns, api, pattern) to
// the Route that holds it.
func (tr *translator) translateRoute(obj *v1alpha1.Route, claims map[string]*v1alpha1.Route) verdict {
	var v verdict
	apiObj := tr.apis[obj.Namespace+"/"+obj.Spec.ApiName]
	pattern, bad := checkRouteKey(obj.Spec.RouteKey, apiObj)
	reqMap, respMap, mapIssue := routeMappings(obj) // mapping.go
	v.accepted = firstIssue(bad, mapIssue, websocketRouteIssue(obj, apiObj))
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
		v.resolved, v.programmed = tr.serveRoute(obj, api, fields, routeMaps{reqMap, respMap})
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
		return &issue{
			reason:  v1alpha1.ReasonRouteConflict,
			message: fmt.Sprintf("Route %q conflicts with Route %q (created first) on %q; rename or delete one", obj.Name, owner.Name, pattern),
			stalled: true,
		}
	}
	claims[key] = obj
	return nil
}

// serveRoute adds the Route to every served stage of api, resolved per stage.
// It returns the ResolvedRefs issue (problems of all stages, summarised) and
// a Programmed issue when the Route is served nowhere.
func (tr *translator) serveRoute(obj *v1alpha1.Route, api *apiState, notImpl []string, maps routeMaps) (resolved, programmed *issue) {
	if len(api.stages) == 0 {
		_, resolved = tr.resolve(obj, nil)
		return resolved, &issue{
			reason:  v1alpha1.ReasonNotServed,
			message: "Api " + quote(api.obj.Name) + " has no served Stage; create a Stage to serve this Route",
			waiting: true,
		}
	}
	var agg issueSummary
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
	for _, st := range api.stages {
		in, iss := tr.resolve(obj, st)
		r := &table.Route{Key: obj.Spec.RouteKey, Object: obj.Namespace + "/" + obj.Name, Integration: in, Auth: authz,
			Throttle: routeThrottle(st.obj, obj.Spec.RouteKey), ApiKeyRequired: obj.Spec.ApiKeyRequired, Failure: failure(iss),
			RequestMapping: maps.request, ResponseMapping: maps.response,
			ReturnResponse: obj.Spec.WebSocket != nil && obj.Spec.WebSocket.ReturnResponse}
		if r.Failure != nil {
			// The integration is not used; keep only what identifies it.
			r.Integration = table.Integration{Type: in.Type, TimeoutMillis: in.TimeoutMillis}
		}
		canary, canaryIssue := tr.routeCanary(obj, st, r, failure) // canary.go
		r.Canary = canary
		if r.Failure != nil && (r.Canary == nil || r.Canary.Failure != nil) {
			r.Auth = nil // no request of this route reaches its authorizer
		}
		agg.add(firstIssue(authIssue, iss))
		agg.add(canaryIssue)
		st.table.Routes = append(st.table.Routes, r)
	}
	api.routes++
	return agg.summary(), nil
}

// internalError is the 500 a Route answers when it cannot be served as configured.
func internalError(hint string) *table.Failure {
	return &table.Failure{Status: 500, Message: "Internal Server Error", Hint: hint}
}

// issueSummary folds the per-stage issues of one Route into one condition:
// the first issue, plus how many different ones follow.
type issueSummary struct {
	first *issue
	seen  map[string]bool
}

func (s *issueSummary) add(i *issue) {
	switch {
	case i == nil:
	case s.first == nil:
		s.first, s.seen = i, map[string]bool{i.message: true}
	default:
		s.seen[i.message] = true
	}
}

func (s *issueSummary) summary() *issue {
	if s.first == nil || len(s.seen) == 1 {
		return s.first
	}
	out := *s.first
	more := len(s.seen) - 1
	plural := "s"
	if more == 1 {
		plural = ""
	}
	out.message = fmt.Sprintf("%s (and %d more problem%s in other stages)", out.message, more, plural)
	return &out
}
