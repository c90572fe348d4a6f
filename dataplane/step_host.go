package dataplane

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Custom domains in the request chain (api.md, Stage "Custom domains"):
//   - resolveHost consults the table's domains before the default endpoint:
//     the longest basePath that prefixes the path on segment boundaries picks
//     the stage, and is stripped before route matching. A domain host whose
//     path matches no mapping gets 404 (AWS: no mapping).
//   - On a TLS connection the Host must be the TLS server name (SNI): HTTP/2
//     connection reuse must not carry a request to another hostname, whose
//     certificate or client CA was never checked. Otherwise 421.
//   - A mutual TLS hostname is served only over TLS with a verified client
//     certificate (the handshake demands one; plain HTTP gets 403). The
//     handshake's verification is not enough on its own: every request
//     re-verifies the connection's client certificate against the client CAs
//     of the table in effect (cached per connection and TLS settings, see
//     mtlsConn), so a replaced client CA or a broken Secret also reaches
//     keep-alive and HTTP/2 connections opened before the swap: they get 403
//     and are closed ("Connection: close"; a GOAWAY on HTTP/2). And a
//     stage it maps is served only through mutual TLS domains: its default
//     endpoint and domains without client certificates answer 403, as AWS
//     answers failed mutual TLS.
//   - The verified client certificate's subject, issuer, serial and validity
//     are on the exchange (clientCert) for $context.identity.clientCert.*.

// resolveHost is the host step: a custom domain's API mapping (longest
// basePath first) picks the Api and stage, else the default endpoint's host
// picks the Api; an unknown host gets 404. The request id header of the
// Api's protocol is set here, on every answer from now on.
func (x *exchange) resolveHost() bool {
	x.host = canonicalHost(x.r.Host)
	if !x.resolveDomain() { // custom domains first
		return false
	}
	if x.api == nil {
		x.api = x.tbl.ApiForHost(x.host)
	}
	if x.api == nil {
		hint := fmt.Sprintf("no Api is served on host %q", x.host)
		if x.tbl == nil {
			hint = "the gateway has not loaded its routing table yet"
		}
		x.fail(gatewayresp.ResourceNotFound, http.StatusNotFound, msgNotFound, hint)
		return false
	}
	if x.api.Protocol == table.ProtocolREST {
		x.w.Header()["X-Amzn-Requestid"] = []string{x.id}
	} else {
		x.w.Header()["Apigw-Requestid"] = []string{x.id}
	}
	return true
}

// canonicalHost lower-cases host and removes the port and a trailing dot.
func canonicalHost(h string) string {
	if strings.HasPrefix(h, "[") {
		if end := strings.IndexByte(h, ']'); end > 0 {
			h = h[:end+1]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// resolveDomain runs at the start of resolveHost. It returns false after
// writing a refusal; true with x.api nil means "not a custom domain, try the
// default endpoint"; true with x.api and x.stage set means a mapping matched.
func (x *exchange) resolveDomain() bool {
	if cs := x.r.TLS; cs != nil && canonicalHost(cs.ServerName) != x.host {
		x.fail(gatewayresp.Default4XX, http.StatusMisdirectedRequest, msgMisdirected,
			fmt.Sprintf("the request's host %q is not the TLS server name %q of its connection; open a connection for that host", x.host, cs.ServerName))
		return false
	}
	d := x.tbl.Domain(x.host)
	if d == nil {
		return true
	}
	x.domain = d
	if d.MutualTLS() {
		if !verifiedClient(x.r.TLS) {
			x.refuseTLS(fmt.Sprintf("hostname %q requires mutual TLS: call it over HTTPS with a client certificate", x.host))
			return false
		}
		if err := x.verifyClientNow(d.TLS); err != nil {
			x.refuseTLS(fmt.Sprintf("hostname %q: the client certificate of this connection is no longer accepted (%v); open a new connection", x.host, err))
			return false
		}
		x.clientCert = newClientCert(x.r.TLS.VerifiedChains[0][0])
	}
	m := d.Match(x.path.dec)
	if m == nil {
		x.fail(gatewayresp.ResourceNotFound, http.StatusNotFound, msgNotFound, fmt.Sprintf("no API mapping of hostname %q matches the path", x.host))
		return false
	}
	n := m.Segments()
	x.api, x.stage, x.segs = m.ApiRef(), m.StageRef(), x.path.dec[n:]
	off := 0
	for _, seg := range x.path.raw[:n] {
		off += 1 + len(seg)
	}
	x.rest = x.path.escaped[off:]
	if x.rest == "" {
		x.rest = "/"
	}
	return true
}

// refuseTLS answers a failed mutual TLS check with 403. On a TLS connection
// it also closes the connection after the answer: the check would fail on
// every later request of it, and only a new handshake can present another
// certificate.
func (x *exchange) refuseTLS(hint string) {
	if x.r.TLS != nil {
		x.w.Header()["Connection"] = []string{"close"}
	}
	x.fail(gatewayresp.Default4XX, http.StatusForbidden, msgTLSForbidden, hint)
}
