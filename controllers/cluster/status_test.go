package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// fakeWriter is a StatusWriter without leader election on a fake client whose
// first failures status updates fail.
func fakeWriter(t *testing.T, failures int32, objs ...client.Object) (*StatusWriter, client.Client) {
	t.Helper()
	scheme, err := NewScheme()
	require.NoError(t, err)
	var left atomic.Int32
	left.Store(failures)
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.Route{}, &v1alpha1.Api{}).
		WithInterceptorFuncs(interceptor.Funcs{
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				if left.Add(-1) >= 0 {
					return errors.New("injected failure")
				}
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
		}).Build()
	m, err := newStatusMetrics(nil)
	require.NoError(t, err)
	w := newStatusWriter(Options{}.withDefaults(), c, nil, m, logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w, c
}

func TestFailedStatusWritesAreCountedAndRetriedWithBackoff(t *testing.T) {
	route := &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "r", Generation: 1}}
	w, c := fakeWriter(t, 2, route)
	w.Publish([]translate.ObjectStatus{desired(1, cond("Ready", metav1.ConditionTrue, "Ready"))})

	require.Eventually(t, func() bool {
		var got v1alpha1.Route
		require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(route), &got))
		return meta.IsStatusConditionTrue(got.Status.Conditions, "Ready") && got.Status.ObservedGeneration == 1
	}, 10*time.Second, 20*time.Millisecond, "the write succeeds after the injected failures")
	require.InDelta(t, 2, testutil.ToFloat64(w.metrics.errors), 0)
	require.InDelta(t, 1, testutil.ToFloat64(w.metrics.writes), 0)
}

func TestAStatusOfANewerGenerationIsNotOverwrittenByAnOlderSnapshot(t *testing.T) {
	route := &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "r", Generation: 3}}
	route.Status.ObservedGeneration = 3
	w, c := fakeWriter(t, 0, route)
	w.Publish([]translate.ObjectStatus{desired(2, cond("Ready", metav1.ConditionFalse, "Invalid"))})
	require.Never(t, func() bool {
		var got v1alpha1.Route
		require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(route), &got))
		return len(got.Status.Conditions) > 0
	}, time.Second, 20*time.Millisecond, "the stale status must not be written")
	require.Zero(t, testutil.ToFloat64(w.metrics.writes))
	require.Zero(t, testutil.ToFloat64(w.metrics.errors))
}

func TestAStatusForADeletedObjectIsDroppedWithoutError(t *testing.T) {
	w, _ := fakeWriter(t, 0)
	w.Publish([]translate.ObjectStatus{desired(1, cond("Ready", metav1.ConditionTrue, "Ready"))})
	require.Never(t, func() bool {
		return testutil.ToFloat64(w.metrics.errors) > 0 || testutil.ToFloat64(w.metrics.writes) > 0
	},
		time.Second, 20*time.Millisecond, "a deleted object is neither an error nor a write")
}

// With the watches' cache (UseCache), an object whose stored status is
// already right costs no request at all, and one that needs a write costs
// one; a stale cached copy costs a conflict, then a GET and the write.
func TestTheStatusWriterReadsTheCacheFirst(t *testing.T) {
	scheme, err := NewScheme()
	require.NoError(t, err)
	ready := []metav1.Condition{cond("Ready", metav1.ConditionTrue, "Ready")}
	right := &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "right", Generation: 1}}
	rightStatus := desired(1, ready...)
	rightStatus.Name = "right"
	applyStatus(right, rightStatus) // stored as the writer would store it
	todo := &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "todo", Generation: 1}}
	stale := &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "stale", Generation: 1}}
	var gets, updates atomic.Int32
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(right, todo, stale).
		WithStatusSubresource(&v1alpha1.Route{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				gets.Add(1)
				return c.Get(ctx, key, obj, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				updates.Add(1)
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
		}).Build()
	cache := map[string]client.Object{}
	for _, o := range []*v1alpha1.Route{right, todo, stale} {
		stored := &v1alpha1.Route{}
		require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(o), stored))
		cache[o.Name] = stored
	}
	cache["stale"].SetResourceVersion("1") // behind the API server's
	gets.Store(0)

	m, err := newStatusMetrics(nil)
	require.NoError(t, err)
	w := newStatusWriter(Options{}.withDefaults(), c, nil, m, logr.Discard())
	w.UseCache(func(kind, ns, name string) client.Object { return cache[name] })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	var sts []translate.ObjectStatus
	for _, name := range []string{"right", "todo", "stale"} {
		st := desired(1, ready...)
		st.Name = name
		sts = append(sts, st)
	}
	w.Publish(sts)
	require.Eventually(t, func() bool { return testutil.ToFloat64(m.writes) == 2 }, 10*time.Second, 10*time.Millisecond)
	require.Never(t, func() bool { return testutil.ToFloat64(m.writes) > 2 }, 300*time.Millisecond, 10*time.Millisecond)
	require.Equal(t, int32(1), gets.Load(), "one GET, after the stale copy's conflict")
	require.Equal(t, int32(3), updates.Load(), "todo once, stale twice (conflict, then the write)")
	require.Zero(t, testutil.ToFloat64(m.pending))
	require.Equal(t, 1, len(cache["right"].(*v1alpha1.Route).Status.Conditions), "the cached object is not modified")
	require.Empty(t, cache["todo"].(*v1alpha1.Route).Status.Conditions, "the cached object is not modified")
}

// The watch cache lags our own writes: a status flipped to B and back to A
// before the watch delivered B is skipped against the cached A, and
// written when the watch delivers B (Source.OnUpdate → Recheck). Found in
// review: without Recheck the API server kept B for good.
func TestAStatusSkippedAgainstALaggingCacheIsWrittenWhenTheWatchCatchesUp(t *testing.T) {
	scheme, err := NewScheme()
	require.NoError(t, err)
	ready, notReady := cond("Ready", metav1.ConditionTrue, "Ready"), cond("Ready", metav1.ConditionFalse, "NoBackend")
	r := &v1alpha1.Route{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "r", Generation: 1}}
	applyStatus(r, desired(1, ready))
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(r).WithStatusSubresource(&v1alpha1.Route{}).Build()
	var cached atomic.Pointer[v1alpha1.Route]
	watchDelivers := func() {
		got := &v1alpha1.Route{}
		require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(r), got))
		cached.Store(got)
	}
	watchDelivers() // status A

	m, err := newStatusMetrics(nil)
	require.NoError(t, err)
	w := newStatusWriter(Options{}.withDefaults(), c, nil, m, logr.Discard())
	w.UseCache(func(kind, ns, name string) client.Object { return cached.Load() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	stored := func() string {
		got := &v1alpha1.Route{}
		require.NoError(t, c.Get(context.Background(), client.ObjectKeyFromObject(r), got))
		return meta.FindStatusCondition(got.Status.Conditions, "Ready").Reason
	}

	w.Publish([]translate.ObjectStatus{desired(1, notReady)}) // B
	require.Eventually(t, func() bool { return stored() == "NoBackend" }, 5*time.Second, 10*time.Millisecond)
	w.Publish([]translate.ObjectStatus{desired(1, ready)}) // back to A, the cache still at A
	require.Eventually(t, func() bool { return testutil.ToFloat64(m.pending) == 0 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "NoBackend", stored(), "skipped against the lagging cache")

	watchDelivers() // the watch delivers B
	w.Recheck("Route", "shop", "r")
	require.Eventually(t, func() bool { return stored() == "Ready" }, 5*time.Second, 10*time.Millisecond,
		"the recheck writes A")
}
