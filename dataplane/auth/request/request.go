// Package request is the REQUEST (Lambda-style) authorizer: an HTTP call
// that sends the AWS Lambda authorizer event (payload format 1.0 or 2.0) to
// a Service's ready endpoints or a URI and reads a simple or IAM-policy
// answer.
//
// Invariants:
//   - Fail closed: a missing identity source is 401 without a call; a call
//     that fails, times out, or answers anything but a well-formed answer is
//     500; only an explicit allow lets the request on.
//   - Answers (decision, policy, context) are cached by a SHA-256 of the
//     authorizer's configuration key plus the identity-source values (a
//     fixed-size key, whatever a client sends), for resultTtlSeconds, in a
//     bounded cache that outlives table swaps. The cache never stores a
//     decision for a route: an IAM policy is evaluated
//     against each request's route ARN, so an answer that allowed GET /pets
//     does not admit DELETE /pets/1.
//   - Concurrent misses on one key share one call.
//   - The event never carries a client's Forwarded, X-Forwarded-* or
//     X-Real-Ip headers: X-Forwarded-For is the source IP the gateway saw
//     (the socket peer, even behind a trusted proxy), Proto and Host come
//     from the connection.
//   - Every call dials through the egress guard.
package request

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/function"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// MaxAnswerBytes bounds an authorizer's answer.
const MaxAnswerBytes = 1 << 20

