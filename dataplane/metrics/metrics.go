// Package metrics is the dataplane's Prometheus instrumentation: request
// counts and latencies per route key, integration latency, upstream errors by
// cause, ready endpoints per Service port, access log drops, throttle and
// quota refusals by level, and authorizer decisions, errors and cache use.
//
// Invariants:
//   - Every label is bounded by configuration, never by traffic: the route key
//     (not the raw path), the HTTP method folded into a fixed set (OTHER for
//     the rest, since net/http accepts any token as a method), the status
//     class (1xx..5xx), the integration failure causes of dataplane/proxy,
//     the four throttle levels and the two authorizer types.
//   - The request path does not allocate once a route's series exist: Bind
//     resolves, per routing table, every Api, Stage and Route to its series
//     (keyed by pointer), and each series caches its per-method, per-class
//     children in atomic slots filled on first use. Only series that traffic
//     touched are exported, so an idle route costs nothing in Prometheus.
//   - Series of routes that leave the routing table are deleted on the next
//     Bind, so a renamed route key does not leave stale series forever.
//   - This package knows only dataplane/table, never the CRD types.
package metrics

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Label names shared by the request metrics.
const (
	LabelNamespace   = "namespace"
	LabelAPI         = "api"
	LabelStage       = "stage"
	LabelRoute       = "route"
	LabelMethod      = "method"
	LabelStatusClass = "status_class"
	LabelCause       = "cause"
)

// DurationBuckets are the latency buckets in seconds: fine below 100 ms where
// a gateway's own overhead lives, and up to the 29 s default integration
// timeout so timeouts land in a bucket of their own.
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// methods is the fixed set of method label values; anything else is OTHER.
var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace, "OTHER",
}

// classes are the status class label values, indexed by status/100 - 1.
var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// methodIndex folds a request method into an index of methods.
func methodIndex(m string) int {
	for i, v := range methods[:len(methods)-1] {
		if m == v {
			return i
		}
	}
	return len(methods) - 1
}

// classIndex maps a status code to an index of classes. A status outside
// 100..599 (0: the response was aborted before its headers) counts as 5xx:
// the client saw a broken response, which is the gateway's failure.
func classIndex(status int) int {
	if status < 100 || status > 599 {
		return len(classes) - 1
	}
	return status/100 - 1
}

// Metrics holds the dataplane collectors. All methods are safe for concurrent
// use; a nil *Metrics is valid and records nothing, so callers need no checks.
type Metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	integration    *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	endpoints      *endpointsCollector
	limits         limitCounters
	responseCache  *responseCacheCollector
	ws             *WebSocketMetrics

	bound atomic.Pointer[binding]

	mu     sync.Mutex // guards series, strays and every series' refs
	series map[key]*series
	// strays are series created for requests of replaced tables (seriesOf)
	// while no binding held them; the next Bind deletes those still unheld.
	strays []*series
}

// New creates the collectors and registers them on reg. accessLogDropped,
// when not nil, is read at scrape time for turnpike_access_log_dropped_total.
func New(reg prometheus.Registerer, accessLogDropped func() uint64) *Metrics {
	route := []string{LabelNamespace, LabelAPI, LabelStage, LabelRoute}
	req := append(route[:len(route):len(route)], LabelMethod, LabelStatusClass)
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "turnpike_requests_total",
			Help: "Requests answered, by Api, stage, route key, method and status class (AWS Count, 4XXError, 5XXError).",
		}, req),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "turnpike_request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its response (AWS Latency).",
			Buckets: DurationBuckets,
		}, req),
		integration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "turnpike_integration_duration_seconds",
			Help:    "Time from the first integration attempt to the backend's response headers or failure (AWS IntegrationLatency).",
			Buckets: DurationBuckets,
		}, route),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "turnpike_upstream_errors_total",
			Help: "Integration calls that failed before a backend response, by cause (connection refused, timeout, egress denied, ...).",
		}, append(route[:len(route):len(route)], LabelCause)),
		endpoints:     newEndpointsCollector(),
		responseCache: newResponseCacheCollector(),
		series:        map[key]*series{},
	}
	reg.MustRegister(m.requests, m.duration, m.integration, m.upstreamErrors, m.endpoints, m.responseCache)
	var limits []prometheus.Collector
	m.limits, limits = newLimitCounters()
	reg.MustRegister(limits...)
	m.ws = newWebSocketMetrics(reg)
	if accessLogDropped != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "turnpike_access_log_dropped_total",
			Help: "Access log lines dropped because the log writer was too slow (requests are never blocked by it).",
		}, func() float64 { return float64(accessLogDropped()) }))
	}
	m.bound.Store(&binding{})
	return m
}

