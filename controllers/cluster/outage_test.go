package cluster

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// TestAnAPIServerRestartNeverReplacesTheTableAndLaterEditsApply stops the
// kube-apiserver (etcd stays up) under a running replica: the dataplane keeps
// its table, no empty or partial table is ever swapped in, and an edit made
// after the restart is served. The replica's status lease lapses during the
// outage; it pauses writes, campaigns again and writes once it leads.
func TestAnAPIServerRestartNeverReplacesTheTableAndLaterEditsApply(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	h := startReplica(t, ns, Options{
		LeaderElect: true, LeaseNamespace: ns,
		LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 300 * time.Millisecond,
	})
	objs := petsObjects(ns)
	createAll(t, objs...)
	h.waitForTable(t, "pets served", hasKeys(ns, petsKeys...))
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, objs...)
	settle(t, h)
	before, swaps := h.dp.current()

	apiServer := testEnv.ControlPlane.APIServer
	stopAPIServer(t, apiServer)
	running := false
	t.Cleanup(func() {
		if !running { // leave a working control plane to the other tests
			require.NoError(t, apiServer.Start())
		}
	})
	requireTableStays(t, h, before, swaps, 3*time.Second)
	require.Eventually(t, func() bool { return !h.writer.IsLeader() }, 10*time.Second, 50*time.Millisecond,
		"the lease cannot be renewed without an API server, so status writes pause")
	requireTableStays(t, h, before, swaps, 100*time.Millisecond)

	require.NoError(t, apiServer.Start())
	running = true
	require.Eventually(t, func() bool {
		return k8s.List(context.Background(), &v1alpha1.RouteList{}, client.InNamespace(ns)) == nil
	}, 60*time.Second, 200*time.Millisecond, "the API server is back")
	requireTableStays(t, h, before, swaps, 3*time.Second)

	adopt := serviceRoute(ns, "adopt", "POST /adopt", "pets")
	createAll(t, adopt)
	h.waitForTable(t, "an edit after the restart is served", func(tbl *table.Table) bool {
		return slices.Contains(routeKeys(tbl, ns, "pets"), "prod POST /adopt")
	})
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, adopt) // the replica campaigned again and leads

	h.dp.mu.Lock()
	defer h.dp.mu.Unlock()
	for i, tbl := range h.dp.tables[swaps-1:] {
		keys := routeKeys(tbl, ns, "pets")
		for _, k := range petsKeys {
			require.Contains(t, keys, k, "table %d after the first full one lost a route", swaps+i)
		}
	}
}

// stopAPIServer stops the API server: SIGTERM, then SIGKILL after its
// StopTimeout (like a crash), and waits until its port is free again.
func stopAPIServer(t *testing.T, s *envtest.APIServer) {
	t.Helper()
	if err := s.Stop(); err != nil {
		require.ErrorContains(t, err, "timeout waiting for process kube-apiserver to stop")
	}
	addr := net.JoinHostPort(s.Address, s.Port)
	require.Eventually(t, func() bool {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		return l.Close() == nil
	}, 20*time.Second, 100*time.Millisecond, "the API server port is released")
}

// requireTableStays asserts for d that the dataplane keeps exactly tbl.
func requireTableStays(t *testing.T, h *harness, tbl *table.Table, swaps int, d time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		cur, n := h.dp.current()
		require.Same(t, tbl, cur, "the served table was replaced")
		require.Equal(t, swaps, n)
	}
}
