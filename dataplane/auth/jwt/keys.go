package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key set refresh policy.
const (
	// DefaultMinRefreshInterval rate-limits fetches of one key set: a token
	// with an unknown kid triggers at most one fetch per interval, so random
	// kids cannot turn the gateway into a load generator against the issuer.
	DefaultMinRefreshInterval = 10 * time.Second
	// DefaultMaxKeyAge is when known keys are refreshed in the background
	// (requests keep using them meanwhile), so revoked keys age out.
	DefaultMaxKeyAge = time.Hour
	// idleEviction drops key sets no request has used for this long.
	idleEviction = 24 * time.Hour
)

// errNoKeys: the key set was never fetched successfully.
var errNoKeys = errors.New("no signing keys")

// keySet is the cached JWKS of one (issuer, jwksUri) pair. keys and the
// timestamps are read lock-free; mu serialises fetches, so concurrent
// requests with the same unknown kid share one fetch.
type keySet struct {
	issuer, jwksURI string

	keys     atomic.Pointer[map[string][]jose.JSONWebKey] // kid -> keys; nil = never fetched
	fetched  atomic.Int64                                 // unix nanos of the last successful fetch
	lastUsed atomic.Int64

	mu      sync.Mutex
	attempt time.Time // last fetch attempt, successful or not (under mu)
	lastErr error     // last fetch failure (under mu)
}

// lookup returns the keys of kid, refreshing the set first when kid is
// unknown (rate-limited) and in the background when the keys are old. While
// the issuer is unreachable the last good keys keep being used.
func (s *Store) lookup(ctx context.Context, ks *keySet, kid string) ([]jose.JSONWebKey, error) {
	now := s.now()
	ks.lastUsed.Store(now.UnixNano())
	if m := ks.keys.Load(); m != nil {
		if k := (*m)[kid]; len(k) > 0 {
			if now.Sub(time.Unix(0, ks.fetched.Load())) > s.maxAge && ks.mu.TryLock() {
				go s.backgroundRefresh(context.WithoutCancel(ctx), ks)
			}
			return k, nil
		}
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if m := ks.keys.Load(); m != nil && len((*m)[kid]) > 0 {
		return (*m)[kid], nil // another request's fetch brought it
	}
	if !ks.attempt.IsZero() && s.now().Sub(ks.attempt) < s.minRefresh {
		return nil, s.missing(ks, kid)
	}
	// The fetch is for every request that needs the key set, not just this
	// one: it must not fail because this client hung up (that failure would
	// still count as the interval's attempt and block refetches for
	// minRefresh). The fetch timeouts still bound it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*FetchTimeout)
	defer cancel()
	s.refresh(fctx, ks)
	if m := ks.keys.Load(); m != nil && len((*m)[kid]) > 0 {
		return (*m)[kid], nil
	}
	return nil, s.missing(ks, kid)
}

// missing explains why kid has no key; callers hold ks.mu.
func (s *Store) missing(ks *keySet, kid string) error {
	if ks.keys.Load() == nil {
		if ks.lastErr != nil {
			return fmt.Errorf("%w: %w", errNoKeys, ks.lastErr)
		}
		return errNoKeys
	}
	return fmt.Errorf("kid %q is not in the issuer's key set", kid)
}

// backgroundRefresh refreshes old keys; the caller holds ks.mu (TryLock).
// ctx must not be cancelled with the request that noticed the age: the
// refresh outlives it.
func (s *Store) backgroundRefresh(ctx context.Context, ks *keySet) {
	defer ks.mu.Unlock()
	if s.now().Sub(ks.attempt) < s.minRefresh {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*FetchTimeout)
	defer cancel()
	s.refresh(ctx, ks)
}

// refresh fetches the key set; the caller holds ks.mu. A failure keeps the
// previous keys and is logged.
func (s *Store) refresh(ctx context.Context, ks *keySet) {
	ks.attempt = s.now()
	keys, err := s.fetchKeys(ctx, ks)
	if err != nil {
		ks.lastErr = err
		s.fetchErrors.Add(1)
		s.log.Info("JWKS fetch failed; keeping the last good keys", "issuer", ks.issuer, "error", err.Error())
		return
	}
	ks.lastErr = nil
	ks.keys.Store(&keys)
	ks.fetched.Store(s.now().UnixNano())
	s.fetches.Add(1)
}

func (s *Store) fetchKeys(ctx context.Context, ks *keySet) (map[string][]jose.JSONWebKey, error) {
	uri := ks.jwksURI
	if uri == "" {
		var err error
		if uri, err = s.fetch.discover(ctx, ks.issuer); err != nil {
			return nil, err
		}
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := s.fetch.getJSON(ctx, uri, &doc); err != nil {
		return nil, err
	}
	return parseKeys(doc.Keys)
}

// parseKeys keeps the usable public signature keys by kid. Keys that do not
// parse, symmetric keys ("oct": an HMAC secret must never verify a token)
// and keys whose use is not "sig" are skipped, so one odd key never takes
// the whole set down. A set without any usable key is an error (and the
// previous keys stay in effect).
func parseKeys(raw []json.RawMessage) (map[string][]jose.JSONWebKey, error) {
	out := map[string][]jose.JSONWebKey{}
	for _, r := range raw {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil || k.KeyID == "" {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if _, symmetric := k.Key.([]byte); symmetric {
			continue
		}
		if !k.IsPublic() {
			k = k.Public() // a published private key: verify with its public half only
			if !k.Valid() {
				continue
			}
		}
		out[k.KeyID] = append(out[k.KeyID], k)
	}
	if len(out) == 0 {
		return nil, errors.New("the JWKS has no usable signing key with a kid")
	}
	return out, nil
}

// entry returns the key set of (issuer, jwksURI), creating it on first use
// and dropping sets that no request used for idleEviction.
func (s *Store) entry(issuer, jwksURI string) *keySet {
	key := issuer + "\x00" + jwksURI
	s.mu.Lock()
	defer s.mu.Unlock()
	if ks := s.sets[key]; ks != nil {
		return ks
	}
	cutoff := s.now().Add(-idleEviction).UnixNano()
	for k, ks := range s.sets {
		if ks.lastUsed.Load() < cutoff {
			delete(s.sets, k)
		}
	}
	ks := &keySet{issuer: strings.TrimSpace(issuer), jwksURI: jwksURI}
	ks.lastUsed.Store(s.now().UnixNano())
	s.sets[key] = ks
	return ks
}

// isNoKeys: the set was never fetched successfully (the gateway, not the
// token, is at fault: 500 rather than 401).
func isNoKeys(err error) bool { return errors.Is(err, errNoKeys) }
