package dataplane

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"net/http"
	"strings"
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
//     certificate (the handshake demands one; plain HTTP gets 403), and a
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
			x.fail(http.StatusForbidden, msgTLSForbidden,
				fmt.Sprintf("hostname %q requires mutual TLS: call it over HTTPS with a client certificate", x.host))
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
