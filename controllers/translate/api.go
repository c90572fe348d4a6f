package translate

import (
	"cmp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// apiState is what the translator decided about one Api.
type apiState struct {
	obj    *v1alpha1.Api
	served bool
	v      verdict
	// table is the Api's entry in the table; Stages are appended as they are
	// served.
	table *table.Api
	// stages are the served Stages of the Api, in the order they were served.
	stages []*stageState
	// routes counts the Route objects that hold a key in at least one stage.
	routes int32
}

// translateApis decides which Apis are served and claims their default
// endpoint hosts, oldest first.
func (tr *translator) translateApis(apis []v1alpha1.Api) {
	hosts := map[string]*v1alpha1.Api{}
	for _, obj := range byAge(apis, func(a *v1alpha1.Api) *metav1.ObjectMeta { return &a.ObjectMeta }) {
		a := &apiState{obj: obj}
		tr.apis[obj.Namespace+"/"+obj.Name] = a
		var host []string
		if !obj.Spec.DisableDefaultEndpoint {
			h := strings.ToLower(obj.Name + "." + obj.Namespace + "." + tr.domain)
			// Names and namespaces are DNS names, so hosts cannot collide with
			// the default domain; the check guards against odd domains anyway.
			if prev := hosts[h]; prev != nil {
				a.v.accepted = &issue{
					reason:  v1alpha1.ReasonDomainConflict,
					message: "Api " + quote(obj.Name) + " has the same default endpoint host " + quote(h) + " as Api " + quote(prev.Namespace+"/"+prev.Name) + " (created first); rename one",
					stalled: true,
				}
				a.v.programmed = a.v.accepted
			} else {
				hosts[h] = obj
				host = []string{h}
			}
		}
		cors, corsIssue := corsTable(obj.Spec.CORS)
		gw, gwIssue := gatewayResponses(obj) // rest.go
		if iss := firstIssue(corsIssue, gwIssue); iss != nil && a.v.accepted == nil {
			a.v.accepted, a.v.programmed = iss, iss
		}
		if f := apiNotImplemented(obj); len(f) > 0 {
			a.v.programmed = notImplementedIssue(f, "the Api, its Stages and its Routes are not served until then")
		}
		a.table = &table.Api{
			Namespace:            obj.Namespace,
			Name:                 obj.Name,
			Protocol:             apiProtocol(obj),
			Hosts:                host,
			MaxRequestBodyBytes:  cmp.Or(obj.Spec.MaxRequestBodyBytes, v1alpha1.DefaultMaxRequestBodyBytes),
			ErrorHints:           obj.Spec.ErrorHints,
			ApiKeyFromAuthorizer: obj.Spec.ApiKeySource == v1alpha1.ApiKeySourceAuthorizer,
			CORS:                 cors,
			GatewayResponses:     gw,
			BinaryMediaTypes:     binaryMediaTypes(obj), // rest.go
			Stages:               []*table.Stage{},
		}
		wsIssue, credIssue := tr.websocketApi(obj, a.table) // websocket.go
		if wsIssue != nil && a.v.accepted == nil {
			a.v.accepted, a.v.programmed = wsIssue, wsIssue
		}
		a.v.resolved = credIssue // the Api serves; only those keys do not
		a.served = a.v.accepted == nil && a.v.programmed == nil
	}
}

// apiProtocol maps the Api's protocol to the table's; "" is HTTP (the CRD
// default).
func apiProtocol(a *v1alpha1.Api) table.Protocol {
	switch a.Spec.Protocol {
	case v1alpha1.ProtocolREST:
		return table.ProtocolREST
	case v1alpha1.ProtocolWebSocket:
		return table.ProtocolWebSocket
	}
	return table.ProtocolHTTP
}

// sortedApis lists the Apis by namespace/name.
func (tr *translator) sortedApis() []*apiState {
	out := make([]*apiState, 0, len(tr.apis))
	for _, a := range tr.apis {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y *apiState) int {
		return cmp.Or(strings.Compare(x.obj.Namespace, y.obj.Namespace), strings.Compare(x.obj.Name, y.obj.Name))
	})
	return out
}

// baseURL is the default endpoint URL of a served Api without a trailing
// slash, or "" when the default endpoint is disabled.
func (a *apiState) baseURL() string {
	if !a.served || len(a.table.Hosts) == 0 {
		return ""
	}
	if a.table.Protocol == table.ProtocolWebSocket {
		return "ws://" + a.table.Hosts[0]
	}
	return "http://" + a.table.Hosts[0]
}

// apiStatus is the Api's ObjectStatus, complete once Stages and Routes ran.
func (tr *translator) apiStatus(a *apiState) ObjectStatus {
	st := tr.objectStatus(KindApi, &a.obj.ObjectMeta, a.obj.Status.Conditions, a.v)
	if u := a.baseURL(); u != "" {
		st.Endpoints = []string{u + "/"}
	}
	if a.served {
		st.Routes = a.routes
		st.Stages = int32(len(a.stages))
	}
	return st
}
