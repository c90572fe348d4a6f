package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

var petsKeys = []string{"dev GET /pets", "dev GET /pets/{petId}", "prod GET /pets", "prod GET /pets/{petId}"}

// hasKeys reports whether the pets Api of ns serves exactly keys.
func hasKeys(ns string, keys ...string) func(*table.Table) bool {
	return func(tbl *table.Table) bool {
		got := routeKeys(tbl, ns, "pets")
		slices.Sort(got)
		return slices.Equal(got, keys)
	}
}

// settle waits until the replica has been quiet for longer than MaxDelay, so
// counters read afterwards only move because of what the test does next.
func settle(t *testing.T, h *harness) {
	t.Helper()
	require.Eventually(t, func() bool {
		before := h.source.Builds()
		time.Sleep(700 * time.Millisecond)
		return h.source.Builds() == before
	}, 20*time.Second, 10*time.Millisecond, "the replica never went quiet")
}

func TestAPetsApiWithTwoStagesGoesReadyAndIsServed(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	h := startReplica(t, ns, Options{})
	objs := petsObjects(ns)
	createAll(t, objs...)

	h.waitForTable(t, "pets routes in both stages", hasKeys(ns, petsKeys...))
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, objs...)
	require.True(t, h.source.HasSynced())

	var api v1alpha1.Api
	require.NoError(t, k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "pets"}, &api))
	require.Equal(t, int32(2), api.Status.Stages)
	require.Equal(t, int32(2), api.Status.Routes)
}

func TestARouteNamingAMissingServiceFailsAloneAndADeletedRouteLeavesTheTable(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	h := startReplica(t, ns, Options{})
	objs := petsObjects(ns)
	bad := serviceRoute(ns, "adopt", "POST /adopt", "no-such-service")
	createAll(t, append(objs, bad)...)

	waitReady(t, metav1.ConditionFalse, v1alpha1.ReasonServiceNotFound, bad)
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, objs...)
	tbl := h.waitForTable(t, "the good routes are served", func(tbl *table.Table) bool {
		keys := routeKeys(tbl, ns, "pets")
		return slices.Contains(keys, "prod GET /pets") && slices.Contains(keys, "dev GET /pets/{petId}")
	})
	adopt := findRoute(tbl, ns, "prod", "POST /adopt")
	require.NotNil(t, adopt, "a route with an unresolved Service keeps its route key")
	require.NotNil(t, adopt.Failure, "a route with an unresolved Service answers an error, never its integration")

	require.NoError(t, k8s.Delete(context.Background(), objs[len(objs)-1])) // get-pet
	h.waitForTable(t, "the deleted route is gone", func(tbl *table.Table) bool {
		keys := routeKeys(tbl, ns, "pets")
		return !slices.Contains(keys, "prod GET /pets/{petId}") && slices.Contains(keys, "prod GET /pets")
	})
}

func findRoute(tbl *table.Table, ns, stage, key string) *table.Route {
	for _, a := range tbl.Apis {
		if a.Namespace != ns {
			continue
		}
		for _, s := range a.Stages {
			for _, r := range s.Routes {
				if s.Name == stage && r.Key == key {
					return r
				}
			}
		}
	}
	return nil
}

func TestAnEndpointSliceChangeUpdatesEndpointsWithoutTranslating(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	h := startReplica(t, ns, Options{})
	objs := petsObjects(ns)
	createAll(t, objs...)
	h.waitForTable(t, "pets served", hasKeys(ns, petsKeys...))
	waitReady(t, metav1.ConditionTrue, "", objs...)
	settle(t, h)
	translations, tables := h.pipeline.Translations(), h.pipeline.Generation()

	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "pets-abc", Labels: map[string]string{discoveryv1.LabelServiceName: "pets"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.1.2.3"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	}
	createAll(t, slice)
	require.Eventually(t, func() bool {
		eps, _ := h.dp.lastEndpoints()
		return slices.Equal(eps[ns+"/pets:http"], []table.Endpoint{{Address: "10.1.2.3", Port: 8080}})
	}, 20*time.Second, 50*time.Millisecond, "the new endpoint reaches the dataplane")

	slice.Endpoints[0].Conditions.Ready = ptr.To(false)
	require.NoError(t, k8s.Update(context.Background(), slice))
	require.Eventually(t, func() bool {
		eps, _ := h.dp.lastEndpoints()
		set, ok := eps[ns+"/pets:http"]
		return ok && len(set) == 0
	}, 20*time.Second, 50*time.Millisecond, "the endpoint that is no longer ready leaves the set")

	require.Equal(t, translations, h.pipeline.Translations(), "EndpointSlice changes must not re-translate")
	require.Equal(t, tables, h.pipeline.Generation(), "EndpointSlice changes must not swap tables")
}

func TestABurstOfOneHundredEditsIsCoalescedIntoFewTranslations(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	h := startReplica(t, ns, Options{})
	objs := petsObjects(ns)
	createAll(t, objs...)
	h.waitForTable(t, "pets served", hasKeys(ns, petsKeys...))
	settle(t, h)
	before := h.pipeline.Translations()

	route := objs[len(objs)-1].(*v1alpha1.Route)
	for i := range 100 {
		// A merge patch, as kubectl would send: the status writer updates the
		// same object meanwhile, so an Update could conflict.
		base := route.DeepCopy()
		route.Spec.Integration.TimeoutMillis = int32(1000 + i)
		require.NoError(t, k8s.Patch(context.Background(), route, client.MergeFrom(base)))
	}
	h.waitForTable(t, "the last edit is served", func(tbl *table.Table) bool {
		r := findRoute(tbl, ns, "prod", "GET /pets/{petId}")
		return r != nil && r.Integration.TimeoutMillis == 1099
	})
	settle(t, h)
	n := h.pipeline.Translations() - before
	t.Logf("100 edits caused %d translations", n)
	require.Less(t, n, int64(25), "bursts must be coalesced")
}

func TestNothingIsWrittenWhenNoStatusChanged(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	h := startReplica(t, ns, Options{})
	objs := petsObjects(ns)
	createAll(t, objs...)
	waitReady(t, metav1.ConditionTrue, "", objs...)
	settle(t, h)
	writes := testutil.ToFloat64(h.writer.metrics.writes)
	require.Positive(t, writes)
	translations := h.pipeline.Translations()

	// A label on the Service changes the snapshot but no status.
	svc := objs[0].(*corev1.Service)
	svc.Labels = map[string]string{"touched": "yes"}
	require.NoError(t, k8s.Update(context.Background(), svc))
	require.Eventually(t, func() bool { return h.pipeline.Translations() > translations },
		20*time.Second, 50*time.Millisecond, "the label change is translated")
	settle(t, h)
	require.InDelta(t, writes, testutil.ToFloat64(h.writer.metrics.writes), 0, "no status changed, so nothing may be written")
	require.Zero(t, testutil.ToFloat64(h.writer.metrics.errors))
}
