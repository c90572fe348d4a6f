package translate

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// defaultJWTAlgorithms applies when an Authorizer lists none: RS256 is the
// algorithm every OpenID provider must support.
var defaultJWTAlgorithms = []string{"RS256"}

// authState is what the translator decided about one Authorizer.
type authState struct {
	obj *v1alpha1.Authorizer
	// table is the resolved authorizer, shared by every Route that names it;
	// nil when the Authorizer cannot be used (problem says why).
	table   *table.Authorizer
	problem *issue
}

// translateAuthorizers resolves every Authorizer before the Routes, which
// then point at the resolved ones (or answer 500 with the reason).
func (tr *translator) translateAuthorizers(auths []v1alpha1.Authorizer) {
	for i := range auths {
		a := &auths[i]
		st := &authState{obj: a}
		tr.authorizers[a.Namespace+"/"+a.Name] = st
		var v verdict
		v.accepted = checkAuthorizer(a)
		_, v.resolved = tr.apiRef(a.Namespace, a.Spec.ApiName, KindAuthorizer)
		var svc *table.ServiceTarget
		if v.resolved == nil && a.Spec.Request != nil && (a.Spec.Request.Service != nil || a.Spec.Request.Function != nil) {
			svc, v.resolved = tr.authorizerService(a)
		}
		v.programmed = firstIssue(v.accepted, v.resolved)
		st.problem = v.programmed
		if st.problem == nil {
			st.table = authorizerTable(a, svc)
		}
		tr.statuses = append(tr.statuses, objectStatus(KindAuthorizer, &a.ObjectMeta, v))
	}
}

// checkAuthorizer is what the CRD schema cannot say: URLs that parse, at
// least one audience, simple responses only with payload 2.0.
func checkAuthorizer(a *v1alpha1.Authorizer) *issue {
	sp := &a.Spec
	if j := sp.JWT; j != nil {
		if err := checkURL(j.Issuer); err != nil {
			return invalidAuthorizer("spec.jwt.issuer " + quote(j.Issuer) + " " + err.Error())
		}
		if j.JWKSURI != "" {
			if err := checkURL(j.JWKSURI); err != nil {
				return invalidAuthorizer("spec.jwt.jwksUri " + quote(j.JWKSURI) + " " + err.Error())
			}
		}
		if len(j.Audiences) == 0 {
			return invalidAuthorizer("spec.jwt.audiences is empty; list the audiences (aud or client_id) tokens must carry")
		}
	}
	if r := sp.Request; r != nil {
		if r.URI != "" {
			if err := checkURL(r.URI); err != nil {
				return invalidAuthorizer("spec.request.uri " + quote(r.URI) + " " + err.Error())
			}
		}
		if r.EnableSimpleResponses && r.PayloadFormatVersion == "1.0" {
			return invalidAuthorizer("spec.request.enableSimpleResponses needs payloadFormatVersion \"2.0\"")
		}
		if r.EnableSimpleResponses && sp.Type == v1alpha1.AuthorizerToken {
			return invalidAuthorizer("spec.request.enableSimpleResponses does not apply to type TOKEN, whose answer is an IAM policy")
		}
	}
	return nil
}

// checkURL accepts absolute http(s) URLs with a host and no fragment.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("does not parse: %w", err)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("is not an http:// or https:// URL")
	case u.Host == "":
		return fmt.Errorf("has no host")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("must not have a fragment")
	}
	return nil
}

func invalidAuthorizer(what string) *issue {
	return &issue{reason: v1alpha1.ReasonInvalid, message: what + "; Routes using this Authorizer answer 500 until it is fixed", hint: what, stalled: true}
}

