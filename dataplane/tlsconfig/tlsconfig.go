// Package tlsconfig chooses the TLS configuration of each handshake of the
// HTTPS listener from the routing table in effect.
//
// Invariants:
//   - Every handshake reads the current table (GetConfigForClient), so a
//     rotated or fixed certificate is served to the next handshake after the
//     swap, without a restart; connections already open keep theirs.
//   - A server name without a custom domain, a domain without TLS, a domain
//     whose TLS has an error and a certificate past its NotAfter are refused
//     in the handshake. There is never a fallback to another certificate.
//   - TLS 1.2 is the minimum (1.3 where the domain asks), with AEAD ECDHE
//     cipher suites only; HTTP/2 and HTTP/1.1 are offered through ALPN.
//   - Mutual TLS domains require a client certificate that verifies against
//     the domain's client CAs, in the handshake. They never resume a session:
//     a session ticket would carry a verification made under other CAs. The
//     handshake's verdict is not final: the dataplane re-verifies the client
//     certificate of open connections against the table in effect on each
//     request (dataplane/domains.go).
//   - Per-host configurations are built once per table and cached until the
//     next swap; session ticket keys of a hostname are derived from a
//     process secret, the hostname and the certificate's Secret, so they
//     survive unrelated swaps but never cross hostnames.
package tlsconfig

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// CipherSuites are the TLS 1.2 suites offered: ECDHE key exchange with AEAD
// ciphers only (TLS 1.3 suites are not configurable and are all AEAD).
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// nextProtos are the ALPN protocols: HTTP/2 first.
var nextProtos = []string{"h2", "http/1.1"}

// Selector picks per-handshake configurations from the table that Current
// returns. Create it with New; it is safe for concurrent handshakes.
type Selector struct {
	current func() *table.Table
	now     func() time.Time
	secret  [32]byte
	cache   atomic.Pointer[hostConfigs]
}

// hostConfigs are the per-host configurations of one table.
type hostConfigs struct {
	tbl     *table.Table
	configs map[string]*tls.Config
}

// New returns a Selector over the table current returns (nil: no table yet,
// every handshake is refused). now is the clock for certificate expiry; nil
// means time.Now.
func New(current func() *table.Table, now func() time.Time) *Selector {
	if now == nil {
		now = time.Now
	}
	s := &Selector{current: current, now: now}
	if _, err := rand.Read(s.secret[:]); err != nil {
		panic(fmt.Sprintf("tlsconfig: no randomness for session ticket keys: %v", err)) // crypto/rand never fails on supported systems
	}
	return s
}

// ServerConfig is the listener's configuration: it only delegates to the
// per-host configuration of the client's server name.
func (s *Selector) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		CipherSuites:       CipherSuites,
		NextProtos:         nextProtos,
		GetConfigForClient: s.ForClient,
	}
}

// ForClient returns the configuration of the handshake's server name, or the
// error that refuses the handshake.
func (s *Selector) ForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	if hello.ServerName == "" {
		return nil, errors.New("no server name (SNI): every HTTPS hostname is a custom domain")
	}
	tbl := s.current()
	d := tbl.Domain(strings.ToLower(strings.TrimSuffix(hello.ServerName, ".")))
	switch {
	case d == nil:
		return nil, fmt.Errorf("no custom domain %q", hello.ServerName)
	case d.TLS == nil:
		return nil, fmt.Errorf("custom domain %q has no TLS settings (plain HTTP only)", d.Hostname)
	case d.TLS.Err != "":
		return nil, fmt.Errorf("custom domain %q: %s", d.Hostname, d.TLS.Err)
	case s.now().After(d.TLS.NotAfter):
		return nil, fmt.Errorf("custom domain %q: the certificate of Secret %s expired at %s", d.Hostname, d.TLS.Secret, d.TLS.NotAfter.Format(time.RFC3339))
	}
	return s.configs(tbl).configs[d.Hostname], nil
}

// configs returns the per-host configurations of tbl, building them once per
// table (a concurrent build for the same table is harmless: both are equal).
func (s *Selector) configs(tbl *table.Table) *hostConfigs {
	if c := s.cache.Load(); c != nil && c.tbl == tbl {
		return c
	}
	c := &hostConfigs{tbl: tbl, configs: make(map[string]*tls.Config, len(tbl.Domains))}
	for _, d := range tbl.Domains {
		if d.TLS != nil && d.TLS.Err == "" {
			c.configs[d.Hostname] = s.hostConfig(d)
		}
	}
	s.cache.Store(c)
	return c
}

// hostConfig is the configuration of one working TLS domain.
func (s *Selector) hostConfig(d *table.Domain) *tls.Config {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{*d.TLS.Certificate},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: CipherSuites,
		NextProtos:   nextProtos,
	}
	if d.TLS.MinVersion == table.TLSVersion13 {
		cfg.MinVersion = tls.VersionTLS13
	}
	if d.MutualTLS() {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = d.TLS.ClientCAs
		cfg.SessionTicketsDisabled = true
		return cfg
	}
	cfg.SetSessionTicketKeys([][32]byte{sha256.Sum256(append(s.secret[:], d.Hostname+"\x00"+d.TLS.Secret...))})
	return cfg
}
