// Package function invokes AWS Lambda functions that run in the cluster as
// Lambda container images: every such image holds the Runtime Interface
// Emulator (RIE), an HTTP endpoint that runs one invocation per
// POST /2015-03-31/functions/function/invocations. The package sends events
// there, at most a route's concurrency per ready endpoint, and queues the
// rest.
//
// Invariants:
//   - An endpoint never runs more invocations than the limit of the
//     invocation that asked (slots.go). The RIE runs one invocation at a time
//     and crashes when sent a second (architecture.md), so a slot is held
//     until the RIE answered, even when the caller stopped waiting at its
//     integration timeout: the call goes on in the background, at most
//     HoldLimit, and its answer is dropped.
//   - Waiting requests are served in arrival order and wait at most their
//     integration timeout; at most MaxQueue wait per function (ErrQueueFull
//     beyond). A function without ready endpoints queues too: scaling a
//     function from zero on the queue metrics then works.
//   - Every connection is dialed through the egress guard.
//   - Invocations outlive table swaps: queues and slots are kept per
//     Service port (ServiceTarget.Key), in the Invoker, not in the table.
//   - The package does not import the CRD types; it knows the table.
package function

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// InvocationsPath is the RIE's invocation endpoint (the Lambda runtime
// interface of Lambda container images).
const InvocationsPath = "/2015-03-31/functions/function/invocations"

// Defaults.
const (
	// DefaultMaxQueue bounds the invocations waiting per function.
	DefaultMaxQueue = 1000
	// HoldLimit bounds how long an abandoned invocation keeps its slot: 15
	// minutes is Lambda's longest timeout. A function that may run longer
	// than its Route's timeout should set AWS_LAMBDA_FUNCTION_TIMEOUT in its
	// Deployment, which makes the RIE end it and answer.
	HoldLimit = 15 * time.Minute
	// maxAttempts bounds the endpoints tried when connections are refused.
	maxAttempts = 3
	// maxAnswerBytes is what is read of an answer: one byte over Lambda's
	// payload limit, so the codec can tell a too large answer.
	maxAnswerBytes = 6291556 + 1
)

// ErrUnreachable wraps a failure to reach the function (refused, reset,
// egress denied): nothing was invoked, or its answer was lost.
var ErrUnreachable = errors.New("function unreachable")

// ErrTimedOut is the RIE's own timeout (AWS_LAMBDA_FUNCTION_TIMEOUT): it
// answers "Task timed out after N seconds" instead of the function's answer.
var ErrTimedOut = errors.New("function timed out")

// Options configure an Invoker.
type Options struct {
	// Store holds the ready endpoints of function Services.
	Store *upstream.Store
	// DenyEgress are the --deny-egress-cidrs.
	DenyEgress []netip.Prefix
	// MaxQueue bounds the waiting invocations per function (DefaultMaxQueue
	// when zero).
	MaxQueue int
	// Metrics registers the queue and invocation metrics (none when nil).
	Metrics prometheus.Registerer
}

// Invoker sends invocations to function endpoints. It is safe for
// concurrent use and lives as long as the process.
type Invoker struct {
	store    *upstream.Store
	client   *http.Client
	maxQueue int
	metrics  *metrics

	mu  sync.Mutex
	fns map[string]*slots
}

// Invocation is one call of a function.
type Invocation struct {
	// Target is the function's Service port.
	Target *table.ServiceTarget
	// Concurrency is the route's invocations per endpoint (at least 1).
	Concurrency int
	// Event is the Lambda event. The Invoker owns it until Invoke returns
	// with a result; after an error it may still be read by an abandoned
	// call, so the caller must not reuse it then.
	Event []byte
}

// Result is a function's answer as the RIE sent it.
type Result struct {
	// Status is the RIE's HTTP status (200 for answers and function errors).
	Status int
	// Body is the answer, at most one byte over Lambda's payload limit.
	Body []byte
	// Endpoint is the endpoint that answered; Queued the time spent waiting
	// for a slot.
	Endpoint string
	Queued   time.Duration
}