// authorizerService resolves a REQUEST authorizer's Service port (its
// request.service, or the function Service of request.function).
func (tr *translator) authorizerService(a *v1alpha1.Authorizer) (*table.ServiceTarget, *issue) {
	field := "spec.request.service"
	ref := v1alpha1.AuthorizerService{}
	if s := a.Spec.Request.Service; s != nil {
		ref = *s
	} else {
		field, ref = "spec.request.function", v1alpha1.AuthorizerService{Name: a.Spec.Request.Function.Name, Port: a.Spec.Request.Function.Port}
	}
	svc := tr.services[a.Namespace+"/"+ref.Name]
	if svc == nil {
		return nil, &issue{
			reason:  v1alpha1.ReasonServiceNotFound,
			message: "Service " + quote(ref.Name) + " not found in namespace " + quote(a.Namespace) + "; create it or fix " + field + ".name (Routes using this Authorizer answer 500 until then)",
			hint:    "the authorizer's Service " + quote(ref.Name) + " does not exist in namespace " + quote(a.Namespace),
			waiting: true,
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.Port == ref.Port {
			return &table.ServiceTarget{Namespace: a.Namespace, Name: ref.Name, Port: ref.Port, PortName: p.Name}, nil
		}
	}
	return nil, &issue{
		reason:  v1alpha1.ReasonPortNotFound,
		message: fmt.Sprintf("Service %q has no port %d (its ports: %s); fix %s.port or the Service (Routes using this Authorizer answer 500 until then)", ref.Name, ref.Port, portList(svc.Spec.Ports), field),
		hint:    fmt.Sprintf("the authorizer's Service %q has no port %d", ref.Name, ref.Port),
		waiting: true,
	}
}

// authorizerTable is the resolved authorizer with defaults applied.
func authorizerTable(a *v1alpha1.Authorizer, svc *table.ServiceTarget) *table.Authorizer {
	out := &table.Authorizer{
		Object:          a.Namespace + "/" + a.Name,
		Type:            table.AuthorizerType(a.Spec.Type),
		IdentitySources: slices.Clone(a.Spec.IdentitySources),
	}
	if a.Spec.Type == v1alpha1.AuthorizerToken {
		out.Type = table.AuthorizerRequest // a REQUEST call-out with the TOKEN event
	}
	if out.IdentitySources == nil {
		out.IdentitySources = []string{}
	}
	if j := a.Spec.JWT; j != nil {
		out.JWT = &table.JWTAuthorizer{
			Issuer:     j.Issuer,
			Audiences:  slices.Clone(j.Audiences),
			JWKSURI:    j.JWKSURI,
			Algorithms: slices.Clone(j.Algorithms),
		}
		if len(out.JWT.Algorithms) == 0 {
			out.JWT.Algorithms = slices.Clone(defaultJWTAlgorithms)
		}
	}
	if r := a.Spec.Request; r != nil {
		ttl := int32(300)
		if r.ResultTTLSeconds != nil {
			ttl = *r.ResultTTLSeconds
		}
		out.Request = &table.RequestAuthorizer{
			URI:                  r.URI,
			PayloadFormatVersion: cmp.Or(r.PayloadFormatVersion, "2.0"),
			SimpleResponses:      r.EnableSimpleResponses,
			Token:                a.Spec.Type == v1alpha1.AuthorizerToken,
			ResultTTLSeconds:     ttl,
			TimeoutMillis:        cmp.Or(r.TimeoutMillis, 10000),
		}
		if r.Service != nil {
			out.Request.Service, out.Request.Path = svc, cmp.Or(r.Service.Path, "/")
		} else if r.Function != nil {
			out.Request.Function = svc
		}
	}
	return out
}

// routeAuth resolves a Route's authorization: nil without one, else the
// Authorization or the issue that makes the Route answer 500 (it keeps its
// key and never falls through).
func (tr *translator) routeAuth(r *v1alpha1.Route) (*table.Authorization, *issue) {
	sp := &r.Spec
	if sp.AuthorizationType == "" || sp.AuthorizationType == v1alpha1.AuthorizationNone {
		return nil, nil
	}
	st := tr.authorizers[r.Namespace+"/"+sp.AuthorizerName]
	if st == nil || st.obj.Spec.ApiName != sp.ApiName {
		what := "Authorizer " + quote(sp.AuthorizerName) + " not found for Api " + quote(sp.ApiName) + " in namespace " + quote(r.Namespace)
		return nil, &issue{reason: v1alpha1.ReasonAuthorizerMissing, message: what + "; create it or fix spec.authorizerName (the Route answers 500 until then)", hint: what, waiting: true}
	}
	want := v1alpha1.AuthorizerJWT
	if sp.AuthorizationType == v1alpha1.AuthorizationCustom {
		want = v1alpha1.AuthorizerRequest
	}
	tokenForCustom := want == v1alpha1.AuthorizerRequest && st.obj.Spec.Type == v1alpha1.AuthorizerToken
	if got := st.obj.Spec.Type; got != want && !tokenForCustom {
		what := fmt.Sprintf("authorizationType %s needs a %s Authorizer, but %q is %s", sp.AuthorizationType, want, sp.AuthorizerName, st.obj.Spec.Type)
		return nil, &issue{reason: v1alpha1.ReasonInvalid, message: what + "; fix spec.authorizationType or spec.authorizerName (the Route answers 500 until then)", hint: what, stalled: true}
	}
	if st.problem != nil {
		what := "Authorizer " + quote(sp.AuthorizerName) + " is not usable: " + cmp.Or(st.problem.hint, st.problem.message)
		return nil, &issue{reason: v1alpha1.ReasonUnresolvedRefs, message: what + " (the Route answers 500 until then)", hint: what, waiting: st.problem.waiting, stalled: st.problem.stalled}
	}
	return &table.Authorization{Authorizer: st.table, Scopes: slices.Clone(sp.AuthorizationScopes)}, nil
}
