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
	"strings"
	"sync/atomic"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Mutual TLS of custom domains (api.md, Stage "Custom domains"): the
// handshake demands and verifies a client certificate (dataplane/tlsconfig),
// and every request re-verifies its connection's certificate against the
// client CAs of the table in effect (verifyClientNow, cached per connection
// and TLS settings in mtlsConn), so a replaced client CA or a broken Secret
// also reaches keep-alive and HTTP/2 connections opened before the swap.
// The host step (step_host.go) and the mutual TLS step (step_mutual_tls.go)
// use these helpers.

// Messages of the custom domain refusals.
const (
	msgMisdirected    = "Misdirected Request"
	msgTLSForbidden   = "Forbidden"
	validityTimestamp = "Jan _2 15:04:05 2006 GMT" // OpenSSL's, as AWS shows it
)

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

// newClientCert is the $context.identity.clientCert.* of a verified leaf.
func newClientCert(c *x509.Certificate) reqctx.ClientCert {
	return reqctx.ClientCert{
		Leaf:         c,
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
