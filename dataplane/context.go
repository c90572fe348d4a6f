package dataplane

import (
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// context fills the request's $context from the exchange and returns it.
// It is the one place that says what each $context value of a request is:
// the access log, traces, metrics, parameter mapping and the authorizer and
// Lambda events all read the values it produces, so they cannot disagree
// (TestEveryDocumentedContextVariableResolves checks the list in
// docs/reference.md against it). Values the chain has not learnt yet are
// zero. It allocates nothing: every value is a string the exchange already
// holds or a number.
func (x *exchange) context() *reqctx.Context {
	c := &x.rc
	*c = reqctx.Context{
		RequestID:          x.id,
		HTTPMethod:         x.r.Method,
		Path:               x.path.escaped,
		Protocol:           x.r.Proto,
		DomainName:         x.host,
		SourceIP:           reqctx.SourceIP(x.r.RemoteAddr),
		UserAgent:          x.r.UserAgent(),
		RequestTime:        x.start,
		Status:             x.responseStatus(),
		ResponseLength:     x.w.bytes,
		ResponseLatency:    time.Since(x.start),
		IntegrationLatency: x.target.IntegrationLatency,
		IntegrationStatus:  x.target.UpstreamStatus,
		IntegrationError:   x.target.Cause,
		ErrorMessage:       x.errMessage,
		ErrorHint:          x.errHint,
		ErrorResponseType:  string(x.errType),
		CacheStatus:        x.cache.status,
		ClientCert:         x.clientCert,
		Canary:             x.canary,
	}
	if x.api != nil {
		c.AccountID, c.APIID = x.api.Namespace, x.api.Name
	}
	if x.stage != nil {
		c.Stage = x.stage.Name
	}
	if x.route != nil {
		c.RouteKey = x.route.Key
	}
	if a := x.authz; a != nil {
		c.PrincipalID, c.Authorizer = a.PrincipalID, a
		if a.Outcome != auth.OutcomeAllow {
			c.AuthorizerError = a.Error
		}
	}
	if g := x.lim.grant; g != nil {
		c.APIKeyID = g.Key.ID
	}
	if ev := x.ws; ev != nil {
		conn := ev.Conn
		c.ConnectionID, c.EventType, c.MessageID, c.ConnectedAt = conn.ID, string(ev.Type), ev.MessageID, conn.ConnectedAt
		c.SourceIP, c.UserAgent = conn.SourceIP, conn.UserAgent
		if c.APIKeyID == "" {
			c.APIKeyID = conn.APIKeyID // the $connect request's key
		}
	}
	return c
}
