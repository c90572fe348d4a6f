package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers"
)

// reconnectBackoff is how every watch retries after the API server failed
// it: 100 ms, doubling up to 1 s, each delay stretched by up to half.
//
// client-go's informers back off from 0.8 s to 30 s (so 30 to 60 s between
// attempts) and reset only two minutes after the backoff started; an edit
// made after the API server came back then waited up to a minute (issue
// 19). A gateway has a handful of replicas, each with ten watches, so a
// retry per second per watch is a light load even on an API server that is
// struggling, and it keeps "edits are live within 5 s of the API server
// being back" true for outages of any length, repeated or not.
var reconnectBackoff = wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 8, Cap: time.Second}

// kindWatch keeps the objects of one resource in a store, through a
// client-go Reflector with reconnectBackoff. Informers would do the same
// with a fixed backoff that cannot be changed (client-go v0.37).
//
// Invariants:
//   - The store holds transformed objects only (managedFields dropped, API
//     keys hashed): the transform runs before an object is stored.
//   - synced turns true at the first complete list and stays true: the store
//     keeps its objects through outages, and relists replace them at once.
//   - Every store change pokes the source (one aggregate trigger).
type kindWatch struct {
	resource  string // "routes.turnpike.io": logs and metric labels
	store     toolscache.Store
	reflector *toolscache.Reflector
	synced    atomic.Bool
	// changes records the objects changed since the source last listed the
	// store; list is the sorted slice it listed last ([]T of the watched
	// type), reused while nothing changed and patched otherwise (listKind).
	changes changeLog
	list    any
	// turnpikeStore is the pokingStore of a Turnpike kind (nil for the others):
	// Source.OnUpdate sets its updated hook.
	turnpikeStore *pokingStore
}

// watchSpec says how to watch one resource.
type watchSpec struct {
	resource  string // plural.group, for logs and metrics
	client    rest.Interface
	plural    string
	object    runtime.Object
	selector  string // field selector ("" for none)
	transform toolscache.TransformFunc
}

// watchSpecs are the resources the gateway reads: the five kinds, Services,
// EndpointSlices, and Secrets of the two types it uses (one watch per type:
// a field selector cannot OR two values).
func watchSpecs(cfg *rest.Config, scheme *runtime.Scheme) ([]watchSpec, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster source: clientset: %w", err)
	}
	crd := rest.CopyConfig(cfg)
	crd.GroupVersion = &v1alpha1.GroupVersion
	crd.APIPath = "/apis"
	crd.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	tp, err := rest.RESTClientFor(crd)
	if err != nil {
		return nil, fmt.Errorf("cluster source: client for %s: %w", v1alpha1.GroupVersion, err)
	}
	strip := stripManagedFields
	secretsOf := func(t corev1.SecretType) watchSpec {
		return watchSpec{resource: "secrets/" + string(t), client: cs.CoreV1().RESTClient(), plural: "secrets", object: &corev1.Secret{},
			selector: fields.OneTermEqualSelector("type", string(t)).String(), transform: controllers.TransformSecret}
	}
	return []watchSpec{
		{resource: "apis.turnpike.io", client: tp, plural: "apis", object: &v1alpha1.Api{}, transform: strip},
		{resource: "routes.turnpike.io", client: tp, plural: "routes", object: &v1alpha1.Route{}, transform: strip},
		{resource: "stages.turnpike.io", client: tp, plural: "stages", object: &v1alpha1.Stage{}, transform: strip},
		{resource: "authorizers.turnpike.io", client: tp, plural: "authorizers", object: &v1alpha1.Authorizer{}, transform: strip},
		{resource: "usageplans.turnpike.io", client: tp, plural: "usageplans", object: &v1alpha1.UsagePlan{}, transform: strip},
		{resource: "services", client: cs.CoreV1().RESTClient(), plural: "services", object: &corev1.Service{}, transform: strip},
		{resource: "endpointslices.discovery.k8s.io", client: cs.DiscoveryV1().RESTClient(), plural: "endpointslices",
			object: &discoveryv1.EndpointSlice{}, transform: strip},
		secretsOf(controllers.SecretTypeTLS),
		secretsOf(controllers.SecretTypeAPIKey),
		secretsOf(controllers.SecretTypeAWSCredentials),
	}, nil
}

