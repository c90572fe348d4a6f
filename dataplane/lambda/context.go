package lambda

import (
	"net"
	"net/http"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// FromContext is the part of a Request that is the request's $context
// (dataplane/reqctx, filled by the dataplane's one builder): method, path,
// route, stage, ids and stand-ins, time, source IP, user agent, domain,
// protocol, API key id and client certificate. The caller adds what is not
// $context: query, headers, body, stage variables, path parameters and the
// authorizer's answer.
func FromContext(c *reqctx.Context, api APIType) Request {
	r := Request{
		API:          api,
		Method:       c.HTTPMethod,
		Path:         c.Path,
		RouteKey:     c.RouteKey,
		ResourcePath: c.ResourcePath(),
		Stage:        c.Stage,
		RequestID:    c.RequestID,
		Time:         c.RequestTime,
		SourceIP:     c.SourceIP,
		UserAgent:    c.UserAgent,
		DomainName:   c.DomainName,
		AccountID:    c.AccountID,
		APIID:        c.APIID,
		Protocol:     c.Protocol,
		APIKeyID:     c.APIKeyID,
	}
	if cc := &c.ClientCert; cc.Leaf != nil {
		r.ClientCert = &ClientCert{
			PEM: cc.PEM(), SubjectDN: cc.SubjectDN, IssuerDN: cc.IssuerDN, SerialNumber: cc.SerialNumber,
			NotBefore: cc.Leaf.NotBefore, NotAfter: cc.Leaf.NotAfter,
		}
	}
	return r
}

// GatewayHeaders are the request headers an event carries: the client's,
// without its Forwarded, X-Forwarded-* and X-Real-Ip, and with
// X-Forwarded-For, -Proto, -Port (the listener's port) and -Host set from
// the connection as API Gateway sets them. X-Forwarded-For is the source IP the gateway saw
// (requestContext's sourceIp), so a function or authorizer that trusts it
// cannot be fooled by a header the client wrote.
func GatewayHeaders(r *http.Request, sourceIP string) http.Header {
	h := make(http.Header, len(r.Header)+3)
	for k, v := range r.Header {
		l := strings.ToLower(k)
		if strings.HasPrefix(l, "x-forwarded-") || l == "x-real-ip" || l == "forwarded" {
			continue
		}
		h[k] = v
	}
	if sourceIP != "" {
		h["X-Forwarded-For"] = []string{sourceIP}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	h["X-Forwarded-Proto"] = []string{proto}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(la.String()); err == nil {
			h["X-Forwarded-Port"] = []string{port}
		}
	}
	if r.Host != "" {
		h["X-Forwarded-Host"] = []string{r.Host}
	}
	return h
}
