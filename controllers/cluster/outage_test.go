package cluster

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// TestAnAPIServerRestartNeverReplacesTheTableAndLaterEditsApply stops the
// kube-apiserver (etcd stays up) under a running replica: the dataplane keeps
// its table, no empty or partial table is ever swapped in, the replica logs
// once that its watches are lost and once that they are back, its watch
// metrics show it, and an edit made as soon as the API server answers is
// served within 5 seconds. The replica's status lease lapses during the
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
	require.Equal(t, 10.0, watchesUp(t, h), "every watch is up")

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
	require.Zero(t, watchesUp(t, h), "every watch is lost")
	require.Len(t, h.logs.matching("watches lost"), 1, "the outage is logged once, not once per retry")

	require.NoError(t, apiServer.Start())
	running = true
	adopt := serviceRoute(ns, "adopt", "POST /adopt", "pets")
	require.Eventually(t, func() bool {
		return k8s.Create(context.Background(), adopt) == nil
	}, 60*time.Second, 50*time.Millisecond, "the API server is back and takes the edit")
	back := time.Now()
	h.waitForTable(t, "an edit after the restart is served", func(tbl *table.Table) bool {
		return slices.Contains(routeKeys(tbl, ns, "pets"), "prod POST /adopt")
	})
	live := time.Since(back)
	t.Logf("edit live %v after the API server took it", live.Round(time.Millisecond))
	require.Less(t, live, 5*time.Second, "an edit must be live within 5 s of the API server being back")
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, adopt) // the replica campaigned again and leads
	require.Eventually(t, func() bool { return watchesUp(t, h) == 10 }, 5*time.Second, 50*time.Millisecond)
	require.Len(t, h.logs.matching("watches are back"), 1)

	h.dp.mu.Lock()
	defer h.dp.mu.Unlock()
	require.Len(t, h.dp.tables, swaps+1, "relists after the outage swap nothing; the edit swaps once")
	for i, tbl := range h.dp.tables[swaps-1:] {
		keys := routeKeys(tbl, ns, "pets")
		for _, k := range petsKeys {
			require.Contains(t, keys, k, "table %d after the first full one lost a route", swaps+i)
		}
	}
}

// watchesUp sums turnpike_watch_up over the replica's watches.
func watchesUp(t *testing.T, h *harness) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "turnpike_watch_up" {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
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