// stripManagedFields drops managedFields, which the gateway never reads.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// newKindWatch builds the watch of spec in namespace ns ("" for all); every
// change calls poke, and every call to the API server is reported to h.
// A status-only update of a Turnpike kind calls pokeLater instead (see
// Source.pokeLater).
func newKindWatch(spec watchSpec, ns string, poke, pokeLater func(), h *watchHealth) *kindWatch {
	w := &kindWatch{resource: spec.resource, store: toolscache.NewStore(toolscache.MetaNamespaceKeyFunc)}
	inner := toolscache.NewFilteredListWatchFromClient(spec.client, spec.plural, ns, func(o *metav1.ListOptions) {
		if spec.selector != "" {
			o.FieldSelector = spec.selector
		}
	})
	lw := &observedListWatch{inner: inner, resource: spec.resource, health: h}
	store := &pokingStore{Store: w.store, transform: spec.transform, poke: poke, synced: &w.synced, changes: &w.changes}
	if strings.HasSuffix(spec.resource, "."+v1alpha1.GroupVersion.Group) {
		store.pokeLater = pokeLater // generation counts spec changes only
		w.turnpikeStore = store
	}
	quiet := klog.Logger(logr.Discard()) // our own health log says what matters, once
	backoff := reconnectBackoff          // the reflector steps its own copy
	w.reflector = toolscache.NewReflectorWithOptions(lw, spec.object, store, toolscache.ReflectorOptions{
		Name: spec.resource, TypeDescription: spec.resource, Logger: &quiet, Backoff: &backoff,
	})
	return w
}

// run runs the reflector until ctx is done. client-go's own messages about
// failed lists and watches are silenced: watchHealth logs an outage once.
func (w *kindWatch) run(ctx context.Context) {
	w.reflector.RunWithContext(klog.NewContext(ctx, logr.Discard()))
}

// observedListWatch reports every list and watch call to the health tracker.
type observedListWatch struct {
	inner    *toolscache.ListWatch
	resource string
	health   *watchHealth
}

func (o *observedListWatch) List(opts metav1.ListOptions) (runtime.Object, error) {
	return o.ListWithContext(context.Background(), opts)
}

func (o *observedListWatch) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return o.WatchWithContext(context.Background(), opts)
}

// ListWithContext lists, within the recovery limit after an outage (see
// WatchWithContext).
func (o *observedListWatch) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	cctx, cut, cancel := o.callContext(ctx)
	defer cancel()
	obj, err := o.inner.ListWithContext(cctx, opts)
	if cut() && ctx.Err() == nil {
		obj, err = nil, o.heldBack("list")
	}
	o.report(ctx, err, false)
	return obj, err
}

// WatchWithContext starts a watch. After an outage the reflector lists again
// rather than resume its old watch, and no call waits long on a server that
// is still starting:
//   - A failed watch call is returned as an error the reflector does not
//     retry in place (relistError), so it lists again: edits made during the
//     outage arrive with that list.
//   - While the resource recovers from an outage (health.recoveryLimit), a
//     list or watch call that has not answered within the limit is dropped
//     and retried, and the limit doubles. A kube-apiserver holds requests
//     that reach it early in its start for several seconds (until about four
//     seconds after /readyz turns ok), while requests sent a moment later
//     are answered at once; without the limit an edit made right after the
//     API server is ready would wait for those held requests.
func (o *observedListWatch) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	cctx, cut, cancel := o.callContext(ctx)
	w, err := o.inner.WatchWithContext(cctx, opts)
	held := cut()
	switch {
	case ctx.Err() != nil:
		cancel()
		return w, err
	case held:
		if err == nil {
			w.Stop()
		}
		err = o.heldBack("watch")
	}
	o.report(ctx, err, true)
	if err != nil {
		cancel()
		return nil, relistError{err.Error()}
	}
	return &cancelOnStop{Interface: w, cancel: cancel}, nil
}

// callContext is the context of one call: ctx, or during a recovery a child
// that is cancelled when the recovery limit passes. cut stops that clock and
// reports whether it ran out (and then doubles the limit); cancel releases
// the child (for a watch, when the watch stops).
func (o *observedListWatch) callContext(ctx context.Context) (cctx context.Context, cut func() bool, cancel context.CancelFunc) {
	limit := o.health.recoveryLimit(o.resource)
	if limit == 0 {
		return ctx, func() bool { return false }, func() {}
	}
	cctx, cancel = context.WithCancel(ctx)
	timer := time.AfterFunc(limit, cancel)
	return cctx, func() bool {
		if timer.Stop() {
			return false
		}
		o.health.heldBack(o.resource)
		return true
	}, cancel
}

func (o *observedListWatch) heldBack(call string) error {
	return heldBackError{fmt.Sprintf("%s of %s not answered within the recovery limit after an outage; retrying", call, o.resource)}
}

