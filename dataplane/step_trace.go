package dataplane

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/trace"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/tracing"
)

// Tracing hooks of the chain (dataplane/tracing). With Options.Tracing nil
// each hook is one nil check: no span, context or header is created.

// startTrace is the trace step's in side, first of the request side: it
// starts the request span; x.r then carries the span in its context, so the
// authorizer and integration spans are its children.
func (x *exchange) startTrace() bool {
	if x.s.tracing != nil {
		x.r, x.span = x.s.tracing.StartRequest(x.r)
	}
	return true
}

// endTrace is the trace step's out side: it ends the integration span if a
// panic (an aborted response) left it open, then the request span, named by
// the matched route key, with the request's $context.
func (x *exchange) endTrace() {
	if x.span == nil {
		return
	}
	if x.ispan != nil {
		x.s.tracing.EndIntegration(x.ispan, x.target.UpstreamStatus, x.target.Cause)
	}
	c := x.context()
	x.s.tracing.EndRequest(x.span, tracing.Outcome{
		RequestID: c.RequestID, Status: c.Status, Error: c.ErrorMessage,
		RouteKey: c.RouteKey, API: c.Api(), Stage: c.Stage,
	})
}

// startIntegrationSpan opens the integration span and puts its traceparent
// into the headers the backend receives.
func (x *exchange) startIntegrationSpan(in *table.Integration) {
	if x.span == nil {
		return
	}
	target := in.URI
	if st := in.Service; st != nil {
		target = st.Namespace + "/" + st.Name + ":" + strconv.Itoa(int(st.Port))
	}
	x.ispan = x.s.tracing.StartIntegration(x.r.Context(), x.r.Header, string(in.Type), target)
}

// endIntegrationSpan closes the integration span after Forward returned.
func (x *exchange) endIntegrationSpan() {
	if x.ispan == nil {
		return
	}
	x.s.tracing.EndIntegration(x.ispan, x.target.UpstreamStatus, x.target.Cause)
	x.ispan = nil
}

// startAuthorizerSpan returns the context for the authorizer call of a:
// the request's own, or (tracing on) one holding a new authorizer span,
// which endAuthorizerSpan closes.
func (x *exchange) startAuthorizerSpan(a *table.Authorizer) (context.Context, trace.Span) {
	if x.span == nil {
		return x.r.Context(), nil
	}
	return x.s.tracing.StartAuthorizer(x.r.Context(), a.Object, string(a.Type))
}

// endAuthorizerSpan records the decision x.authz on span (nil: tracing off).
func (x *exchange) endAuthorizerSpan(span trace.Span) {
	if span == nil || x.authz == nil {
		return
	}
	res := x.authz
	x.s.tracing.EndAuthorizer(span, outcomeNames[res.Outcome], res.Outcome == auth.OutcomeError, res.Error)
}

// outcomeNames label authorizer decisions on spans.
var outcomeNames = map[auth.Outcome]string{
	auth.OutcomeAllow:        "allow",
	auth.OutcomeUnauthorized: "unauthorized",
	auth.OutcomeForbidden:    "forbidden",
	auth.OutcomeExplicitDeny: "explicit deny",
	auth.OutcomeError:        "error",
}
