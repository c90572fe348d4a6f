package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// Applier consumes complete snapshots; *controllers.Pipeline implements it.
type Applier interface {
	Apply(*translate.Snapshot)
}

// Source watches the API server and applies a snapshot after every burst of
// changes. Create it with NewSource, run it with Start.
//
// Every change of every watched resource pokes one aggregate trigger (the
// equivalent of a single reconcile key); one goroutine coalesces the pokes
// (HoldOff after the last event, at most MaxDelay after the first), lists all
// objects from the watches' stores and calls Apply. Apply is therefore never
// called concurrently by a Source.
//
// The watches are client-go Reflectors with a short reconnect backoff
// (watch.go), not informers: after an API-server outage an edit is live
// within seconds of the API server being back. watchHealth logs lost and
// restored watches once per outage and exports their state as metrics.
type Source struct {
	opts    Options
	log     logr.Logger
	applier Applier
	mgr     manager.Manager
	watches []*kindWatch
	byName  map[string]*kindWatch
	health  *watchHealth
	trigger chan struct{}
	synced  atomic.Bool
	builds  atomic.Int64
	// later is set while a pokeLater timer is pending.
	later atomic.Bool
}

// StatusHoldOff is how long a status-only change of a Turnpike object waits
// before it is listed into a snapshot (pokeLater).
const StatusHoldOff = time.Second

