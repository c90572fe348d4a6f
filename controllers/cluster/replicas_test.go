package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/translate"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// startTrackedReplica is startReplica with replica tracking: the pipeline
// swaps through a Replicas, which the status writer runs and counts.
func startTrackedReplica(t *testing.T, ns string, opts Options) (*harness, *Replicas) {
	t.Helper()
	opts.Namespace = ns
	reg := prometheus.NewRegistry()
	h := &harness{ns: ns, dp: &recordingDataplane{}, reg: reg, logs: &logLines{}}
	log := h.logs.logger()
	var err error
	h.writer, err = NewStatusWriter(restCfg, opts, reg, log)
	require.NoError(t, err)
	rep, err := NewReplicas(restCfg, opts, h.dp, log)
	require.NoError(t, err)
	h.writer.TrackReplicas(rep)
	h.pipeline, err = controllers.NewPipeline(translate.Options{DefaultDomain: "example.test"}, rep, h.writer, log, reg)
	require.NoError(t, err)
	h.snaps = &recordingApplier{next: h.pipeline}
	h.source, err = NewSource(restCfg, opts, h.snaps, log, reg)
	require.NoError(t, err)
	require.NoError(t, h.source.Manager().Add(h.writer))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.source.Start(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(30 * time.Second):
				t.Error("replica did not stop within 30s")
			}
		})
	}
	t.Cleanup(h.stop)
	return h, rep
}

// waitDataplane waits until the Api ns/pets reports want in status.dataplane.
func waitDataplane(t *testing.T, ns string, want v1alpha1.DataplaneStatus, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var api v1alpha1.Api
		require.NoError(t, k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "pets"}, &api))
		return api.Status.Dataplane != nil && *api.Status.Dataplane == want
	}, 30*time.Second, 100*time.Millisecond, "%s: want %+v", msg, want)
}

func getLease(t *testing.T, ns, name string) (*coordinationv1.Lease, error) {
	t.Helper()
	var l coordinationv1.Lease
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &l)
	return &l, err
}

// writeLaggingReplica creates a replica Lease, valid for six seconds and
// never renewed, that serves what served says: a replica stuck on a config.
func writeLaggingReplica(t *testing.T, ns, served string) {
	t.Helper()
	now, secs, id := metav1.NewMicroTime(time.Now()), int32(6), "lagging"
	require.NoError(t, k8s.Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: ReplicaLeaseName(id),
			Labels: map[string]string{ReplicaLabel: "true"}, Annotations: map[string]string{ServedAnnotation: served}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs, RenewTime: &now},
	}))
}

func TestApiStatusDataplaneFollowsTwoReplicasAndDropsOneAfterItsLeaseExpires(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	opts := Options{
		LeaderElect: true, LeaseNamespace: ns,
		LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 300 * time.Millisecond,
		ReplicaLeaseDuration: 2 * time.Second, ReplicaRenewPeriod: 400 * time.Millisecond, ReplicaPollPeriod: 200 * time.Millisecond,
	}
	optsA, optsB := opts, opts
	optsA.Identity, optsB.Identity = "replica_A", "replica-b"
	a, repA := startTrackedReplica(t, ns, optsA)
	b, _ := startTrackedReplica(t, ns, optsB)
	repA.keepOnStop = true // a's stop below is a crash: its Lease stays until it expires
	objs := petsObjects(ns)
	createAll(t, objs...)
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, objs...)
	waitDataplane(t, ns, v1alpha1.DataplaneStatus{Replicas: 2, UpToDate: 2}, "both replicas serve the Api")

	leaseB, err := getLease(t, ns, "turnpike-replica-replica-b")
	require.NoError(t, err)
	_, err = getLease(t, ns, "turnpike-replica-replica-a") // identity made a valid name
	require.NoError(t, err)
	before := leaseB.Annotations[ServedAnnotation]
	require.Contains(t, before, ns+"/pets")

	// A third replica stuck on the current config is up to date until the
	// config changes; then it lags until its Lease expires.
	writeLaggingReplica(t, ns, before)
	waitDataplane(t, ns, v1alpha1.DataplaneStatus{Replicas: 3, UpToDate: 3}, "the lagging replica serves the current config")
	createAll(t, serviceRoute(ns, "adopt", "POST /adopt", "pets"))
	servesAdopt := func(tbl *table.Table) bool { return slices.Contains(routeKeys(tbl, ns, "pets"), "prod POST /adopt") }
	b.waitForTable(t, "b serves the new route", servesAdopt)
	a.waitForTable(t, "a serves the new route", servesAdopt)
	waitDataplane(t, ns, v1alpha1.DataplaneStatus{Replicas: 3, UpToDate: 2}, "the lagging replica still serves the old config")
	waitDataplane(t, ns, v1alpha1.DataplaneStatus{Replicas: 2, UpToDate: 2}, "the lagging replica's Lease expired")

	a.stop()
	_, err = getLease(t, ns, "turnpike-replica-replica-a")
	require.NoError(t, err, "a crashed replica leaves its Lease behind")
	waitDataplane(t, ns, v1alpha1.DataplaneStatus{Replicas: 1, UpToDate: 1}, "a's Lease expired")
	require.Eventually(t, func() bool {
		_, err := getLease(t, ns, "turnpike-replica-replica-a")
		return apierrors.IsNotFound(err)
	}, 20*time.Second, 100*time.Millisecond, "the leader deletes a Lease expired for another duration")

	b.stop()
	_, err = getLease(t, ns, "turnpike-replica-replica-b")
	require.True(t, apierrors.IsNotFound(err), "a cleanly stopped replica deletes its Lease: %v", err)
}

