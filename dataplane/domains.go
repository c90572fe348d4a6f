package dataplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

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

// Messages of the custom domain refusals.
const (
	msgMisdirected    = "Misdirected Request"
	msgTLSForbidden   = "Forbidden"
	validityTimestamp = "Jan _2 15:04:05 2006 GMT" // OpenSSL's, as AWS shows it
)

// clientCert is the verified client certificate of a mutual TLS request, in
// the form of AWS's $context.identity.clientCert.* (zero when there is none).
type clientCert struct {
	// Cert is the leaf certificate the handshake verified; nil without mTLS.
	Cert *x509.Certificate
	// SubjectDN and IssuerDN are the distinguished names in certificate order,
	// e.g. "C=US,O=Example,CN=client".
	SubjectDN, IssuerDN string
	// SerialNumber is the serial number in decimal.
	SerialNumber string
	// NotBefore and NotAfter are the validity in OpenSSL's format.
	NotBefore, NotAfter string
}

// resolveDomain runs at the start of resolveHost. It returns false after
// writing a refusal; true with x.api nil means "not a custom domain, try the
// default endpoint"; true with x.api and x.stage set means a mapping matched.
func (x *exchange) resolveDomain() bool {
	if cs := x.r.TLS; cs != nil && canonicalHost(cs.ServerName) != x.host {
		x.fail(http.StatusMisdirectedRequest, msgMisdirected,
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
		x.fail(http.StatusNotFound, msgNotFound, fmt.Sprintf("no API mapping of hostname %q matches the path", x.host))
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
	x.fail(http.StatusForbidden, msgTLSForbidden, hint)
}

// mtlsConnKey is the context key of a connection's *mtlsConn.
type mtlsConnKey struct{}

// mtlsConn caches, per connection, the last request-time verification of its
// client certificate: the TLS settings it was made under, its outcome and
// until when it holds (the verified chain's earliest NotAfter). A swap that
// replaces a domain's TLS settings gives them a new pointer, so the next
// request verifies again; HTTP/2 streams of one connection may race to
// fill the cache, which is harmless (the same inputs give the same answer).
type mtlsConn struct {
	last atomic.Pointer[mtlsVerdict]
}

type mtlsVerdict struct {
	tls   *table.TLS
	until time.Time
	err   error
}

// connContext is the HTTPS server's ConnContext: it gives each connection
// its mtlsConn.
func connContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, mtlsConnKey{}, &mtlsConn{})
}

// verifyClientNow verifies the connection's client certificate against the
// client CAs of t (the domain's TLS settings in the table in effect), as
// the handshake did against the CAs of its time; it fails when t has an
// error. Without a connection cache (a server without connContext) it
// verifies every time.
func (x *exchange) verifyClientNow(t *table.TLS) error {
	c, _ := x.r.Context().Value(mtlsConnKey{}).(*mtlsConn)
	if c != nil {
		if v := c.last.Load(); v != nil && v.tls == t && (v.err != nil || x.start.Before(v.until)) {
			return v.err
		}
	}
	until, err := verifyClientCert(x.r.TLS, t, x.start)
	if c != nil {
		c.last.Store(&mtlsVerdict{tls: t, until: until, err: err})
	}
	return err
}

// verifyClientCert is crypto/tls's server-side verification of the peer's
// certificates (ClientCAs as roots, the rest of the peer's chain as
// intermediates, client authentication usage) at now, for the leaf the
// handshake verified (verifiedClient(cs) holds). It returns the earliest
// NotAfter of the verified chain.
func verifyClientCert(cs *tls.ConnectionState, t *table.TLS, now time.Time) (time.Time, error) {
	switch {
	case t.Err != "":
		return time.Time{}, fmt.Errorf("the hostname's TLS settings are broken: %s", t.Err)
	case t.ClientCAs == nil:
		return time.Time{}, errors.New("the hostname has no client CAs")
	}
	leaf := cs.VerifiedChains[0][0] // cs.PeerCertificates[0]
	opts := x509.VerifyOptions{Roots: t.ClientCAs, Intermediates: x509.NewCertPool(), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for i, c := range cs.PeerCertificates {
		if i > 0 {
			opts.Intermediates.AddCert(c)
		}
	}
	chains, err := leaf.Verify(opts)
	if err != nil {
		return time.Time{}, fmt.Errorf("it does not verify against the current client CAs: %w", err)
	}
	until := leaf.NotAfter
	for _, c := range chains[0] {
		if c.NotAfter.Before(until) {
			until = c.NotAfter
		}
	}
	return until, nil
}

// verifiedClient reports whether the connection's handshake verified a client
// certificate chain.
func verifiedClient(cs *tls.ConnectionState) bool {
	return cs != nil && len(cs.VerifiedChains) > 0 && len(cs.VerifiedChains[0]) > 0
}

// guardMutualTLS is the step after resolveStage: a stage that a mutual TLS
// domain maps is served only through a mutual TLS domain (whose client
// certificate resolveDomain checked), never through the default endpoint or
// a domain without client certificates.
func (x *exchange) guardMutualTLS() bool {
	if (x.domain != nil && x.domain.MutualTLS()) || !x.tbl.MutualTLSOnly(x.stage) {
		return true
	}
	x.fail(http.StatusForbidden, msgTLSForbidden,
		fmt.Sprintf("stage %q is mapped by a mutual TLS custom domain and served only there", x.stage.Name))
	return false
}

func newClientCert(c *x509.Certificate) clientCert {
	return clientCert{
		Cert:         c,
		SubjectDN:    distinguishedName(c.RawSubject, c.Subject),
		IssuerDN:     distinguishedName(c.RawIssuer, c.Issuer),
		SerialNumber: c.SerialNumber.String(),
		NotBefore:    c.NotBefore.UTC().Format(validityTimestamp),
		NotAfter:     c.NotAfter.UTC().Format(validityTimestamp),
	}
}

// distinguishedName renders a DN in certificate order ("C=US,O=Example,
// CN=client", as AWS shows it); parsed is the fallback if raw does not parse.
func distinguishedName(raw []byte, parsed pkix.Name) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return parsed.String()
	}
	parts := make([]string, 0, len(seq))
	for _, rdn := range seq {
		parts = append(parts, pkix.RDNSequence{rdn}.String())
	}
	return strings.Join(parts, ",")
}