// Request is what the dataplane knows about one finished request. Api, Stage
// and Route are nil as far as the request did not resolve them; they must
// belong to Table.
type Request struct {
	Table  *table.Table
	Api    *table.Api
	Stage  *table.Stage
	Route  *table.Route
	Method string
	Status int
	// Duration is the whole request's time.
	Duration time.Duration
	// Integrated is set when an integration was called (not for MOCK routes or
	// requests answered by the gateway); IntegrationLatency is then observed.
	Integrated         bool
	IntegrationLatency time.Duration
	// Cause is the integration failure cause ("" on success).
	Cause string
}

// ObserveRequest records one finished request.
func (m *Metrics) ObserveRequest(r *Request) {
	if m == nil {
		return
	}
	s := m.seriesOf(r)
	c := s.cell(m, methodIndex(r.Method), classIndex(r.Status))
	c.count.Inc()
	c.duration.Observe(r.Duration.Seconds())
	if r.Integrated {
		s.integrationObserver(m).Observe(r.IntegrationLatency.Seconds())
		if r.Cause != "" {
			m.upstreamErrors.WithLabelValues(s.labels.ns, s.labels.api, s.labels.stage, s.labels.route, r.Cause).Inc()
		}
	}
}

// seriesOf finds the request's series through the binding of its table, or,
// for a request that started on a table that has since been replaced (or
// whose route is not one of its stage's, like an implicit WebSocket route),
// by its labels.
func (m *Metrics) seriesOf(r *Request) *series {
	b := m.bound.Load()
	if b.tbl == r.Table && b.tbl != nil {
		if r.Api == nil && r.Stage == nil && r.Route == nil {
			return b.none
		}
		if ab := b.apis[r.Api]; ab != nil {
			if s := ab.lookup(r.Stage, r.Route); s != nil {
				return s
			}
		}
	}
	k := keyOf(r.Api, r.Stage, r.Route)
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.seriesLocked(k)
	if s.refs == 0 && !s.stray {
		s.stray = true
		m.strays = append(m.strays, s) // the next Bind deletes it unless bound
	}
	return s
}

// UpdateEndpoints records the ready endpoint counts of every Service port for
// turnpike_upstream_endpoints_ready (sets replaces the previous sets whole).
func (m *Metrics) UpdateEndpoints(sets table.EndpointSets) {
	if m == nil {
		return
	}
	m.endpoints.update(sets)
}

// key is the label identity of a series; empty parts were not resolved.
type key struct{ ns, api, stage, route string }

func keyOf(a *table.Api, s *table.Stage, r *table.Route) key {
	var k key
	if a != nil {
		k.ns, k.api = a.Namespace, a.Name
	}
	if s != nil {
		k.stage = s.Name
	}
	if r != nil {
		k.route = r.Key
	}
	return k
}

// seriesLocked returns the series of k, creating it. m.mu must be held.
func (m *Metrics) seriesLocked(k key) *series {
	s := m.series[k]
	if s == nil {
		s = &series{labels: k}
		m.series[k] = s
	}
	return s
}

// holdLocked is seriesLocked for a label set of a binding: it counts the
// binding's reference. m.mu must be held.
func (m *Metrics) holdLocked(k key) *series {
	s := m.seriesLocked(k)
	s.refs++
	return s
}

// releaseLocked drops a binding's reference to s and deletes the series
// when it was the last. m.mu must be held.
func (m *Metrics) releaseLocked(s *series) {
	if s.refs--; s.refs == 0 {
		m.deleteLocked(s)
	}
}

// deleteLocked removes s and its exported children. m.mu must be held.
func (m *Metrics) deleteLocked(s *series) {
	s.delete(m)
	delete(m.series, s.labels)
}

// series is the set of children of one (namespace, api, stage, route).
type series struct {
	labels key
	// refs counts the references of the current binding's Api bindings
	// (m.mu guards it); a series with none is deleted.
	refs int
	// stray: the series is in Metrics.strays (m.mu guards it).
	stray bool
	cells [len(methods)][len(classes)]atomic.Pointer[cell]
	integ atomic.Pointer[observer]
}

type cell struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

type observer struct{ prometheus.Observer }

