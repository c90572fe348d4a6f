package translate

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// resolve computes the Route's integration in stage st, with stage variables
// substituted, and the issue that keeps it from being served as configured.
// With st == nil (no served stage, or a Route that is not served) it checks
// only what does not depend on stage variables.
func (tr *translator) resolve(r *v1alpha1.Route, st *stageState) (table.Integration, *issue) {
	in := &r.Spec.Integration
	out := table.Integration{
		Type:          table.IntegrationType(in.Type),
		TimeoutMillis: cmp.Or(in.TimeoutMillis, v1alpha1.DefaultTimeoutMillis),
	}
	if out.TimeoutMillis <= 0 {
		return out, invalidIntegration("spec.integration.timeoutMillis must be positive")
	}
	switch in.Type {
	case v1alpha1.IntegrationTypeService:
		svc, iss := tr.resolveService(r, st)
		out.Service = svc
		return out, iss
	case v1alpha1.IntegrationTypeFunction:
		if iss := tr.functionSettings(r, &out); iss != nil {
			return out, iss
		}
		svc, iss := tr.resolveService(r, st)
		out.Service = svc
		return out, iss
	case v1alpha1.IntegrationTypeHTTPProxy:
		uri, iss := resolveURI(in.URI, st)
		out.URI = uri
		return out, iss
	case v1alpha1.IntegrationTypeMock:
		m := table.Mock{Status: 200}
		if in.Mock != nil {
			m = table.Mock{Status: int(cmp.Or(in.Mock.StatusCode, 200)), Headers: maps.Clone(in.Mock.Headers), Body: in.Mock.Body}
		}
		if m.Status < 100 || m.Status > 599 {
			return out, invalidIntegration("spec.integration.mock.statusCode must be between 100 and 599")
		}
		out.Mock = tr.interned.mock(m)
		return out, nil
	}
	return out, invalidIntegration(fmt.Sprintf("spec.integration.type %q is not one of SERVICE, HTTP_PROXY, FUNCTION, MOCK", in.Type))
}

// functionSettings fills a FUNCTION integration's payload format version
// (default: REST Apis "1.0", the only format AWS REST APIs have; others
// "2.0", as the HTTP API console) and concurrency per endpoint (default 1:
// the Runtime Interface Emulator runs one invocation at a time).
func (tr *translator) functionSettings(r *v1alpha1.Route, out *table.Integration) *issue {
	in := &r.Spec.Integration
	rest := false
	if api := tr.apis[r.Namespace+"/"+r.Spec.ApiName]; api != nil {
		rest = api.obj.Spec.Protocol == v1alpha1.ProtocolREST
	}
	out.PayloadFormatVersion = in.PayloadFormatVersion
	if out.PayloadFormatVersion == "" {
		out.PayloadFormatVersion = "2.0"
		if rest {
			out.PayloadFormatVersion = "1.0"
		}
	}
	out.Concurrency = cmp.Or(in.ConcurrencyPerEndpoint, 1)
	switch {
	case rest && out.PayloadFormatVersion == "2.0":
		return invalidIntegration(`spec.integration.payloadFormatVersion "2.0" is an HTTP API format; REST Apis send Lambda events in format "1.0"`)
	case len(in.RequestParameters) > 0:
		return invalidIntegration("spec.integration.requestParameters do not apply to type FUNCTION: the function receives the request itself as its event (responseParameters do apply)")
	}
	return nil
}

// invalidIntegration is the issue of an integration that cannot work; only the
// user can fix it.
func invalidIntegration(what string) *issue {
	return &issue{
		reason:  v1alpha1.ReasonInvalidIntegration,
		message: what + "; fix the Route (it answers 500 until then)",
		hint:    what,
		stalled: true,
	}
}

// resolveService finds the Service port the integration names in stage st.
func (tr *translator) resolveService(r *v1alpha1.Route, st *stageState) (*table.ServiceTarget, *issue) {
	ref := r.Spec.Integration.Service
	if ref == nil || ref.Port <= 0 {
		return nil, invalidIntegration("spec.integration.service with a positive port is required for type " + string(r.Spec.Integration.Type))
	}
	name, iss, skip := substituteIn(ref.Name, "spec.integration.service.name", st)
	if iss != nil || skip {
		return nil, iss
	}
	where := ""
	if name != ref.Name {
		where = " (from stage " + quote(st.name) + ")"
	}
	svc := tr.services[r.Namespace+"/"+name]
	if svc == nil || name == "" {
		return nil, &issue{
			reason:  v1alpha1.ReasonServiceNotFound,
			message: "Service " + quote(name) + where + " not found in namespace " + quote(r.Namespace) + "; create it or fix spec.integration.service.name (the Route answers 500 until then)",
			hint:    "Service " + quote(name) + " does not exist in namespace " + quote(r.Namespace),
			waiting: true,
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil, externalNameIssue(name, where, svc.Spec.ExternalName, ref.Port)
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == ref.Port {
			return tr.interned.service(table.ServiceTarget{Namespace: r.Namespace, Name: name, Port: ref.Port, PortName: p.Name}), nil
		}
	}
	return nil, &issue{
		reason: v1alpha1.ReasonPortNotFound,
		message: fmt.Sprintf("Service %q%s has no port %d (its ports: %s); fix spec.integration.service.port or the Service (the Route answers 500 until then)",
			name, where, ref.Port, portList(svc.Spec.Ports)),
		hint:    fmt.Sprintf("Service %q has no port %d", name, ref.Port),
		waiting: true,
	}
}

// externalNameIssue refuses a SERVICE integration to an ExternalName
// Service: it has no EndpointSlices, so there is nothing to load-balance
// over. HTTP_PROXY reaches the name instead, through the same egress guard
// and DNS resolution as any other uri.
func externalNameIssue(name, where, external string, port int32) *issue {
	what := fmt.Sprintf("Service %q%s is of type ExternalName (%q), which has no endpoints for a SERVICE integration", name, where, external)
	return &issue{
		reason: v1alpha1.ReasonExternalNameService,
		message: fmt.Sprintf("%s; use type HTTP_PROXY with uri \"http://%s:%d/...\" instead (the Route answers 500 until then)",
			what, external, port),
		hint:    what + "; use an HTTP_PROXY integration",
		stalled: true,
	}
}

func portList(ports []corev1.ServicePort) string {
	if len(ports) == 0 {
		return "none"
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p.Port))
	}
	return strings.Join(s, ", ")
}

// resolveURI substitutes stage variables into an HTTP_PROXY uri and checks
// that the result is an absolute http(s) URL ({param} placeholders stay).
func resolveURI(raw string, st *stageState) (string, *issue) {
	uri, iss, skip := substituteIn(raw, "spec.integration.uri", st)
	if iss != nil || skip {
		return uri, iss
	}
	u, err := url.Parse(uri)
	absolute := err == nil && u.Host != "" && (strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://"))
	if absolute {
		return uri, nil
	}
	if uri == raw {
		return uri, invalidIntegration("spec.integration.uri " + quote(uri) + " is not an absolute http:// or https:// URL")
	}
	what := "spec.integration.uri resolves to " + quote(uri) + " in stage " + quote(st.name) + ", which is not an absolute http:// or https:// URL"
	return uri, &issue{
		reason:  v1alpha1.ReasonInvalidIntegration,
		message: what + "; fix the uri or the stage variables (the Route answers 500 in that stage)",
		hint:    what,
		stalled: true,
	}
}