func TestAReplicaLeaseNameIsAValidNameForAnyIdentity(t *testing.T) {
	for id, want := range map[string]string{
		"pod-7f9c_1b2e":  "turnpike-replica-pod-7f9c-1b2e",
		"Host.Example_x": "turnpike-replica-host.example-x",
		"_edge_":         "turnpike-replica-edge",
	} {
		require.Equal(t, want, ReplicaLeaseName(id), id)
	}
	long := ReplicaLeaseName(fmt.Sprintf("%0300d", 7))
	require.Len(t, long, 253)
}

func TestConfigHashChangesWithTheApiEntryAndOnlyWithIt(t *testing.T) {
	mk := func(key string) *table.Api {
		return &table.Api{Namespace: "shop", Name: "pets", Hosts: []string{"pets.shop.example.test"},
			Stages: []*table.Stage{{Name: "prod", Routes: []*table.Route{{Key: key}}}}}
	}
	require.Equal(t, ConfigHash(mk("GET /pets"), nil), ConfigHash(mk("GET /pets"), nil))
	require.NotEqual(t, ConfigHash(mk("GET /pets"), nil), ConfigHash(mk("POST /pets"), nil))
	require.Len(t, ConfigHash(mk("GET /pets"), nil), 16)
}

func TestAReplicaWithoutAnHTTPSListenerServesTLSDomainsDifferently(t *testing.T) {
	api := func(name string) *table.Api {
		return &table.Api{Namespace: "shop", Name: name, Stages: []*table.Stage{{Name: "prod", Routes: []*table.Route{}}}}
	}
	tbl, err := table.NewWithDomains([]*table.Api{api("pets"), api("toys")}, nil, []*table.Domain{
		{Hostname: "api.example.com", TLS: &table.TLS{Secret: "shop/tls", MinVersion: table.TLSVersion12, Err: "Secret \"tls\" not found"},
			Mappings: []*table.Mapping{{Namespace: "shop", Api: "pets", Stage: "prod"}}},
	})
	require.NoError(t, err)
	with, without := ServedHashes(tbl, true), ServedHashes(tbl, false)
	require.NotEqual(t, with["shop/pets"], without["shop/pets"], "HTTPS on a TLS domain is part of what a replica serves")
	require.Equal(t, with["shop/toys"], without["shop/toys"], "an Api without TLS domains is served alike")
	require.Equal(t, ConfigHash(api("toys"), nil), with["shop/toys"])
}

// events lists the Events on the object kind/name in ns.
func events(t *testing.T, ns, kind, name string) []corev1.Event {
	t.Helper()
	var list corev1.EventList
	require.NoError(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func TestTheLeaderEmitsOneWarningEventWhenARouteIsRejected(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	opts := Options{LeaderElect: true, LeaseNamespace: ns,
		LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 300 * time.Millisecond}
	a, b := startReplica(t, ns, opts), startReplica(t, ns, opts)
	objs := petsObjects(ns)
	createAll(t, objs...)
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, objs...)
	require.Empty(t, events(t, ns, "Route", "list-pets"), "an accepted Route gets no Event")

	dup := serviceRoute(ns, "list-pets-again", "GET /pets", "pets")
	createAll(t, dup)
	waitReady(t, metav1.ConditionFalse, "", dup)
	var got []corev1.Event
	require.Eventually(t, func() bool {
		got = events(t, ns, "Route", "list-pets-again")
		return len(got) > 0
	}, 20*time.Second, 100*time.Millisecond, "a Warning Event on the conflicting Route")
	require.Len(t, got, 1)
	require.Equal(t, corev1.EventTypeWarning, got[0].Type)
	require.Equal(t, v1alpha1.ReasonRouteConflict, got[0].Reason)
	require.Contains(t, got[0].Message, "list-pets")
	require.Equal(t, EventComponent, got[0].Source.Component)

	// Leadership moves: the new leader re-checks every object and finds the
	// rejection already written, so it emits nothing new.
	leader := a
	if b.writer.IsLeader() {
		leader = b
	}
	leader.stop()
	other := map[*harness]*harness{a: b, b: a}[leader]
	require.Eventually(t, other.writer.IsLeader, 20*time.Second, 50*time.Millisecond)
	settle(t, other)
	time.Sleep(time.Second)
	got = events(t, ns, "Route", "list-pets-again")
	require.Len(t, got, 1)
	require.EqualValues(t, 1, got[0].Count, "deduplicated: the rejection was announced once")
}

// The hash memo gives what ServedHashes gives: an Api kept by pointer with
// the same mappings keeps its hash, and a kept Api whose domain mappings
// changed is hashed again.
func TestServedHashCacheEqualsServedHashes(t *testing.T) {
	pets := &table.Api{Namespace: "shop", Name: "pets", Stages: []*table.Stage{{Name: "prod", Routes: []*table.Route{}}}}
	toys := &table.Api{Namespace: "shop", Name: "toys", Stages: []*table.Stage{{Name: "prod", Routes: []*table.Route{}}}}
	plain, err := table.NewWithDomains([]*table.Api{pets, toys}, nil, nil)
	require.NoError(t, err)
	mapped, err := table.NewWithDomains([]*table.Api{pets, toys}, nil, []*table.Domain{
		{Hostname: "api.example.com", Mappings: []*table.Mapping{{Namespace: "shop", Api: "pets", Stage: "prod"}}},
	})
	require.NoError(t, err)
	var c servedHashCache
	for i, tbl := range []*table.Table{plain, plain, mapped, mapped, plain} {
		require.Equal(t, ServedHashes(tbl, true), c.hashes(tbl, true), "table %d", i)
	}
	require.NotEqual(t, ServedHashes(plain, true)["shop/pets"], ServedHashes(mapped, true)["shop/pets"])
}
