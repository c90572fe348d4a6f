// Package controllers turns what the gateway reads (from the API server or from
// files) into the routing table the dataplane serves, and the conditions the
// status writer publishes.
//
// Both sources (controllers/cluster and controllers/standalone) build a
// translate.Snapshot and hand it to one Pipeline: there is a single path from
// snapshot to dataplane, so both modes behave the same.
package controllers

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/turnpike-io/turnpike/controllers/translate"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Dataplane is what the pipeline drives: the server that serves a table.
// Implementations must be safe to call from another goroutine than the one
// serving requests (the dataplane swaps an atomic pointer).
type Dataplane interface {
	// Swap replaces the served table. The pipeline never passes nil.
	Swap(*table.Table)
	// UpdateEndpoints replaces the ready endpoints of every Service target.
	UpdateEndpoints(table.EndpointSets)
}

// StatusSink receives the conditions computed for every object. Publish must
// not block on I/O: the cluster status writer only stores the latest statuses
// and signals its own worker.
type StatusSink interface {
	Publish([]translate.ObjectStatus)
}

// TranslateFunc is the signature of translate.Translate.
type TranslateFunc func(*translate.Snapshot, translate.Options) translate.Result

// Pipeline applies snapshots to a dataplane and a status sink.
//
// Invariants:
//   - The dataplane never sees a table from a failed translation: when
//     Result.Err is set (or the table is nil) the last good table keeps serving.
//   - Endpoint-only changes (EndpointSlices) never re-translate routes: the
//     fingerprint that decides whether to translate excludes EndpointSlices,
//     and endpoint sets are pushed on their own when they differ.
//   - A snapshot whose fingerprint equals the last translated one is not
//     translated again, so status-only writes (which bump resourceVersion) and
//     relists after an API-server outage cause no swap.
//   - Time is the one input the fingerprint cannot see: the translator
//     reports in Result.NextChange when its output would change on its own
//     (a certificate expires, a grace period ends), and the pipeline keeps one
//     timer for that moment, which translates the latest snapshot again
//     bypassing the fingerprint. Nothing is translated on a blind period.
//
// Concurrency: Apply serialises itself with a mutex, so it is safe to call from
// several goroutines, but the sources call it from one goroutine (their
// reconcile loop) and the ordering of snapshots is theirs to guarantee.
type Pipeline struct {
	opts      translate.Options
	dp        Dataplane
	sink      StatusSink
	log       logr.Logger
	translate TranslateFunc
	metrics   *pipelineMetrics
	// fingerprintOf decides whether a snapshot needs translating; Fingerprint
	// unless WithFingerprint.
	fingerprintOf FingerprintFunc

	// clock gives translations their Options.Now and runs the NextChange
	// timer; the real clock unless WithClock.
	clock clock.WithDelayedExecution

	mu sync.Mutex
	// last is the latest snapshot applied (translated or not): the timer
	// translates it again.
	last *translate.Snapshot
	// timer fires at timerAt (Result.NextChange of the last translation).
	timer           clock.Timer
	timerAt         time.Time
	fingerprint     [sha256.Size]byte
	haveFingerprint bool
	endpoints       table.EndpointSets
	sentEndpoint    bool
	generation      int64
	translations    int64

	readyOnce sync.Once
	ready     chan struct{}
}

// FingerprintFunc hashes what the translation of a snapshot depends on.
// Equal values must mean equal translation input; different values may
// (rarely) come from equal input, which only costs a translation.
type FingerprintFunc func(*translate.Snapshot) ([sha256.Size]byte, error)

// WithFingerprint makes the pipeline fingerprint snapshots with fn instead of
// Fingerprint: a source that knows which objects changed (standalone keeps a
// fingerprint per object) combines stored ones instead of encoding the whole
// snapshot on every change. The pipeline only compares values of one fn.
func WithFingerprint(fn FingerprintFunc) PipelineOption {
	return func(p *Pipeline) { p.fingerprintOf = fn }
}

// SumsFunc returns the per-object fingerprints of a snapshot its source
// assembled (translate.ObjectSums), or nil when it has none for it. The sums
// must cover everything the translation reads of an object, its stored
// status included (grace periods start at a stored condition's transition
// time): the cluster source hashes status with the rest (cluster.Sums), and
// standalone objects have no stored status (validation drops it).
type SumsFunc func(*translate.Snapshot) *translate.ObjectSums

// IncrementalTranslate returns a TranslateFunc that gives what
// translate.Translate gives, translating only the parts of a snapshot whose
// objects changed (translate.Incremental). It translates in full when sums
// has none for the snapshot.
//
// The pipeline calls its TranslateFunc with its mutex held, so the one
// Incremental is never used by two goroutines at once.
func IncrementalTranslate(sums SumsFunc) TranslateFunc {
	in := &translate.Incremental{}
	return func(s *translate.Snapshot, o translate.Options) translate.Result {
		if sm := sums(s); sm != nil {
			return in.Translate(s, sm, o)
		}
		return translate.Translate(s, o)
	}
}

// PipelineOption changes how a Pipeline is built.
type PipelineOption func(*Pipeline)

// WithClock makes the pipeline read the time from c and arm its NextChange
// timer on c (tests pass a fake clock to drive expiry).
func WithClock(c clock.WithDelayedExecution) PipelineOption {
	return func(p *Pipeline) { p.clock = c }
}