// NewScheme returns a scheme with the core Kubernetes and Turnpike kinds.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// NewSource builds the manager (no leader election, no cache, no metrics or
// health servers of its own: cmd serves those; it only runs runnables) and
// the watches, and registers the watch metrics on reg (nil: none). Nothing
// runs until Start.
func NewSource(cfg *rest.Config, opts Options, applier Applier, log logr.Logger, reg prometheus.Registerer) (*Source, error) {
	opts = opts.withDefaults()
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	mgr, err := manager.New(cfg, manager.Options{
		Scheme:                 scheme,
		Logger:                 log,
		LeaderElection:         false,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("cluster source: manager: %w", err)
	}
	// Watches retry on their own schedule; client-side rate limiting would
	// only delay a relist after an outage.
	wcfg := rest.CopyConfig(cfg)
	wcfg.QPS, wcfg.Burst = -1, 0
	specs, err := watchSpecs(wcfg, scheme)
	if err != nil {
		return nil, err
	}
	s := &Source{opts: opts, log: log, applier: applier, mgr: mgr, trigger: make(chan struct{}, 1), byName: map[string]*kindWatch{}}
	names := make([]string, len(specs))
	for i, sp := range specs {
		names[i] = sp.resource
	}
	s.health = newWatchHealth(log, names)
	for _, sp := range specs {
		w := newKindWatch(sp, opts.Namespace, s.poke, s.pokeLater, s.health)
		s.watches = append(s.watches, w)
		s.byName[sp.resource] = w
	}
	if reg != nil {
		if err := reg.Register(newWatchCollector(s.health)); err != nil {
			return nil, fmt.Errorf("cluster source: metrics: %w", err)
		}
	}
	if err := mgr.Add(&loop{s}); err != nil {
		return nil, err
	}
	return s, nil
}

// Manager is the underlying controller-runtime manager, for cmd to add
// runnables that must share its lifecycle (never leader-elected ones: the
// manager has no leader election).
func (s *Source) Manager() manager.Manager { return s.mgr }

// Start runs the watches and the snapshot loop until ctx is done. It returns
// nil after a clean shutdown.
func (s *Source) Start(ctx context.Context) error { return s.mgr.Start(ctx) }

// HasSynced reports whether every watch has listed its resource at least
// once. It stays true afterwards (stores are kept through API-server outages).
func (s *Source) HasSynced() bool { return s.synced.Load() }

// Cached returns the watches' stored copy of the object of a Turnpike kind
// ("Api", "Route", ...), or nil when it has none. The object is shared with
// the store and the snapshots: never modify it. StatusWriter.UseCache takes it.
func (s *Source) Cached(kind, namespace, name string) client.Object {
	w := s.byName[resourceOfKind[kind]]
	if w == nil {
		return nil
	}
	obj, ok, err := w.store.GetByKey(toolscache.NewObjectName(namespace, name).String())
	if err != nil || !ok {
		return nil
	}
	co, _ := obj.(client.Object)
	return co
}

// OnUpdate makes the watches of the Turnpike kinds call fn with the kind,
// namespace and name of every object they update (StatusWriter.Recheck).
// Call it before Start.
func (s *Source) OnUpdate(fn func(kind, namespace, name string)) {
	for kind, resource := range resourceOfKind {
		w := s.byName[resource]
		if w == nil || w.turnpikeStore == nil {
			continue
		}
		w.turnpikeStore.updated = func(obj any) {
			if m, err := meta.Accessor(obj); err == nil {
				fn(kind, m.GetNamespace(), m.GetName())
			}
		}
	}
}

// resourceOfKind names the watch of each kind the status writer writes.
var resourceOfKind = map[string]string{
	"Api": "apis.turnpike.io", "Route": "routes.turnpike.io", "Stage": "stages.turnpike.io",
	"Authorizer": "authorizers.turnpike.io", "UsagePlan": "usageplans.turnpike.io",
}

// Builds is the number of snapshots handed to the Applier so far.
func (s *Source) Builds() int64 { return s.builds.Load() }

// pokeLater pokes within StatusHoldOff, once for all the calls meanwhile.
// Status-only changes use it: they never change the table (the fingerprint
// leaves status out), the translation only needs them eventually (grace
// periods read stored conditions), and the status writer's own writes (50 a
// second during a first pass over a large cluster) would otherwise keep
// the coalescing window open until MaxDelay for every real edit.
func (s *Source) pokeLater() {
	if s.later.CompareAndSwap(false, true) {
		time.AfterFunc(StatusHoldOff, func() {
			s.later.Store(false)
			s.poke()
		})
	}
}

// poke marks the aggregate key dirty; it never blocks (a pending poke already
// covers this event, since the snapshot is listed after the poke is taken).
func (s *Source) poke() {
	select {
	case s.trigger <- struct{}{}:
	default:
	}
}

// loop is the manager runnable that runs the snapshot loop on every replica.
type loop struct{ s *Source }

// NeedLeaderElection is false: every replica serves traffic, so every replica
// translates.
func (l *loop) NeedLeaderElection() bool { return false }

// Start runs the watches, waits until every one has listed, then builds a
// snapshot after each burst of events.
func (l *loop) Start(ctx context.Context) error {
	s := l.s
	var wg sync.WaitGroup
	for _, w := range s.watches {
		wg.Go(func() { w.run(ctx) })
	}
	defer wg.Wait()
	if !s.waitForSync(ctx) {
		return nil // ctx is done
	}
	s.synced.Store(true)
	s.log.Info("every watch has listed its resource", "namespace", s.opts.Namespace)
	s.poke() // the first table, even with no objects at all
	s.run(ctx)
	return nil
}

// waitForSync polls until every watch has listed once, or ctx is done.
func (s *Source) waitForSync(ctx context.Context) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !s.allSynced() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

func (s *Source) allSynced() bool {
	for _, w := range s.watches {
		if !w.synced.Load() {
			return false
		}
	}
	return true
}

// run coalesces pokes and builds snapshots until ctx is done. A failed build is
// retried with exponential backoff (100 ms to 10 s); the last table keeps
// serving meanwhile.
func (s *Source) run(ctx context.Context) {
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.trigger:
		}
		if !s.coalesce(ctx) {
			return
		}
		if err := s.build(ctx); err != nil {
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			s.log.Error(err, "cannot build snapshot; keeping the current table", "retryIn", backoff)
			time.AfterFunc(backoff, s.poke)
			continue
		}
		backoff = 0
	}
}

// coalesce waits until no event arrived for HoldOff, or MaxDelay passed since
// the first one. It returns false when ctx is done.
func (s *Source) coalesce(ctx context.Context) bool {
	deadline := time.Now().Add(s.opts.MaxDelay)
	timer := time.NewTimer(s.opts.HoldOff)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case <-s.trigger:
			timer.Reset(min(s.opts.HoldOff, time.Until(deadline)))
		}
	}
}

// build lists everything from the stores and applies the snapshot. It
// refuses to run before every watch has listed.
func (s *Source) build(context.Context) error {
	if !s.synced.Load() {
		return errors.New("the watches have not listed every resource yet")
	}
	snap := s.snapshot()
	if s.opts.Sums != nil {
		if err := s.opts.Sums.record(snap); err != nil {
			// The pipeline then fingerprints and translates in full.
			s.log.Error(err, "cannot fingerprint the snapshot's objects; translating it in full")
		}
	}
	s.applier.Apply(snap)
	s.builds.Add(1)
	return nil
}