// heldBackError is a call dropped for taking longer than the recovery limit:
// the API server answers, so it does not count as a failure.
type heldBackError struct{ msg string }

func (e heldBackError) Error() string { return e.msg }

// cancelOnStop releases the watch's own context when the reflector stops it.
type cancelOnStop struct {
	watch.Interface
	cancel context.CancelFunc
}

func (c *cancelOnStop) Stop() {
	c.Interface.Stop()
	c.cancel()
}

// IsWatchListSemanticsUnSupported turns client-go's streaming lists off for
// these watches: a streaming list is a watch, which a restarting API server
// holds back (see WatchWithContext), while a plain list is served at once.
func (o *observedListWatch) IsWatchListSemanticsUnSupported() bool { return true }

// relistError carries the message of a failed watch call but not its type,
// so the reflector does not take it for a connection refusal (retried in
// place) and lists again.
type relistError struct{ msg string }

func (e relistError) Error() string { return e.msg }

func (o *observedListWatch) report(ctx context.Context, err error, isWatch bool) {
	switch {
	case err == nil:
		o.health.ok(o.resource, isWatch)
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		// shutting down
	case errors.As(err, new(heldBackError)):
		// the API server answers, just slowly: the reflector retries after
		// its short backoff, with a doubled limit (callContext)
	default:
		o.health.failed(o.resource, err)
	}
}

// pokingStore is the reflector's store: it transforms objects, keeps them in
// the kindWatch's store, marks the watch synced at the first full list and
// pokes the source on every change.
type pokingStore struct {
	toolscache.Store
	transform toolscache.TransformFunc
	poke      func()
	synced    *atomic.Bool
	changes   *changeLog
	// pokeLater, when set, is called instead of poke for an update that
	// changes nothing but status (statusOnly).
	pokeLater func()
	// updated, when set, is told of every update (Source.OnUpdate).
	updated func(obj any)
}

// touched records that obj changed (after the change: the source takes the
// log before it lists) and pokes the source.
func (s *pokingStore) touched(obj any) {
	s.changes.record(obj)
	s.poke()
}

func (s *pokingStore) Add(obj any) error {
	obj, err := s.transform(obj)
	if err == nil {
		err = s.Store.Add(obj)
	}
	s.touched(obj)
	return err
}

func (s *pokingStore) Update(obj any) error {
	obj, err := s.transform(obj)
	if err != nil {
		s.touched(obj)
		return err
	}
	old, _, _ := s.Get(obj)
	err = s.Store.Update(obj)
	if err == nil && s.updated != nil {
		s.updated(obj)
	}
	if err == nil && s.pokeLater != nil && statusOnly(old, obj) {
		s.changes.record(obj)
		s.pokeLater()
		return nil
	}
	s.touched(obj)
	return err
}

// statusOnly reports whether an update from old to obj changed nothing the
// translation reads but status: the same generation (a Turnpike kind's
// generation counts its spec changes), uid, labels, annotations and
// deletion. Anything else, or objects it cannot read, is not.
func statusOnly(old, obj any) bool {
	a, errA := meta.Accessor(old)
	b, errB := meta.Accessor(obj)
	if old == nil || errA != nil || errB != nil {
		return false
	}
	return a.GetGeneration() == b.GetGeneration() && a.GetUID() == b.GetUID() &&
		(a.GetDeletionTimestamp() == nil) == (b.GetDeletionTimestamp() == nil) &&
		maps.Equal(a.GetLabels(), b.GetLabels()) && maps.Equal(a.GetAnnotations(), b.GetAnnotations())
}

func (s *pokingStore) Delete(obj any) error {
	err := s.Store.Delete(obj)
	s.touched(obj)
	return err
}

func (s *pokingStore) Replace(list []any, rv string) error {
	for i := range list {
		obj, err := s.transform(list[i])
		if err != nil {
			return err
		}
		list[i] = obj
	}
	if err := s.Store.Replace(list, rv); err != nil {
		return err
	}
	s.synced.Store(true)
	s.changes.relistAll()
	s.poke()
	return nil
}

// Resync is meaningless for a plain store.
func (s *pokingStore) Resync() error { return nil }

// listAs copies the objects of a store (pointers to T) into a slice of T.
// The copies are shallow: nothing downstream mutates a snapshot, and the
// store replaces objects rather than modify them.
func listAs[T any](s toolscache.Store) []T {
	items := s.List()
	out := make([]T, 0, len(items))
	for _, it := range items {
		if p, ok := it.(*T); ok {
			out = append(out, *p)
		}
	}
	return out
}