// NewPipeline returns a Pipeline that translates with translate.Translate and
// registers its metrics on reg (use controller-runtime's metrics.Registry or the
// registry cmd serves on /metrics). sink may be nil (statuses are then dropped).
func NewPipeline(opts translate.Options, dp Dataplane, sink StatusSink, log logr.Logger, reg prometheus.Registerer, o ...PipelineOption) (*Pipeline, error) {
	return NewPipelineWith(translate.Translate, opts, dp, sink, log, reg, o...)
}

// NewPipelineWith is NewPipeline with another translate function (tests wrap
// the real translator to count or fail calls).
func NewPipelineWith(fn TranslateFunc, opts translate.Options, dp Dataplane, sink StatusSink, log logr.Logger, reg prometheus.Registerer, o ...PipelineOption) (*Pipeline, error) {
	if dp == nil || fn == nil {
		return nil, fmt.Errorf("pipeline: dataplane and translate function are required")
	}
	m, err := newPipelineMetrics(reg)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{
		opts: opts, dp: dp, sink: sink, log: log, translate: fn, metrics: m,
		clock: clock.RealClock{}, ready: make(chan struct{}), fingerprintOf: Fingerprint,
	}
	for _, opt := range o {
		opt(p)
	}
	return p, nil
}

// Ready is closed once the first table has been swapped in. Readiness of the
// process must stay false until then.
func (p *Pipeline) Ready() <-chan struct{} { return p.ready }

// Translations is how many times Apply ran the translator (successful or not).
func (p *Pipeline) Translations() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.translations
}

// Generation is the number of tables swapped in so far.
func (p *Pipeline) Generation() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.generation
}

// Apply pushes snap to the dataplane: endpoint sets when they changed, a new
// table and statuses when anything but EndpointSlices changed. snap must be a
// complete view from synced sources; it is not modified.
func (p *Pipeline) Apply(snap *translate.Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = snap

	// Endpoints first, so routes of a new table find their endpoints in place.
	eps := translate.EndpointSets(snap)
	if !p.sentEndpoint || !endpointSetsEqual(p.endpoints, eps) {
		p.dp.UpdateEndpoints(eps)
		p.endpoints, p.sentEndpoint = eps, true
		p.metrics.endpointUpdates.Inc()
	}

	fp, err := p.fingerprintOf(snap)
	if err != nil {
		p.log.Error(err, "cannot fingerprint snapshot; translating anyway")
	} else if p.haveFingerprint && fp == p.fingerprint {
		p.metrics.skipped.Inc()
		return
	}
	if p.translateLocked(snap) {
		p.fingerprint, p.haveFingerprint = fp, err == nil
	}
}

// translateLocked translates snap at the clock's now, swaps the table in and
// publishes the statuses, then arms the timer for the result's NextChange.
// It reports whether the table was swapped in. p.mu must be held.
func (p *Pipeline) translateLocked(snap *translate.Snapshot) bool {
	start := p.clock.Now()
	opts := p.opts
	opts.Now = start // certificates must be valid now; grace periods end
	res := p.translate(snap, opts)
	p.metrics.duration.Observe(p.clock.Since(start).Seconds())
	p.translations++
	p.arm(res.NextChange)
	if res.Err != nil || res.Table == nil {
		p.metrics.translations.WithLabelValues("error").Inc()
		p.log.Error(res.Err, "translation produced an invalid table; keeping the last good table")
		return false
	}
	p.metrics.translations.WithLabelValues("ok").Inc()

	p.dp.Swap(res.Table)
	p.generation++
	p.metrics.routes.Set(float64(res.Table.RouteCount()))
	p.metrics.generation.Set(float64(p.generation))
	p.metrics.applied.SetToCurrentTime()
	p.readyOnce.Do(func() {
		p.log.Info("first table in place", "routes", res.Table.RouteCount())
		close(p.ready)
	})
	p.log.V(1).Info("table swapped", "generation", p.generation, "routes", res.Table.RouteCount(),
		"duration", p.clock.Since(start))

	if p.sink != nil {
		p.sink.Publish(res.Statuses)
	}
	return true
}

// arm keeps one timer for at (zero: none). A timer already set for at stays.
// p.mu must be held.
func (p *Pipeline) arm(at time.Time) {
	if at.Equal(p.timerAt) && (p.timer != nil || at.IsZero()) {
		return
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.timerAt = at
	if at.IsZero() {
		p.metrics.nextChange.Set(0)
		return
	}
	p.metrics.nextChange.Set(float64(at.UnixNano()) / 1e9)
	// The callback starts a goroutine: a fake clock runs it while holding
	// its own lock, and the translation reads that clock.
	p.timer = p.clock.AfterFunc(max(at.Sub(p.clock.Now()), 0), func() { go p.fire(at) })
}

// fire translates the latest snapshot again because time reached at, a
// moment at which the last translation said its output changes.
func (p *Pipeline) fire(at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !at.Equal(p.timerAt) || p.last == nil {
		return // re-armed meanwhile, or stopped
	}
	p.timer, p.timerAt = nil, time.Time{}
	p.metrics.timed.Inc()
	p.log.V(1).Info("translating again: a time-dependent fact changed", "at", at)
	fp, err := p.fingerprintOf(p.last)
	if p.translateLocked(p.last) {
		p.fingerprint, p.haveFingerprint = fp, err == nil
	}
}

// Stop stops the NextChange timer; Apply arms it again.
func (p *Pipeline) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.arm(time.Time{})
}

// endpointSetsEqual compares two endpoint sets (each list sorted by the
// translator, so order-sensitive comparison is exact).
func endpointSetsEqual(a, b table.EndpointSets) bool {
	return maps.EqualFunc(a, b, func(x, y []table.Endpoint) bool { return slices.Equal(x, y) })
}
