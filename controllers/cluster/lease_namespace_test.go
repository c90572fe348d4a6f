package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// A gateway whose Lease namespace does not exist (only the CRDs applied, or a
// typo in --lease-namespace) serves traffic but cannot write status. It says
// so once, with what to do, in its log, in Warnings (shown by /readyz) and in
// turnpike_status_writes_blocked; once the namespace exists it campaigns and
// writes status without a restart.
func TestAMissingLeaseNamespaceIsReportedOnceAndStatusIsWrittenOnceItExists(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	leaseNS := fmt.Sprintf("leases-%d", time.Now().UnixNano()%1e9)
	h, _ := startTrackedReplica(t, ns, Options{LeaderElect: true, LeaseNamespace: leaseNS,
		LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 300 * time.Millisecond,
		ReplicaRenewPeriod: 500 * time.Millisecond})
	objs := petsObjects(ns)
	createAll(t, objs...)
	h.waitForTable(t, "traffic is served without a status lease", hasKeys(ns, petsKeys...))

	require.Eventually(t, func() bool { return len(h.writer.Warnings()) == 2 }, 10*time.Second, 50*time.Millisecond,
		"the status lease and the replica Lease are both reported")
	for _, w := range h.writer.Warnings() {
		require.Contains(t, w, `the Lease namespace "`+leaseNS+`" does not exist; create it (kubectl create namespace `+leaseNS+`)`)
		require.Contains(t, w, "--leader-elect=false")
	}
	require.True(t, strings.HasPrefix(h.writer.Warnings()[0], "status is not written"))
	require.InDelta(t, 1, testutil.ToFloat64(h.writer.metrics.blocked), 0)
	time.Sleep(6 * time.Second) // past a recheck: still one line each, not one per retry
	require.Len(t, h.logs.matching("WARNING: status is not written"), 1)
	require.Len(t, h.logs.matching("WARNING: status.dataplane is not updated"), 1)
	require.False(t, h.writer.IsLeader())

	require.NoError(t, k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNS}}))
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, objs...)
	require.Eventually(t, func() bool { return len(h.writer.Warnings()) == 0 }, 10*time.Second, 50*time.Millisecond)
	require.Zero(t, testutil.ToFloat64(h.writer.metrics.blocked))
	require.Len(t, h.logs.matching("campaigning for the status lease"), 1)
}
