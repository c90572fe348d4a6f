// Package jwt is the JWT authorizer: it verifies bearer tokens against the
// issuer's published keys (JWKS) and checks the claims as AWS HTTP API JWT
// authorizers do.
//
// Invariants:
//   - Only asymmetric algorithms of the authorizer's allow-list verify a
//     token. "none", HMAC algorithms and keys carried by the token itself
//     (jwk, jku, x5u, x5c headers) are refused before any key is looked up,
//     whatever the configuration says.
//   - Keys come only from the configured jwksUri or the issuer's discovery
//     document, over https (http only to loopback with --allow-http-jwks),
//     dialed through the egress guard, with bounded size, redirects and time.
//   - Key sets live in the Store, keyed by (issuer, jwksUri), outside the
//     routing table: a table swap never refetches them. A refresh that fails
//     keeps the last good keys; fetches of one set are rate-limited.
//   - Time claims are checked with a bounded skew (ClockSkew).
package jwt

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-logr/logr"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// ClockSkew is the tolerance for exp, nbf and iat: clocks of the issuer and
// the gateway may differ by this much, no more.
const ClockSkew = time.Minute

// MaxTokenBytes bounds the token accepted for parsing.
const MaxTokenBytes = 16 << 10

// Options configure a Store.
type Options struct {
	// DenyEgress are the --deny-egress-cidrs; JWKS fetches dial through them.
	DenyEgress []netip.Prefix
	// AllowHTTP is --allow-http-jwks: http:// key URLs on loopback hosts.
	AllowHTTP bool
	// MinRefreshInterval rate-limits fetches per key set
	// (DefaultMinRefreshInterval when zero).
	MinRefreshInterval time.Duration
	// MaxKeyAge is when keys are refreshed in the background
	// (DefaultMaxKeyAge when zero).
	MaxKeyAge time.Duration
	// Now is the clock (time.Now when nil); tests move it.
	Now    func() time.Time
	Logger logr.Logger
}

// Store verifies tokens and holds the key sets of every JWT authorizer. It
// is safe for concurrent use and lives as long as the process.
type Store struct {
	fetch      *fetcher
	now        func() time.Time
	minRefresh time.Duration
	maxAge     time.Duration
	log        logr.Logger

	mu   sync.Mutex
	sets map[string]*keySet

	fetches, fetchErrors atomic.Uint64
}

// NewStore returns an empty Store.
func NewStore(o Options) *Store {
	s := &Store{
		fetch:      newFetcher(o.DenyEgress, o.AllowHTTP),
		now:        o.Now,
		minRefresh: o.MinRefreshInterval,
		maxAge:     o.MaxKeyAge,
		log:        o.Logger,
		sets:       map[string]*keySet{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.minRefresh <= 0 {
		s.minRefresh = DefaultMinRefreshInterval
	}
	if s.maxAge <= 0 {
		s.maxAge = DefaultMaxKeyAge
	}
	return s
}

// Fetches reports successful and failed key set fetches (for metrics).
func (s *Store) Fetches() (ok, failed uint64) { return s.fetches.Load(), s.fetchErrors.Load() }

// Authorize checks the token the request carries in the authorizer's first
// identity source (default: the Authorization header, raw or "Bearer ...")
// and the route's scopes. It never returns nil.
func (s *Store) Authorize(ctx context.Context, q *auth.Request, a *table.Authorizer, scopes []string) *auth.Result {
	src := "$request.header.Authorization"
	if len(a.IdentitySources) > 0 {
		src = a.IdentitySources[0]
	}
	raw, ok := q.IdentityValue(src)
	if !ok {
		return auth.Unauthorized("no token in " + src)
	}
	if len(raw) > 7 && equalFoldASCII(raw[:7], "Bearer ") {
		raw = raw[7:]
	}
	return s.verify(ctx, raw, a.JWT, scopes)
}

// verify runs every check in order; the first failure decides.
func (s *Store) verify(ctx context.Context, raw string, cfg *table.JWTAuthorizer, scopes []string) *auth.Result {
	if len(raw) > MaxTokenBytes {
		return auth.Unauthorized("the token is too large")
	}
	alg, kid, bad := checkHeader(raw, cfg.Algorithms)
	if bad != "" {
		return auth.Unauthorized(bad)
	}
	algs := make([]jose.SignatureAlgorithm, len(cfg.Algorithms))
	for i, a := range cfg.Algorithms {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	obj, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		return auth.Unauthorized("the token is malformed")
	}
	keys, err := s.lookup(ctx, s.entry(cfg.Issuer, cfg.JWKSURI), kid)
	if err != nil {
		if isNoKeys(err) {
			return auth.Failed("the signing keys of issuer " + cfg.Issuer + " are unavailable: " + err.Error())
		}
		return auth.Unauthorized(err.Error())
	}
	payload, ok := verifyWith(obj, keys, alg)
	if !ok {
		return auth.Unauthorized("the token signature does not verify")
	}
	claims, bad := s.checkClaims(payload, cfg)
	if bad != "" {
		return auth.Unauthorized(bad)
	}
	granted := tokenScopes(claims)
	if !hasScope(granted, scopes) {
		return &auth.Result{Outcome: auth.OutcomeForbidden, Error: "the token has none of the route's scopes", Claims: claims}
	}
	sub, _ := claims["sub"].(string)
	return &auth.Result{Outcome: auth.OutcomeAllow, PrincipalID: sub, Claims: claims, Scopes: granted}
}

// verifyWith tries the keys of the token's kid whose declared alg (if any)
// matches the token's.
func verifyWith(obj *jose.JSONWebSignature, keys []jose.JSONWebKey, alg string) ([]byte, bool) {
	for _, k := range keys {
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		if payload, err := obj.Verify(k.Key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
