package dataplane

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/cache"
	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/proxy"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// The response cache in the chain (api.md Stage.cache and Route.cache;
// dataplane/cache holds the entries):
//   - lookupCache (in) runs after throttle, authorizer, API key and
//     validation, so a cached answer never bypasses them and plan quotas
//     count hits too. On a route whose Cache is set, for its cached method,
//     the entry key is the route's cache key, the method, the canary mark
//     and the values of the route's keyParameters (parameters left out do
//     not vary the entry, as on AWS). A hit is answered here; concurrent
//     misses of one key wait for the first one's answer (one integration
//     request).
//   - armCache (reply) sees the integration's answer after response
//     parameter mapping: a 2xx answer without Set-Cookie is recorded while
//     it is sent (the response writer's tee, at most 1 MiB).
//   - storeCache (out) stores the recorded answer once it is complete, or
//     releases the waiting requests without one.
//   - "Cache-Control: max-age=0" refreshes the entry only for a caller the
//     stage allows to invalidate (requireAuthorizationForCacheControl: the
//     route's authorizer allowed the request with a policy that allows
//     execute-api:InvalidateCache); others are answered as the stage's
//     unauthorizedCacheControlHeaderStrategy says.

// Cache status values ($context.cacheStatus, X-Cache).
const (
	cacheHit     = "Hit"
	cacheMiss    = "Miss"
	cacheRefresh = "Refresh"
)

// cacheWarning is the Warning header of an ignored Cache-Control: max-age=0.
const cacheWarning = `199 - "Cache-Control: max-age=0 ignored: the caller may not invalidate this cache"`

// cacheState is the response cache step's per-request state.
type cacheState struct {
	// status is cacheHit, cacheMiss or cacheRefresh ("" when not cached).
	status string
	// flight is the fill this request owes the cache (miss or refresh).
	flight *cache.Flight
	// rec records the body of a cacheable answer (the writer's tee);
	// entry holds its status and header until the body is complete.
	rec   cache.Recorder
	entry *cache.Entry
	// keyBuf backs the entry key while it is built.
	keyBuf [256]byte
}

// lookupCache is the response cache step's in side.
func (x *exchange) lookupCache() bool {
	rc := x.route.Cache
	if rc == nil || x.r.Method != rc.Method {
		return true
	}
	sc := x.s.cache.For(x.stage)
	if sc == nil {
		return true
	}
	key := x.cacheKey(rc)
	if wantsRefresh(x.r.Header) {
		if x.mayInvalidateCache() {
			x.cache.flight, x.cache.status = sc.Refresh(key), cacheRefresh
			return true
		}
		if !x.ignoreRefresh() {
			return false
		}
	}
	e, f := sc.Lookup(x.r.Context(), key, x.cacheWait())
	if e != nil {
		x.serveCached(e)
		return false
	}
	x.cache.flight, x.cache.status = f, cacheMiss
	return true
}

// cacheKey is the entry key of this request on route cache rc.
func (x *exchange) cacheKey(rc *table.RouteCache) string {
	var k cache.Key
	k.Reset(x.cache.keyBuf[:], rc.Key, x.r.Method, x.canary)
	var query map[string][]string
	for _, p := range rc.KeyParameters {
		switch p.In {
		case table.InHeader:
			k.Add(x.r.Header.Values(p.Name))
		case table.InQueryString:
			if query == nil {
				query = x.r.URL.Query()
			}
			k.Add(query[p.Name])
		case table.InPath:
			v, _ := x.route.Params(x.segs).Get(p.Name)
			k.Add([]string{v})
		}
	}
	return k.String()
}

// wantsRefresh reports a Cache-Control header with the directive max-age=0.
func wantsRefresh(h http.Header) bool {
	for _, v := range h["Cache-Control"] {
		for d := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "max-age=0") {
				return true
			}
		}
	}
	return false
}

// mayInvalidateCache: the stage lets every caller refresh entries, or the
// route's authorizer allowed this request with a policy that allows
// execute-api:InvalidateCache on the route.
func (x *exchange) mayInvalidateCache() bool {
	if !x.stage.Cache.RequireAuthorization {
		return true
	}
	a := x.authz
	return a != nil && a.Outcome == auth.OutcomeAllow && a.InvalidateCache
}

// ignoreRefresh answers a refresh the caller may not make, by the stage's
// strategy: it returns false after refusing it (FAIL_WITH_403), true when
// the request goes on as if it had not asked (with a Warning header, or
// silently).
func (x *exchange) ignoreRefresh() bool {
	switch x.stage.Cache.Unauthorized {
	case table.CacheControlFailWith403:
		x.fail(gatewayresp.AccessDenied, http.StatusForbidden, msgForbidden,
			"Cache-Control: max-age=0 asks to refresh the cache, and the caller's authorizer policy does not allow execute-api:InvalidateCache")
		return false
	case table.CacheControlSucceedWithoutHeader:
	default:
		x.w.Header()["Warning"] = []string{cacheWarning}
	}
	return true
}

// cacheWait bounds how long a miss waits for another request's answer to
// the same key: the integration's timeout, after which it asks itself.
func (x *exchange) cacheWait() time.Duration {
	if ms := x.integration().TimeoutMillis; ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return proxy.DefaultTimeout
}

// serveCached answers with a cached entry. The chain's header side (CORS)
// runs as for any answer; the reply side does not (the entry was mapped
// before it was stored).
func (x *exchange) serveCached(e *cache.Entry) {
	x.cache.status = cacheHit
	h := x.w.Header()
	for k, v := range e.Header {
		h[k] = v // the entry's slices are capped: an append copies them
	}
	h["Content-Length"] = []string{strconv.Itoa(len(e.Body))}
	if x.stage.Cache.StatusHeader {
		h["X-Cache"] = []string{cacheHit}
	}
	x.w.WriteHeader(e.Status)
	if x.r.Method != http.MethodHead {
		_, _ = x.w.Write(e.Body) // a vanished client shows in the log's length
	}
}

// armCache is the response cache step's reply side: a cacheable answer of
// a request that owes the cache a fill starts recording.
func (x *exchange) armCache(status int, h http.Header) int {
	if x.cache.flight == nil {
		return status
	}
	if cache.Cacheable(status, h) {
		x.cache.entry = &cache.Entry{
			Status: status, Header: cache.StoredHeader(h),
			TTL: time.Duration(x.route.Cache.TTLSeconds) * time.Second,
		}
		x.w.tee = &x.cache.rec
	}
	if x.stage.Cache.StatusHeader {
		h["X-Cache"] = []string{cacheMiss}
	}
	return status
}

// storeCache is the response cache step's out side: the fill ends, with
// the recorded answer when it is complete.
func (x *exchange) storeCache() {
	f := x.cache.flight
	if f == nil {
		return
	}
	var e *cache.Entry
	if body, ok := x.cache.rec.Body(); ok && x.done && x.cache.entry != nil {
		e = x.cache.entry
		e.Body = body
	}
	x.w.tee, x.cache.flight = nil, nil
	f.Done(e)
}
