package cluster

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

func TestOnlyTheLeaderWritesStatusesAndAnotherReplicaTakesOverWhenItStops(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	opts := Options{
		LeaderElect: true, LeaseNamespace: ns,
		LeaseDuration: 4 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 300 * time.Millisecond,
	}
	a, b := startReplica(t, ns, opts), startReplica(t, ns, opts)
	objs := petsObjects(ns)
	createAll(t, objs...)
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, objs...)

	require.Eventually(t, func() bool { return a.writer.IsLeader() != b.writer.IsLeader() },
		20*time.Second, 50*time.Millisecond, "exactly one replica leads")
	leader, follower := a, b
	if b.writer.IsLeader() {
		leader, follower = b, a
	}
	// Both replicas translate and serve, whoever leads.
	follower.waitForTable(t, "the follower serves the table too", hasKeys(ns, petsKeys...))
	leader.waitForTable(t, "the leader serves the table", hasKeys(ns, petsKeys...))
	settle(t, follower)
	require.Positive(t, testutil.ToFloat64(leader.writer.metrics.writes))
	require.Zero(t, testutil.ToFloat64(follower.writer.metrics.writes), "a follower must never write status")

	leader.stop() // releases the lease on the way out
	require.Eventually(t, follower.writer.IsLeader, 20*time.Second, 50*time.Millisecond, "the follower takes the lease")
	adopt := serviceRoute(ns, "adopt", "POST /adopt", "pets")
	createAll(t, adopt)
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, adopt)
	require.Positive(t, testutil.ToFloat64(follower.writer.metrics.writes), "the new leader writes")
}
