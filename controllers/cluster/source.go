package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
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
// Every event of every watched kind pokes one aggregate trigger (the
// equivalent of a single reconcile key); one goroutine coalesces the pokes
// (HoldOff after the last event, at most MaxDelay after the first), lists all
// objects from the caches and calls Apply. Apply is therefore never called
// concurrently by a Source.
type Source struct {
	opts     Options
	log      logr.Logger
	applier  Applier
	mgr      manager.Manager
	secrets  *secretInformers
	trigger  chan struct{}
	synced   atomic.Bool
	builds   atomic.Int64
	watchers []client.Object
}

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

// NewSource builds the manager (no leader election, no metrics or health
// servers of its own: cmd serves those), registers the informers and their
// event handlers, and the filtered Secret informers. Nothing runs until
// Start.
func NewSource(cfg *rest.Config, opts Options, applier Applier, log logr.Logger) (*Source, error) {
	opts = opts.withDefaults()
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	cacheOpts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if opts.Namespace != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{opts.Namespace: {}}
	}
	mgr, err := manager.New(cfg, manager.Options{
		Scheme:                 scheme,
		Logger:                 log,
		Cache:                  cacheOpts,
		LeaderElection:         false,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("cluster source: manager: %w", err)
	}
	s := &Source{
		opts: opts, log: log, applier: applier, mgr: mgr,
		trigger: make(chan struct{}, 1),
		watchers: []client.Object{
			&v1alpha1.Api{}, &v1alpha1.Route{}, &v1alpha1.Stage{}, &v1alpha1.Authorizer{},
			&v1alpha1.UsagePlan{}, &corev1.Service{}, &discoveryv1.EndpointSlice{},
		},
	}
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.poke() },
		UpdateFunc: func(any, any) { s.poke() },
		DeleteFunc: func(any) { s.poke() },
	}
	for _, obj := range s.watchers {
		inf, err := mgr.GetCache().GetInformer(context.Background(), obj)
		if err != nil {
			return nil, fmt.Errorf("cluster source: informer for %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("cluster source: handler for %T: %w", obj, err)
		}
	}
	if s.secrets, err = newSecretInformers(cfg, opts.Namespace, handler); err != nil {
		return nil, err
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

// Start runs the informers and the snapshot loop until ctx is done. It returns
// nil after a clean shutdown.
func (s *Source) Start(ctx context.Context) error { return s.mgr.Start(ctx) }

// HasSynced reports whether every informer has synced at least once. It stays
// true afterwards (caches are kept through API-server outages).
func (s *Source) HasSynced() bool { return s.synced.Load() }

// Builds is the number of snapshots handed to the Applier so far.
func (s *Source) Builds() int64 { return s.builds.Load() }

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

// Start waits for all caches, then builds a snapshot after each burst of events.
func (l *loop) Start(ctx context.Context) error {
	s := l.s
	// The Secret informers get their own context: shutdown waits for their
	// goroutines, which only end once that context is cancelled.
	ictx, cancel := context.WithCancel(ctx)
	s.secrets.start(ictx)
	defer func() { cancel(); s.secrets.shutdown() }()
	if !s.mgr.GetCache().WaitForCacheSync(ctx) || !s.secrets.waitForSync(ctx) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("cluster source: informer caches did not sync")
	}
	s.synced.Store(true)
	s.log.Info("informer caches synced", "namespace", s.opts.Namespace)
	s.poke() // the first table, even with no objects at all
	s.run(ctx)
	return nil
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

// build lists everything from the caches and applies the snapshot. It refuses
// to run before the caches have synced.
func (s *Source) build(ctx context.Context) error {
	if !s.synced.Load() || !s.secrets.hasSynced() {
		return errors.New("informer caches have not synced")
	}
	snap, err := listSnapshot(ctx, s.mgr.GetCache(), s.secrets, s.opts.Namespace)
	if err != nil {
		return err
	}
	s.applier.Apply(snap)
	s.builds.Add(1)
	return nil
}