// cell returns the children for a method and class, resolving them on first
// use. Two goroutines may resolve the same cell at once: WithLabelValues
// returns the same child to both, so either store is correct.
func (s *series) cell(m *Metrics, mi, ci int) *cell {
	if c := s.cells[mi][ci].Load(); c != nil {
		return c
	}
	l := s.labels
	c := &cell{
		count:    m.requests.WithLabelValues(l.ns, l.api, l.stage, l.route, methods[mi], classes[ci]),
		duration: m.duration.WithLabelValues(l.ns, l.api, l.stage, l.route, methods[mi], classes[ci]),
	}
	s.cells[mi][ci].Store(c)
	return c
}

func (s *series) integrationObserver(m *Metrics) prometheus.Observer {
	if o := s.integ.Load(); o != nil {
		return o.Observer
	}
	l := s.labels
	o := &observer{m.integration.WithLabelValues(l.ns, l.api, l.stage, l.route)}
	s.integ.Store(o)
	return o.Observer
}

// delete removes every exported child of the series.
func (s *series) delete(m *Metrics) {
	l := prometheus.Labels{LabelNamespace: s.labels.ns, LabelAPI: s.labels.api, LabelStage: s.labels.stage, LabelRoute: s.labels.route}
	m.requests.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.integration.DeletePartialMatch(l)
	m.upstreamErrors.DeletePartialMatch(l)
}

// binding resolves the objects of one table to their series, one Api
// binding per Api.
type binding struct {
	tbl  *table.Table
	apis map[*table.Api]*apiBinding
	none *series
}

// apiBinding resolves one *table.Api, its Stages and Routes to their
// series. It depends only on the Api (a table never changes after it is
// built), so the binding of a table that shares the Api with the previous
// one (table.Merge shares unchanged parts) shares the Api binding too.
type apiBinding struct {
	series *series
	stages map[*table.Stage]*series
	routes map[*table.Route]*series
}

// lookup returns the series of a request that resolved the Api and, as far
// as set, st and r; nil when st or r is not the Api's.
func (ab *apiBinding) lookup(st *table.Stage, r *table.Route) *series {
	switch {
	case r != nil:
		return ab.routes[r]
	case st != nil:
		return ab.stages[st]
	default:
		return ab.series
	}
}

// bindApiLocked holds the series of a, its stages and routes. m.mu must be
// held.
func (m *Metrics) bindApiLocked(a *table.Api) *apiBinding {
	ab := &apiBinding{series: m.holdLocked(keyOf(a, nil, nil)), stages: make(map[*table.Stage]*series, len(a.Stages))}
	n := 0
	for _, st := range a.Stages {
		n += len(st.Routes)
	}
	ab.routes = make(map[*table.Route]*series, n)
	for _, st := range a.Stages {
		ab.stages[st] = m.holdLocked(keyOf(a, st, nil))
		for _, r := range st.Routes {
			ab.routes[r] = m.holdLocked(keyOf(a, st, r))
		}
	}
	return ab
}

// releaseApiLocked drops the references of an Api binding. m.mu must be held.
func (m *Metrics) releaseApiLocked(ab *apiBinding) {
	m.releaseLocked(ab.series)
	for _, s := range ab.stages {
		m.releaseLocked(s)
	}
	for _, s := range ab.routes {
		m.releaseLocked(s)
	}
}

// Bind prepares the series of every Api, Stage and Route of t (call it when t
// is swapped in, before requests run on it) and deletes the series of label
// sets t no longer has. Series keep their children across tables, so a swap
// that keeps a route keeps its counters.
//
// It costs what changed, not the table: an Api that the previous table held
// too (the same *table.Api) keeps its Api binding; only new Apis are bound
// and only the Api bindings t dropped are released. A series lives while an
// Api binding of the current table holds it (refs), so a label set that
// moves from a dropped Api to a new one (an edited Api: a new pointer, the
// same labels) keeps its series and counts.
func (m *Metrics) Bind(t *table.Table) {
	if m == nil || t == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := m.bound.Load()
	b := &binding{tbl: t, apis: make(map[*table.Api]*apiBinding, len(t.Apis)), none: prev.none}
	if b.none == nil {
		b.none = m.holdLocked(key{}) // held for good
	}
	for _, a := range t.Apis {
		if b.apis[a] != nil {
			continue
		}
		if ab := prev.apis[a]; ab != nil {
			b.apis[a] = ab
			continue
		}
		b.apis[a] = m.bindApiLocked(a)
	}
	for a, ab := range prev.apis {
		if b.apis[a] == nil {
			m.releaseApiLocked(ab)
		}
	}
	for _, s := range m.strays {
		s.stray = false
		if s.refs == 0 && m.series[s.labels] == s {
			m.deleteLocked(s)
		}
	}
	m.strays = nil
	m.bound.Store(b)
}
