// Package dataplane serves requests from the current routing table.
//
// Invariants:
//   - The table is swapped atomically; a request loads it once and finishes on
//     that table, so a swap never mixes two configurations in one request.
//   - Every request runs the same fixed chain of steps (handler.go: one file
//     per step, step_*.go; one per integration kind, integration_*.go) and
//     gets a request id and exactly one access log entry, whatever step
//     answers it.
//   - One request has one $context (context.go), which every consumer reads.
//   - Gateway errors have the AWS-compatible JSON bodies of api.md; the hint
//     that explains them always reaches the access log.
//   - This package knows only dataplane/table, never the CRD types.
package dataplane

import (
	"io"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnpike-io/turnpike/dataplane/accesslog"
	"github.com/turnpike-io/turnpike/dataplane/admin"
	"github.com/turnpike-io/turnpike/dataplane/cache"
	"github.com/turnpike-io/turnpike/dataplane/function"
	"github.com/turnpike-io/turnpike/dataplane/metrics"
	"github.com/turnpike-io/turnpike/dataplane/proxy"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
	"github.com/turnpike-io/turnpike/dataplane/tlsconfig"
	"github.com/turnpike-io/turnpike/dataplane/tracing"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// Options configure a Server. Zero values get the defaults of api.md.
type Options struct {
	// HTTPAddr is where Run listens for traffic when not handed a listener.
	HTTPAddr string
	// HTTPSAddr is where Run listens for HTTPS traffic to custom domains when
	// not handed a listener; empty means no HTTPS listener (the flag's
	// default is DefaultHTTPSAddr).
	HTTPSAddr string
	// HealthAddr is where Run serves /healthz and /readyz when not handed a
	// listener; empty means no health listener.
	HealthAddr string
	// ShutdownDelay is how long listeners keep serving after readiness turns
	// false, because endpoint removal lags readiness.
	ShutdownDelay time.Duration
	// DrainTimeout bounds how long in-flight requests may take to finish.
	DrainTimeout time.Duration
	Logger       logr.Logger
	// AccessLog receives one JSON line per request; nil disables the log.
	AccessLog io.Writer
	// DenyEgress are the --deny-egress-cidrs for the built-in forwarder.
	DenyEgress []netip.Prefix
	// TrustedProxies are the --trusted-proxies for the built-in forwarder.
	TrustedProxies []netip.Prefix
	// Forwarder serves SERVICE and HTTP_PROXY integrations. Nil means the
	// built-in proxy over an upstream store that UpdateEndpoints feeds.
	Forwarder Forwarder
	// Endpoints receives UpdateEndpoints when Forwarder is set (nil: dropped).
	Endpoints EndpointUpdater
	// Limiter holds the stage, route and plan buckets and the quotas
	// (dataplane/throttle); nil means a per-process throttle.Local.
	Limiter throttle.Limiter
	// GatewayThrottle is the gateway-wide bucket (--rate-limit,
	// --burst-limit), always per replica; zero means 10000/5000.
	GatewayThrottle table.Throttle
	// AllowHTTPJWKS is --allow-http-jwks: JWT authorizers may fetch keys
	// over http:// from loopback hosts (tests, local development).
	AllowHTTPJWKS bool
	// Limits bound what clients may hold on the HTTP and HTTPS listeners
	// (run.go); zero fields get the defaults.
	Limits Limits
	// FunctionQueue bounds the invocations waiting per function
	// (--function-queue-length); zero means function.DefaultMaxQueue.
	FunctionQueue int
	// Metrics, when set, receives the request metrics (dataplane/metrics);
	// nil records none.
	Metrics prometheus.Registerer
	// Tracing, when set, records a span per request, authorizer call and
	// integration call (dataplane/tracing.FromEnv); nil records none.
	Tracing *tracing.Tracer
	// Warnings, when set, lists problems that do not stop this replica from
	// serving (readiness stays true) but that an operator must see, such as
	// a status writer that cannot write; /readyz prints them after "ok".
	Warnings func() []string
	// CacheClock decides when response cache entries expire; nil is the
	// real clock (tests inject one).
	CacheClock cache.Clock
	// WebSocket configures the connections of WEBSOCKET Apis: limits, the
	// address peers reach this replica at, and the peers (Dispatcher,
	// Observer and Logger are the server's own).
	WebSocket websocket.Options
}

// Defaults of the Options (api.md flags).
const (
	DefaultHTTPAddr      = ":8080"
	DefaultHTTPSAddr     = ":8443"
	DefaultShutdownDelay = 5 * time.Second
	DefaultDrainTimeout  = 30 * time.Second
)

// Server is the dataplane: the current table and the request chain over it.
type Server struct {
	opts     Options
	log      logr.Logger
	table    atomic.Pointer[table.Table]
	swapped  atomic.Bool
	stopping atomic.Bool
	fwd      Forwarder
	access   *accesslog.Logger
	pool     sync.Pool
	limiter  throttle.Limiter
	gateway  throttle.Bucket
	metrics  *metrics.Metrics
	auth     authorizers
	// functions invokes FUNCTION integrations and Lambda authorizers; its
	// queues and slots outlive table swaps (dataplane/function).
	functions *function.Invoker
	tracing   *tracing.Tracer
	// cache holds the stages' response caches across table swaps.
	cache *cache.Store
	// tls picks each HTTPS handshake's configuration from the current table.
	tls *tlsconfig.Selector
	// ws holds the open WebSocket connections (dataplane/websocket).
	ws *websocket.Hub
}

// NewServer returns a Server that is not ready until the first Swap. If
// Options.AccessLog is set, call Close (or Run, which does) to flush it.
func NewServer(o Options) *Server {
	if o.HTTPAddr == "" {
		o.HTTPAddr = DefaultHTTPAddr
	}
	if o.ShutdownDelay < 0 {
		o.ShutdownDelay = 0
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Forwarder == nil {
		store := upstream.NewStore()
		o.Endpoints = store
		o.Forwarder = proxy.New(proxy.Options{
			Store: store, DenyEgress: o.DenyEgress, TrustedProxies: o.TrustedProxies, Logger: o.Logger,
		})
	}
	s := &Server{opts: o, log: o.Logger, fwd: o.Forwarder, tracing: o.Tracing}
	s.limiter, s.gateway = newLimiter(o)
	store, _ := o.Endpoints.(*upstream.Store)
	s.functions = function.New(function.Options{Store: store, DenyEgress: o.DenyEgress, MaxQueue: o.FunctionQueue, Metrics: o.Metrics})
	s.auth = newAuthorizers(o, store, s.functions)
	s.tls = tlsconfig.New(s.table.Load, nil)
	s.cache = cache.NewStore(cache.Options{Clock: o.CacheClock})
	if o.AccessLog != nil {
		s.access = accesslog.New(o.AccessLog, 0)
	}
	if o.Metrics != nil {
		s.metrics = metrics.New(o.Metrics, s.AccessLogDropped)
		s.metrics.SetAuthorizerCache(func() (hits, misses uint64) {
			hits, misses, _ = s.auth.request.Stats()
			return hits, misses
		})
		s.metrics.SetResponseCache(s.cacheStats)
	}
	wo := o.WebSocket
	wo.Dispatcher, wo.Logger = s, o.Logger.WithName("websocket")
	if s.metrics != nil {
		wo.Observer = s.metrics.WebSocket()
	}
	s.ws = websocket.NewHub(wo)
	return s
}

// Swap makes t the table for every request that starts from now on; requests
// already running finish on their table. The first non-nil swap makes the
// server ready. A nil t is ignored: an empty table is the way to serve nothing.
func (s *Server) Swap(t *table.Table) {
	if t == nil {
		return
	}
	s.metrics.Bind(t) // before the swap: requests on t find their series bound
	s.cache.Sync(t)   // likewise their stages' response caches (flushed on a new flush token)
	prev := s.table.Swap(t)
	s.swapped.Store(true)
	s.ws.Swapped(prev, t) // connections of Apis or stages t no longer serves close
}

// Table returns the table currently served (nil before the first Swap).
func (s *Server) Table() *table.Table { return s.table.Load() }

// UpdateEndpoints hands new endpoint sets to the upstream store without
// touching the routing table.
func (s *Server) UpdateEndpoints(sets table.EndpointSets) {
	if s.opts.Endpoints != nil {
		s.opts.Endpoints.Update(sets)
	}
	s.functions.EndpointsChanged() // queued invocations may now find a slot
	s.metrics.UpdateEndpoints(sets)
}

// Ready reports whether the server has a table and is not shutting down.
func (s *Server) Ready() bool { ok, _ := s.readiness(); return ok }

// readiness is Ready with the reason when not ready (for /readyz).
func (s *Server) readiness() (bool, string) {
	switch {
	case s.stopping.Load():
		return false, "shutting down"
	case !s.swapped.Load():
		return false, "no routing table yet"
	}
	return true, ""
}

// HealthHandler serves /healthz and /readyz (dataplane/admin); Run serves
// it on the health listener.
func (s *Server) HealthHandler() http.Handler {
	return admin.HealthHandler(s.readiness, s.opts.Warnings)
}

// AdminHandler serves the admin listener's endpoints (dataplane/admin): the
// table in effect, usage-plan usage, response cache flushes and the
// profiler.
func (s *Server) AdminHandler() http.Handler {
	return admin.Handler(admin.Options{Table: s.table.Load, Limiter: s.limiter, FlushCache: s.cache.Flush})
}

// cacheStats reports the response caches' counters (for metrics).
func (s *Server) cacheStats() []metrics.ResponseCacheStats {
	stats := s.cache.Stats()
	out := make([]metrics.ResponseCacheStats, len(stats))
	for i, c := range stats {
		out[i] = metrics.ResponseCacheStats{
			Namespace: c.Namespace, Api: c.Api, Stage: c.Stage,
			Hits: c.Hits, Misses: c.Misses, Entries: c.Entries, Bytes: c.Bytes,
		}
	}
	return out
}

// Handler returns the request handler (the server itself).
func (s *Server) Handler() http.Handler { return s }

// AccessLogDropped is the number of access log entries dropped because the
// writer was too slow (for metrics).
func (s *Server) AccessLogDropped() uint64 { return s.access.Dropped() }

// Close flushes the access log and stops the response caches. Requests
// served after Close are not logged or cached.
func (s *Server) Close() {
	s.access.Close()
	s.cache.Close()
}

// WebSocketConnections is the number of open WebSocket connections.
func (s *Server) WebSocketConnections() int { return s.ws.Open() }