// Options configure a Client.
type Options struct {
	// Store holds Service endpoints (the one the integrations use); nil means
	// Service authorizers have no endpoint (500).
	Store *upstream.Store
	// DenyEgress are the --deny-egress-cidrs.
	DenyEgress []netip.Prefix
	// Functions invokes Lambda authorizer functions (request.function); nil
	// means such authorizers fail (500).
	Functions *function.Invoker
	// MaxEntries and MaxBytes bound the answer cache (defaults when zero).
	MaxEntries, MaxBytes int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Client calls REQUEST authorizers and caches their answers. It is safe for
// concurrent use and lives as long as the process.
type Client struct {
	store     *upstream.Store
	functions *function.Invoker
	http      *http.Client
	now       func() time.Time
	cache     *cache
	flight    singleflight.Group
	calls     atomicCounter
}

// NewClient returns a Client with an empty cache.
func NewClient(o Options) *Client {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{
		store:     o.Store,
		functions: o.Functions,
		now:       o.Now,
		cache:     newCache(o.MaxEntries, o.MaxBytes),
		http: &http.Client{
			Transport: &http.Transport{
				Proxy:               nil,
				DialContext:         upstream.NewDialer(o.DenyEgress).DialContext,
				MaxIdleConnsPerHost: 64,
				IdleConnTimeout:     90 * time.Second,
			},
			// An authorizer that redirects is misconfigured: fail closed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Stats reports cache hits, misses and authorizer calls (for metrics).
func (c *Client) Stats() (hits, misses, calls uint64) {
	return c.cache.hits.Load(), c.cache.misses.Load(), c.calls.Load()
}

// Authorize decides the request with the REQUEST authorizer a. It never
// returns nil.
func (c *Client) Authorize(ctx context.Context, q *auth.Request, a *table.Authorizer) *auth.Result {
	cfg := a.Request
	identity := make([]string, len(a.IdentitySources))
	for i, src := range a.IdentitySources {
		v, ok := q.IdentityValue(src)
		if !ok {
			return &auth.Result{Outcome: auth.OutcomeUnauthorized, Error: "identity source " + src + " is missing"}
		}
		identity[i] = v
	}
	caching := cfg.ResultTTLSeconds > 0 && len(identity) > 0
	var key cacheKeyHash
	if caching {
		key = cacheKey(a.Key(), identity)
		if ans := c.cache.get(key, c.now()); ans != nil {
			return ans.evaluate(q)
		}
	}
	var v any
	var err error
	if caching {
		// A shared call must not die with the first caller's request; the
		// authorizer timeout still bounds it.
		shared := context.WithoutCancel(ctx)
		v, err, _ = c.flight.Do(string(key[:]), func() (any, error) { return c.call(shared, q, a, identity) })
	} else {
		v, err = c.call(ctx, q, a, identity)
	}
	if err != nil {
		var u unauthorized
		if errors.As(err, &u) {
			return &auth.Result{Outcome: auth.OutcomeUnauthorized, Error: err.Error()}
		}
		return auth.Failed(err.Error())
	}
	ans := v.(*answer)
	if caching {
		c.cache.put(key, ans, c.now().Add(time.Duration(cfg.ResultTTLSeconds)*time.Second))
	}
	return ans.evaluate(q)
}

// cacheKeyHash is a cache key: fixed-size, so the memory an entry holds does
// not grow with the identity values a client sends.
type cacheKeyHash [sha256.Size]byte

// cacheKey is the SHA-256 of the configuration key and the identity values,
// each length-prefixed, so ("a,b") and ("a", "b") never share an entry and
// an edited authorizer (another configuration key) never reuses answers.
func cacheKey(cfgKey string, identity []string) cacheKeyHash {
	h := sha256.New()
	var n [8]byte
	for _, s := range append([]string{cfgKey}, identity...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		_, _ = h.Write(n[:])
		_, _ = io.WriteString(h, s)
	}
	var k cacheKeyHash
	h.Sum(k[:0])
	return k
}

// unauthorized: the authorizer itself answered 401 (AWS: a Lambda failing
// with "Unauthorized").
type unauthorized struct{ error }

// call sends the event and parses the answer.
func (c *Client) call(ctx context.Context, q *auth.Request, a *table.Authorizer, identity []string) (*answer, error) {
	cfg := a.Request
	c.calls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.TimeoutMillis)*time.Millisecond)
	defer cancel()
	body := event(cfg, q, identity, c.now())
	if cfg.Function != nil {
		return c.invoke(ctx, cfg, body)
	}
	target, set, ep, err := c.endpoint(cfg)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("authorizer URL %q: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", q.RequestID)
	resp, err := c.http.Do(req)
	if err != nil {
		if set != nil && isRefused(err) {
			set.MarkRefused(ep)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the authorizer did not answer within %dms", cfg.TimeoutMillis)
		}
		return nil, fmt.Errorf("calling the authorizer: %w", unwrap(err))
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("the authorizer did not answer within %dms", cfg.TimeoutMillis)
	case err != nil:
		return nil, fmt.Errorf("reading the authorizer's answer: %w", err)
	case len(raw) > MaxAnswerBytes:
		return nil, fmt.Errorf("the authorizer's answer is larger than %d bytes", MaxAnswerBytes)
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, unauthorized{errors.New("the authorizer answered 401 Unauthorized")}
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("the authorizer answered %s", statusText(resp.StatusCode))
	}
	return parse(raw, cfg)
}

// parse reads an authorizer's answer.
func parse(raw []byte, cfg *table.RequestAuthorizer) (*answer, error) {
	ans, err := parseAnswer(raw, cfg.SimpleResponses && cfg.PayloadFormatVersion == "2.0" && !cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("malformed authorizer answer: %w", err)
	}
	return ans, nil
}

// invoke runs a Lambda authorizer function (request.function) through the
// function invoker: the answer is the function's return value, or a
// function error. A function that fails with the message "Unauthorized"
// means 401, as on AWS; any other error is 500.
func (c *Client) invoke(ctx context.Context, cfg *table.RequestAuthorizer, event []byte) (*answer, error) {
	fn := cfg.Function
	if c.functions == nil {
		return nil, errors.New("the gateway cannot invoke functions here")
	}
	res, err := c.functions.Invoke(ctx, &function.Invocation{Target: fn, Concurrency: 1, Event: event})
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("the authorizer function %s/%s did not answer within %dms", fn.Namespace, fn.Name, cfg.TimeoutMillis)
	case err != nil:
		return nil, fmt.Errorf("invoking the authorizer function %s/%s: %w", fn.Namespace, fn.Name, err)
	case res.Status != http.StatusOK:
		return nil, fmt.Errorf("the authorizer function's runtime answered %s", statusText(res.Status))
	case len(res.Body) > MaxAnswerBytes:
		return nil, fmt.Errorf("the authorizer's answer is larger than %d bytes", MaxAnswerBytes)
	}
	if msg, typ, ok := functionError(res.Body); ok {
		if msg == "Unauthorized" {
			return nil, unauthorized{errors.New("the authorizer function failed with \"Unauthorized\"")}
		}
		return nil, fmt.Errorf("the authorizer function failed: %s: %s", typ, msg)
	}
	return parse(res.Body, cfg)
}

// functionError recognises a failed function's answer: the runtime's
// {"errorMessage": ..., "errorType": ...} (HTTP 200 from the emulator).
func functionError(body []byte) (message, errorType string, ok bool) {
	var e struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
		PrincipalID  *string `json:"principalId"`
		IsAuthorized *bool   `json:"isAuthorized"`
	}
	if json.Unmarshal(body, &e) != nil || e.ErrorMessage == nil || e.PrincipalID != nil || e.IsAuthorized != nil {
		return "", "", false
	}
	return *e.ErrorMessage, e.ErrorType, true
}

// endpoint picks where to send the call: the URI, or the next ready
// endpoint of the Service.
func (c *Client) endpoint(cfg *table.RequestAuthorizer) (string, *upstream.Set, table.Endpoint, error) {
	if cfg.Service == nil {
		return cfg.URI, nil, table.Endpoint{}, nil
	}
	var set *upstream.Set
	if c.store != nil {
		set = c.store.Get(cfg.Service.Key())
	}
	if set == nil {
		return "", nil, table.Endpoint{}, fmt.Errorf("the authorizer Service %s/%s has no ready endpoint", cfg.Service.Namespace, cfg.Service.Name)
	}
	ep, ok := set.Next()
	if !ok {
		return "", nil, table.Endpoint{}, fmt.Errorf("the authorizer Service %s/%s has no ready endpoint", cfg.Service.Namespace, cfg.Service.Name)
	}
	path := cfg.Path
	if path == "" {
		path = "/"
	}
	host := net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port)))
	return "http://" + host + path, set, ep, nil
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && !errors.Is(err, upstream.ErrEgressDenied)
}

// unwrap drops the *url.Error wrapper, which repeats the URL.
func unwrap(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}