// New returns an Invoker with no queue.
func New(o Options) *Invoker {
	if o.MaxQueue <= 0 {
		o.MaxQueue = DefaultMaxQueue
	}
	v := &Invoker{
		store:    o.Store,
		maxQueue: o.MaxQueue,
		fns:      map[string]*slots{},
		client: &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         upstream.NewDialer(o.DenyEgress).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}},
	}
	v.metrics = newMetrics(o.Metrics, v.snapshot)
	return v
}

// Invoke sends inv to an endpoint of its function with a free slot, waiting
// for one while ctx allows. Errors: ErrQueueFull; ctx's cause when it ended
// before the answer (the integration timeout); ErrTimedOut; ErrUnreachable
// (wrapped with the reason).
func (v *Invoker) Invoke(ctx context.Context, inv *Invocation) (*Result, error) {
	s := v.slotsOf(inv.Target.Key())
	limit := max(inv.Concurrency, 1)
	var err error
	for range maxAttempts {
		set := v.set(inv.Target)
		var ep string
		var queued time.Duration
		ep, queued, err = s.acquire(ctx, set, limit, v.maxQueue)
		v.metrics.queued(s.key, queued, err)
		if err != nil {
			return nil, err
		}
		var res *Result
		res, err = v.call(ctx, s, set, ep, inv.Event)
		v.metrics.invoked(s.key, err)
		if res != nil {
			res.Queued = queued
		}
		if !isRefused(err) {
			return res, err
		}
		if set != nil {
			set.MarkRefusedAddr(ep) // nothing was invoked: try another endpoint
		}
	}
	return nil, err
}

// callResult is what the background call hands back.
type callResult struct {
	res *Result
	err error
}

// call posts event to ep and releases the slot when the RIE answered. The
// post is not tied to ctx: when ctx ends first, Invoke returns ctx's cause
// and the post goes on (at most HoldLimit) so that the slot stays taken
// while the RIE still runs the invocation.
func (v *Invoker) call(ctx context.Context, s *slots, set *upstream.Set, ep string, event []byte) (*Result, error) {
	done := make(chan callResult, 1)
	go func() {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), HoldLimit)
		defer cancel()
		res, err := v.post(pctx, ep, event)
		s.release(ep, v.setOf(s.key, set))
		done <- callResult{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// post sends one invocation and reads the answer.
func (v *Invoker) post(ctx context.Context, ep string, event []byte) (*Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+ep+InvocationsPath, bytes.NewReader(event))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, ep, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: %s closed the connection during its answer: %w", ErrUnreachable, ep, err)
	}
	if bytes.HasPrefix(body, []byte("Task timed out after")) {
		return nil, fmt.Errorf("%w: %s", ErrTimedOut, strings.TrimSpace(string(body)))
	}
	return &Result{Status: res.StatusCode, Body: body, Endpoint: ep}, nil
}

// EndpointsChanged hands free slots of new endpoints to waiting
// invocations; the dataplane calls it after every endpoint update.
func (v *Invoker) EndpointsChanged() {
	v.mu.Lock()
	all := make([]*slots, 0, len(v.fns))
	for _, s := range v.fns {
		all = append(all, s)
	}
	v.mu.Unlock()
	for _, s := range all {
		set := v.setOf(s.key, nil)
		s.mu.Lock()
		s.dispatch(set)
		s.mu.Unlock()
	}
}

// slotsOf returns the slots of the function with key, created on first use.
func (v *Invoker) slotsOf(key string) *slots {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.fns[key]
	if s == nil {
		s = newSlots(key)
		v.fns[key] = s
	}
	return s
}

func (v *Invoker) set(t *table.ServiceTarget) *upstream.Set { return v.setOf(t.Key(), nil) }

// setOf is the current endpoint set of key (fallback when the store has none).
func (v *Invoker) setOf(key string, fallback *upstream.Set) *upstream.Set {
	if v.store == nil {
		return fallback
	}
	if s := v.store.Get(key); s != nil {
		return s
	}
	return fallback
}

// isRefused reports a connection refused at dial time: nothing was sent.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
